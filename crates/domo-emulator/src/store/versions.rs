//! Data versions, partitions, index requests, and the instance API's view of streams
//! (their connector configuration and executions).
//!
//! A data version is an upload (`_uploads`): committing one creates a version, and a
//! committed partitioned upload restates its partition. Deleting a version (or a partition
//! tag) removes its rows from queries and exports and marks the version `DELETED`.
//! Index requests are recorded in `_indexes`; their status is derived from the time since
//! the request: `QUEUED`, then `INDEXING`, then `COMPLETE` after the configured delay.
//! A stream's connector configuration lives in `_stream_configs`; executing a stream
//! records an execution (an upload row) whose rows and bytes are the data it read.

use super::*;

/// Tables of this module; created with the store's own.
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS _indexes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id TEXT NOT NULL,
        data_ids TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        reindex INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS _stream_configs (
        dataset_id TEXT PRIMARY KEY,
        config TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS _emulator_settings (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );";

/// Wiped by `Store::reset`.
pub(super) const RESET: &str =
    "DELETE FROM _indexes; DELETE FROM _stream_configs; DELETE FROM _emulator_settings;
    DELETE FROM sqlite_sequence WHERE name = '_indexes';";

const DELETED: &str = "DELETED";
/// A deleted version whose partition tag has been removed from the dataset (stage 2 of a
/// partition delete): listed as deleted, and its tag cannot be removed a second time.
const UNTAGGED: &str = "DELETED_UNTAGGED";
/// How long an index request takes to complete unless configured otherwise.
pub const DEFAULT_INDEX_DELAY_MS: i64 = 600;
/// The longest configurable index delay, so a test cannot hang on a typo.
pub const MAX_INDEX_DELAY_MS: i64 = 60_000;

/// The most rows a query answers, as the live service answers at most 1,000,000.
pub const DEFAULT_ANSWER_ROW_CAP: i64 = 1_000_000;

/// The configured answer row cap (the live one unless set).
pub(super) fn answer_row_cap(conn: &Connection) -> Result<usize, ApiError> {
    let cap: i64 = conn
        .query_row(
            "SELECT value FROM _emulator_settings WHERE key = 'answer_row_cap'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(DEFAULT_ANSWER_ROW_CAP);
    Ok(usize::try_from(cap).unwrap_or(usize::MAX))
}

/// Whether string comparison ignores case, as MySQL's default collation does (the
/// default: live Domo's behaviour is not documented, so the emulator follows MySQL).
pub(super) fn strings_ignore_case(conn: &Connection) -> Result<bool, ApiError> {
    let value: Option<i64> = conn
        .query_row(
            "SELECT value FROM _emulator_settings WHERE key = 'strings_ignore_case'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(value.is_none_or(|v| v != 0))
}

/// One partition: its tag, the version that wrote it, its rows, when that version committed.
#[derive(Debug, Clone)]
pub struct Partition {
    pub tag: String,
    pub version: i64,
    pub rows: i64,
    pub completed: i64,
}

/// One index request.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    pub id: i64,
    pub dataset_id: String,
    pub data_ids: Json,
    pub requested_at: i64,
    pub reindex: bool,
    pub delay_ms: i64,
}

impl IndexRequest {
    /// `QUEUED` for the first third of the delay, `INDEXING` until it ends, then `COMPLETE`.
    pub fn status(&self, now: i64) -> &'static str {
        let elapsed = now - self.requested_at;
        if elapsed >= self.delay_ms {
            "COMPLETE"
        } else if elapsed * 3 >= self.delay_ms {
            "INDEXING"
        } else {
            "QUEUED"
        }
    }
}

fn version_json(r: &rusqlite::Row<'_>, dataset_id: &str) -> rusqlite::Result<Json> {
    let state: String = r.get(4)?;
    let status = match state.as_str() {
        COMMITTED => "ACTIVE",
        PENDING_INDEX => "PENDING_INDEX",
        DELETED | UNTAGGED => "DELETED",
        ABORTED => "ABORTED",
        _ => "IN_PROGRESS",
    };
    Ok(json!({
        "dataVersionId": r.get::<_, i64>(0)?,
        "uploadId": r.get::<_, i64>(0)?,
        "dataSourceId": dataset_id,
        "dataTag": r.get::<_, Option<String>>(1)?,
        "updateMethod": r.get::<_, Option<String>>(2)?,
        "createTime": r.get::<_, i64>(3)?,
        "status": status,
        "committedTime": r.get::<_, Option<i64>>(5)?,
        "rowCount": r.get::<_, Option<i64>>(6)?,
        "indexed": state == COMMITTED,
        "deleted": state == DELETED || state == UNTAGGED,
    }))
}

impl Store {
    /// Every data version (upload) of the dataset that got as far as a commit, oldest first.
    pub fn data_versions(&self, dataset_id: &str) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        let ds = load_dataset(&conn, dataset_id)?;
        let mut stmt = conn.prepare(
            "SELECT id, data_tag, action, created, state, committed_at, row_count
             FROM _uploads WHERE dataset_id = ?1 AND state NOT IN (?2, ?3) ORDER BY id",
        )?;
        let out = stmt
            .query_map(params![ds.id, OPEN, ABORTED], |r| version_json(r, &ds.id))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(out)
    }

    /// The dataset's partitions with live rows, by tag.
    pub fn partitions(&self, dataset_id: &str) -> Result<Vec<Partition>, ApiError> {
        let conn = self.lock();
        let ds = load_dataset(&conn, dataset_id)?;
        partitions_in(&conn, &ds)
    }

    /// Deletes the data version behind a partition tag (or a data version by its id): its
    /// rows leave queries and exports, the version is marked deleted.
    pub fn delete_data_version(&self, dataset_id: &str, key: &str) -> Result<i64, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let data = ds.data_table();
        let removed = if partitions_in(&tx, &ds)?.iter().any(|p| p.tag == key) {
            remove_partition(&tx, &ds, key)?
        } else {
            let version = key.parse::<i64>().ok().filter(|id| {
                tx.query_row(
                    "SELECT 1 FROM _uploads WHERE id = ?1 AND dataset_id = ?2 AND state IN (?3, ?4)",
                    params![id, ds.id, COMMITTED, PENDING_INDEX],
                    |_| Ok(()),
                )
                .optional()
                .ok()
                .flatten()
                .is_some()
            });
            let Some(version) = version else {
                return Err(ApiError::not_found(format!(
                    "No partition or data version '{key}' in DataSource {}",
                    ds.id
                )));
            };
            let n = tx.execute(
                &format!("DELETE FROM {data} WHERE __domo_upload = ?1"),
                [version],
            )?;
            tx.execute(
                "UPDATE _uploads SET state = ?2 WHERE id = ?1",
                params![version, DELETED],
            )?;
            n as i64
        };
        refresh_counts(&tx, &ds, true)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Removes a partition tag and its rows.
    pub fn delete_partition(&self, dataset_id: &str, tag: &str) -> Result<i64, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let live = partitions_in(&tx, &ds)?.iter().any(|p| p.tag == tag);
        // Deleting the tag's data (stage 1) leaves the tag and its association in place
        // for this call (stage 2) to remove.
        let kept = tx
            .query_row(
                "SELECT 1 FROM _uploads WHERE dataset_id = ?1 AND data_tag = ?2 AND state = ?3
                 LIMIT 1",
                params![ds.id, tag, DELETED],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !live && !kept {
            return Err(ApiError::not_found(format!(
                "Partition '{tag}' not found in DataSource {}",
                ds.id
            )));
        }
        let removed = if live {
            remove_partition(&tx, &ds, tag)?
        } else {
            0
        };
        tx.execute(
            "UPDATE _uploads SET state = ?4 WHERE dataset_id = ?1 AND data_tag = ?2 AND state = ?3",
            params![ds.id, tag, DELETED, UNTAGGED],
        )?;
        refresh_counts(&tx, &ds, true)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Applies pending uploads (as `index_dataset`) and records an index request.
    pub fn request_index(
        &self,
        dataset_id: &str,
        data_ids: Json,
    ) -> Result<(IndexRequest, i64), ApiError> {
        let rows = self.index_dataset(dataset_id)?;
        let conn = self.lock();
        let ds = load_dataset(&conn, dataset_id)?;
        conn.execute(
            "INSERT INTO _indexes (dataset_id, data_ids, requested_at) VALUES (?1, ?2, ?3)",
            params![ds.id, data_ids.to_string(), now_ms()],
        )?;
        let id = conn.last_insert_rowid();
        Ok((load_index(&conn, &ds.id, id)?, rows))
    }

    /// Re-runs an index request: applies pending uploads and restarts its clock.
    pub fn reindex(
        &self,
        dataset_id: &str,
        index_id: i64,
        data_ids: Json,
    ) -> Result<IndexRequest, ApiError> {
        {
            let conn = self.lock();
            load_dataset(&conn, dataset_id)?;
            load_index(&conn, dataset_id, index_id)?;
        }
        self.index_dataset(dataset_id)?;
        let conn = self.lock();
        conn.execute(
            "UPDATE _indexes SET data_ids = ?2, requested_at = ?3, reindex = 1 WHERE id = ?1",
            params![index_id, data_ids.to_string(), now_ms()],
        )?;
        load_index(&conn, dataset_id, index_id)
    }

    pub fn index_request(&self, dataset_id: &str, index_id: i64) -> Result<IndexRequest, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        load_index(&conn, dataset_id, index_id)
    }

    /// Sets how long later index requests take to complete.
    pub fn set_index_delay(&self, ms: i64) -> Result<(), ApiError> {
        if !(0..=MAX_INDEX_DELAY_MS).contains(&ms) {
            return Err(ApiError::bad_request(format!(
                "indexDelayMs must be between 0 and {MAX_INDEX_DELAY_MS}"
            )));
        }
        self.lock().execute(
            "INSERT OR REPLACE INTO _emulator_settings (key, value) VALUES ('index_delay_ms', ?1)",
            [ms],
        )?;
        Ok(())
    }

    /// The most rows a query answers (the live cap unless set).
    pub fn answer_row_cap(&self) -> Result<usize, ApiError> {
        answer_row_cap(&self.reader()?.conn)
    }

    /// Caps query answers at `rows` rows (at least 1).
    pub fn set_answer_row_cap(&self, rows: i64) -> Result<(), ApiError> {
        if rows < 1 {
            return Err(ApiError::bad_request(
                "answerRowCap must be a positive number of rows",
            ));
        }
        self.lock().execute(
            "INSERT OR REPLACE INTO _emulator_settings (key, value) VALUES ('answer_row_cap', ?1)",
            [rows],
        )?;
        Ok(())
    }

    /// Makes string `=`, `<`, IN and BETWEEN ignore case (MySQL's default) or not.
    pub fn set_strings_ignore_case(&self, ignore: bool) -> Result<(), ApiError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO _emulator_settings (key, value) VALUES ('strings_ignore_case', ?1)",
            [i64::from(ignore)],
        )?;
        Ok(())
    }

    /// The stream's connector configuration as last created or updated (`{}` if never).
    pub fn stream_config(&self, dataset_id: &str) -> Result<Json, ApiError> {
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT config FROM _stream_configs WHERE dataset_id = ?1",
                [dataset_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| json!({})))
    }

    pub fn set_stream_config(&self, dataset_id: &str, config: &Json) -> Result<(), ApiError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO _stream_configs (dataset_id, config) VALUES (?1, ?2)",
            params![dataset_id, config.to_string()],
        )?;
        Ok(())
    }

    /// Runs a connector stream. The emulator has no connector behind it, so the run reads
    /// the dataset's current data as its source: the data stay the same, and the execution
    /// records that many rows and their size as CSV.
    pub fn execute_stream(&self, stream_id: i64) -> Result<Execution, ApiError> {
        let s = self.stream(stream_id)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = &s.dataset;
        let rows: i64 = tx.query_row(
            &format!("SELECT COUNT(*) FROM {}", ds.data_table()),
            [],
            |r| r.get(0),
        )?;
        let bytes: i64 = if ds.columns.is_empty() {
            0
        } else {
            let lengths = ds
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "COALESCE(LENGTH(CAST({} AS TEXT)), 0)",
                        quote_ident(&c.name)
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ");
            tx.query_row(
                &format!(
                    "SELECT COALESCE(SUM({lengths} + {}), 0) FROM {}",
                    ds.columns.len(),
                    ds.data_table()
                ),
                [],
                |r| r.get(0),
            )?
        };
        let now = now_ms();
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state, committed_at, row_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ds.id,
                s.update_method.name(),
                now,
                COMMITTED,
                now_ms(),
                rows
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO _upload_parts (upload_id, part, rows, bytes) VALUES (?1, 1, ?2, ?3)",
            params![id, rows, bytes],
        )?;
        tx.execute(
            "UPDATE _datasets SET last_updated = ?2 WHERE id = ?1",
            params![ds.id, now_ms()],
        )?;
        tx.commit()?;
        drop(conn);
        self.execution(stream_id, id)
    }
}

fn partitions_in(conn: &Connection, ds: &Dataset) -> Result<Vec<Partition>, ApiError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT g.tag, g.version, g.n,
                COALESCE((SELECT committed_at FROM _uploads u WHERE u.id = g.version), 0)
         FROM (SELECT __domo_partition AS tag, MAX(__domo_upload) AS version, COUNT(*) AS n
               FROM {} WHERE __domo_partition IS NOT NULL GROUP BY __domo_partition) g
         ORDER BY g.tag",
        ds.data_table()
    ))?;
    let out = stmt
        .query_map([], |r| {
            Ok(Partition {
                tag: r.get(0)?,
                version: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                rows: r.get(2)?,
                completed: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(out)
}

/// Deletes a partition's rows and marks the versions that wrote it deleted.
fn remove_partition(tx: &Transaction<'_>, ds: &Dataset, tag: &str) -> Result<i64, ApiError> {
    let n = tx.execute(
        &format!(
            "DELETE FROM {} WHERE __domo_partition = ?1",
            ds.data_table()
        ),
        [tag],
    )?;
    tx.execute(
        "UPDATE _uploads SET state = ?3 WHERE dataset_id = ?1 AND data_tag = ?2 AND state = ?4",
        params![ds.id, tag, DELETED, COMMITTED],
    )?;
    Ok(n as i64)
}

fn load_index(
    conn: &Connection,
    dataset_id: &str,
    index_id: i64,
) -> Result<IndexRequest, ApiError> {
    let delay: i64 = conn
        .query_row(
            "SELECT value FROM _emulator_settings WHERE key = 'index_delay_ms'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(DEFAULT_INDEX_DELAY_MS);
    let row = conn
        .query_row(
            "SELECT id, dataset_id, data_ids, requested_at, reindex FROM _indexes
             WHERE id = ?1 AND dataset_id = ?2",
            params![index_id, dataset_id],
            |r| {
                Ok(IndexRequest {
                    id: r.get(0)?,
                    dataset_id: r.get(1)?,
                    data_ids: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Json::Null),
                    requested_at: r.get(3)?,
                    reindex: r.get(4)?,
                    delay_ms: delay,
                })
            },
        )
        .optional()?;
    row.ok_or_else(|| {
        ApiError::not_found(format!(
            "Index {index_id} not found for DataSource {dataset_id}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DomoType;

    #[test]
    fn partitions_restate_and_delete() {
        let store = Store::open(None).unwrap();
        let ds = store
            .create_dataset(
                "t",
                "",
                vec![Column {
                    name: "n".into(),
                    ty: DomoType::Long,
                }],
            )
            .unwrap();
        for (tag, text) in [("a", "1\n2\n"), ("b", "3\n"), ("a", "4\n")] {
            let (up, _) = store.start_upload(&ds.id, Some(tag), None).unwrap();
            store.put_part(&ds.id, up, 1, text).unwrap();
            store
                .commit_upload(&ds.id, up, Some("APPEND"), None, true)
                .unwrap();
        }
        let parts = store.partitions(&ds.id).unwrap();
        assert_eq!(
            parts
                .iter()
                .map(|p| (p.tag.as_str(), p.rows))
                .collect::<Vec<_>>(),
            [("a", 1), ("b", 1)]
        );
        assert_eq!(store.delete_partition(&ds.id, "b").unwrap(), 1);
        assert!(store.delete_partition(&ds.id, "b").is_err());
        assert_eq!(store.dataset(&ds.id).unwrap().row_count, 1);
        let versions = store.data_versions(&ds.id).unwrap();
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[1]["status"], "DELETED");
    }

    #[test]
    fn at_most_400_partitions() {
        let store = Store::open(None).unwrap();
        let ds = store
            .create_dataset(
                "t",
                "",
                vec![Column {
                    name: "n".into(),
                    ty: DomoType::Long,
                }],
            )
            .unwrap();
        let upload = |tag: &str| {
            let (up, _) = store.start_upload(&ds.id, Some(tag), None).unwrap();
            store.put_part(&ds.id, up, 1, "1\n").unwrap();
            store.commit_upload(&ds.id, up, None, None, true)
        };
        for i in 0..400 {
            upload(&format!("p{i}")).unwrap();
        }
        let err = upload("one-too-many").err().unwrap();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("limit is 400"), "{}", err.message);
        // Restating an existing partition is still fine, and deleting one frees a slot.
        upload("p7").unwrap();
        store.delete_partition(&ds.id, "p0").unwrap();
        upload("one-too-many").unwrap();
        assert_eq!(store.partitions(&ds.id).unwrap().len(), 400);
    }

    #[test]
    fn index_status_moves_with_time() {
        let r = IndexRequest {
            id: 1,
            dataset_id: String::new(),
            data_ids: Json::Null,
            requested_at: 1000,
            reindex: false,
            delay_ms: 600,
        };
        assert_eq!(r.status(1000), "QUEUED");
        assert_eq!(r.status(1300), "INDEXING");
        assert_eq!(r.status(1600), "COMPLETE");
    }
}
