//! A user's query: run on a reader, confined, and framed as Domo's answer.

use super::*;

pub struct QueryResult {
    pub columns: Vec<String>,
    pub types: Vec<DomoType>,
    pub num_rows: usize,
    /// The rows as one JSON array of arrays, rendered as they were read: a large answer
    /// is never held as `serde_json::Value`s.
    pub rows_json: Vec<u8>,
}

/// A query's answer, piece by piece (see `Store::query_stream`).
pub enum QueryEvent {
    Columns {
        names: Vec<String>,
        types: Vec<DomoType>,
    },
    Rows(Vec<u8>),
    Done {
        num_rows: usize,
    },
}

/// The name `table` stands for in a query over the rows a PDP filter lets through.
const FILTERED_ROWS: &str = "__pdp_rows";

/// Rows are handed on in chunks of about this size as they are rendered.
pub(super) const QUERY_CHUNK_BYTES: usize = 1 << 20;

#[cfg(test)]
impl QueryResult {
    pub fn rows(&self) -> Vec<Vec<Json>> {
        serde_json::from_slice(&self.rows_json).expect("rendered rows are JSON")
    }
}

impl Store {
    /// Runs a query and collects its answer.
    pub fn query(&self, id: &str, sql_text: &str) -> Result<QueryResult, ApiError> {
        let mut result = QueryResult {
            columns: Vec::new(),
            types: Vec::new(),
            num_rows: 0,
            rows_json: Vec::new(),
        };
        self.query_stream(id, sql_text, &mut |event| {
            match event {
                QueryEvent::Columns { names, types } => {
                    (result.columns, result.types) = (names, types)
                }
                QueryEvent::Rows(chunk) => result.rows_json.extend_from_slice(&chunk),
                QueryEvent::Done { num_rows } => result.num_rows = num_rows,
            }
            ControlFlow::Continue(())
        })?;
        Ok(result)
    }

    /// Runs a query and hands its answer to `emit` as it is rendered: the columns, the
    /// rows (one JSON array, in chunks of about `QUERY_CHUNK_BYTES`), then the count.
    /// The query stops, unfinished, when `emit` breaks (nobody is listening any more).
    /// When every column has a declared type (columns of the table do) the columns come
    /// first; otherwise types are inferred from all values, which are rendered first.
    pub fn query_stream(
        &self,
        id: &str,
        sql_text: &str,
        emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
    ) -> Result<(), ApiError> {
        self.query_stream_filtered(id, sql_text, None, emit)
    }

    /// [`Store::query_stream`] over the rows `filter` (a PDP filter, its parameters
    /// numbered from `?1`) lets through: `table` is those rows alone.
    pub fn query_stream_filtered(
        &self,
        id: &str,
        sql_text: &str,
        filter: Option<&RowFilter>,
        emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
    ) -> Result<(), ApiError> {
        let reader = self.reader()?;
        let conn = &reader.conn;
        let ds = load_dataset(conn, id)?;
        let stored = conn
            .prepare("SELECT lower(name) FROM sqlite_schema UNION SELECT lower(name) FROM sqlite_temp_schema")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<HashSet<String>, _>>()?;
        let cap = versions::answer_row_cap(conn)?;
        let options = sql::Options {
            case_insensitive_strings: versions::strings_ignore_case(conn)?,
        };
        let limits = &*reader.limits;
        let armed = Armed::new(limits, &ds, stored);
        let out = query_in(conn, &ds, sql_text, filter, cap, options, emit);
        drop(armed);
        if limits.timed_out.load(Ordering::Relaxed) {
            // A query past its time would be as slow again if retried, so this is the
            // client's 400 rather than a 5xx that clients retry.
            return Err(ApiError::bad_request(format!(
                "Query timed out: it ran longer than {} s",
                limits.timeout().as_secs_f64()
            )));
        }
        if out.is_err() && limits.denied.load(Ordering::Relaxed) {
            // Names neither what was refused nor its columns: another dataset's
            // existence or schema is none of this query's business.
            return Err(ApiError::bad_request(
                "Invalid SQL: a query can read only its own dataset, as `table`",
            ));
        }
        out
    }
}

/// `Store::query_stream` once the dataset is found and the query armed.
pub(super) fn query_in(
    conn: &Connection,
    ds: &Dataset,
    sql_text: &str,
    filter: Option<&RowFilter>,
    cap: usize,
    options: sql::Options,
    emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
) -> Result<(), ApiError> {
    let schema: Vec<(String, sql::Ty)> = ds
        .columns
        .iter()
        .map(|c| (c.name.clone(), sql::Ty::from_domo(c.ty)))
        .collect();
    let translation = sql::translate(sql_text, &schema, &format!("v_{}", ds.seq), options)
        .map_err(|m| ApiError::bad_request(format!("Invalid SQL: {m}")))?;
    let invalid = |e: rusqlite::Error| {
        let message = in_user_terms(&sqlite_message(&e), ds);
        ApiError::bad_request(format!("Invalid SQL: {message}"))
    };
    // rusqlite's statement refuses what is not one read-only statement; the rows are
    // read through `Cells`.
    let stmt = conn.prepare(&translation.sql).map_err(invalid)?;
    if !stmt.readonly() {
        return Err(ApiError::bad_request("Only SELECT queries are supported"));
    }
    // Nothing is bound: a parameter is refused rather than read as NULL.
    let parameters = stmt.parameter_count();
    if parameters > 0 {
        return Err(invalid(rusqlite::Error::InvalidParameterCount(
            0, parameters,
        )));
    }
    if stmt.column_count() != translation.columns.len() {
        return Err(ApiError::internal(format!(
            "the translated query answers {} columns, its translation names {}",
            stmt.column_count(),
            translation.columns.len()
        )));
    }
    drop(stmt);
    let rows = match filter {
        None => Cells::prepare(conn, &translation.sql),
        Some(filter) => {
            // The same query over a common table expression holding the rows the filter
            // lets through, whose parameters are the only ones bound.
            let over_rows = sql::translate(sql_text, &schema, FILTERED_ROWS, options)
                .map_err(|m| ApiError::bad_request(format!("Invalid SQL: {m}")))?;
            let run = crate::policies::with_filtered_rows(
                &over_rows.sql,
                FILTERED_ROWS,
                &ds.view(),
                filter,
            );
            crate::policies::prepare_filtered(conn, &run, Some(filter))
        }
    }
    .map_err(invalid)?;
    let (names, types): (Vec<String>, Vec<DomoType>) = translation
        .columns
        .into_iter()
        .map(|(name, ty)| (name, ty.to_domo()))
        .unzip();
    // A STRING column's numbers (`CASE ... THEN 1 ELSE 'x'`) are sent as strings, so a
    // client decoding by the reported type is not surprised.
    let as_text: Vec<bool> = types.iter().map(|t| *t == DomoType::String).collect();
    if emit(QueryEvent::Columns { names, types }).is_break() {
        return Ok(());
    }
    let num_rows = render_rows(rows, &as_text, cap, &mut |chunk| {
        emit(QueryEvent::Rows(chunk))
    })?;
    if let Some(num_rows) = num_rows {
        let _ = emit(QueryEvent::Done { num_rows });
    }
    Ok(())
}

pub(super) fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        // SQLite's own words, without the statement it was given (the rewritten SQL).
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// A message about a query in the user's terms: the dataset's view, which the user wrote
/// as `table`, is called `table` again.
pub(super) fn in_user_terms(message: &str, ds: &Dataset) -> String {
    let quoted = ds.view();
    let bare = quoted.trim_matches('"');
    let message = message.replace(&quoted, "table");
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(at) = rest.find(bare) {
        let before_ok = !rest[..at].chars().next_back().is_some_and(is_word);
        let after_ok = !rest[at + bare.len()..].chars().next().is_some_and(is_word);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { "table" } else { bare });
        rest = &rest[at + bare.len()..];
    }
    out.push_str(rest);
    out
}

/// Runs `rows` and renders them as one JSON array of arrays, handed to `emit` in
/// chunks: the one place a query answer's rows are framed. Columns marked in `as_text`
/// have their numbers written as strings. Returns the row count (`None` if `emit` broke
/// off).
pub(super) fn render_rows(
    mut rows: Cells<'_>,
    as_text: &[bool],
    cap: usize,
    emit: &mut dyn FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<Option<usize>, ApiError> {
    let failed =
        |e: rusqlite::Error| ApiError::bad_request(format!("Query failed: {}", sqlite_message(&e)));
    let mut out = Vec::with_capacity(QUERY_CHUNK_BYTES + 64 * 1024);
    out.push(b'[');
    let mut n = 0usize;
    // Past the cap the answer is cut, not refused, as the live service cuts it.
    while n < cap && rows.step().map_err(failed)? {
        if n > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (i, text) in as_text.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_cell(&mut out, rows.get(i), *text);
        }
        out.push(b']');
        n += 1;
        if out.len() >= QUERY_CHUNK_BYTES {
            text::make_utf8(&mut out, 0);
            let next = Vec::with_capacity(out.capacity());
            if emit(std::mem::replace(&mut out, next)).is_break() {
                return Ok(None);
            }
        }
    }
    out.push(b']');
    text::make_utf8(&mut out, 0);
    Ok(emit(out).is_continue().then_some(n))
}

/// One cell as JSON; `as_text` writes a number as a string.
pub(super) fn write_json_cell(out: &mut Vec<u8>, v: ValueRef<'_>, as_text: bool) {
    let quote = if as_text { &b"\""[..] } else { b"" };
    match v {
        // serde_json writes a non-finite float as null, which is what Domo would show.
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Real(f) if !f.is_finite() => out.extend_from_slice(b"null"),
        ValueRef::Integer(i) => {
            out.extend_from_slice(quote);
            out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            out.extend_from_slice(quote);
        }
        ValueRef::Real(f) => {
            out.extend_from_slice(quote);
            // What serde_json writes for a finite float.
            out.extend_from_slice(zmij::Buffer::new().format_finite(f).as_bytes());
            out.extend_from_slice(quote);
        }
        // An exact DECIMAL too long for a double: its digits, as a number.
        ValueRef::Blob(t) if !as_text && sql::decimal::is_decimal_text(t) => {
            out.extend_from_slice(t)
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => text::write_json_text(out, t),
    }
}
