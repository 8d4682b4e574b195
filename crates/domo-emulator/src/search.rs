//! The instance API's search, `POST /api/search/v1/query`, for datasets only: what Domo's
//! Data Center list is built on. Its body and answer follow the datacenter search of
//! domolibrary (a client written against live Domo):
//!
//! ```json
//! {"entities": ["DATASET"], "query": "*", "count": 100, "offset": 0,
//!  "combineResults": false,
//!  "filters": [{"field": "name_sort", "filterType": "wildcard", "query": "*sales*"}],
//!  "sort": {"isRelevance": false, "fieldSorts": [{"field": "name_sort", "sortOrder": "ASC"}]}}
//! ```
//!
//! answered by `{"searchObjects": [...], "totalResultCount": n}`. A caller sees only the
//! datasets it has access to, as on the dataset routes themselves.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value as Json, json};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::routes::{ApiResult, blocking, json_body, ok};
use crate::state::AppState;
use crate::store::{ADMIN_ID, Dataset, rank};

/// The most results one search answers.
const MAX_COUNT: u64 = 100;
/// Results per answer when the body does not say.
const DEFAULT_COUNT: u64 = 10;
/// Fields a filter or a sort may name, as the search index calls them.
const NAME_FIELDS: &[&str] = &["name_sort", "name"];
const SORT_FIELDS: &[&str] = &["name_sort", "create_date", "last_modified", "last_updated"];

/// `text` matched against a pattern where `*` is any run of characters and `?` any one,
/// ignoring case.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Greedy matching with one backtrack point: linear enough for names.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn count_field(v: &Json, key: &str, default: u64) -> Result<u64, ApiError> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(default),
        Some(n) => n.as_u64().ok_or_else(|| {
            ApiError::bad_request(format!("'{key}' must be a non-negative integer"))
        }),
    }
}

/// The name patterns a search asks for: its filters on the name, and its `query` unless
/// it is `*`.
fn name_patterns(v: &Json) -> Result<Vec<String>, ApiError> {
    let mut patterns = Vec::new();
    match v.get("query") {
        None | Some(Json::Null) => {}
        Some(Json::String(q)) => {
            let q = q.trim();
            if !q.is_empty() && q != "*" {
                patterns.push(if q.contains('*') || q.contains('?') {
                    q.to_owned()
                } else {
                    format!("*{q}*")
                });
            }
        }
        Some(_) => return Err(ApiError::bad_request("'query' must be a string")),
    }
    let filters = match v.get("filters") {
        None | Some(Json::Null) => return Ok(patterns),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(ApiError::bad_request("'filters' must be an array")),
    };
    for (i, f) in filters.iter().enumerate() {
        let field = f.get("field").and_then(Json::as_str).unwrap_or("");
        if !NAME_FIELDS.contains(&field) {
            return Err(ApiError::bad_request(format!(
                "filters[{i}]: unsupported field '{field}'; expected one of {}",
                NAME_FIELDS.join(", ")
            )));
        }
        let kind = f
            .get("filterType")
            .and_then(Json::as_str)
            .unwrap_or("wildcard");
        let query = f
            .get("query")
            .and_then(Json::as_str)
            .ok_or_else(|| ApiError::bad_request(format!("filters[{i}].query must be a string")))?;
        match kind {
            "wildcard" => patterns.push(query.to_owned()),
            "term" | "exact" => patterns.push(query.replace(['*', '?'], "")),
            other => {
                return Err(ApiError::bad_request(format!(
                    "filters[{i}]: unsupported filterType '{other}'; expected wildcard or term"
                )));
            }
        }
    }
    Ok(patterns)
}

/// The sort a search asks for: `(field, descending)`, or `None` for creation order.
fn sort_of(v: &Json) -> Result<Option<(String, bool)>, ApiError> {
    let Some(first) = v
        .pointer("/sort/fieldSorts")
        .and_then(Json::as_array)
        .and_then(|s| s.first())
    else {
        return Ok(None);
    };
    let field = first.get("field").and_then(Json::as_str).unwrap_or("");
    if !SORT_FIELDS.contains(&field) {
        return Err(ApiError::bad_request(format!(
            "unsupported sort field '{field}'; expected one of {}",
            SORT_FIELDS.join(", ")
        )));
    }
    let order = first
        .get("sortOrder")
        .and_then(Json::as_str)
        .unwrap_or("ASC");
    let desc = match order.to_ascii_uppercase().as_str() {
        "ASC" => false,
        "DESC" => true,
        _ => {
            return Err(ApiError::bad_request(format!(
                "sortOrder must be ASC or DESC, not '{order}'"
            )));
        }
    };
    Ok(Some((field.to_owned(), desc)))
}

fn search_object(ds: &Dataset, owner: &Json) -> Json {
    json!({
        "entityType": "DATASET",
        "databaseId": ds.id,
        "id": ds.id,
        "name": ds.name,
        "description": ds.description,
        "ownedById": owner.get("id").cloned().unwrap_or(Json::Null),
        "ownedByName": owner.get("name").cloned().unwrap_or(Json::Null),
        "ownedByType": owner.get("type").cloned().unwrap_or(Json::Null),
        "createDate": ds.created,
        "lastModified": ds.last_updated,
        "lastUpdated": ds.last_updated,
        "rowCount": ds.row_count,
        "columnCount": ds.columns.len(),
        "dataSourceType": "api",
        "displayType": "api",
        "cardCount": 0,
        "status": "SUCCESS",
    })
}

pub async fn query(
    State(st): State<AppState>,
    caller: Option<Extension<Caller>>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body, false)?;
    let entities = match v.get("entities") {
        None | Some(Json::Null) => vec!["DATASET".to_owned()],
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_ascii_uppercase)
            .collect(),
        Some(_) => return Err(ApiError::bad_request("'entities' must be an array")),
    };
    let count = count_field(&v, "count", DEFAULT_COUNT)?.min(MAX_COUNT);
    let offset = count_field(&v, "offset", 0)?;
    let patterns = name_patterns(&v)?;
    let sort = sort_of(&v)?;
    if !entities.iter().any(|e| e == "DATASET") {
        // Only datasets live here: a search for other entities finds nothing.
        return ok(json!({"searchObjects": [], "totalResultCount": 0}));
    }
    let user = caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0);
    let found = blocking(move || {
        let store = &st.inner.store;
        let mut out = Vec::new();
        for ds in store.datasets()? {
            if !patterns.iter().all(|p| wildcard(p, &ds.name)) {
                continue;
            }
            if store.access_rank(&ds.id, &user)?.unwrap_or(0) < rank("CAN_VIEW") {
                continue;
            }
            let owner = store.owner(&ds.id)?;
            out.push((ds, owner));
        }
        Ok(out)
    })
    .await?;
    let mut found = found;
    if let Some((field, desc)) = sort {
        match field.as_str() {
            "name_sort" => found.sort_by_key(|(d, _)| d.name.to_lowercase()),
            "create_date" => found.sort_by_key(|(d, _)| d.created),
            _ => found.sort_by_key(|(d, _)| d.last_updated),
        }
        if desc {
            found.reverse();
        }
    }
    let total = found.len();
    let page: Vec<Json> = found
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .map(|(d, o)| search_object(d, o))
        .collect();
    ok(json!({"searchObjects": page, "totalResultCount": total}))
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_like_the_search_index() {
        assert!(wildcard("*sales*", "Q3 Sales report"));
        assert!(wildcard("sales*", "sales 2024"));
        assert!(!wildcard("sales*", "Q3 sales"));
        assert!(wildcard("s?les", "SALES"));
        assert!(wildcard("*", ""));
        assert!(wildcard("*a*b*", "xxaxxbxx"));
        assert!(!wildcard("*a*b", "xxaxxbxxc"));
        assert!(wildcard("*café*", "Le Café"));
    }
}
