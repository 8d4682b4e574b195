//! PDP (personalized data permissions) policies: the public API's
//! `/v1/datasets/{id}/policies[/{pid}]` routes, and the row filter they put on what a
//! user reads through a query or an export.
//!
//! Who sees what: the administrator and the dataset's owners (OWNER, CO_OWNER) see every
//! row. Anyone else sees the rows of every policy that names them (in `users`), or that
//! is an `open` policy naming nobody (the "All Rows" policy a new dataset has): the
//! filters of one policy all hold (AND), rows of several policies add up (OR). A user no
//! policy names sees no rows. Groups are stored but not resolved: the emulator has no
//! group membership, so a policy naming only groups gives nobody rows.
//!
//! The filter is SQL text naming only the dataset's own columns (quoted identifiers) with
//! every value a bound parameter: a policy's values never become SQL text.

use std::ffi::c_int;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value as Json, json};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::routes::{ApiResult, blocking, json_body};
use crate::state::AppState;
use crate::store::{ADMIN_ID, Cells, Dataset, quote_ident, rank};

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

/// A condition on rows: SQL over the dataset's columns, and the values of its parameters
/// (`?N` from the first number it was built with), all bound as text (a column's type
/// affinity turns a number's text into a number for the comparison).
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    pub sql: String,
    pub params: Vec<String>,
    /// The number of the first parameter.
    pub first: usize,
}

impl RowFilter {
    /// The filter of a user no policy gives any row.
    fn nothing(first: usize) -> RowFilter {
        RowFilter {
            sql: "0".into(),
            params: Vec::new(),
            first,
        }
    }
}

/// `sql` (a translated query whose `table` is read as `name`) over the rows of `view`
/// (the dataset's quoted view name) that `filter` lets through: a common table
/// expression named `name` holds those rows, ahead of the query's own, so the query runs
/// as written, its order included.
pub fn with_filtered_rows(sql: &str, name: &str, view: &str, filter: &RowFilter) -> String {
    let rows = format!(
        "{} AS (SELECT * FROM {view} WHERE {})",
        quote_ident(name),
        filter.sql
    );
    let sql = sql.trim_start();
    for head in ["WITH RECURSIVE ", "WITH "] {
        if sql
            .get(..head.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(head))
        {
            return format!("{head}{rows}, {}", &sql[head.len()..]);
        }
    }
    format!("WITH {rows} {sql}")
}

/// `sql` prepared with `filter`'s parameters bound.
pub fn prepare_filtered<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    filter: Option<&RowFilter>,
) -> rusqlite::Result<Cells<'c>> {
    let mut cells = Cells::prepare(conn, sql)?;
    if let Some(filter) = filter {
        for (i, value) in filter.params.iter().enumerate() {
            let index =
                c_int::try_from(filter.first + i).map_err(|_| rusqlite::Error::InvalidQuery)?;
            cells.bind_text(index, value)?;
        }
    }
    Ok(cells)
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

/// Whether `policy` gives `user` rows.
fn names(policy: &Json, user: &str) -> bool {
    let listed = |key: &str| {
        policy
            .get(key)
            .and_then(Json::as_array)
            .map_or(Vec::new(), |a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
    };
    let users = listed("users");
    if users.iter().any(|u| u == user) {
        return true;
    }
    policy.get("type").and_then(Json::as_str) == Some("open")
        && users.is_empty()
        && listed("groups").is_empty()
}

/// `text` as a LIKE pattern matching itself (with `\` as the escape).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One filter as SQL; its values are pushed to `params`, numbered from `first`.
fn filter_sql(f: &Json, first: usize, params: &mut Vec<String>) -> Option<String> {
    let column = quote_ident(f.get("column")?.as_str()?);
    let values: Vec<String> = f
        .get("values")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut param = |value: String| {
        params.push(value);
        format!("?{}", first + params.len() - 1)
    };
    let any = |cond: &mut dyn FnMut(&str) -> String| {
        let parts: Vec<String> = values.iter().map(|v| cond(v)).collect();
        format!("({})", parts.join(" OR "))
    };
    let operator = f.get("operator").and_then(Json::as_str).unwrap_or("EQUALS");
    let like = |pattern: String, param: &mut dyn FnMut(String) -> String| {
        format!("{column} LIKE {} ESCAPE '\\'", param(pattern))
    };
    let sql = match operator {
        "EQUALS" => {
            let list: Vec<String> = values.iter().map(|v| param(v.clone())).collect();
            format!("{column} IN ({})", list.join(", "))
        }
        "BETWEEN" => {
            let (low, high) = (
                param(values.first()?.clone()),
                param(values.get(1)?.clone()),
            );
            format!("{column} BETWEEN {low} AND {high}")
        }
        "LIKE" => any(&mut |v: &str| like(v.to_owned(), &mut param)),
        "BEGINS_WITH" => any(&mut |v: &str| like(format!("{}%", like_literal(v)), &mut param)),
        "ENDS_WITH" => any(&mut |v: &str| like(format!("%{}", like_literal(v)), &mut param)),
        "CONTAINS" => any(&mut |v: &str| like(format!("%{}%", like_literal(v)), &mut param)),
        comparison => {
            let op = match comparison {
                "GREATER_THAN" => ">",
                "LESS_THAN" => "<",
                "GREATER_THAN_EQUAL" => ">=",
                "LESS_THAN_EQUAL" => "<=",
                _ => return None,
            };
            any(&mut |v: &str| format!("{column} {op} {}", param(v.to_owned())))
        }
    };
    let negated = f.get("not").and_then(Json::as_bool).unwrap_or(false);
    // A null cell matches no filter, negated or not.
    Some(if negated {
        format!("({column} IS NOT NULL AND NOT ({sql}))")
    } else {
        format!("({sql})")
    })
}

/// The rows of `ds` that `policies` give `user`, as a filter with parameters numbered
/// from `first`; `None` for every row.
pub fn row_filter(policies: &[Json], user: &str, first: usize) -> Option<RowFilter> {
    let mut params = Vec::new();
    let mut any_of = Vec::new();
    for policy in policies.iter().filter(|p| names(p, user)) {
        let filters = policy
            .get("filters")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if filters.is_empty() {
            return None;
        }
        let all: Vec<String> = filters
            .iter()
            .filter_map(|f| filter_sql(f, first, &mut params))
            .collect();
        any_of.push(format!("({})", all.join(" AND ")));
    }
    if any_of.is_empty() {
        return Some(RowFilter::nothing(first));
    }
    Some(RowFilter {
        sql: any_of.join(" OR "),
        params,
        first,
    })
}

/// The filter on what `user` reads of dataset `id` (`None`: every row), parameters
/// numbered from `first`.
pub fn filter_for(
    st: &AppState,
    id: &str,
    user: &str,
    first: usize,
) -> Result<Option<RowFilter>, ApiError> {
    if user == ADMIN_ID {
        return Ok(None);
    }
    let store = &st.inner.store;
    if store.access_rank(id, user)?.unwrap_or(0) >= rank("CO_OWNER") {
        return Ok(None);
    }
    Ok(row_filter(&store.policies(id)?, user, first))
}

/// The user a request acts as.
pub fn user_of(caller: Option<Extension<Caller>>) -> String {
    caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(users: &[&str], filters: Json) -> Json {
        json!({"type": "user", "users": users, "groups": [], "filters": filters})
    }

    #[test]
    fn values_are_parameters_never_sql() {
        let p = policy(
            &["7"],
            json!([{"column": "re\"gion", "values": ["x' OR 1=1 --", "b"], "operator": "EQUALS", "not": false}]),
        );
        let f = row_filter(&[p], "7", 2).unwrap();
        assert_eq!(f.sql, "((\"re\"\"gion\" IN (?2, ?3)))");
        assert_eq!(f.params, vec!["x' OR 1=1 --", "b"]);
    }

    #[test]
    fn policies_add_up_and_filters_narrow() {
        let a = policy(
            &["7"],
            json!([
                {"column": "a", "values": ["1", "5"], "operator": "BETWEEN", "not": false},
                {"column": "b", "values": ["x%"], "operator": "BEGINS_WITH", "not": true},
            ]),
        );
        let b = policy(
            &["7"],
            json!([{"column": "c", "values": ["3"], "operator": "GREATER_THAN"}]),
        );
        let f = row_filter(&[a, b], "7", 1).unwrap();
        assert_eq!(
            f.sql,
            "((\"a\" BETWEEN ?1 AND ?2) AND (\"b\" IS NOT NULL AND NOT ((\"b\" LIKE ?3 ESCAPE '\\')))) OR (((\"c\" > ?4)))"
        );
        assert_eq!(f.params, vec!["1", "5", "x\\%%", "3"]);
    }

    #[test]
    fn the_open_policy_gives_everyone_every_row_and_nobody_gets_nothing() {
        assert_eq!(row_filter(&[all_rows(1)], "7", 1), None);
        let other = policy(&["8"], json!([{"column": "a", "values": ["1"]}]));
        assert_eq!(row_filter(&[other], "7", 1), Some(RowFilter::nothing(1)));
        assert_eq!(row_filter(&[], "7", 1), Some(RowFilter::nothing(1)));
    }
}
