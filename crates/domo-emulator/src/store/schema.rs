//! What a dataset is: its columns, its tables and view, and making and dropping them.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DomoType,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: i64,
    pub last_updated: i64,
    pub columns: Vec<Column>,
    pub row_count: i64,
}

impl Dataset {
    pub(super) fn data_table(&self) -> String {
        format!("\"d_{}\"", self.seq)
    }
    /// Where the parts of `upload_id` wait for its commit: a table shaped like the data
    /// table, so a commit that replaces every row takes it whole.
    pub(super) fn upload_table(&self, upload_id: i64) -> String {
        format!("\"u_{}_{upload_id}\"", self.seq)
    }
    /// The name SQL queries see for `table`.
    pub fn view(&self) -> String {
        format!("\"v_{}\"", self.seq)
    }
    pub fn stream_id(&self) -> i64 {
        1000 + self.seq
    }
    pub(super) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn schema_json(&self) -> Json {
        json!({
            "columns": self.columns.iter().map(|c| json!({"type": c.ty.name(), "name": c.name})).collect::<Vec<_>>()
        })
    }
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    pub fn create_dataset(
        &self,
        name: &str,
        description: &str,
        columns: Vec<Column>,
    ) -> Result<Dataset, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = create_dataset_in(&tx, name, description, columns)?;
        tx.commit()?;
        Ok(ds)
    }

    pub fn dataset(&self, id: &str) -> Result<Dataset, ApiError> {
        load_dataset(&self.lock(), id)
    }

    pub fn datasets(&self) -> Result<Vec<Dataset>, ApiError> {
        let conn = self.lock();
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM _datasets ORDER BY seq")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.iter().map(|id| load_dataset(&conn, id)).collect()
    }

    pub fn delete_dataset(&self, id: &str) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, id)?;
        drop_dataset(&tx, &ds)?;
        tx.commit()?;
        Ok(())
    }

    /// Wipes every dataset and upload; upload ids start again from 1.
    pub fn reset(&self) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ids: Vec<String> = tx
            .prepare("SELECT id FROM _datasets")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            let ds = load_dataset(&tx, &id)?;
            drop_dataset(&tx, &ds)?;
        }
        tx.execute_batch(
            "DELETE FROM _uploads; DELETE FROM _upload_parts; DELETE FROM _streams;
             DELETE FROM sqlite_sequence WHERE name IN ('_uploads', '_datasets');",
        )?;
        tx.execute_batch(manage::MANAGE_RESET)?;
        tx.execute_batch(versions::RESET)?;
        tx.commit()?;
        self.set_query_timeout(None);
        Ok(())
    }
}

pub(super) fn load_dataset(conn: &Connection, id: &str) -> Result<Dataset, ApiError> {
    let row = conn
        .query_row(
            "SELECT seq, id, name, description, created, last_updated, schema_json, row_count
             FROM _datasets WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((seq, id, name, description, created, last_updated, schema, row_count)) = row else {
        return Err(ApiError::dataset_not_found(id));
    };
    let columns = parse_stored_schema(&schema)
        .ok_or_else(|| ApiError::internal(format!("stored schema of {id} is unreadable")))?;
    Ok(Dataset {
        seq,
        id,
        name,
        description,
        created,
        last_updated,
        columns,
        row_count,
    })
}

pub(super) fn create_dataset_in(
    tx: &Transaction<'_>,
    name: &str,
    description: &str,
    columns: Vec<Column>,
) -> Result<Dataset, ApiError> {
    let now = now_ms();
    let mut ds = Dataset {
        seq: 0,
        id: new_uuid(),
        name: name.to_owned(),
        description: description.to_owned(),
        created: now,
        last_updated: now,
        columns,
        row_count: 0,
    };
    tx.execute(
        "INSERT INTO _datasets (id, name, description, created, last_updated, schema_json)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![
            ds.id,
            ds.name,
            ds.description,
            now,
            ds.schema_json().to_string()
        ],
    )?;
    ds.seq = tx.last_insert_rowid();
    create_tables(tx, &ds)?;
    let names: Vec<&str> = ds.columns.iter().map(|c| c.name.as_str()).collect();
    manage::add_history(
        tx,
        &ds.id,
        "CREATE",
        ADMIN_ID,
        &format!("Dataset created with {} columns.", ds.columns.len()),
    )?;
    tx.execute(
        "INSERT INTO _meta (dataset_id, key, value) VALUES (?1, 'copy', ?2)",
        params![
            ds.id,
            json!({
                "status": "COMPLETED",
                "message": "Dataset copy completed successfully.",
                "datasetId": ds.id,
                "log": [format!("Schema copied: {}", names.join(", ")), "Data copied: 0 rows"],
            })
            .to_string()
        ],
    )?;
    Ok(ds)
}

/// The data table of `ds`, its index, and the view SQL sees.
pub(super) fn create_tables(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    create_rows_table(tx, ds, &ds.data_table())?;
    create_view(tx, ds)
}

/// A table of `ds`'s rows under `name` (quoted): the data table's shape, which an
/// upload's table shares. The partition index's name follows the table's, so the data
/// table and a table renamed into its place never claim the same index name.
pub(super) fn create_rows_table(
    tx: &Transaction<'_>,
    ds: &Dataset,
    name: &str,
) -> Result<(), ApiError> {
    let typed = ds
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), c.ty.decltype()))
        .collect::<Vec<_>>()
        .join(", ");
    let index = quote_ident(&format!("{}__domo_partition", name.trim_matches('"')));
    tx.execute_batch(&format!(
        "CREATE TABLE {name} (__domo_rowid INTEGER PRIMARY KEY, {typed}, __domo_partition TEXT, __domo_upload INTEGER);
         CREATE INDEX {index} ON {name}(__domo_partition) WHERE __domo_partition IS NOT NULL;"
    ))?;
    Ok(())
}

/// The view SQL queries read: the data table without its hidden columns.
pub(super) fn create_view(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    tx.execute_batch(&format!(
        "CREATE VIEW {} AS SELECT {} FROM {};",
        ds.view(),
        ds.column_list(),
        ds.data_table()
    ))?;
    Ok(())
}

/// Drops every index of `table` (quoted), whatever it was named when it was made.
pub(super) fn drop_indexes(tx: &Transaction<'_>, table: &str) -> Result<(), ApiError> {
    let names: Vec<String> = tx
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?
        .query_map([table.trim_matches('"')], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for name in names {
        tx.execute_batch(&format!("DROP INDEX {}", quote_ident(&name)))?;
    }
    Ok(())
}

pub(super) fn parse_stored_schema(text: &str) -> Option<Vec<Column>> {
    let v: Json = serde_json::from_str(text).ok()?;
    v.get("columns")?
        .as_array()?
        .iter()
        .map(|c| {
            Some(Column {
                name: c.get("name")?.as_str()?.to_owned(),
                ty: DomoType::parse(c.get("type")?.as_str()?)?,
            })
        })
        .collect()
}

pub(super) fn drop_dataset(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    tx.execute_batch(&format!(
        "DROP VIEW IF EXISTS {}; DROP TABLE IF EXISTS {};",
        ds.view(),
        ds.data_table(),
    ))?;
    drop_upload_tables(tx, ds)?;
    tx.execute(
        "DELETE FROM _upload_parts WHERE upload_id IN (SELECT id FROM _uploads WHERE dataset_id = ?1)",
        [&ds.id],
    )?;
    tx.execute("DELETE FROM _uploads WHERE dataset_id = ?1", [&ds.id])?;
    tx.execute("DELETE FROM _streams WHERE dataset_id = ?1", [&ds.id])?;
    manage::drop_manage(tx, &ds.id)?;
    tx.execute("DELETE FROM _datasets WHERE id = ?1", [&ds.id])?;
    Ok(())
}
