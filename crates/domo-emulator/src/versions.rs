//! Instance-API routes for data versions, partitions, index requests and connector
//! streams (`/api/data/v1/streams`). Streams here are the same objects as the public
//! API's `/v1/streams`: one per dataset, executions are uploads.
//!
//! Times follow the live service: dataset and data-version times in epoch milliseconds,
//! stream and execution times in epoch seconds.

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value as Json, json};

use crate::errors::ApiError;
use crate::routes::{ApiResult, Params, blocking, json_body, ok, opt_str, params, parse_columns};
use crate::state::AppState;
use crate::store::{Action, Execution, Partition, Stream, now_ms};

/// Page sizes the partition search accepts.
const MAX_PARTITION_PAGE: i64 = 1000;
const MAX_MAGIC_PAGE: i64 = 5000;

// ---- data versions and partitions ----

pub(crate) async fn data_versions(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let ds_id = id.clone();
    let versions = blocking(move || st.inner.store.data_versions(&ds_id)).await?;
    ok(json!({"dataSourceId": id, "versions": versions}))
}

pub(crate) async fn partitions(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let parts = blocking(move || st.inner.store.partitions(&id)).await?;
    ok(Json::Array(
        parts
            .iter()
            .map(|p| json!({"partitionId": p.tag, "dataVersionId": p.version}))
            .collect(),
    ))
}

fn partition_json(p: &Partition) -> Json {
    json!({
        "partitionId": p.tag,
        "dataVersionId": p.version,
        "rowCount": p.rows,
        "dateCompleted": p.completed,
        "status": "SUCCESS",
    })
}

fn int_field(v: &Json, key: &str, default: i64, max: i64) -> Result<i64, ApiError> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(default),
        Some(n) => n
            .as_i64()
            .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("'{key}' must be an integer from 0 to {max}"))
            }),
    }
}

/// `POST .../partition/list`: `paginationFields` (sort and MIN/MAX filter on
/// `datecompleted`, `partitionid` or `rowcount`), `limit`, `offset`.
pub(crate) async fn search_partitions(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, true)?;
    let limit = int_field(&v, "limit", 100, MAX_PARTITION_PAGE)?;
    let offset = int_field(&v, "offset", 0, i64::MAX)?;
    let fields = match v.get("paginationFields") {
        None | Some(Json::Null) => vec![],
        Some(Json::Array(a)) => a.clone(),
        Some(_) => return Err(ApiError::bad_request("'paginationFields' must be an array")),
    };
    let mut parts = blocking(move || st.inner.store.partitions(&id)).await?;
    let key = |p: &Partition, field: &str| -> Json {
        match field {
            "datecompleted" => json!(p.completed),
            "rowcount" => json!(p.rows),
            _ => json!(p.tag),
        }
    };
    let cmp = |a: &Json, b: &Json| match (a, b) {
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        _ => a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or("")),
    };
    let mut sort: Option<(String, bool)> = None;
    for f in &fields {
        let name = opt_str(f, "fieldName")?
            .ok_or_else(|| ApiError::bad_request("paginationFields[].fieldName is required"))?
            .to_ascii_lowercase();
        if !matches!(name.as_str(), "datecompleted" | "partitionid" | "rowcount") {
            return Err(ApiError::bad_request(format!(
                "Unknown partition field '{name}'; expected datecompleted, partitionid or rowcount"
            )));
        }
        let desc = match opt_str(f, "sortOrder")?
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Unknown sortOrder '{other}'; expected ASC or DESC"
                )));
            }
        };
        if let Some(filter) = f.get("filterValues").filter(|x| !x.is_null()) {
            let bound = |k: &str| {
                filter
                    .get(k)
                    .filter(|x| !x.is_null())
                    .map(|x| match (x, name.as_str()) {
                        // Numeric fields compare as numbers even when sent as strings.
                        (Json::String(s), "datecompleted" | "rowcount") => {
                            s.parse::<i64>().map(Json::from).unwrap_or(x.clone())
                        }
                        _ => x.clone(),
                    })
            };
            let (min, max) = (bound("MIN"), bound("MAX"));
            parts.retain(|p| {
                let k = key(p, &name);
                min.as_ref().is_none_or(|m| cmp(&k, m).is_ge())
                    && max.as_ref().is_none_or(|m| cmp(&k, m).is_le())
            });
        }
        if sort.is_none() {
            sort = Some((name, desc));
        }
    }
    if let Some((name, desc)) = sort {
        parts.sort_by(|a, b| {
            // Ties (same millisecond) go by data version, so "newest" is the last written.
            let o = cmp(&key(a, &name), &key(b, &name)).then(a.version.cmp(&b.version));
            if desc { o.reverse() } else { o }
        });
    }
    let page: Vec<Json> = parts
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(partition_json)
        .collect();
    ok(Json::Array(page))
}

pub(crate) async fn delete_data_version(
    State(st): State<AppState>,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult {
    let (ds_id, key) = (id.clone(), tag.clone());
    let rows = blocking(move || st.inner.store.delete_data_version(&ds_id, &key)).await?;
    ok(json!({"dataSourceId": id, "partitionId": tag, "deleted": true, "rowsDeleted": rows}))
}

pub(crate) async fn delete_partition(
    State(st): State<AppState>,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult {
    let (ds_id, key) = (id.clone(), tag.clone());
    let rows = blocking(move || st.inner.store.delete_partition(&ds_id, &key)).await?;
    ok(json!({"dataSourceId": id, "partitionId": tag, "deleted": true, "rowsDeleted": rows}))
}

/// `POST /api/dataprocessing/v2/dataflows/data-version-hydrate?engine=MAGIC&limit&offset`.
pub(crate) async fn magic_versions(
    State(st): State<AppState>,
    q: Params,
    body: Bytes,
) -> ApiResult {
    let q = params(q);
    let v = json_body(&body, false)?;
    let ds_id = opt_str(&v, "dataSourceId")?
        .ok_or_else(|| ApiError::bad_request("'dataSourceId' is required"))?
        .to_owned();
    let qv = json!(q);
    let limit = int_field(&qv, "limit", 500, MAX_MAGIC_PAGE)?;
    let offset = int_field(&qv, "offset", 0, i64::MAX)?;
    if let Some(engine) = q.get("engine").filter(|e| !e.eq_ignore_ascii_case("MAGIC")) {
        return Err(ApiError::bad_request(format!(
            "Unknown engine '{engine}'; expected MAGIC"
        )));
    }
    let versions = blocking(move || st.inner.store.data_versions(&ds_id)).await?;
    let page: Vec<Json> = versions
        .into_iter()
        .filter(|v| v["deleted"] != json!(true))
        .skip(offset as usize)
        .take(limit as usize)
        .map(|v| {
            json!({
                "dataVersionId": v["dataVersionId"],
                "dataSourceId": v["dataSourceId"],
                "dataTag": v["dataTag"],
                "createTime": v["createTime"],
                "rowCount": v["rowCount"],
                "engine": "MAGIC",
            })
        })
        .collect();
    ok(Json::Array(page))
}

// ---- indexes ----

fn data_ids(v: &Json) -> Result<Json, ApiError> {
    match v.get("dataIds") {
        None | Some(Json::Null) => Ok(json!([])),
        Some(Json::Array(a)) => Ok(Json::Array(a.clone())),
        Some(_) => Err(ApiError::bad_request("'dataIds' must be an array")),
    }
}

fn index_json(r: &crate::store::IndexRequest) -> Json {
    let now = now_ms();
    let status = r.status(now);
    json!({
        "indexId": r.id,
        "dataSourceId": r.dataset_id,
        "dataIds": r.data_ids,
        "reindex": r.reindex,
        "status": status,
        "requestedAt": r.requested_at,
        "completedAt": (status == "COMPLETE").then_some(r.requested_at + r.delay_ms),
    })
}

pub(crate) async fn index(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let ids = data_ids(&json_body(&body, true)?)?;
    let (r, rows) = blocking(move || st.inner.store.request_index(&id, ids)).await?;
    let mut answer = index_json(&r);
    answer["rowCount"] = json!(rows);
    ok(answer)
}

fn index_id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("Index {s} not found")))
}

pub(crate) async fn reindex(
    State(st): State<AppState>,
    Path((id, index)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let index = index_id(&index)?;
    let ids = data_ids(&json_body(&body, true)?)?;
    let r = blocking(move || st.inner.store.reindex(&id, index, ids)).await?;
    ok(index_json(&r))
}

pub(crate) async fn index_status(
    State(st): State<AppState>,
    Path((id, index)): Path<(String, String)>,
) -> ApiResult {
    let index = index_id(&index)?;
    let r = blocking(move || st.inner.store.index_request(&id, index)).await?;
    ok(index_json(&r))
}

/// The longest configurable query time limit, so a test cannot hang on a typo.
const MAX_QUERY_TIMEOUT_MS: u64 = 3_600_000;

/// `POST /_emulator/settings {"indexDelayMs": n, "queryTimeoutMs": n}`; a null
/// `queryTimeoutMs` restores the default (about the live service's 60 s).
pub(crate) async fn settings(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    if let Some(ms) = v.get("queryTimeoutMs") {
        let timeout = match ms {
            Json::Null => None,
            ms => Some(
                ms.as_u64()
                    .filter(|ms| (1..=MAX_QUERY_TIMEOUT_MS).contains(ms))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "'queryTimeoutMs' must be an integer from 1 to {MAX_QUERY_TIMEOUT_MS}, or null"
                        ))
                    })?,
            ),
        };
        // Set without the store's lock, which a runaway query may be holding.
        st.inner
            .store
            .set_query_timeout(timeout.map(std::time::Duration::from_millis));
    }
    if let Some(ms) = v.get("indexDelayMs") {
        let ms = ms
            .as_i64()
            .ok_or_else(|| ApiError::bad_request("'indexDelayMs' must be an integer"))?;
        let st = st.clone();
        blocking(move || st.inner.store.set_index_delay(ms)).await?;
    }
    if let Some(ignore) = v.get("stringsIgnoreCase") {
        let ignore = ignore
            .as_bool()
            .ok_or_else(|| ApiError::bad_request("'stringsIgnoreCase' must be true or false"))?;
        let st = st.clone();
        blocking(move || st.inner.store.set_strings_ignore_case(ignore)).await?;
    }
    if let Some(rows) = v.get("answerRowCap") {
        let rows = rows
            .as_i64()
            .ok_or_else(|| ApiError::bad_request("'answerRowCap' must be an integer"))?;
        blocking(move || st.inner.store.set_answer_row_cap(rows)).await?;
    }
    ok(json!({"ok": true}))
}

// ---- streams ----

fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

fn stream_id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("Stream {s} not found")))
}

fn execution_json(stream: i64, e: &Execution) -> Json {
    json!({
        "streamId": stream,
        "executionId": e.id,
        "currentState": e.state.name(),
        "rowsInserted": e.rows.unwrap_or(0),
        "bytesInserted": e.bytes,
        "startedAt": secs(e.created),
        "endedAt": e.ended.map(secs),
        "updateMethod": e.update_method.map(Action::name),
        "index": true,
        "retryCount": 0,
        "runType": "MANUAL",
        "createdAt": secs(e.created),
        "modifiedAt": secs(e.ended.unwrap_or(e.created)),
        "removed": false,
        "peakMemoryUsedBytes": 0,
        "errors": [],
    })
}

fn stream_json(s: &Stream, config: &Json, executions: &[Execution]) -> Json {
    let ds = &s.dataset;
    let field = |k: &str, default: Json| config.get(k).cloned().unwrap_or(default);
    let configuration: Vec<Json> = config
        .get("configuration")
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c["streamId"] = json!(s.id);
                    c
                })
                .collect()
        })
        .unwrap_or_default();
    let last = executions.last().map(|e| execution_json(s.id, e));
    let last_ok = executions
        .iter()
        .rev()
        .find(|e| e.state.name() == "SUCCESS")
        .map(|e| execution_json(s.id, e));
    let current = executions
        .iter()
        .rev()
        .find(|e| e.state.name() == "ACTIVE")
        .map(|e| execution_json(s.id, e));
    let mut data_source = crate::routes::dataset_json(ds);
    data_source["transportType"] = field("transport", Json::Null)
        .get("type")
        .cloned()
        .unwrap_or(json!("API"));
    json!({
        "id": s.id,
        "valid": true,
        "invalidExecutionId": null,
        "transport": field("transport", json!({"type": "API", "description": "api", "version": "0"})),
        "updateMethod": s.update_method.name(),
        "dataProvider": field("dataProvider", json!({"key": "api"})),
        "account": field("account", Json::Null),
        "dataSource": data_source,
        "schemaDefinition": ds.schema_json(),
        "advancedScheduleJson": field("advancedScheduleJson", Json::Null),
        "scheduleState": if config.get("advancedScheduleJson").is_some_and(|v| !v.is_null()) { "ACTIVE" } else { "INACTIVE" },
        "lastExecution": last,
        "lastSuccessfulExecution": last_ok,
        "currentExecution": current,
        "currentExecutionState": last.as_ref().map(|e| e["currentState"].clone()),
        "createdAt": secs(s.created),
        "createdBy": 1,
        "modifiedAt": secs(s.modified),
        "modifiedBy": 1,
        "configuration": configuration,
    })
}

/// Checks and keeps the connector fields of a create or update body.
fn connector_config(v: &Json, old: &Json) -> Result<Json, ApiError> {
    let mut config = old.clone();
    if !config.is_object() {
        config = json!({});
    }
    for (key, object) in [
        ("transport", true),
        ("account", true),
        ("dataProvider", true),
        ("configuration", false),
    ] {
        match v.get(key) {
            None => {}
            Some(Json::Null) if key == "account" => config[key] = Json::Null,
            Some(x) if object && x.is_object() => config[key] = x.clone(),
            Some(Json::Array(items)) if !object => {
                for (i, c) in items.iter().enumerate() {
                    if c.get("name")
                        .and_then(Json::as_str)
                        .is_none_or(str::is_empty)
                    {
                        return Err(ApiError::bad_request(format!(
                            "configuration[{i}] needs a 'name'"
                        )));
                    }
                }
                config[key] = Json::Array(items.clone());
            }
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "'{key}' must be an {}",
                    if object { "object" } else { "array" }
                )));
            }
        }
    }
    match v.get("advancedScheduleJson") {
        None => {}
        Some(Json::Null) => config["advancedScheduleJson"] = Json::Null,
        Some(Json::String(text)) => {
            let schedule: Json = serde_json::from_str(text).map_err(|e| {
                ApiError::bad_request(format!("advancedScheduleJson is not valid JSON: {e}"))
            })?;
            if schedule.get("type").and_then(Json::as_str).is_none() {
                return Err(ApiError::bad_request(
                    "advancedScheduleJson must be a JSON object with a 'type'",
                ));
            }
            config["advancedScheduleJson"] = json!(text);
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "advancedScheduleJson must be a string of JSON",
            ));
        }
    }
    Ok(config)
}

fn update_method(v: &Json) -> Result<Option<Action>, ApiError> {
    opt_str(v, "updateMethod")?.map(Action::parse).transpose()
}

pub(crate) async fn stream_answer(st: AppState, id: i64) -> ApiResult {
    let (s, config, executions) = blocking(move || {
        let s = st.inner.store.stream(id)?;
        let config = st.inner.store.stream_config(&s.dataset.id)?;
        let executions = st.inner.store.executions(id)?;
        Ok((s, config, executions))
    })
    .await?;
    ok(stream_json(&s, &config, &executions))
}

/// `POST /api/data/v1/streams`: a dataset (`dataSource.name`, `description`, and, as the
/// emulator needs one, `schemaDefinition.columns`) and its connector stream.
pub(crate) async fn create_stream(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let source = v
        .get("dataSource")
        .filter(|d| d.is_object())
        .ok_or_else(|| ApiError::bad_request("'dataSource' must be an object"))?;
    let name = opt_str(source, "name")?
        .ok_or_else(|| ApiError::bad_request("dataSource.name is required"))?
        .to_owned();
    let description = opt_str(source, "description")?.unwrap_or("").to_owned();
    let columns = parse_columns(v.get("schemaDefinition")).map_err(|e| {
        ApiError::bad_request(format!(
            "{} (the local Domo has no connector to discover a schema: send schemaDefinition)",
            e.message
        ))
    })?;
    if v.get("dataProvider").and_then(|p| p.get("key")).is_none() {
        return Err(ApiError::bad_request("dataProvider.key is required"));
    }
    let method = update_method(&v)?.unwrap_or(Action::Replace);
    let config = connector_config(&v, &json!({}))?;
    let store_st = st.clone();
    let id = blocking(move || {
        let store = &store_st.inner.store;
        let s = store.create_stream(&name, &description, columns, method)?;
        store.set_stream_config(&s.dataset.id, &config)?;
        Ok(s.id)
    })
    .await?;
    stream_answer(st, id).await
}

pub(crate) async fn get_stream(State(st): State<AppState>, Path(sid): Path<String>) -> ApiResult {
    stream_answer(st, stream_id(&sid)?).await
}

pub(crate) async fn update_stream(
    State(st): State<AppState>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = stream_id(&sid)?;
    let v = json_body(&body, false)?;
    let method = update_method(&v)?;
    let source = v.get("dataSource").cloned().unwrap_or(Json::Null);
    let name = opt_str(&source, "name")?.map(str::to_owned);
    let description = opt_str(&source, "description")?.map(str::to_owned);
    let store_st = st.clone();
    blocking(move || {
        let store = &store_st.inner.store;
        let s = store.stream(id)?;
        let config = connector_config(&v, &store.stream_config(&s.dataset.id)?)?;
        if let Some(method) = method {
            store.update_stream(id, method)?;
        }
        if name.is_some() || description.is_some() {
            store.update_dataset(&s.dataset.id, name.as_deref(), description.as_deref(), None)?;
        }
        store.set_stream_config(&s.dataset.id, &config)
    })
    .await?;
    stream_answer(st, id).await
}

/// Newest first, as Domo lists them.
pub(crate) async fn history(State(st): State<AppState>, Path(sid): Path<String>) -> ApiResult {
    let id = stream_id(&sid)?;
    let executions = blocking(move || st.inner.store.executions(id)).await?;
    ok(Json::Array(
        executions
            .iter()
            .rev()
            .filter(|e| e.state.name() != "ACTIVE")
            .map(|e| execution_json(id, e))
            .collect(),
    ))
}

pub(crate) async fn execute(
    State(st): State<AppState>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = stream_id(&sid)?;
    json_body(&body, true)?;
    let e = blocking(move || st.inner.store.execute_stream(id)).await?;
    ok(execution_json(id, &e))
}
