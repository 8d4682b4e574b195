//! PDP (personalized data permissions) policies: the public API's
//! `/v1/datasets/{id}/policies[/{pid}]` routes, checking what they are sent; `rows`
//! turns the stored policies into the filter on what a user reads.

mod rows;

pub use rows::{RowFilter, filter_for, prepare_filtered, user_of, with_filtered_rows};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value as Json, json};

use crate::errors::ApiError;
use crate::routes::{ApiResult, blocking, json_body};
use crate::state::AppState;
use crate::store::Dataset;

/// The operators a filter may use.
pub const OPERATORS: &[&str] = &[
    "EQUALS",
    "LIKE",
    "GREATER_THAN",
    "LESS_THAN",
    "GREATER_THAN_EQUAL",
    "LESS_THAN_EQUAL",
    "BETWEEN",
    "BEGINS_WITH",
    "ENDS_WITH",
    "CONTAINS",
];

/// Policy types a client may create; `open` is the "All Rows" policy's own.
const TYPES: &[&str] = &["user", "system"];

/// The policy every new dataset has.
pub fn all_rows(id: i64) -> Json {
    json!({
        "id": id,
        "type": "open",
        "name": "All Rows",
        "filters": [],
        "users": [],
        "virtualUsers": [],
        "groups": [],
    })
}

fn string_list(v: &Json, key: &str) -> Result<Vec<String>, ApiError> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Ok(s.clone()),
                Json::Number(n) => Ok(n.to_string()),
                Json::Bool(b) => Ok(b.to_string()),
                other => Err(ApiError::bad_request(format!(
                    "'{key}' must hold strings or numbers, not {other}"
                ))),
            })
            .collect(),
        Some(other) => Err(ApiError::bad_request(format!(
            "'{key}' must be a list, not {other}"
        ))),
    }
}

fn id_list(v: &Json, key: &str) -> Result<Vec<Json>, ApiError> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Number(n) if n.is_i64() => Ok(i.clone()),
                Json::String(s) => Ok(s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n))),
                other => Err(ApiError::bad_request(format!(
                    "'{key}' must hold ids, not {other}"
                ))),
            })
            .collect(),
        Some(other) => Err(ApiError::bad_request(format!(
            "'{key}' must be a list of ids, not {other}"
        ))),
    }
}

/// A filter of a request, checked against the dataset's columns, as stored.
fn checked_filter(f: &Json, ds: &Dataset) -> Result<Json, ApiError> {
    let column = match f.get("column") {
        Some(Json::String(c)) if !c.is_empty() => c.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "a filter's 'column' must be a column name",
            ));
        }
    };
    if !ds.columns.iter().any(|c| c.name == column) {
        return Err(ApiError::bad_request(format!(
            "Column '{column}' is not in DataSet {}",
            ds.id
        )));
    }
    let operator = match f.get("operator") {
        None | Some(Json::Null) => "EQUALS".to_owned(),
        Some(Json::String(o)) if OPERATORS.contains(&o.to_ascii_uppercase().as_str()) => {
            o.to_ascii_uppercase()
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unknown filter operator {other}; expected one of {}",
                OPERATORS.join(", ")
            )));
        }
    };
    let values = string_list(f, "values")?;
    if values.is_empty() {
        return Err(ApiError::bad_request(
            "a filter's 'values' must not be empty",
        ));
    }
    if operator == "BETWEEN" && values.len() != 2 {
        return Err(ApiError::bad_request(
            "a BETWEEN filter takes exactly two values",
        ));
    }
    let not = match f.get("not") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "a filter's 'not' must be true or false, not {other}"
            )));
        }
    };
    Ok(json!({"column": column, "values": values, "operator": operator, "not": not}))
}

/// `body` applied to `base` (a stored policy, or an empty one for a creation), checked.
fn merged(base: &Json, body: &Json, ds: &Dataset, create: bool) -> Result<Json, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the policy must be a JSON object"));
    }
    let mut out = base.clone();
    match body.get("name") {
        Some(Json::String(n)) if !n.trim().is_empty() => out["name"] = json!(n),
        None | Some(Json::Null) if !create => {}
        _ => return Err(ApiError::bad_request("'name' must be a non-empty string")),
    }
    match body.get("type") {
        Some(Json::String(t)) if TYPES.contains(&t.to_ascii_lowercase().as_str()) => {
            out["type"] = json!(t.to_ascii_lowercase());
        }
        None | Some(Json::Null) => {
            if create {
                out["type"] = json!("user");
            }
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "'type' must be user or system, not {other}"
            )));
        }
    }
    if let Some(filters) = body.get("filters").filter(|f| !f.is_null()) {
        let Json::Array(filters) = filters else {
            return Err(ApiError::bad_request("'filters' must be a list"));
        };
        let checked = filters
            .iter()
            .map(|f| checked_filter(f, ds))
            .collect::<Result<Vec<_>, _>>()?;
        out["filters"] = json!(checked);
    } else if create {
        out["filters"] = json!([]);
    }
    for key in ["users", "virtualUsers", "groups"] {
        if body.get(key).is_some_and(|v| !v.is_null()) || create {
            out[key] = json!(id_list(body, key)?);
        }
    }
    Ok(out)
}

fn policy_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Policy {s} not found")))
}

fn ok(status: StatusCode, body: Json) -> ApiResult {
    Ok(crate::errors::json_response(status, &body))
}

/// `GET /v1/datasets/{id}/policies`.
pub async fn list(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let all = blocking(move || st.inner.store.policies(&id)).await?;
    ok(StatusCode::OK, Json::Array(all))
}

/// `GET /v1/datasets/{id}/policies/{pid}`.
pub async fn get(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>) -> ApiResult {
    let pid = policy_id(&pid)?;
    let all = blocking(move || st.inner.store.policies(&id)).await?;
    let found = all
        .into_iter()
        .find(|p| p.get("id").and_then(Json::as_i64) == Some(pid))
        .ok_or_else(|| ApiError::not_found(format!("Policy {pid} not found")))?;
    ok(StatusCode::OK, found)
}

/// `POST /v1/datasets/{id}/policies`: answered 201 with the policy and its id.
pub async fn create(State(st): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let created = blocking(move || {
        let store = &st.inner.store;
        let ds = store.dataset(&id)?;
        let mut policy = merged(&json!({}), &v, &ds, true)?;
        store.change_policies(&id, |list, next| {
            policy["id"] = json!(*next);
            *next += 1;
            list.push(policy.clone());
            Ok(policy)
        })
    })
    .await?;
    ok(StatusCode::CREATED, created)
}

/// `PUT /v1/datasets/{id}/policies/{pid}`: what the body names changes; the rest stays.
pub async fn update(
    State(st): State<AppState>,
    Path((id, pid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let pid = policy_id(&pid)?;
    let v = json_body(&body, false)?;
    let updated = blocking(move || {
        let store = &st.inner.store;
        let ds = store.dataset(&id)?;
        store.change_policies(&id, |list, _| {
            let slot = list
                .iter_mut()
                .find(|p| p.get("id").and_then(Json::as_i64) == Some(pid))
                .ok_or_else(|| ApiError::not_found(format!("Policy {pid} not found")))?;
            let mut changed = merged(slot, &v, &ds, false)?;
            changed["id"] = json!(pid);
            *slot = changed.clone();
            Ok(changed)
        })
    })
    .await?;
    ok(StatusCode::OK, updated)
}

/// `DELETE /v1/datasets/{id}/policies/{pid}`: 204.
pub async fn delete(
    State(st): State<AppState>,
    Path((id, pid)): Path<(String, String)>,
) -> ApiResult {
    let pid = policy_id(&pid)?;
    blocking(move || {
        st.inner.store.change_policies(&id, |list, _| {
            let before = list.len();
            list.retain(|p| p.get("id").and_then(Json::as_i64) != Some(pid));
            if list.len() == before {
                return Err(ApiError::not_found(format!("Policy {pid} not found")));
            }
            Ok(())
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
