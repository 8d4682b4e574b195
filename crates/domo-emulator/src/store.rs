//! All state lives in one SQLite database: a metadata table of datasets, one data table
//! per dataset (plus a view without the hidden columns, which is what SQL sees), and one
//! table per upload where its parts wait, invisible, until their commit.
//! Both APIs share it: a dataset made through one is seen by the other.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::c_int;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Value as Json, json};

use crate::csv;
use crate::errors::ApiError;
use crate::policies::RowFilter;
use crate::sql;
use crate::text;
use crate::types::{DomoType, Stored, json_to_value, text_to_stored, text_to_value};
pub(crate) use cells::Cells;

mod cells;
mod export;
mod limits;
mod manage;
mod policies;
mod public;
mod query;
mod schema;
mod snapshot;
mod staging;
mod uploads;
mod versions;

use limits::*;
use query::*;
use schema::*;
use staging::*;
use uploads::*;

pub use export::{EXPORT_CHUNK_ROWS, write_csv_header};
pub use manage::{ACCESS_LEVELS, ADMIN_ID, GRANTEE_TYPES, Grant, REVOKE_TYPES, rank};
pub use public::{Execution, Stream};
pub use query::QueryEvent;
pub use schema::{Column, Dataset, quote_ident};
pub use uploads::Action;
pub use versions::{IndexRequest, Partition};

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The writer connection makes every change; queries and exports run on reader
/// connections of the same database in WAL mode, so a long read never holds the lock an
/// upload waits for, and writes never stall a read (each read sees the last commit
/// before it started).
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Idle readers, ready for the next query or export chunk.
    readers: Mutex<Vec<Reader>>,
    timeout: Arc<Mutex<Option<Duration>>>,
    /// The private folder of a store kept for this process only, removed on drop.
    scratch: Option<PathBuf>,
}

/// The writer's page cache: 128 MiB (`PRAGMA cache_size` reads a negative number as KiB).
const WRITER_CACHE_KIB: i64 = -128 * 1024;

/// Readers kept open between requests; more are opened when more reads run at once.
const IDLE_READERS: usize = 4;

/// A read-only connection with its own query limits (the authorizer and progress
/// handler are per connection, so each reader confines its own query).
struct Reader {
    conn: Connection,
    limits: Arc<QueryLimits>,
}

/// A reader lent out by `Store::reader`, given back to the pool when dropped.
struct Lent<'a> {
    store: &'a Store,
    reader: Option<Reader>,
}

impl std::ops::Deref for Lent<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        // Taken only in drop.
        self.reader.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            let mut idle = lock_any(&self.store.readers);
            if idle.len() < IDLE_READERS {
                idle.push(reader);
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            // Open connections do not keep unlinked files from going (POSIX); elsewhere
            // the folder is left to the system's temporary-file cleaning.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn lock_any<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Opens the durable store at `path`, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Store> {
        let cannot = |what: &str, e: std::io::Error| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("{what}: {e}")),
            )
        };
        // Readers and the writer share one database, which takes a file: a store kept
        // for this process only lives in a private temporary folder.
        let (path, scratch) = match path {
            Some(p) => (p.to_owned(), None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "domo-emulator-{}-{}",
                    std::process::id(),
                    crate::auth::random_token(12)
                ));
                let mut builder = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
                    .create(&dir)
                    .map_err(|e| cannot(&format!("cannot create {}", dir.display()), e))?;
                (dir.join("domo.sqlite"), Some(dir))
            }
        };
        private_file(&path)
            .map_err(|e| cannot(&format!("cannot make {} private", path.display()), e))?;
        let mut conn = Connection::open(&path)?;
        // WAL lets readers and the writer work side by side, keeps a crash from losing
        // committed uploads, and lets the file be read while the emulator runs. A store
        // for this process only has no crash to survive.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = if scratch.is_some() { "OFF" } else { "NORMAL" };
        conn.pragma_update(None, "synchronous", sync)?;
        // A staged part is written by one transaction and read back whole by a commit that
        // appends; with SQLite's default cache (2 MB) both spill pages through the WAL file
        // and read them back. The cache is memory only: what a commit makes durable is unchanged.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        sql::register_functions(&conn)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _datasets (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                created INTEGER NOT NULL,
                last_updated INTEGER NOT NULL,
                schema_json TEXT NOT NULL,
                row_count INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS _uploads (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                dataset_id TEXT NOT NULL,
                data_tag TEXT,
                action TEXT,
                created INTEGER NOT NULL,
                state TEXT NOT NULL,
                committed_at INTEGER,
                row_count INTEGER
            );
            CREATE TABLE IF NOT EXISTS _upload_parts (
                upload_id INTEGER NOT NULL,
                part INTEGER NOT NULL,
                rows INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                PRIMARY KEY (upload_id, part)
            );
            CREATE TABLE IF NOT EXISTS _streams (
                dataset_id TEXT PRIMARY KEY,
                update_method TEXT NOT NULL,
                created INTEGER NOT NULL,
                modified INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0
            );",
        )?;
        conn.execute_batch(manage::MANAGE_TABLES)?;
        manage::hash_stored_credentials(&conn)?;
        conn.execute_batch(versions::SCHEMA)?;
        move_shared_staging(&mut conn).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(format!("cannot move staged upload parts: {}", e.message)),
            )
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            readers: Mutex::new(Vec::new()),
            timeout: Arc::default(),
            scratch,
        })
    }

    /// Sets how long later queries may run (`None`: the default).
    pub fn set_query_timeout(&self, timeout: Option<Duration>) {
        *lock_any(&self.timeout) = timeout;
    }

    /// An idle reader, or a new one.
    fn reader(&self) -> Result<Lent<'_>, ApiError> {
        let idle = lock_any(&self.readers).pop();
        let reader = match idle {
            Some(r) => r,
            None => self.open_reader()?,
        };
        Ok(Lent {
            store: self,
            reader: Some(reader),
        })
    }

    fn open_reader(&self) -> rusqlite::Result<Reader> {
        let mut conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Writes go through the writer only; the authorizer refuses them in user SQL too.
        conn.pragma_update(None, "query_only", true)?;
        sql::register_functions(&conn)?;
        let limits = Arc::new(QueryLimits {
            timeout: self.timeout.clone(),
            ..QueryLimits::default()
        });
        let l = limits.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| l.authorize(ctx)))?;
        let l = limits.clone();
        conn.progress_handler(PROGRESS_STEPS, Some(move || l.past_deadline()))?;
        Ok(Reader { conn, limits })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolls that transaction back when it unwinds, so the
        // connection behind a poisoned lock is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates the state file readable by its owner only (or makes an existing one so): it
/// holds everyone's data. SQLite gives its `-wal` and `-shm` files the same mode.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if std::fs::exists(&side)? {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::export::write_real;
    use super::*;

    fn store_with(types: &[(&str, DomoType)]) -> (Store, Dataset) {
        let store = Store::open(None).unwrap();
        let cols = types
            .iter()
            .map(|(n, t)| Column {
                name: (*n).into(),
                ty: *t,
            })
            .collect();
        let ds = store.create_dataset("t", "", cols).unwrap();
        (store, ds)
    }

    #[test]
    fn reals_are_written_as_display_writes_them() {
        for f in [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.1,
            1e-7,
            123456789.125,
            1e15,
            1e16,
            1e21,
            3.4e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
        ] {
            let mut out = Vec::new();
            write_real(&mut out, f);
            assert_eq!(String::from_utf8(out).unwrap(), f.to_string());
        }
    }

    #[test]
    fn types_survive_storage_and_queries() {
        let (store, ds) = store_with(&[
            ("s", DomoType::String),
            ("n", DomoType::Long),
            ("x", DomoType::Double),
            ("m", DomoType::Decimal),
            ("d", DomoType::Date),
            ("t", DomoType::DateTime),
        ]);
        let (up, _) = store.start_upload(&ds.id, None, None).unwrap();
        store
            .put_part(
                &ds.id,
                up,
                1,
                "0123,7,1.5,2.25,2024-01-02,2024-01-02 03:04:05\n",
            )
            .unwrap();
        store.commit_upload(&ds.id, up, None, None, true).unwrap();
        let r = store.query(&ds.id, "SELECT * FROM table").unwrap();
        assert_eq!(r.columns, ["s", "n", "x", "m", "d", "t"]);
        let names: Vec<_> = r.types.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            ["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME"]
        );
        assert_eq!(
            Json::Array(r.rows()[0].clone()),
            json!(["0123", 7, 1.5, 2.25, "2024-01-02", "2024-01-02T03:04:05"])
        );
        let r = store
            .query(
                &ds.id,
                "SELECT COUNT(*) AS c, MAX(d), SUM(x), CAST(d AS DATE) FROM table",
            )
            .unwrap();
        let names: Vec<_> = r.types.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["LONG", "DATE", "DOUBLE", "DATE"]);
        let err = store.query(&ds.id, "SELECT nope FROM table").err().unwrap();
        assert_eq!(err.status.as_u16(), 400);
        assert!(err.message.contains("no such column"), "{}", err.message);
    }

    #[test]
    fn json_numbers_are_what_serde_json_writes() {
        for f in [
            0.0,
            -0.0,
            1.0,
            1.5,
            -281752.8528,
            78408691.0,
            1e16,
            1.7976931348623157e308,
            5e-324,
            0.1 + 0.2,
        ] {
            let mut ours = Vec::new();
            write_json_cell(&mut ours, ValueRef::Real(f), false);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&f).unwrap()
            );
        }
        for i in [0, -1, i64::MIN, i64::MAX] {
            let mut ours = Vec::new();
            write_json_cell(&mut ours, ValueRef::Integer(i), true);
            assert_eq!(String::from_utf8(ours).unwrap(), format!("\"{i}\""));
        }
    }

    #[test]
    fn a_query_with_parameters_is_refused() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        for sql in ["SELECT ? FROM table", "SELECT s FROM table WHERE s = :name"] {
            let Err(e) = store.query(&ds.id, sql) else {
                panic!("{sql} was answered");
            };
            assert!(e.message.starts_with("Invalid SQL: "), "{}", e.message);
            assert!(e.message.contains("parameters"), "{sql}: {}", e.message);
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_answered_with_replacement_characters() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        let r = store
            .query(
                &ds.id,
                "SELECT CAST(x'ff' AS CHAR) AS a, CONCAT('caf', CAST(x'c3' AS CHAR), '\"') AS b",
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(r.rows_json).unwrap(),
            "[[\"\u{fffd}\",\"caf\u{fffd}\\\"\"]]"
        );
    }

    #[test]
    fn exported_text_that_is_not_utf8_gets_replacement_characters() {
        let (store, ds) = store_with(&[("s", DomoType::String), ("n", DomoType::Long)]);
        store
            .lock()
            .execute_batch(&format!(
                "INSERT INTO {} (s, n) VALUES ('caf' || CAST(x'c3' AS TEXT) || ',', 1)",
                ds.data_table()
            ))
            .unwrap();
        // What is already in the buffer is left as it is.
        let mut out = vec![0xff];
        let (_, n) = store
            .export_chunk(&ds, i64::MIN, &mut out, b"\\N", None)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(out[0], 0xff);
        assert_eq!(
            std::str::from_utf8(&out[1..]).unwrap(),
            "\"caf\u{fffd},\",1\n"
        );
    }

    #[test]
    fn a_query_nobody_listens_to_stops() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        let (up, _) = store.start_upload(&ds.id, None, None).unwrap();
        // Enough rows for several chunks of the answer.
        let row = format!("{}\n", "x".repeat(1000));
        let rows = 3 * QUERY_CHUNK_BYTES / row.len();
        store.put_part(&ds.id, up, 1, &row.repeat(rows)).unwrap();
        store.commit_upload(&ds.id, up, None, None, true).unwrap();
        let count = |stop_after_rows: usize| {
            let (mut chunks, mut done) = (0, false);
            store
                .query_stream(&ds.id, "SELECT * FROM table", &mut |event| {
                    match event {
                        QueryEvent::Rows(_) => chunks += 1,
                        QueryEvent::Done { .. } => done = true,
                        QueryEvent::Columns { .. } => {}
                    }
                    if chunks == stop_after_rows {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .unwrap();
            (chunks, done)
        };
        let (all, done) = count(usize::MAX);
        assert!(all >= 3 && done, "{all} chunks");
        assert_eq!(count(1), (1, false));
    }

    #[test]
    fn parts_staged_by_a_store_with_one_staging_table_are_committed_in_part_order() {
        let dir = std::env::temp_dir().join(format!(
            "domo-emulator-test-{}-{}",
            std::process::id(),
            crate::auth::random_token(8)
        ));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("domo.sqlite");
        let store = Store::open(Some(&path)).unwrap();
        let cols = vec![
            Column {
                name: "n".into(),
                ty: DomoType::Long,
            },
            Column {
                name: "s".into(),
                ty: DomoType::String,
            },
        ];
        let ds = store.create_dataset("t", "", cols).unwrap();
        let (waiting, _) = store.start_upload(&ds.id, None, None).unwrap();
        let (other, _) = store.start_upload(&ds.id, None, None).unwrap();
        // The layout such a store has: every dataset's parts in one table, told apart by
        // upload and part; part 2 of the waiting upload arrived before its part 1.
        store
            .lock()
            .execute_batch(&format!(
                "CREATE TABLE \"s_{seq}\" (__domo_rowid INTEGER PRIMARY KEY, __domo_upload INTEGER NOT NULL, __domo_part INTEGER NOT NULL, n INTEGER, s TEXT);
                 INSERT INTO \"s_{seq}\" (__domo_upload, __domo_part, n, s) VALUES
                    ({waiting}, 2, 3, 'c'), ({other}, 1, 9, 'z'), ({waiting}, 2, 4, 'd'),
                    ({waiting}, 1, 1, 'a'), ({waiting}, 1, 2, 'b'), ({other}, 4294967296, 8, 'y');
                 INSERT INTO _upload_parts (upload_id, part, rows, bytes) VALUES
                    ({waiting}, 1, 2, 8), ({waiting}, 2, 2, 8), ({other}, 1, 1, 4);",
                seq = ds.seq
            ))
            .unwrap();
        drop(store);
        let store = Store::open(Some(&path)).unwrap();
        let shared_left: bool = store
            .lock()
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 's_{}')",
                    ds.seq
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!shared_left);
        let out = store
            .commit_upload(&ds.id, waiting, Some("REPLACE"), None, true)
            .unwrap();
        assert_eq!((out.rows_uploaded, out.dataset_rows), (4, 4));
        let r = store.query(&ds.id, "SELECT n, s FROM table").unwrap();
        assert_eq!(
            String::from_utf8(r.rows_json).unwrap(),
            r#"[[1,"a"],[2,"b"],[3,"c"],[4,"d"]]"#
        );
        // The other upload kept its part, and appends it.
        store
            .commit_upload(&ds.id, other, Some("APPEND"), None, true)
            .unwrap();
        let r = store.query(&ds.id, "SELECT n FROM table").unwrap();
        assert_eq!(
            String::from_utf8(r.rows_json).unwrap(),
            "[[1],[2],[3],[4],[9]]"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
