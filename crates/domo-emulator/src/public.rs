//! Domo's public API (`api.domo.com`): the OAuth token route and the `/v1` DataSet and
//! Stream routes that pydomo uses, over the same store as the instance API.
//!
//! Shapes follow Domo's developer documentation: ISO-8601 times, `schema.columns[]` as
//! `{"type", "name"}` in that order (pydomo compares schemas as JSON text), creations
//! answered with 201, deletions and imports with 204.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::auth::{self, Caller};
use crate::csv;
use crate::encoding::Encoding;
use crate::errors::ApiError;
use crate::routes::{
    ApiResult, Params, blocking, csv_response, decode_part, is_gzip, json_body, opt_str, params,
    parse_columns,
};
use crate::state::AppState;
use crate::store::{ADMIN_ID, Action, Dataset, Execution, Stream, rank};

/// Access tokens live an hour, as Domo's do.
const TOKEN_TTL_SECS: i64 = 3600;
/// The `domain` of a token answer: the local Domo's instance name.
const INSTANCE_DOMAIN: &str = "local";
/// The public API pages lists by at most 50.
const MAX_PAGE: usize = 50;

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// A JSON answer serialised from a struct, so that field order is the declared one
/// (`serde_json::Value` would sort keys).
fn typed<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    let text = serde_json::to_string(body)
        .map_err(|e| ApiError::internal(format!("cannot serialise the answer: {e}")))?;
    let mut resp = (status, text).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    Ok(resp)
}

// ---- OAuth ----

/// `GET|POST /oauth/token?grant_type=client_credentials[&scope=data user]`, with the
/// client id and secret as HTTP Basic credentials (or as `client_id`/`client_secret`
/// form fields). The emulator's one client is the configured user: client id = email,
/// client secret = password.
pub async fn token(
    State(st): State<AppState>,
    headers: HeaderMap,
    q: Params,
    body: Bytes,
) -> ApiResult {
    let mut form = params(q);
    if !body.iter().all(u8::is_ascii_whitespace) {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "The token request body must be application/x-www-form-urlencoded: {e}"
            ))
        })?;
        form.extend(fields);
    }
    let (client_id, secret) = auth::basic_credentials(&headers)
        .or_else(|| {
            Some((
                form.get("client_id")?.clone(),
                form.get("client_secret")?.clone(),
            ))
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Client credentials are required (HTTP Basic client_id:client_secret)",
            )
        })?;
    // The administrator's email and password, or a seeded user's: the token acts as them.
    let user = if client_id.eq_ignore_ascii_case(&st.inner.email)
        && auth::constant_time_eq(&secret, &st.inner.password)
    {
        ADMIN_ID.to_owned()
    } else {
        let lookup = st.clone();
        let (id, pw) = (client_id.clone(), secret.clone());
        blocking(move || Ok(lookup.inner.store.user_by_password(&id, &pw)))
            .await?
            .map(|u| u.id)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials"))?
    };
    let admin = user == ADMIN_ID;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unsupported grant type: {other}; only client_credentials is supported"
            )));
        }
        None => return Err(ApiError::bad_request("Missing grant type")),
    }
    let scopes: Vec<String> = match form.get("scope").map(|s| s.trim()) {
        None | Some("") => auth::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(s) => {
            let asked: Vec<String> = s
                .split([' ', ',', '+'])
                .filter(|p| !p.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            if let Some(bad) = asked.iter().find(|a| !auth::SCOPES.contains(&a.as_str())) {
                return Err(ApiError::bad_request(format!(
                    "Invalid scope: {bad}; known scopes are {}",
                    auth::SCOPES.join(", ")
                )));
            }
            asked
        }
    };
    let now = chrono::Utc::now().timestamp();
    let exp = now + TOKEN_TTL_SECS;
    let jti = auth::random_token(32);
    let claims = json!({
        "role": if admin { "Admin" } else { "Participant" },
        "customer": "local",
        "env": "local",
        "userId": user_number(&user),
        "client_id": client_id,
        "scope": scopes,
        "iat": now,
        "exp": exp,
        "jti": jti,
    });
    let access_token =
        st.remember_access_token(auth::jwt(&claims), exp, scopes.clone(), user.clone());
    Ok(crate::errors::json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": TOKEN_TTL_SECS,
            "scope": scopes.join(" "),
            "customer": "local",
            "env": "local",
            "userId": user_number(&user),
            "role": if admin { "Admin" } else { "Participant" },
            // The instance the client belongs to, read by domolibrary and the R clients.
            "domain": INSTANCE_DOMAIN,
            "jti": jti,
        }),
    ))
}

/// A user id as the token answer's number (seeded ids need not be numbers).
fn user_number(user: &str) -> Json {
    user.parse::<i64>()
        .map_or_else(|_| json!(user), |n| json!(n))
}

// ---- DataSets ----

#[derive(Serialize)]
struct V1Column<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
struct V1Schema<'a> {
    columns: Vec<V1Column<'a>>,
}

#[derive(Serialize)]
struct V1Owner {
    id: i64,
    name: &'static str,
}

const OWNER: V1Owner = V1Owner {
    id: 1,
    name: "Local Domo Admin",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Dataset<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    rows: i64,
    columns: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<V1Schema<'a>>,
    owner: V1Owner,
    created_at: String,
    updated_at: String,
    data_current_at: String,
    pdp_enabled: bool,
}

/// The DataSet object; lists and streams leave out the schema, as Domo's do.
fn v1_dataset(ds: &Dataset, with_schema: bool) -> V1Dataset<'_> {
    V1Dataset {
        id: &ds.id,
        name: &ds.name,
        description: &ds.description,
        rows: ds.row_count,
        columns: ds.columns.len(),
        schema: with_schema.then(|| V1Schema {
            columns: ds
                .columns
                .iter()
                .map(|c| V1Column {
                    ty: c.ty.name(),
                    name: &c.name,
                })
                .collect(),
        }),
        owner: OWNER,
        created_at: iso(ds.created),
        updated_at: iso(ds.last_updated),
        data_current_at: iso(ds.last_updated),
        pdp_enabled: false,
    }
}

fn page(q: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let num = |key: &str, default: usize| -> Result<usize, ApiError> {
        match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("'{key}' must be a non-negative integer, not '{s}'"))
            }),
        }
    };
    // Above 50 is unverified on the live service; clamping is the tolerant reading.
    Ok((num("limit", MAX_PAGE)?.min(MAX_PAGE), num("offset", 0)?))
}

pub async fn list_datasets(
    State(st): State<AppState>,
    caller: Option<Extension<Caller>>,
    q: Params,
) -> ApiResult {
    let q = params(q);
    let (limit, offset) = page(&q)?;
    let sort = q.get("sort").map(|s| s.trim()).filter(|s| !s.is_empty());
    let (desc, field) = match sort {
        Some(s) => match s.strip_prefix('-') {
            Some(f) => (true, Some(f.to_owned())),
            None => (false, Some(s.to_owned())),
        },
        None => (false, None),
    };
    let name_like = q
        .get("nameLike")
        .map(|s| s.to_lowercase())
        .unwrap_or_default();
    let user = caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0);
    let mut all = blocking(move || {
        let store = &st.inner.store;
        let mut all = store.datasets()?;
        // Each caller is answered only the datasets they may view.
        if user != ADMIN_ID {
            let mut visible = Vec::with_capacity(all.len());
            for ds in all {
                if store.access_rank(&ds.id, &user)?.unwrap_or(0) >= rank("CAN_VIEW") {
                    visible.push(ds);
                }
            }
            all = visible;
        }
        Ok(all)
    })
    .await?;
    all.retain(|d| d.name.to_lowercase().contains(&name_like));
    match field.as_deref() {
        None | Some("cardCount" | "cardViewCount" | "errorState") => {}
        Some("name") => all.sort_by_key(|d| d.name.to_lowercase()),
        Some("lastTouched" | "lastUpdated" | "updatedAt") => all.sort_by_key(|d| d.last_updated),
        Some("createdAt" | "created") => all.sort_by_key(|d| d.created),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unknown sort field '{other}'; expected name, lastTouched, lastUpdated, \
                 createdAt, cardCount, cardViewCount or errorState, optionally prefixed by '-'"
            )));
        }
    }
    if desc {
        all.reverse();
    }
    let out: Vec<V1Dataset<'_>> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|d| v1_dataset(d, false))
        .collect();
    typed(StatusCode::OK, &out)
}

fn required_name(v: &Json) -> Result<String, ApiError> {
    match v.get("name") {
        Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(ApiError::bad_request("name must be a non-empty string")),
    }
}

pub async fn create_dataset(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let name = required_name(&v)?;
    let description = opt_str(&v, "description")?.unwrap_or("").to_owned();
    let columns = parse_columns(v.get("schema"))?;
    let ds = blocking(move || st.inner.store.create_dataset(&name, &description, columns)).await?;
    typed(StatusCode::CREATED, &v1_dataset(&ds, true))
}

pub async fn get_dataset(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let ds = blocking(move || st.inner.store.dataset(&id)).await?;
    typed(StatusCode::OK, &v1_dataset(&ds, true))
}

/// Changes any of name, description and schema; what is absent stays.
pub async fn update_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let name = match v.get("name") {
        None | Some(Json::Null) => None,
        Some(_) => Some(required_name(&v)?),
    };
    let description = match v.get("description") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "'description' must be a string, not {other}"
            )));
        }
    };
    let columns = match v.get("schema") {
        None | Some(Json::Null) => None,
        Some(schema) => Some(parse_columns(Some(schema))?),
    };
    let ds = blocking(move || {
        st.inner
            .store
            .update_dataset(&id, name.as_deref(), description.as_deref(), columns)
    })
    .await?;
    typed(StatusCode::OK, &v1_dataset(&ds, true))
}

pub async fn delete_dataset(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    blocking(move || st.inner.store.delete_dataset(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/datasets/{id}/data?includeHeader=true&fileName=x.csv`. Nulls are empty
/// fields here (the instance export writes `\N`): see `csv::PUBLIC_NULL`.
pub async fn export(
    State(st): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult {
    let q = params(q);
    // pydomo sends Python's str(True): "True".
    let header_row = q
        .get("includeHeader")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (ds, rows) = crate::routes::dataset_and_rows(&st, id, caller).await?;
    let encoding = Encoding::for_request(&headers);
    let mut resp = csv_response(st, ds, header_row, csv::PUBLIC_NULL, encoding, rows);
    if let Some(name) = q.get("fileName").filter(|n| !n.is_empty()) {
        let safe: String = name
            .chars()
            .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

fn update_method(q: &HashMap<String, String>, default: Action) -> Result<Action, ApiError> {
    match q.get("updateMethod").filter(|s| !s.is_empty()) {
        Some(m) => Action::parse(m),
        None => Ok(default),
    }
}

/// `PUT /v1/datasets/{id}/data[?updateMethod=APPEND|REPLACE]`: headerless CSV, REPLACE
/// unless told otherwise, applied at once.
pub async fn import(
    State(st): State<AppState>,
    Path(id): Path<String>,
    q: Params,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let q = params(q);
    let action = update_method(&q, Action::Replace)?;
    let gzip = is_gzip(&headers);
    blocking(move || {
        let text = decode_part(1, gzip, body)?;
        st.inner.store.import_csv(&id, &text, action)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- Streams ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Stream<'a> {
    id: i64,
    data_set: V1Dataset<'a>,
    update_method: &'static str,
    created_at: String,
    modified_at: String,
}

fn v1_stream(s: &Stream) -> V1Stream<'_> {
    V1Stream {
        id: s.id,
        data_set: v1_dataset(&s.dataset, false),
        update_method: s.update_method.name(),
        created_at: iso(s.created),
        modified_at: iso(s.modified),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Execution {
    id: i64,
    started_at: String,
    ended_at: Option<String>,
    current_state: &'static str,
    update_method: Option<&'static str>,
    created_by: i64,
    created_at: String,
    modified_at: String,
    uploaded_rows: Option<i64>,
    uploaded_bytes: i64,
}

fn v1_execution(e: &Execution) -> V1Execution {
    V1Execution {
        id: e.id,
        started_at: iso(e.created),
        ended_at: e.ended.map(iso),
        current_state: e.state.name(),
        update_method: e.update_method.map(Action::name),
        created_by: OWNER.id,
        created_at: iso(e.created),
        modified_at: iso(e.ended.unwrap_or(e.created)),
        uploaded_rows: e.rows,
        uploaded_bytes: e.bytes,
    }
}

fn stream_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Stream {s} not found")))
}

fn execution_id(stream: i64, s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Execution {s} not found on Stream {stream}")))
}

fn page_of<'a>(
    all: &'a [Stream],
    q: &HashMap<String, String>,
) -> Result<Vec<V1Stream<'a>>, ApiError> {
    let (limit, offset) = page(q)?;
    Ok(all.iter().skip(offset).take(limit).map(v1_stream).collect())
}

pub async fn list_streams(State(st): State<AppState>, q: Params) -> ApiResult {
    if params_has_q(&q) {
        return search_streams(State(st), q).await;
    }
    let q = params(q);
    let all = blocking(move || st.inner.store.streams()).await?;
    typed(StatusCode::OK, &page_of(&all, &q)?)
}

fn params_has_q(q: &Params) -> bool {
    q.as_ref().is_ok_and(|query| query.0.contains_key("q"))
}

/// `GET /v1/streams/search?q=dataSource.id:{id}` (also accepted on `/v1/streams?q=...`) or `q=dataSource.owner.id:{userId}`.
pub async fn search_streams(State(st): State<AppState>, q: Params) -> ApiResult {
    let q = params(q);
    let query = q.get("q").map(|s| s.trim()).unwrap_or("");
    enum By {
        Dataset(String),
        Owner(String),
    }
    let by = if let Some(id) = query.strip_prefix("dataSource.id:") {
        By::Dataset(id.trim().to_owned())
    } else if let Some(id) = query.strip_prefix("dataSource.owner.id:") {
        By::Owner(id.trim().to_owned())
    } else {
        return Err(ApiError::bad_request(format!(
            "Unsupported stream search '{query}'; expected q=dataSource.id:<id> or q=dataSource.owner.id:<id>"
        )));
    };
    let mut all = blocking(move || st.inner.store.streams()).await?;
    match by {
        By::Dataset(id) => all.retain(|s| s.dataset.id == id),
        // Every dataset belongs to the one local user.
        By::Owner(id) => {
            if id != OWNER.id.to_string() {
                all.clear();
            }
        }
    }
    typed(StatusCode::OK, &page_of(&all, &q)?)
}

pub async fn create_stream(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let ds = v
        .get("dataSet")
        .filter(|d| d.is_object())
        .ok_or_else(|| ApiError::bad_request("'dataSet' must be an object"))?;
    let name = required_name(ds)?;
    let description = opt_str(ds, "description")?.unwrap_or("").to_owned();
    let columns = parse_columns(ds.get("schema"))?;
    // Unverified default; REPLACE matches the implicit stream of every other dataset.
    let method = match opt_str(&v, "updateMethod")? {
        Some(m) => Action::parse(m)?,
        None => Action::Replace,
    };
    let s = blocking(move || {
        st.inner
            .store
            .create_stream(&name, &description, columns, method)
    })
    .await?;
    typed(StatusCode::CREATED, &v1_stream(&s))
}

pub async fn get_stream(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let id = stream_id(&id)?;
    let s = blocking(move || st.inner.store.stream(id)).await?;
    typed(StatusCode::OK, &v1_stream(&s))
}

/// `PATCH /v1/streams/{id}`: the update method, from the body or the query.
pub async fn update_stream(
    State(st): State<AppState>,
    Path(id): Path<String>,
    q: Params,
    body: Bytes,
) -> ApiResult {
    let id = stream_id(&id)?;
    let v = json_body(&body, true)?;
    let q = params(q);
    let method = match opt_str(&v, "updateMethod")? {
        Some(m) => Action::parse(m)?,
        None => match q.get("updateMethod") {
            Some(m) => Action::parse(m)?,
            None => return Err(ApiError::bad_request("'updateMethod' is required")),
        },
    };
    let s = blocking(move || st.inner.store.update_stream(id, method)).await?;
    typed(StatusCode::OK, &v1_stream(&s))
}

pub async fn delete_stream(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let id = stream_id(&id)?;
    blocking(move || st.inner.store.delete_stream(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn create_execution(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = stream_id(&id)?;
    let v = json_body(&body, true)?;
    let method = opt_str(&v, "updateMethod")?
        .map(Action::parse)
        .transpose()?;
    let e = blocking(move || st.inner.store.create_execution(id, method)).await?;
    typed(StatusCode::CREATED, &v1_execution(&e))
}

pub async fn list_executions(
    State(st): State<AppState>,
    Path(id): Path<String>,
    q: Params,
) -> ApiResult {
    let id = stream_id(&id)?;
    let q = params(q);
    let (limit, offset) = page(&q)?;
    let all = blocking(move || st.inner.store.executions(id)).await?;
    let out: Vec<V1Execution> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(v1_execution)
        .collect();
    typed(StatusCode::OK, &out)
}

pub async fn get_execution(
    State(st): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
) -> ApiResult {
    let id = stream_id(&id)?;
    let eid = execution_id(id, &eid)?;
    let e = blocking(move || st.inner.store.execution(id, eid)).await?;
    typed(StatusCode::OK, &v1_execution(&e))
}

/// `PUT .../executions/{eid}/part/{n}`: headerless CSV, gzip accepted. Parts are
/// numbered from 0 or 1 and must be consecutive by commit time.
pub async fn put_part(
    State(st): State<AppState>,
    Path((id, eid, part)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let id = stream_id(&id)?;
    let eid = execution_id(id, &eid)?;
    let part_no = part
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid part id '{part}'")))?;
    let gzip = is_gzip(&headers);
    let e = blocking(move || {
        let text = decode_part(part_no, gzip, body)?;
        st.inner.store.put_execution_part(id, eid, part_no, &text)
    })
    .await?;
    typed(StatusCode::OK, &v1_execution(&e))
}

pub async fn commit_execution(
    State(st): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
) -> ApiResult {
    let id = stream_id(&id)?;
    let eid = execution_id(id, &eid)?;
    let e = blocking(move || st.inner.store.commit_execution(id, eid)).await?;
    typed(StatusCode::OK, &v1_execution(&e))
}

pub async fn abort_execution(
    State(st): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
) -> ApiResult {
    let id = stream_id(&id)?;
    let eid = execution_id(id, &eid)?;
    let e = blocking(move || st.inner.store.abort_execution(id, eid)).await?;
    typed(StatusCode::OK, &v1_execution(&e))
}

/// `PUT /v1/streams/{id}/executions/abort`: whatever execution is open.
pub async fn abort_current_execution(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = stream_id(&id)?;
    blocking(move || st.inner.store.abort_current_executions(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
