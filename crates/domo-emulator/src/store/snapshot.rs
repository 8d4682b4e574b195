//! Named snapshots of the whole store, so a test suite can seed data once and give every
//! test that same state back (instead of an empty one).
//!
//! A snapshot is a copy of the database file (`VACUUM INTO`), kept next to it. Restoring
//! rebuilds every table, index and view of the live database from the copy in one
//! transaction on the writer, so readers see the old state or the new one, never a mix.

use std::path::PathBuf;

use rusqlite::Connection;

use super::Store;
use crate::errors::ApiError;

impl Store {
    /// Saves the current state as snapshot `name` (replacing one of that name).
    pub fn snapshot(&self, name: &str) -> Result<(), ApiError> {
        let file = self.snapshot_file(name)?;
        let conn = self.lock();
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ApiError::internal(format!("cannot replace snapshot: {e}"))),
        }
        conn.execute("VACUUM INTO ?1", [file.to_string_lossy()])?;
        Ok(())
    }

    /// Puts back the state saved as snapshot `name`.
    pub fn restore(&self, name: &str) -> Result<(), ApiError> {
        let file = self.snapshot_file(name)?;
        if !file.is_file() {
            return Err(ApiError::not_found(format!("no snapshot named {name:?}")));
        }
        let mut conn = self.lock();
        conn.execute("ATTACH DATABASE ?1 AS snap", [file.to_string_lossy()])?;
        let rebuilt = rebuild_from_snapshot(&mut conn);
        let detached = conn.execute_batch("DETACH DATABASE snap");
        rebuilt?;
        detached?;
        self.set_query_timeout(None);
        Ok(())
    }

    fn snapshot_file(&self, name: &str) -> Result<PathBuf, ApiError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !valid {
            return Err(ApiError::bad_request(format!(
                "a snapshot name is 1 to 64 letters, digits, '-' or '_', not {name:?}"
            )));
        }
        Ok(self.path.with_file_name(format!("snapshot-{name}.sqlite")))
    }
}

/// Replaces everything in `main` with what `snap` holds.
fn rebuild_from_snapshot(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let objects = |schema: &str| -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
        tx.prepare(&format!(
            "SELECT type, name, sql FROM {schema}.sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' \
             ORDER BY CASE type WHEN 'view' THEN 0 WHEN 'index' THEN 1 ELSE 2 END"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
    };
    // Views first, then tables (their indexes go with them).
    for (kind, name, _) in objects("main")? {
        let name = quoted(&name);
        match kind.as_str() {
            "view" => tx.execute_batch(&format!("DROP VIEW main.{name}"))?,
            "table" => tx.execute_batch(&format!("DROP TABLE main.{name}"))?,
            _ => {}
        }
    }
    let mut created = objects("snap")?;
    // Tables, then indexes, then views (which read the tables).
    created.reverse();
    for (kind, name, sql) in created {
        let Some(sql) = sql else { continue };
        tx.execute_batch(&sql)?;
        if kind == "table" {
            let name = quoted(&name);
            tx.execute_batch(&format!(
                "INSERT INTO main.{name} SELECT * FROM snap.{name}"
            ))?;
        }
    }
    let has_sequence = |schema: &str| -> rusqlite::Result<bool> {
        tx.prepare(&format!(
            "SELECT 1 FROM {schema}.sqlite_master WHERE name = 'sqlite_sequence'"
        ))?
        .exists([])
    };
    if has_sequence("main")? {
        tx.execute_batch("DELETE FROM main.sqlite_sequence")?;
        if has_sequence("snap")? {
            tx.execute_batch(
                "INSERT INTO main.sqlite_sequence SELECT * FROM snap.sqlite_sequence",
            )?;
        }
    }
    tx.commit()
}

/// An SQL identifier in double quotes.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
