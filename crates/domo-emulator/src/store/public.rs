//! What the public API (`/v1/...`) needs from the store beyond the instance API: metadata
//! and schema changes, and streams with their executions.
//!
//! A stream is not stored as a separate object. Every dataset has one, id `1000 + seq`
//! (the `streamId` the instance API already reports), so that pydomo's `ds_update`, which
//! looks a dataset's stream up by `dataSource.id`, works on any dataset however it was
//! created. `_streams` only records what differs from the defaults (update method,
//! modification time, deletion). An execution is an upload: same staging, same commit.

use super::*;

/// Stream ids are the dataset's sequence number offset by this.
const STREAM_ID_BASE: i64 = 1000;

#[derive(Debug, Clone)]
pub struct Stream {
    pub id: i64,
    pub dataset: Dataset,
    pub update_method: Action,
    pub created: i64,
    pub modified: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionState {
    Active,
    Success,
    Aborted,
}

impl ExecutionState {
    pub fn name(self) -> &'static str {
        match self {
            ExecutionState::Active => "ACTIVE",
            ExecutionState::Success => "SUCCESS",
            ExecutionState::Aborted => "ABORTED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Execution {
    pub id: i64,
    pub state: ExecutionState,
    pub update_method: Option<Action>,
    pub created: i64,
    /// When it was committed or aborted.
    pub ended: Option<i64>,
    /// Rows committed (known once committed).
    pub rows: Option<i64>,
    /// Bytes of CSV received in parts so far.
    pub bytes: i64,
}

impl Store {
    /// Changes name, description and/or schema. On a schema change, columns are matched
    /// to the old ones by name; a value that does not fit its column's new type becomes
    /// null, and new columns are null.
    pub fn update_dataset(
        &self,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        columns: Option<Vec<Column>>,
    ) -> Result<Dataset, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, id)?;
        if let Some(name) = name {
            tx.execute(
                "UPDATE _datasets SET name = ?2 WHERE id = ?1",
                params![ds.id, name],
            )?;
        }
        if let Some(description) = description {
            tx.execute(
                "UPDATE _datasets SET description = ?2 WHERE id = ?1",
                params![ds.id, description],
            )?;
        }
        if let Some(columns) = columns {
            let same = columns.len() == ds.columns.len()
                && columns
                    .iter()
                    .zip(&ds.columns)
                    .all(|(a, b)| a.name == b.name && a.ty == b.ty);
            if !same {
                change_schema(&tx, &ds, columns)?;
            }
        }
        tx.execute(
            "UPDATE _datasets SET last_updated = ?2 WHERE id = ?1",
            params![ds.id, now_ms()],
        )?;
        let ds = load_dataset(&tx, id)?;
        tx.commit()?;
        Ok(ds)
    }

    /// A new dataset and its stream, in one transaction.
    pub fn create_stream(
        &self,
        name: &str,
        description: &str,
        columns: Vec<Column>,
        update_method: Action,
    ) -> Result<Stream, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = create_dataset_in(&tx, name, description, columns)?;
        tx.execute(
            "INSERT INTO _streams (dataset_id, update_method, created, modified)
             VALUES (?1, ?2, ?3, ?3)",
            params![ds.id, update_method.name(), ds.created],
        )?;
        tx.commit()?;
        Ok(Stream {
            id: ds.stream_id(),
            update_method,
            created: ds.created,
            modified: ds.created,
            dataset: ds,
        })
    }

    pub fn stream(&self, stream_id: i64) -> Result<Stream, ApiError> {
        load_stream(&self.lock(), stream_id)
    }

    /// Every stream that has not been deleted, oldest first.
    pub fn streams(&self) -> Result<Vec<Stream>, ApiError> {
        let conn = self.lock();
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM _datasets ORDER BY seq")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = stream_of(&conn, load_dataset(&conn, &id)?)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    pub fn update_stream(&self, stream_id: i64, update_method: Action) -> Result<Stream, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        upsert_stream(&tx, &s, update_method, false)?;
        let s = load_stream(&tx, stream_id)?;
        tx.commit()?;
        Ok(s)
    }

    /// Deletes the stream, not its dataset (as on Domo).
    pub fn delete_stream(&self, stream_id: i64) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        upsert_stream(&tx, &s, s.update_method, true)?;
        tx.commit()?;
        Ok(())
    }

    /// Starts an upload on the stream's dataset; without an update method of its own the
    /// execution uses the stream's.
    pub fn create_execution(
        &self,
        stream_id: i64,
        update_method: Option<Action>,
    ) -> Result<Execution, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        let method = update_method.unwrap_or(s.update_method);
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state) VALUES (?1, ?2, ?3, ?4)",
            params![s.dataset.id, method.name(), now_ms(), OPEN],
        )?;
        let e = load_execution(&tx, &s, tx.last_insert_rowid())?;
        tx.commit()?;
        Ok(e)
    }

    pub fn execution(&self, stream_id: i64, execution_id: i64) -> Result<Execution, ApiError> {
        let conn = self.lock();
        let s = load_stream(&conn, stream_id)?;
        load_execution(&conn, &s, execution_id)
    }

    /// The stream's executions, oldest first.
    pub fn executions(&self, stream_id: i64) -> Result<Vec<Execution>, ApiError> {
        let conn = self.lock();
        let s = load_stream(&conn, stream_id)?;
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM _uploads WHERE dataset_id = ?1 ORDER BY id")?
            .query_map([&s.dataset.id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|id| load_execution(&conn, &s, id))
            .collect()
    }

    /// Stages a part of an execution, exactly as an upload part.
    pub fn put_execution_part(
        &self,
        stream_id: i64,
        execution_id: i64,
        part: i64,
        text: &str,
    ) -> Result<Execution, ApiError> {
        let load = |conn: &Connection| {
            let s = load_stream(conn, stream_id)?;
            load_execution(conn, &s, execution_id)?;
            Ok(s.dataset)
        };
        let then = |tx: &Transaction<'_>| {
            let s = load_stream(tx, stream_id)?;
            load_execution(tx, &s, execution_id)
        };
        self.store_part(execution_id, part, text, load, then)
            .map(|(_, e)| e)
    }

    /// Commits an execution with the update method it was created with.
    pub fn commit_execution(
        &self,
        stream_id: i64,
        execution_id: i64,
    ) -> Result<Execution, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        load_execution(&tx, &s, execution_id)?;
        commit_in(&tx, &s.dataset, execution_id, None, None, true)?;
        let e = load_execution(&tx, &s, execution_id)?;
        tx.commit()?;
        Ok(e)
    }

    pub fn abort_execution(
        &self,
        stream_id: i64,
        execution_id: i64,
    ) -> Result<Execution, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        load_execution(&tx, &s, execution_id)?;
        open_upload(&tx, &s.dataset, execution_id)?;
        abort_in(&tx, &s.dataset, execution_id)?;
        let e = load_execution(&tx, &s, execution_id)?;
        tx.commit()?;
        Ok(e)
    }

    /// Aborts every open execution of the stream (there is usually one).
    pub fn abort_current_executions(&self, stream_id: i64) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let s = load_stream(&tx, stream_id)?;
        let open: Vec<i64> = tx
            .prepare("SELECT id FROM _uploads WHERE dataset_id = ?1 AND state = ?2")?
            .query_map(params![s.dataset.id, OPEN], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in open {
            abort_in(&tx, &s.dataset, id)?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn stream_not_found(stream_id: i64) -> ApiError {
    ApiError::not_found(format!("Stream {stream_id} not found"))
}

fn load_stream(conn: &Connection, stream_id: i64) -> Result<Stream, ApiError> {
    let seq = stream_id
        .checked_sub(STREAM_ID_BASE)
        .ok_or_else(|| stream_not_found(stream_id))?;
    let id: Option<String> = conn
        .query_row("SELECT id FROM _datasets WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?;
    let id = id.ok_or_else(|| stream_not_found(stream_id))?;
    stream_of(conn, load_dataset(conn, &id)?)?.ok_or_else(|| stream_not_found(stream_id))
}

/// The dataset's stream, or `None` once deleted.
fn stream_of(conn: &Connection, ds: Dataset) -> Result<Option<Stream>, ApiError> {
    let row = conn
        .query_row(
            "SELECT update_method, created, modified, deleted FROM _streams WHERE dataset_id = ?1",
            [&ds.id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        Some((_, _, _, true)) => None,
        Some((method, created, modified, false)) => Some(Stream {
            id: ds.stream_id(),
            update_method: Action::parse(&method)?,
            created,
            modified,
            dataset: ds,
        }),
        // Datasets made any other way get a REPLACE stream: uploading a frame with
        // pydomo's ds_update then means "this is the data now", as with its ds_create.
        None => Some(Stream {
            id: ds.stream_id(),
            update_method: Action::Replace,
            created: ds.created,
            modified: ds.created,
            dataset: ds,
        }),
    })
}

fn upsert_stream(
    tx: &Transaction<'_>,
    s: &Stream,
    update_method: Action,
    deleted: bool,
) -> Result<(), ApiError> {
    tx.execute(
        "INSERT INTO _streams (dataset_id, update_method, created, modified, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(dataset_id) DO UPDATE SET update_method = excluded.update_method,
             modified = excluded.modified, deleted = excluded.deleted",
        params![
            s.dataset.id,
            update_method.name(),
            s.created,
            now_ms(),
            deleted
        ],
    )?;
    Ok(())
}

fn load_execution(conn: &Connection, s: &Stream, execution_id: i64) -> Result<Execution, ApiError> {
    let row = conn
        .query_row(
            "SELECT id, state, action, created, committed_at, row_count,
                    (SELECT COALESCE(SUM(bytes), 0) FROM _upload_parts p WHERE p.upload_id = u.id)
             FROM _uploads u WHERE id = ?1 AND dataset_id = ?2",
            params![execution_id, s.dataset.id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((id, state, action, created, ended, rows, bytes)) = row else {
        return Err(ApiError::not_found(format!(
            "Execution {execution_id} not found on Stream {}",
            s.id
        )));
    };
    let state = match state.as_str() {
        OPEN => ExecutionState::Active,
        ABORTED => ExecutionState::Aborted,
        _ => ExecutionState::Success,
    };
    Ok(Execution {
        id,
        state,
        update_method: action.as_deref().map(Action::parse).transpose()?,
        created,
        ended,
        rows,
        bytes,
    })
}

/// Rebuilds the data table and the tables of uploads not yet applied with `columns`,
/// keeping rows (see `Store::update_dataset` for how values carry over).
fn change_schema(tx: &Transaction<'_>, ds: &Dataset, columns: Vec<Column>) -> Result<(), ApiError> {
    let mut new = ds.clone();
    new.columns = columns;
    tx.execute_batch(&format!("DROP VIEW IF EXISTS {};", ds.view()))?;
    rebuild_rows_table(tx, &ds.data_table(), ds, &new)?;
    for upload_id in unapplied_uploads(tx, ds)? {
        let table = ds.upload_table(upload_id);
        if table_exists(tx, &table)? {
            rebuild_rows_table(tx, &table, ds, &new)?;
        }
    }
    create_view(tx, &new)?;
    tx.execute(
        "UPDATE _datasets SET schema_json = ?2 WHERE id = ?1",
        params![ds.id, new.schema_json().to_string()],
    )?;
    Ok(())
}

/// Rebuilds the rows table `table` (quoted) of `old` with `new`'s columns, under the same
/// name.
fn rebuild_rows_table(
    tx: &Transaction<'_>,
    table: &str,
    old: &Dataset,
    new: &Dataset,
) -> Result<(), ApiError> {
    let moved = format!("\"old_{}\"", table.trim_matches('"'));
    // The indexes go first: the new table reuses their names.
    drop_indexes(tx, table)?;
    tx.execute_batch(&format!("ALTER TABLE {table} RENAME TO {moved};"))?;
    create_rows_table(tx, new, table)?;
    let hidden = ["__domo_rowid", "__domo_partition", "__domo_upload"];
    copy_rows(tx, &moved, table, &hidden, old, new)?;
    tx.execute_batch(&format!("DROP TABLE {moved};"))?;
    Ok(())
}

fn copy_rows(
    tx: &Transaction<'_>,
    from: &str,
    to: &str,
    hidden: &[&str],
    old: &Dataset,
    new: &Dataset,
) -> Result<(), ApiError> {
    // SQLite names are case-insensitive, so a column renamed only in case is the same one.
    let sources: Vec<Option<(usize, DomoType)>> = new
        .columns
        .iter()
        .map(|c| {
            old.columns
                .iter()
                .position(|o| o.name.eq_ignore_ascii_case(&c.name))
                .map(|i| (i, old.columns[i].ty))
        })
        .collect();
    let hidden_list = hidden.join(", ");
    let mut select = tx.prepare(&format!(
        "SELECT {hidden_list}, {} FROM {from} ORDER BY __domo_rowid",
        old.column_list()
    ))?;
    let placeholders = vec!["?"; hidden.len() + new.columns.len()].join(", ");
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {to} ({hidden_list}, {}) VALUES ({placeholders})",
        new.column_list()
    ))?;
    let mut rows = select.query([])?;
    let mut values: Vec<Value> = Vec::with_capacity(hidden.len() + new.columns.len());
    while let Some(row) = rows.next()? {
        values.clear();
        for i in 0..hidden.len() {
            values.push(row.get::<_, Value>(i)?);
        }
        for (col, source) in new.columns.iter().zip(&sources) {
            values.push(match source {
                None => Value::Null,
                Some((i, ty)) => convert_value(row.get(hidden.len() + i)?, *ty, col.ty),
            });
        }
        insert.execute(rusqlite::params_from_iter(values.iter()))?;
    }
    Ok(())
}

/// A stored value of type `from` as a value of type `to`, through its text form, or null.
fn convert_value(v: Value, from: DomoType, to: DomoType) -> Value {
    if from == to {
        return v;
    }
    let text = match v {
        Value::Null => return Value::Null,
        // An exact DECIMAL's digits.
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t,
    };
    text_to_value(to, &text).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, DomoType)]) -> Vec<Column> {
        spec.iter()
            .map(|(n, t)| Column {
                name: (*n).into(),
                ty: *t,
            })
            .collect()
    }

    #[test]
    fn schema_change_keeps_rows_by_name() {
        let store = Store::open(None).unwrap();
        let s = store
            .create_stream(
                "t",
                "",
                cols(&[("a", DomoType::Long), ("b", DomoType::String)]),
                Action::Append,
            )
            .unwrap();
        let e = store.create_execution(s.id, None).unwrap();
        store
            .put_execution_part(s.id, e.id, 0, "1,x\n2,\n")
            .unwrap();
        let e = store.commit_execution(s.id, e.id).unwrap();
        assert_eq!(e.state, ExecutionState::Success);
        assert_eq!(e.rows, Some(2));
        let ds = store
            .update_dataset(
                &s.dataset.id,
                Some("renamed"),
                None,
                Some(cols(&[
                    ("B", DomoType::Long),
                    ("a", DomoType::String),
                    ("c", DomoType::Date),
                ])),
            )
            .unwrap();
        assert_eq!(ds.name, "renamed");
        let r = store
            .query(&ds.id, "SELECT * FROM table ORDER BY a")
            .unwrap();
        assert_eq!(r.columns, ["B", "a", "c"]);
        assert_eq!(
            Json::Array(r.rows().into_iter().map(Json::Array).collect()),
            json!([[null, "1", null], [null, "2", null]])
        );
        // The stream still works on the new schema.
        let e = store.create_execution(s.id, None).unwrap();
        store
            .put_execution_part(s.id, e.id, 1, "5,y,2024-01-02\n")
            .unwrap();
        store.commit_execution(s.id, e.id).unwrap();
        assert_eq!(store.dataset(&ds.id).unwrap().row_count, 3);
    }

    #[test]
    fn aborted_executions_take_no_parts_and_leave_no_rows() {
        let store = Store::open(None).unwrap();
        let s = store
            .create_stream("t", "", cols(&[("a", DomoType::Long)]), Action::Replace)
            .unwrap();
        let e = store.create_execution(s.id, None).unwrap();
        assert_eq!(e.update_method, Some(Action::Replace));
        store.put_execution_part(s.id, e.id, 1, "1\n").unwrap();
        let e = store.abort_execution(s.id, e.id).unwrap();
        assert_eq!(e.state, ExecutionState::Aborted);
        let err = store.put_execution_part(s.id, e.id, 2, "2\n").unwrap_err();
        assert_eq!(err.status.as_u16(), 409);
        let err = store.commit_execution(s.id, e.id).unwrap_err();
        assert_eq!(err.status.as_u16(), 409);
        assert_eq!(store.dataset(&s.dataset.id).unwrap().row_count, 0);
        store.delete_stream(s.id).unwrap();
        assert_eq!(store.stream(s.id).unwrap_err().status.as_u16(), 404);
        assert!(store.dataset(&s.dataset.id).is_ok());
    }
}
