//! The Domo API routes.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use axum::Extension;

use crate::auth::Caller;
use crate::csv;
use crate::encoding::{BodySender, Encoding};
use crate::errors::{ApiError, json_response, json_text_response};
use crate::policies::RowFilter;
use crate::state::AppState;
use crate::store::{ADMIN_ID, Column, Dataset, EXPORT_CHUNK_ROWS, QueryEvent, write_csv_header};
use crate::types::DomoType;

pub(crate) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;
pub(crate) type ApiResult = Result<Response, ApiError>;

/// Upper bound on a decompressed part, so a gzip bomb cannot exhaust memory.
const MAX_PART_BYTES: u64 = 2 * 1024 * 1024 * 1024;

pub(crate) fn params(q: Params) -> HashMap<String, String> {
    q.map(|Query(m)| m).unwrap_or_default()
}

pub(crate) fn ok(body: Json) -> ApiResult {
    Ok(json_response(StatusCode::OK, &body))
}

/// Runs storage work off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("worker task failed: {e}")))?
}

/// Parses a JSON body; an empty body counts as `{}` where that is allowed.
pub(crate) fn json_body(body: &Bytes, empty_ok: bool) -> Result<Json, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(json!({}))
        } else {
            Err(ApiError::bad_request(
                "The request body is empty; JSON expected",
            ))
        };
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))
}

pub(crate) fn opt_str<'a>(v: &'a Json, key: &str) -> Result<Option<&'a str>, ApiError> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.is_empty() => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "'{key}' must be a string, not {other}"
        ))),
    }
}

pub fn dataset_json(ds: &Dataset) -> Json {
    json!({
        "id": ds.id,
        "displayType": "api",
        "dataProviderType": "api",
        "type": "api",
        "name": ds.name,
        "description": ds.description,
        "owner": {"id": "1", "name": "Local Domo Admin", "type": "USER", "group": false},
        "created": ds.created,
        "lastTouched": ds.last_updated,
        "lastUpdated": ds.last_updated,
        "cardInfo": {"cardCount": 0, "cardViewCount": 0},
        "state": "SUCCESS",
        "validConfiguration": true,
        "validAccount": true,
        "streamId": ds.stream_id(),
        "transportType": "API",
        "cloudId": "domo",
        "cloudName": "Domo",
        "permissions": "READ_WRITE_DELETE_SHARE_ADMIN",
        "hidden": false,
        "scheduleActive": true,
        "cardCount": 0,
        "cloudEngine": "domo",
        "rowCount": ds.row_count,
        "columnCount": ds.columns.len(),
    })
}

// ---- auth ----

pub async fn login(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let email = v.get("emailAddress").and_then(Json::as_str).unwrap_or("");
    let password = v.get("password").and_then(Json::as_str).unwrap_or("");
    let method = v.get("method").and_then(Json::as_str).unwrap_or("password");
    let good = method.eq_ignore_ascii_case("password")
        && email.eq_ignore_ascii_case(&st.inner.email)
        && password == st.inner.password;
    if !good {
        // Live Domo answers bad credentials with HTTP 200.
        return ok(json!({"success": false, "reason": "INVALID_CREDENTIALS"}));
    }
    ok(json!({
        "userId": 1,
        "success": true,
        "sessionToken": st.new_session(),
        "twoFactorInfo": {"isTwoFactorAuthEnabled": false},
    }))
}

// ---- datasets ----

/// The columns of a `{"columns": [{"type", "name"}, ...]}` schema, validated.
pub(crate) fn parse_columns(schema: Option<&Json>) -> Result<Vec<Column>, ApiError> {
    let cols = schema
        .and_then(|s| s.get("columns"))
        .and_then(Json::as_array)
        .ok_or_else(|| ApiError::bad_request("schema.columns must be an array of {type, name}"))?;
    if cols.is_empty() {
        return Err(ApiError::bad_request("schema.columns must not be empty"));
    }
    let mut columns: Vec<Column> = Vec::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let name = c
            .get("name")
            .and_then(Json::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "schema.columns[{i}].name must be a non-empty string"
                ))
            })?;
        let ty_name = c.get("type").and_then(Json::as_str).unwrap_or("");
        let ty = DomoType::parse(ty_name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "schema.columns[{i}] ('{name}'): unknown type '{ty_name}'; expected STRING, LONG, DOUBLE, DECIMAL, DATE or DATETIME"
            ))
        })?;
        if name.to_ascii_lowercase().starts_with("__domo_") {
            return Err(ApiError::bad_request(format!(
                "column name '{name}' is reserved by the emulator"
            )));
        }
        // SQLite column names are case-insensitive, so "a" and "A" would collide.
        if columns.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
            return Err(ApiError::bad_request(format!(
                "duplicate column name '{name}'"
            )));
        }
        columns.push(Column {
            name: name.to_owned(),
            ty,
        });
    }
    Ok(columns)
}

pub async fn create_dataset(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let name = match v.get("dataSourceName") {
        Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "dataSourceName must be a non-empty string",
            ));
        }
    };
    let description = opt_str(&v, "description")?.unwrap_or("").to_owned();
    let columns = parse_columns(v.get("schema"))?;
    let ds = blocking(move || st.inner.store.create_dataset(&name, &description, columns)).await?;
    // The live service answers the new dataset nested under `dataSource`.
    let mut created = dataset_json(&ds);
    created["dataSourceId"] = json!(ds.id);
    created["schema"] = ds.schema_json();
    ok(json!({ "dataSource": created }))
}

pub async fn get_dataset(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(blocking(move || crate::manage::metadata_json(&st, &id)).await?)
}

pub async fn delete_dataset(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    blocking(move || st.inner.store.delete_dataset(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn schema(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let ds = blocking(move || st.inner.store.dataset(&id)).await?;
    let columns: Vec<Json> = ds
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({"name": c.name, "id": c.name, "type": c.ty.name(), "visible": true, "order": i})
        })
        .collect();
    ok(json!({"name": "schema", "tables": [{"columns": columns}], "dataSourceId": ds.id}))
}

// ---- query ----

/// The header by which the emulator says how many rows it answers at most: live Domo
/// sends none (its cap is 1,000,000), so a client can tell an answer stopped by a smaller
/// cap set for a test (`answerRowCap`) from a complete one.
pub const ANSWER_ROW_CAP_HEADER: &str = "x-emulator-answer-row-cap";

pub async fn query(
    State(st): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let user = crate::policies::user_of(caller);
    let rows = {
        let (st, id) = (st.clone(), id.clone());
        blocking(move || crate::policies::filter_for(&st, &id, &user, 1)).await?
    };
    let sql = match v.get("sql") {
        Some(Json::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "The request body must be {\"sql\": \"<statement>\"}",
            ));
        }
    };
    let encoding = Encoding::for_request(&headers);
    // The answer goes out as it is rendered, so a client can decode while the emulator
    // still works. It starts only once the first rows are rendered: an error before that
    // (anywhere in a small answer) is still a proper error answer; one after cuts the
    // body short, which the client reports.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, std::io::Error>>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<Result<usize, ApiError>>();
    tokio::task::spawn_blocking(move || {
        let cap = match st.inner.store.answer_row_cap() {
            Ok(cap) => cap,
            Err(e) => {
                let _ = started_tx.send(Err(e));
                return;
            }
        };
        let mut started_tx = Some(started_tx);
        let mut columns = 0;
        let mut body = BodySender::new(encoding, Box::new(move |item| tx.send(item).is_ok()));
        let outcome =
            st.inner
                .store
                .query_stream_filtered(&id, &sql, rows.as_ref(), &mut |event| {
                    let (sent, rows) = match event {
                        QueryEvent::Columns { names, types } => {
                            columns = names.len();
                            (body.send(answer_head(&id, &names, &types)), false)
                        }
                        QueryEvent::Rows(chunk) => (body.send(chunk), true),
                        QueryEvent::Done { num_rows } => {
                            let sent = body.send(answer_tail(num_rows, columns));
                            body.finish();
                            (sent, false)
                        }
                    };
                    if let Some(s) = started_tx.take_if(|_| rows) {
                        let _ = s.send(Ok(cap));
                    }
                    // A client that has gone away stops the query.
                    match sent {
                        true => ControlFlow::Continue(()),
                        false => ControlFlow::Break(()),
                    }
                });
        if let Err(e) = outcome {
            match started_tx {
                Some(s) => {
                    let _ = s.send(Err(e));
                }
                None => body.fail(std::io::Error::other(e.message)),
            }
        }
    });
    let cap = started
        .await
        .map_err(|_| ApiError::internal("the query worker failed"))??;
    let mut rx = rx;
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = streamed(stream, "application/json;charset=UTF-8", encoding);
    resp.headers_mut()
        .insert(ANSWER_ROW_CAP_HEADER, HeaderValue::from(cap));
    Ok(resp)
}

/// A query answer up to its rows: the fields Domo sends before them.
fn answer_head(id: &str, names: &[String], types: &[DomoType]) -> Vec<u8> {
    let metadata: Vec<Json> = types
        .iter()
        .map(|t| {
            json!({"type": t.name(), "dataSourceId": id, "maxLength": -1, "minLength": -1,
                   "periodIndex": 0, "aggregated": false})
        })
        .collect();
    format!(
        r#"{{"datasource":{},"columns":{},"metadata":{},"rows":"#,
        Json::from(id),
        json!(names),
        Json::Array(metadata)
    )
    .into_bytes()
}

/// The rest of a query answer after its rows.
fn answer_tail(num_rows: usize, num_columns: usize) -> Vec<u8> {
    format!(r#","numRows":{num_rows},"numColumns":{num_columns},"fromcache":false}}"#).into_bytes()
}

/// A response whose body is the chunks of `stream`, already encoded as `encoding` says.
fn streamed<S>(stream: S, content_type: &'static str, encoding: Encoding) -> Response
where
    S: futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let mut resp = Body::from_stream(stream).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    encoding.label(&mut resp);
    resp
}

/// The object `head` with one more field, `rows`, whose JSON is already rendered. It
/// comes last, after the columns and their types, as in Domo's answers.
pub(crate) fn json_with_rows(head: &Json, rows_json: &[u8]) -> Response {
    let head = head.to_string();
    let mut body = Vec::with_capacity(head.len() + rows_json.len() + 16);
    body.extend_from_slice(head.as_bytes());
    body.pop(); // the closing brace
    if body.len() > 1 {
        body.push(b',');
    }
    body.extend_from_slice(b"\"rows\":");
    body.extend_from_slice(rows_json);
    body.push(b'}');
    json_text_response(StatusCode::OK, body)
}

// ---- uploads ----

fn tag_from(q: &HashMap<String, String>) -> Option<String> {
    q.get("dataTag")
        .or_else(|| q.get("restateDataTag"))
        .filter(|s| !s.is_empty())
        .cloned()
}

pub async fn start_upload(
    State(st): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    q: Params,
    body: Bytes,
) -> ApiResult {
    let q = params(q);
    let v = json_body(&body, true)?;
    if let Some(data) = v.get("data") {
        let Json::Array(rows) = data.clone() else {
            return Err(ApiError::bad_request(
                "'data' must be an array of row objects",
            ));
        };
        let ds_id = id.clone();
        let user = caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0);
        let (upload_id, at) = blocking(move || {
            let out = st.inner.store.append_rows(&ds_id, &rows)?;
            let n = rows.len();
            st.inner
                .store
                .record(&ds_id, "APPEND", &user, &format!("{n} rows appended"));
            Ok(out)
        })
        .await?;
        return ok(json!({"dataSourceId": id, "uploadId": upload_id, "requestedAsOf": at}));
    }
    let action = opt_str(&v, "action")?.map(str::to_owned);
    let tag = tag_from(&q);
    let ds_id = id.clone();
    let (upload_id, at) = blocking(move || {
        st.inner
            .store
            .start_upload(&ds_id, tag.as_deref(), action.as_deref())
    })
    .await?;
    ok(json!({"dataSourceId": id, "uploadId": upload_id, "requestedAsOf": at}))
}

fn parse_upload_id(ds: &str, s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Upload {s} not found for DataSource {ds}")))
}

pub(crate) fn is_gzip(headers: &HeaderMap) -> bool {
    let has = |name: header::HeaderName, what: &[&str]| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|s| {
                let s = s.to_ascii_lowercase();
                what.iter().any(|w| s.contains(w))
            })
        })
    };
    has(header::CONTENT_ENCODING, &["gzip"])
        || has(
            header::CONTENT_TYPE,
            &["application/gzip", "application/x-gzip"],
        )
}

pub(crate) fn decode_part(part: i64, gzip: bool, body: Bytes) -> Result<String, ApiError> {
    let bytes = if gzip {
        let mut out = Vec::with_capacity(body.len().saturating_mul(4));
        flate2::read::MultiGzDecoder::new(&body[..])
            .take(MAX_PART_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| ApiError::bad_request(format!("Part {part}: invalid gzip data: {e}")))?;
        if out.len() as u64 > MAX_PART_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Part {part} decompresses to more than {MAX_PART_BYTES} bytes"),
            ));
        }
        out
    } else {
        body.to_vec()
    };
    String::from_utf8(bytes).map_err(|e| {
        let hint = if !gzip && body.starts_with(&[0x1f, 0x8b]) {
            " (it looks gzip-compressed: send Content-Encoding: gzip or Content-Type: application/gzip)"
        } else {
            ""
        };
        ApiError::bad_request(format!(
            "Part {part} is not valid UTF-8 at byte {}{hint}",
            e.utf8_error().valid_up_to()
        ))
    })
}

pub async fn put_part(
    State(st): State<AppState>,
    Path((id, upload, part)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let upload_id = parse_upload_id(&id, &upload)?;
    let part_no = part
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| {
            ApiError::bad_request(format!("Invalid part id '{part}'; part ids start at 1"))
        })?;
    let gzip = is_gzip(&headers);
    let ds_id = id.clone();
    let rows = blocking(move || {
        let text = decode_part(part_no, gzip, body)?;
        st.inner.store.put_part(&ds_id, upload_id, part_no, &text)
    })
    .await?;
    ok(json!({"dataSourceId": id, "uploadId": upload_id, "partId": part_no, "rowCount": rows}))
}

fn parse_index(v: &Json) -> Result<bool, ApiError> {
    match v.get("index") {
        None | Some(Json::Null) => Ok(true),
        Some(Json::Bool(b)) => Ok(*b),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "'index' must be true or false, not {other}"
        ))),
    }
}

pub async fn commit(
    State(st): State<AppState>,
    Path((id, upload)): Path<(String, String)>,
    caller: Option<Extension<Caller>>,
    q: Params,
    body: Bytes,
) -> ApiResult {
    let upload_id = parse_upload_id(&id, &upload)?;
    let q = params(q);
    let v = json_body(&body, true)?;
    let action = opt_str(&v, "action")?.map(str::to_owned);
    let tag = match opt_str(&v, "dataTag")?.or(opt_str(&v, "restateDataTag")?) {
        Some(t) => Some(t.to_owned()),
        None => tag_from(&q),
    };
    let index = parse_index(&v)?;
    let ds_id = id.clone();
    let user = caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0);
    let out = blocking(move || {
        let store = &st.inner.store;
        let action_name = action.as_deref().unwrap_or("APPEND").to_ascii_uppercase();
        let out =
            store.commit_upload(&ds_id, upload_id, action.as_deref(), tag.as_deref(), index)?;
        store.record(
            &ds_id,
            "UPLOAD",
            &user,
            &format!(
                "upload {upload_id} committed ({action_name}): {} rows",
                out.rows_uploaded
            ),
        );
        Ok(out)
    })
    .await?;
    ok(json!({
        "dataSourceId": id,
        "uploadId": upload_id,
        "status": "SUCCESS",
        "indexed": out.indexed,
        "rowCount": out.dataset_rows,
        "uploadRowCount": out.rows_uploaded,
    }))
}

// ---- export ----

pub async fn export(
    State(st): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult {
    let q = params(q);
    let header_row = q
        .get("includeHeader")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (ds, rows) = dataset_and_rows(&st, id, caller).await?;
    let encoding = Encoding::for_request(&headers);
    Ok(csv_response(st, ds, header_row, csv::NULL, encoding, rows))
}

/// The dataset, and the PDP filter on the rows its caller reads (parameters from `?2`,
/// after the export's rowid).
pub(crate) async fn dataset_and_rows(
    st: &AppState,
    id: String,
    caller: Option<Extension<Caller>>,
) -> Result<(Dataset, Option<RowFilter>), ApiError> {
    let user = crate::policies::user_of(caller);
    let st = st.clone();
    blocking(move || {
        let ds = st.inner.store.dataset(&id)?;
        let rows = crate::policies::filter_for(&st, &id, &user, 2)?;
        Ok((ds, rows))
    })
    .await
}

/// Streams the rows of `ds` that `rows` (a PDP filter) lets through as CSV, nulls
/// written as `null`, compressed as `encoding` says.
pub(crate) fn csv_response(
    st: AppState,
    ds: Dataset,
    header_row: bool,
    null: &'static [u8],
    encoding: Encoding,
    rows: Option<RowFilter>,
) -> Response {
    // A blocking reader feeds a small channel: memory stays at a few chunks whatever
    // the dataset's size, and a client that stops reading stops the reader.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut body = BodySender::new(
            encoding,
            Box::new(move |item| tx.blocking_send(item).is_ok()),
        );
        let mut buf = Vec::with_capacity(256 * 1024);
        if header_row {
            write_csv_header(&mut buf, &ds);
        }
        let mut after = i64::MIN;
        loop {
            match st
                .inner
                .store
                .export_chunk(&ds, after, &mut buf, null, rows.as_ref())
            {
                Ok((last, n)) => {
                    after = last;
                    let next = Vec::with_capacity(buf.capacity());
                    if !body.send(std::mem::replace(&mut buf, next)) {
                        return;
                    }
                    if n < EXPORT_CHUNK_ROWS {
                        body.finish();
                        return;
                    }
                }
                Err(e) => {
                    // Failing the body makes hyper cut the response short, so the client
                    // sees an error rather than a silently truncated CSV.
                    body.fail(std::io::Error::other(e.message));
                    return;
                }
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    streamed(stream, "text/csv;charset=UTF-8", encoding)
}

// ---- fallbacks ----

pub async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::not_found(format!(
        "The emulator has no route for {method} {}",
        uri.path()
    ))
    .into_response()
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not supported on {}", uri.path()),
    )
    .into_response()
}
