//! Dataset administration routes: access (permissions, share, revoke, owner), tags,
//! properties, details, history, copy status, cards, stored data/query/SQL/dataflow, and
//! schema alteration; plus the admin routes that seed users, cards and dataflows.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value as Json, json};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::routes::{ApiResult, Params, blocking, dataset_json, json_body, ok, params};
use crate::state::AppState;
use crate::store::{ACCESS_LEVELS, ADMIN_ID, Column, GRANTEE_TYPES, Grant, REVOKE_TYPES};
use crate::types::DomoType;

type Who = Option<Extension<Caller>>;

fn who(c: Who) -> String {
    c.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0)
}

fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<String, ApiError> {
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid {what} '{value}'; expected one of {}",
            allowed.join(", ")
        )))
    }
}

fn id_text(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `[{"id", "type", "accessLevel"}, ...]` from `{"permissions": [...]}` or a bare array.
fn parse_grants(v: &Json) -> Result<Vec<Grant>, ApiError> {
    let list = v
        .get("permissions")
        .unwrap_or(v)
        .as_array()
        .ok_or_else(|| ApiError::bad_request("'permissions' must be an array"))?;
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            let id = id_text(p.get("id")).ok_or_else(|| {
                ApiError::bad_request(format!("permissions[{i}].id must be a non-empty id"))
            })?;
            let kind = p.get("type").and_then(Json::as_str).unwrap_or("USER");
            let level = p.get("accessLevel").and_then(Json::as_str).unwrap_or("");
            Ok(Grant {
                kind: one_of("permission type", kind, GRANTEE_TYPES)?,
                id,
                level: one_of("access level", level, ACCESS_LEVELS)?,
            })
        })
        .collect()
}

// ---- access ----

pub async fn get_permissions(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(blocking(move || st.inner.store.permissions(&id)).await?)
}

pub async fn put_permissions(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let grants = parse_grants(&json_body(&body, false)?)?;
    let user = who(c);
    blocking(move || st.inner.store.grant(&id, &grants, &user, "PERMISSIONS")).await?;
    ok(json!({}))
}

pub async fn share(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let grants = parse_grants(&v)?;
    let send_email = match v.get("sendEmail") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "'sendEmail' must be true or false, not {other}"
            )));
        }
    };
    let user = who(c);
    blocking(move || {
        let store = &st.inner.store;
        store.grant(&id, &grants, &user, "SHARE")?;
        if send_email {
            let to: Vec<String> = grants
                .iter()
                .map(|g| format!("{} {}", g.kind, g.id))
                .collect();
            store.record(
                &id,
                "SHARE",
                &user,
                &format!("email sent to {}", to.join(", ")),
            );
        }
        Ok(())
    })
    .await?;
    ok(json!({}))
}

pub async fn revoke(
    State(st): State<AppState>,
    Path((id, kind, entity)): Path<(String, String, String)>,
    c: Who,
) -> ApiResult {
    let kind = one_of("entity type", &kind, REVOKE_TYPES)?;
    let user = who(c);
    blocking(move || st.inner.store.revoke(&id, &[(kind, entity)], &user)).await?;
    ok(json!({}))
}

pub async fn remove_user(
    State(st): State<AppState>,
    Path((id, entity)): Path<(String, String)>,
    c: Who,
) -> ApiResult {
    let user = who(c);
    blocking(move || {
        st.inner
            .store
            .revoke(&id, &[("USER".into(), entity)], &user)
    })
    .await?;
    ok(json!({}))
}

pub async fn remove_users(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request("the body must be an array of {id, type}"))?;
    let entities = list
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let entity = id_text(e.get("id"))
                .ok_or_else(|| ApiError::bad_request(format!("[{i}].id must be an id")))?;
            let kind = e.get("type").and_then(Json::as_str).unwrap_or("USER");
            Ok((one_of("entity type", kind, REVOKE_TYPES)?, entity))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let user = who(c);
    blocking(move || st.inner.store.revoke(&id, &entities, &user)).await?;
    ok(json!({}))
}

pub async fn get_owner(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let owner = blocking(move || st.inner.store.owner(&id)).await?;
    ok(json!({ "owner": owner }))
}

pub async fn put_owner(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let owner = v.get("owner").unwrap_or(&v);
    let entity = id_text(owner.get("id"))
        .ok_or_else(|| ApiError::bad_request("owner.id must be a non-empty id"))?;
    let kind = one_of(
        "owner type",
        owner.get("type").and_then(Json::as_str).unwrap_or("USER"),
        GRANTEE_TYPES,
    )?;
    let user = who(c);
    blocking(move || st.inner.store.set_owner(&id, &kind, &entity, &user)).await?;
    ok(json!({}))
}

// ---- metadata ----

pub async fn set_properties(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let Json::Object(changes) = v.get("properties").cloned().unwrap_or(v) else {
        return Err(ApiError::bad_request(
            "the body must be an object of properties",
        ));
    };
    if changes.is_empty() {
        return Err(ApiError::bad_request("no properties to change"));
    }
    let user = who(c);
    blocking(move || st.inner.store.set_properties(&id, &changes, &user)).await?;
    ok(json!({}))
}

/// The v3 metadata, with the stored owner, properties and card count.
pub fn metadata_json(st: &AppState, id: &str) -> Result<Json, ApiError> {
    let store = &st.inner.store;
    let ds = store.dataset(id)?;
    let mut body = dataset_json(&ds);
    body["owner"] = store.owner(id)?;
    // Live metadata carries the tags as a JSON-encoded list in a string.
    body["tags"] = json!(Json::from(store.tags(id)?).to_string());
    let cards = store.cards(id)?.len();
    body["cardCount"] = json!(cards);
    body["cardInfo"]["cardCount"] = json!(cards);
    if let Json::Object(props) = store.properties(id)? {
        for (k, v) in props {
            if k != "name" && k != "description" {
                body[k] = v;
            }
        }
    }
    Ok(body)
}

pub async fn details(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let body = blocking(move || {
        let mut body = metadata_json(&st, &id)?;
        let ds = st.inner.store.dataset(&id)?;
        let mut props = json!({
            "dataProviderType": body["dataProviderType"],
            "description": ds.description,
        });
        if let Json::Object(stored) = st.inner.store.properties(&id)? {
            for (k, v) in stored {
                props[k] = v;
            }
        }
        body["properties"] = props;
        body["schema"] = ds.schema_json();
        Ok(body)
    })
    .await?;
    ok(body)
}

pub async fn history(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let changes = blocking(move || st.inner.store.history(&id)).await?;
    ok(json!({ "changes": changes }))
}

async fn copy_info(st: AppState, id: String) -> Result<Json, ApiError> {
    let ds = id.clone();
    blocking(move || st.inner.store.stored(&ds, "copy"))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No copy operation for DataSource {id}")))
}

pub async fn copy_status(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let info = copy_info(st, id).await?;
    ok(
        json!({"status": info["status"], "message": info["message"], "datasetId": info["datasetId"]}),
    )
}

pub async fn copy_log(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let info = copy_info(st, id).await?;
    ok(json!({"log": info["log"]}))
}

// ---- tags ----

fn parse_tags(body: &Bytes) -> Result<Vec<String>, ApiError> {
    let v = json_body(body, false)?;
    let list = v
        .get("tags")
        .unwrap_or(&v)
        .as_array()
        .ok_or_else(|| ApiError::bad_request("the body must be an array of tags"))?;
    list.iter()
        .map(|t| match t.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_owned()),
            _ => Err(ApiError::bad_request(format!(
                "a tag must be a non-empty string, not {t}"
            ))),
        })
        .collect()
}

pub async fn get_tags(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let tags = blocking(move || st.inner.store.tags(&id)).await?;
    ok(json!({ "tags": tags }))
}

/// `POST .../tags` sets the dataset's tags to the list sent, as the live service does:
/// clients written against it (domolibrary's `set_dataset_tags`, whose tag removal posts
/// the tags that remain) rely on it replacing the list.
pub async fn set_tags(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let tags = parse_tags(&body)?;
    let user = who(c);
    blocking(move || st.inner.store.change_tags(&id, &tags, true, &user)).await?;
    ok(json!({}))
}

pub async fn remove_tags(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let tags = parse_tags(&body)?;
    let user = who(c);
    blocking(move || st.inner.store.change_tags(&id, &tags, false, &user)).await?;
    ok(json!({}))
}

// ---- cards ----

pub async fn cards(State(st): State<AppState>, Path(id): Path<String>, q: Params) -> ApiResult {
    let drill = params(q)
        .get("drill")
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let mut cards = blocking(move || st.inner.store.cards(&id)).await?;
    if !drill {
        for c in &mut cards {
            if let Json::Object(m) = c {
                m.remove("drillPath");
            }
        }
    }
    ok(Json::Array(cards))
}

// ---- data, query, SQL, dataflow ----

pub async fn get_data(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let r = blocking(move || st.inner.store.query(&id, "SELECT * FROM table")).await?;
    Ok(crate::routes::json_with_rows(
        &json!({"columns": r.columns}),
        &r.rows_json,
    ))
}

pub async fn put_data(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let Some(Json::Array(rows)) = v.get("data").cloned() else {
        return Err(ApiError::bad_request(
            "'data' must be an array of row objects",
        ));
    };
    let user = who(c);
    blocking(move || {
        let n = st.inner.store.replace_rows(&id, &rows)?;
        st.inner
            .store
            .record(&id, "UPDATE", &user, &format!("data replaced: {n} rows"));
        Ok(())
    })
    .await?;
    ok(json!({}))
}

async fn get_text(st: AppState, id: String, key: &'static str) -> ApiResult {
    let value = blocking(move || st.inner.store.stored(&id, key)).await?;
    ok(json!({ key: value.unwrap_or(Json::Null) }))
}

async fn put_text(st: AppState, id: String, key: &'static str, c: Who, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let Some(Json::String(text)) = v.get(key) else {
        return Err(ApiError::bad_request(format!("'{key}' must be a string")));
    };
    let (text, user) = (json!(text), who(c));
    blocking(move || st.inner.store.store_value(&id, key, &text, &user)).await?;
    ok(json!({}))
}

pub async fn get_query(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    get_text(st, id, "query").await
}

pub async fn put_query(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    put_text(st, id, "query", c, body).await
}

pub async fn get_sql(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    get_text(st, id, "sql").await
}

pub async fn put_sql(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    put_text(st, id, "sql", c, body).await
}

pub async fn dataflow(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let ds = id.clone();
    let flow = blocking(move || st.inner.store.stored(&ds, "dataflow"))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("DataSource {id} is not the output of a dataflow"))
        })?;
    ok(json!({ "dataflow": flow }))
}

// ---- schema ----

pub async fn alter_schema(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Who,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let cols = v
        .get("columns")
        .or_else(|| v.get("schema").and_then(|s| s.get("columns")))
        .and_then(Json::as_array)
        .ok_or_else(|| ApiError::bad_request("'columns' must be an array of {name, type}"))?;
    if cols.is_empty() {
        return Err(ApiError::bad_request("'columns' must not be empty"));
    }
    let mut columns: Vec<(Option<String>, Column)> = Vec::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let name = c
            .get("name")
            .and_then(Json::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(format!("columns[{i}].name must be a non-empty string"))
            })?;
        let ty_name = c.get("type").and_then(Json::as_str).unwrap_or("");
        let ty = DomoType::parse(ty_name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "columns[{i}] ('{name}'): unknown type '{ty_name}'; expected STRING, LONG, DOUBLE, DECIMAL, DATE or DATETIME"
            ))
        })?;
        if name.to_ascii_lowercase().starts_with("__domo_") {
            return Err(ApiError::bad_request(format!(
                "column name '{name}' is reserved by the emulator"
            )));
        }
        if columns
            .iter()
            .any(|(_, c)| c.name.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::bad_request(format!(
                "duplicate column name '{name}'"
            )));
        }
        let source = c
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        columns.push((
            source,
            Column {
                name: name.to_owned(),
                ty,
            },
        ));
    }
    let user = who(c);
    let ds = blocking(move || st.inner.store.alter_schema(&id, columns, &user)).await?;
    ok(json!({"dataSourceId": ds.id, "schema": ds.schema_json()}))
}

// ---- admin: seeding ----

pub async fn add_user(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let id = id_text(v.get("id")).ok_or_else(|| ApiError::bad_request("'id' is required"))?;
    let text = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
    let name = text("name").unwrap_or_else(|| format!("User {id}"));
    let email = text("email").unwrap_or_default();
    let (token, password) = (text("token"), text("password"));
    if token.as_deref() == Some(st.inner.token.as_str()) {
        return Err(ApiError::conflict(
            "that token is the administrator's developer token",
        ));
    }
    let user = blocking(move || {
        st.inner
            .store
            .add_user(&id, &name, &email, token.as_deref(), password.as_deref())
    })
    .await?;
    ok(json!({"id": user.id, "name": user.name, "email": user.email, "token": user.token}))
}

pub async fn add_card(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let mut v = json_body(&body, false)?;
    let id = v
        .get("datasetId")
        .or_else(|| v.get("datasourceId"))
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("'datasetId' is required"))?;
    if let Json::Object(m) = &mut v {
        m.remove("datasetId");
    }
    ok(blocking(move || st.inner.store.add_card(&id, v)).await?)
}

pub async fn set_dataflow(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let v = json_body(&body, false)?;
    let id = v
        .get("datasetId")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("'datasetId' is required"))?;
    let flow = v
        .get("dataflow")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("'dataflow' is required"))?;
    blocking(move || st.inner.store.store_value(&id, "dataflow", &flow, ADMIN_ID)).await?;
    ok(json!({"ok": true}))
}
