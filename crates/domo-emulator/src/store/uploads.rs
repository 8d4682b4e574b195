//! Uploads: parts staged out of sight, then committed (appended, replaced or tagged).

use super::*;

/// Domo's limit on partitions per dataset.
pub(super) const MAX_PARTITIONS: i64 = 400;

/// How a committed upload changes the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Append,
    Replace,
}

impl Action {
    pub fn parse(s: &str) -> Result<Action, ApiError> {
        match s.to_ascii_uppercase().as_str() {
            "APPEND" => Ok(Action::Append),
            "REPLACE" => Ok(Action::Replace),
            _ => Err(ApiError::bad_request(format!(
                "Unknown upload action '{s}'; expected APPEND or REPLACE"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Action::Append => "APPEND",
            Action::Replace => "REPLACE",
        }
    }
}

pub struct CommitOutcome {
    pub rows_uploaded: i64,
    pub dataset_rows: i64,
    pub indexed: bool,
}

pub(super) struct UploadRow {
    pub(super) state: String,
    pub(super) data_tag: Option<String>,
    pub(super) action: Option<String>,
}

pub(super) const OPEN: &str = "OPEN";
pub(super) const PENDING_INDEX: &str = "PENDING_INDEX";
pub(super) const COMMITTED: &str = "COMMITTED";
pub(super) const ABORTED: &str = "ABORTED";

impl Store {
    // ---- uploads ----

    pub fn start_upload(
        &self,
        dataset_id: &str,
        data_tag: Option<&str>,
        action: Option<&str>,
    ) -> Result<(i64, i64), ApiError> {
        if let Some(a) = action {
            Action::parse(a)?;
        }
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        let now = now_ms();
        conn.execute(
            "INSERT INTO _uploads (dataset_id, data_tag, action, created, state)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![dataset_id, data_tag, action, now, OPEN],
        )?;
        Ok((conn.last_insert_rowid(), now))
    }

    /// Stages one part (replacing an earlier copy of the same part). Returns its row count.
    pub fn put_part(
        &self,
        dataset_id: &str,
        upload_id: i64,
        part: i64,
        text: &str,
    ) -> Result<i64, ApiError> {
        let load = |conn: &Connection| {
            let ds = load_dataset(conn, dataset_id)?;
            open_upload(conn, &ds, upload_id)?;
            Ok(ds)
        };
        self.store_part(upload_id, part, text, load, |_| Ok(()))
            .map(|(rows, ())| rows)
    }

    /// Stages `text` as `part` of `upload_id` and returns its row count with what `then`
    /// reads in the same transaction. `load` gives the dataset the upload writes to, or
    /// the reason it takes no part. Parsing is most of the work and needs no lock: `load`
    /// runs on a reader first, so a part is parsed while the writer stores another, and
    /// again in the writer's transaction, where a schema changed meanwhile has the part
    /// read again for the new one.
    pub(super) fn store_part<T>(
        &self,
        upload_id: i64,
        part: i64,
        text: &str,
        load: impl Fn(&Connection) -> Result<Dataset, ApiError>,
        then: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError>,
    ) -> Result<(i64, T), ApiError> {
        // An upload that cannot take the part says so before its data is read.
        let parsed_for = load(&self.reader()?.conn)?;
        let mut values = parse_part(&parsed_for, part, text)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load(&tx)?;
        if ds.columns != parsed_for.columns {
            values = parse_part(&ds, part, text)?;
        }
        let rows = insert_part(&tx, &ds, upload_id, part, &values, text.len())?;
        let read = then(&tx)?;
        tx.commit()?;
        Ok((rows, read))
    }

    /// Commits an upload. Values given here win over those given at start; with no
    /// action anywhere the upload appends. With `index == false` the data waits for
    /// `index_dataset`, as Domo's does.
    pub fn commit_upload(
        &self,
        dataset_id: &str,
        upload_id: i64,
        action: Option<&str>,
        data_tag: Option<&str>,
        index: bool,
    ) -> Result<CommitOutcome, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let out = commit_in(&tx, &ds, upload_id, action, data_tag, index)?;
        tx.commit()?;
        Ok(out)
    }

    /// The public API's one-shot import (`PUT /v1/datasets/{id}/data`): one upload with
    /// one part, committed at once, all in one transaction so a bad row leaves the data
    /// as it was.
    pub fn import_csv(
        &self,
        dataset_id: &str,
        text: &str,
        action: Action,
    ) -> Result<CommitOutcome, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state) VALUES (?1, ?2, ?3, ?4)",
            params![ds.id, action.name(), now_ms(), OPEN],
        )?;
        let upload_id = tx.last_insert_rowid();
        stage_part(&tx, &ds, upload_id, 1, text)?;
        let out = commit_in(&tx, &ds, upload_id, None, None, true)?;
        tx.commit()?;
        Ok(out)
    }

    /// Applies every upload committed with `index: false`, oldest first.
    pub fn index_dataset(&self, dataset_id: &str) -> Result<i64, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let pending: Vec<(i64, String, Option<String>)> = tx
            .prepare(
                "SELECT id, action, data_tag FROM _uploads WHERE dataset_id = ?1 AND state = ?2 ORDER BY id",
            )?
            .query_map(params![ds.id, PENDING_INDEX], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        for (id, action, tag) in &pending {
            apply_upload(&tx, &ds, *id, Action::parse(action)?, tag.as_deref())?;
            tx.execute(
                "UPDATE _uploads SET state = ?2 WHERE id = ?1",
                params![id, COMMITTED],
            )?;
        }
        let rows = refresh_counts(&tx, &ds, !pending.is_empty())?;
        tx.commit()?;
        Ok(rows)
    }

    /// The spec's "Append Row to Dataset": rows given as JSON objects, applied at once.
    pub fn append_rows(&self, dataset_id: &str, data: &[Json]) -> Result<(i64, i64), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state, committed_at, row_count)
             VALUES (?1, 'APPEND', ?2, ?3, ?2, ?4)",
            params![ds.id, now, COMMITTED, data.len() as i64],
        )?;
        let upload_id = tx.last_insert_rowid();
        {
            let placeholders = vec!["?"; ds.columns.len() + 1].join(", ");
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {} ({}, __domo_upload) VALUES ({placeholders})",
                ds.data_table(),
                ds.column_list()
            ))?;
            for (n, row) in data.iter().enumerate() {
                let mut values = row_values(&ds, n, row)?;
                values.push(Value::Integer(upload_id));
                insert.execute(rusqlite::params_from_iter(values.iter()))?;
            }
        }
        refresh_counts(&tx, &ds, true)?;
        tx.commit()?;
        Ok((upload_id, now))
    }

    // ---- export ----

    // ---- admin ----

    pub fn uploads_summary(&self) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT u.id, u.dataset_id, u.state, u.action, u.data_tag,
                    (SELECT json_group_array(part) FROM (SELECT part FROM _upload_parts p WHERE p.upload_id = u.id ORDER BY part))
             FROM _uploads u ORDER BY u.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let parts: String = r.get(5)?;
                let state: String = r.get(2)?;
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "dataset": r.get::<_, String>(1)?,
                    "state": state,
                    "committed": state == COMMITTED || state == PENDING_INDEX,
                    "action": r.get::<_, Option<String>>(3)?,
                    "dataTag": r.get::<_, Option<String>>(4)?,
                    "parts": serde_json::from_str::<Json>(&parts).unwrap_or(Json::Null),
                }))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Row `n` of an "Append Row" (an object of column name to value) as the dataset's
/// column values in order, a missing column as null; an error names the row, and the
/// column whose value does not fit its type.
pub(super) fn row_values(ds: &Dataset, n: usize, row: &Json) -> Result<Vec<Value>, ApiError> {
    let Json::Object(obj) = row else {
        return Err(ApiError::bad_request(format!(
            "data[{n}] is not an object of column name to value"
        )));
    };
    if let Some(unknown) = obj
        .keys()
        .find(|k| !ds.columns.iter().any(|c| &c.name == *k))
    {
        return Err(ApiError::bad_request(format!(
            "data[{n}]: DataSource {} has no column '{unknown}'",
            ds.id
        )));
    }
    let mut values = Vec::with_capacity(ds.columns.len() + 1);
    for col in &ds.columns {
        let v = match obj.get(&col.name) {
            None => Value::Null,
            Some(j) => json_to_value(col.ty, j).map_err(|why| {
                ApiError::bad_request(format!(
                    "data[{n}], column '{}' ({}): {why}",
                    col.name,
                    col.ty.name()
                ))
            })?,
        };
        values.push(v);
    }
    Ok(values)
}

pub(super) fn open_upload(
    conn: &Connection,
    ds: &Dataset,
    upload_id: i64,
) -> Result<UploadRow, ApiError> {
    let row = conn
        .query_row(
            "SELECT state, data_tag, action FROM _uploads WHERE id = ?1 AND dataset_id = ?2",
            params![upload_id, ds.id],
            |r| {
                Ok(UploadRow {
                    state: r.get(0)?,
                    data_tag: r.get(1)?,
                    action: r.get(2)?,
                })
            },
        )
        .optional()?;
    let row = row.ok_or_else(|| {
        ApiError::not_found(format!(
            "Upload {upload_id} not found for DataSource {}",
            ds.id
        ))
    })?;
    match row.state.as_str() {
        OPEN => Ok(row),
        ABORTED => Err(ApiError::conflict(format!(
            "Upload {upload_id} has been aborted"
        ))),
        _ => Err(ApiError::conflict(format!(
            "Upload {upload_id} has already been committed"
        ))),
    }
}

pub(super) fn stage_part(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    part: i64,
    text: &str,
) -> Result<i64, ApiError> {
    let values = parse_part(ds, part, text)?;
    insert_part(tx, ds, upload_id, part, &values, text.len())
}

/// A part's CSV as stored values, row after row (`ds.columns.len()` per row), or the
/// first bad line. Needs no database, so parts are parsed side by side.
pub(super) fn parse_part<'a>(
    ds: &Dataset,
    part: i64,
    text: &'a str,
) -> Result<Vec<Stored<'a>>, ApiError> {
    let ncols = ds.columns.len();
    // About one line per 100 bytes: a guess that saves most regrowing of a large part.
    let mut values: Vec<Stored<'a>> = Vec::with_capacity(text.len() / 100 * ncols);
    let mut reader = csv::Reader::new(text);
    let mut fields = Vec::new();
    loop {
        let line = match reader.next_record(&mut fields) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "Part {part}, line {}: {}",
                    e.line, e.message
                )));
            }
        };
        if fields.len() != ncols {
            return Err(ApiError::bad_request(format!(
                "Part {part}, line {line}: expected {ncols} fields, found {}",
                fields.len()
            )));
        }
        for (i, (f, col)) in fields.iter().zip(&ds.columns).enumerate() {
            if f.is_null() {
                values.push(Stored::Null);
                continue;
            }
            let invalid = |why: String| {
                ApiError::bad_request(format!(
                    "Part {part}, line {line}, column {} '{}' ({}): invalid value '{}': {why}",
                    i + 1,
                    col.name,
                    col.ty.name(),
                    truncate(&f.text, 80)
                ))
            };
            // A field with a doubled quote is text of its own; every other field is a
            // piece of the part, which the stored value can borrow.
            let v = match &f.text {
                Cow::Borrowed(s) => text_to_stored(col.ty, s).map_err(invalid)?,
                Cow::Owned(s) => Stored::Other(text_to_value(col.ty, s).map_err(invalid)?),
            };
            values.push(v);
        }
    }
    Ok(values)
}

pub(super) fn commit_in(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    action: Option<&str>,
    data_tag: Option<&str>,
    index: bool,
) -> Result<CommitOutcome, ApiError> {
    let up = open_upload(tx, ds, upload_id)?;
    let parts = staged_parts(tx, upload_id)?;
    // Upload parts are numbered from 1; stream executions are also sent from 0 (pydomo
    // does), which the routes for uploads never let through.
    let first = match parts.first() {
        Some((0, _)) => 0,
        _ => 1,
    };
    if parts
        .iter()
        .enumerate()
        .any(|(i, (p, _))| *p != i as i64 + first)
    {
        return Err(ApiError::bad_request(format!(
            "Too many non-consecutive part ids: upload {upload_id} has parts {:?}, expected {first}..{}",
            parts.iter().map(|p| p.0).collect::<Vec<_>>(),
            parts.len() as i64 + first - 1
        )));
    }
    let action = match action.or(up.action.as_deref()) {
        Some(a) => Action::parse(a)?,
        None => Action::Append,
    };
    let tag = data_tag.map(str::to_owned).or(up.data_tag);
    let rows_uploaded: i64 = parts.iter().map(|p| p.1).sum();
    tx.execute(
        "UPDATE _uploads SET state = ?2, action = ?3, data_tag = ?4, committed_at = ?5, row_count = ?6 WHERE id = ?1",
        params![
            upload_id,
            if index { COMMITTED } else { PENDING_INDEX },
            action.name(),
            tag,
            now_ms(),
            rows_uploaded
        ],
    )?;
    if index {
        apply_upload(tx, ds, upload_id, action, tag.as_deref())?;
    }
    let dataset_rows = refresh_counts(tx, ds, index)?;
    Ok(CommitOutcome {
        rows_uploaded,
        dataset_rows,
        indexed: index,
    })
}

pub(super) fn abort_in(tx: &Transaction<'_>, ds: &Dataset, upload_id: i64) -> Result<(), ApiError> {
    clear_staged(tx, ds, upload_id)?;
    tx.execute(
        "UPDATE _uploads SET state = ?2, committed_at = ?3 WHERE id = ?1",
        params![upload_id, ABORTED, now_ms()],
    )?;
    Ok(())
}

/// Moves one upload's staged rows into the data. A partition tag restates exactly that
/// partition (APPEND or REPLACE alike); otherwise REPLACE swaps all rows and APPEND adds.
pub(super) fn apply_upload(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    action: Action,
    tag: Option<&str>,
) -> Result<(), ApiError> {
    let data = ds.data_table();
    let staged = ds.upload_table(upload_id);
    let has_rows = table_exists(tx, &staged)?;
    let replaces_all = match (tag, action) {
        // A tag restates its partition: APPEND with a tag is the contract's partition
        // flow. What live Domo does with REPLACE and a tag is undocumented; it is read the
        // way that cannot lose data, the same restatement, never a wipe of the dataset.
        (Some(t), _) => {
            tx.execute(
                &format!("DELETE FROM {data} WHERE __domo_partition = ?1"),
                [t],
            )?;
            false
        }
        (None, Action::Replace) => true,
        (None, Action::Append) => {
            !tx.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {data})"), [], |r| {
                r.get::<_, bool>(0)
            })?
        }
    };
    if replaces_all && has_rows {
        // The upload's table, shaped like the data and in upload order, becomes the data:
        // the rows are written once, not staged and then copied.
        tx.execute_batch(&format!(
            "DROP VIEW {view}; DROP TABLE {data}; ALTER TABLE {staged} RENAME TO {data};",
            view = ds.view()
        ))?;
        create_view(tx, ds)?;
        return Ok(());
    }
    if replaces_all {
        // A DELETE without WHERE frees the table's pages at once instead of visiting
        // every row.
        tx.execute(&format!("DELETE FROM {data}"), [])?;
    }
    if has_rows {
        let cols = ds.column_list();
        tx.execute(
            &format!(
                "INSERT INTO {data} ({cols}, __domo_partition, __domo_upload)
                 SELECT {cols}, ?1, __domo_upload FROM {staged} ORDER BY __domo_rowid"
            ),
            [tag],
        )?;
        clear_staged(tx, ds, upload_id)?;
    }
    if tag.is_some() {
        let partitions: i64 = tx.query_row(
            &format!(
                "SELECT COUNT(DISTINCT __domo_partition) FROM {data} WHERE __domo_partition IS NOT NULL"
            ),
            [],
            |r| r.get(0),
        )?;
        if partitions > MAX_PARTITIONS {
            return Err(ApiError::bad_request(format!(
                "DataSource {} would have {partitions} partitions; the limit is {MAX_PARTITIONS}",
                ds.id
            )));
        }
    }
    Ok(())
}

/// Recounts rows and, when data changed, bumps lastUpdated. Returns the row count.
pub(super) fn refresh_counts(
    tx: &Transaction<'_>,
    ds: &Dataset,
    changed: bool,
) -> Result<i64, ApiError> {
    let rows: i64 = tx.query_row(
        &format!("SELECT COUNT(*) FROM {}", ds.data_table()),
        [],
        |r| r.get(0),
    )?;
    if changed {
        tx.execute(
            "UPDATE _datasets SET row_count = ?2, last_updated = ?3 WHERE id = ?1",
            params![ds.id, rows, now_ms()],
        )?;
    }
    Ok(rows)
}
