//! Where upload parts wait for their commit: each upload's own table, shaped like the
//! data table, a part's rows at rowids of its own (so part order is row order whatever
//! order parts arrive in). A commit that replaces every row renames the table into the
//! data's place; any other commit copies its rows across.

use super::*;

/// Rows a part may hold: each part owns a range of this many rowids in its upload's table.
const PART_ROWIDS: i64 = 1 << 32;

/// Rows a part's insert statement takes at once: enough that the statement's own cost
/// is small beside its rows'.
const ROWS_PER_INSERT: usize = 64;

/// SQLite's limit on a statement's parameters, which bounds the rows of a wide dataset's
/// insert statement.
const MAX_PARAMETERS: usize = 32_766;

/// The highest part number: part numbers times `PART_ROWIDS` stay within a rowid.
const MAX_PART: i64 = i32::MAX as i64;

/// The rowids of `part`'s rows, first and last: parts in number order are rows in
/// upload order, whatever order the parts arrived in.
fn part_rowids(part: i64) -> (i64, i64) {
    let first = part * PART_ROWIDS;
    (first, first + PART_ROWIDS - 1)
}

/// Stages parsed rows as `part` of the upload, replacing an earlier copy of that part.
/// Returns the row count.
pub(super) fn insert_part(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    part: i64,
    values: &[Stored<'_>],
    bytes: usize,
) -> Result<i64, ApiError> {
    open_upload(tx, ds, upload_id)?;
    if !(0..=MAX_PART).contains(&part) {
        return Err(ApiError::bad_request(format!(
            "Invalid part id {part}; part ids go from 0 to {MAX_PART}"
        )));
    }
    let ncols = ds.columns.len();
    let rows = (values.len() / ncols.max(1)) as i64;
    if rows >= PART_ROWIDS {
        return Err(ApiError::bad_request(format!(
            "Part {part} has {rows} rows; a part holds at most {} rows",
            PART_ROWIDS - 1
        )));
    }
    let table = ds.upload_table(upload_id);
    if !table_exists(tx, &table)? {
        create_rows_table(tx, ds, &table)?;
    }
    let (first, last) = part_rowids(part);
    tx.execute(
        &format!("DELETE FROM {table} WHERE __domo_rowid BETWEEN ?1 AND ?2"),
        [first, last],
    )?;
    // Rows go in several to a statement: one statement's cursor stays on the table's
    // last page from row to row, where each run of a statement would seek it again.
    let insert_sql = |rows: usize| {
        let row = format!("({})", vec!["?"; ncols + 2].join(", "));
        format!(
            "INSERT INTO {table} (__domo_rowid, __domo_upload, {}) VALUES {}",
            ds.column_list(),
            vec![row; rows].join(", ")
        )
    };
    let mut rowids = first..;
    let mut bind = |insert: &mut rusqlite::CachedStatement<'_>, rows: &[Stored<'_>]| {
        for (n, row) in rows.chunks_exact(ncols.max(1)).enumerate() {
            let at = n * (ncols + 2);
            insert.raw_bind_parameter(at + 1, rowids.next())?;
            insert.raw_bind_parameter(at + 2, upload_id)?;
            for (i, v) in row.iter().enumerate() {
                insert.raw_bind_parameter(at + i + 3, v)?;
            }
        }
        insert.raw_execute().map(drop)
    };
    let per_insert = (MAX_PARAMETERS / (ncols + 2)).clamp(1, ROWS_PER_INSERT);
    let whole = rows as usize / per_insert * per_insert * ncols;
    if whole > 0 {
        let mut insert = tx.prepare_cached(&insert_sql(per_insert))?;
        for rows in values[..whole].chunks_exact(per_insert * ncols) {
            bind(&mut insert, rows)?;
        }
    }
    if whole < values.len() {
        let rest = &values[whole..];
        let mut insert = tx.prepare_cached(&insert_sql(rest.len() / ncols))?;
        bind(&mut insert, rest)?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO _upload_parts (upload_id, part, rows, bytes) VALUES (?1, ?2, ?3, ?4)",
        params![upload_id, part, rows, bytes as i64],
    )?;
    Ok(rows)
}

/// Moves parts staged by stores made before each upload had a table of its own: one
/// staging table per dataset (`s_{seq}`, parts told apart by a `__domo_part` column).
/// Each waiting upload's rows go to its table, in part order, and the shared table goes.
/// A part numbered past `MAX_PART` is left behind: its rowids would not fit, and an
/// upload is committed only with parts numbered from 0 or 1 without a gap.
pub(super) fn move_shared_staging(conn: &mut Connection) -> Result<(), ApiError> {
    let tx = conn.transaction()?;
    let datasets: Vec<String> = tx
        .prepare(
            "SELECT id FROM _datasets d WHERE EXISTS
             (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 's_' || d.seq)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in datasets {
        let ds = load_dataset(&tx, &id)?;
        let shared = format!("\"s_{}\"", ds.seq);
        let cols = ds.column_list();
        for upload_id in unapplied_uploads(&tx, &ds)? {
            let table = ds.upload_table(upload_id);
            create_rows_table(&tx, &ds, &table)?;
            tx.execute(
                &format!(
                    "INSERT INTO {table} (__domo_rowid, __domo_upload, {cols})
                     SELECT __domo_part * {PART_ROWIDS}
                            + ROW_NUMBER() OVER (PARTITION BY __domo_part ORDER BY __domo_rowid) - 1,
                            __domo_upload, {cols}
                     FROM {shared} WHERE __domo_upload = ?1 AND __domo_part BETWEEN 0 AND {MAX_PART}"
                ),
                [upload_id],
            )?;
        }
        tx.execute_batch(&format!("DROP TABLE {shared};"))?;
    }
    tx.commit()?;
    Ok(())
}

/// Whether `table` (quoted) exists.
pub(super) fn table_exists(conn: &Connection, table: &str) -> Result<bool, ApiError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists([table.trim_matches('"')])?)
}

/// The parts of an upload and their row counts, in part order.
pub(super) fn staged_parts(
    tx: &Transaction<'_>,
    upload_id: i64,
) -> Result<Vec<(i64, i64)>, ApiError> {
    Ok(tx
        .prepare_cached("SELECT part, rows FROM _upload_parts WHERE upload_id = ?1 ORDER BY part")?
        .query_map([upload_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// Removes the staged rows of one upload.
pub(super) fn clear_staged(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
) -> Result<(), ApiError> {
    tx.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}",
        ds.upload_table(upload_id)
    ))?;
    Ok(())
}

/// Drops the tables of every upload of `ds` still holding rows (open, or committed and
/// waiting to be indexed).
pub(super) fn drop_upload_tables(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    for id in unapplied_uploads(tx, ds)? {
        clear_staged(tx, ds, id)?;
    }
    Ok(())
}

/// The uploads of `ds` whose rows wait in their own tables.
pub(super) fn unapplied_uploads(tx: &Transaction<'_>, ds: &Dataset) -> Result<Vec<i64>, ApiError> {
    Ok(tx
        .prepare(&format!(
            "SELECT id FROM _uploads WHERE dataset_id = ?1 AND state IN ('{OPEN}', '{PENDING_INDEX}') ORDER BY id"
        ))?
        .query_map([&ds.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}
