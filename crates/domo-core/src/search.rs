//! Finding datasets: listing, searching by name, and looking one up by its exact name,
//! through the instance API's search (`POST /api/search/v1/query`, the route Domo's Data
//! Center list uses; body and answer as in domolibrary's datacenter search).

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::answers::list_in;
use crate::client::Client;
use crate::codec::listings::{FieldKind, RecordColumn, col};
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::routes;
use crate::transport::Call;

/// The most results the search answers at once.
pub const SEARCH_PAGE: usize = 100;

/// Sort keys `datasets` accepts (optionally prefixed by `-` for descending), with the
/// search index field each one sorts by.
pub const SORT_KEYS: &[(&str, &str)] = &[
    ("name", "name_sort"),
    ("createdAt", "create_date"),
    ("lastUpdated", "last_modified"),
    ("lastTouched", "last_modified"),
];

/// A dataset listing as a table.
pub const DATASET_COLUMNS: &[RecordColumn] = &[
    col("id", &["databaseId", "id"], FieldKind::Text),
    col("name", &["name"], FieldKind::Text),
    col("description", &["description"], FieldKind::Text),
    col("owner_id", &["ownedById", "ownerId"], FieldKind::Text),
    col("owner_name", &["ownedByName", "ownerName"], FieldKind::Text),
    col("rows", &["rowCount", "rows"], FieldKind::Int),
    col("columns", &["columnCount", "columns"], FieldKind::Int),
    col(
        "created",
        &["createDate", "created", "createdAt"],
        FieldKind::TimestampMs,
    ),
    col(
        "last_updated",
        &["lastModified", "lastUpdated", "updatedAt"],
        FieldKind::TimestampMs,
    ),
];

/// `sort` as a search sort clause: `{"field": ..., "sortOrder": "ASC"|"DESC"}`.
fn sort_clause(sort: &str) -> Result<Value> {
    let (desc, key) = match sort.trim().strip_prefix('-') {
        Some(key) => (true, key),
        None => (false, sort.trim()),
    };
    let field = SORT_KEYS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let keys: Vec<&str> = SORT_KEYS.iter().map(|(k, _)| *k).collect();
            Error::invalid(format!(
                "{sort:?} is not a sort key; use one of {}, optionally prefixed by '-'",
                keys.join(", ")
            ))
        })?;
    Ok(json!({"field": field, "sortOrder": if desc { "DESC" } else { "ASC" }}))
}

/// A name pattern for the search: the text the name contains, unless it already says
/// where it goes with `*` or `?`.
fn name_pattern(name_like: &str) -> Result<String> {
    let text = name_like.trim();
    if text.is_empty() {
        return Err(Error::invalid(
            "name_like is empty; leave it out to list every dataset",
        ));
    }
    Ok(if text.contains('*') || text.contains('?') {
        text.to_owned()
    } else {
        format!("*{text}*")
    })
}

/// The dataset id of a search object (`databaseId`; `id` on other shapes).
fn object_id(object: &Value) -> Option<&str> {
    ["databaseId", "id"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_str))
}

impl Client {
    /// Datasets the caller can see, as Domo describes them (each with at least `id`,
    /// the dataset id, and `name`), reading page after page until `limit` (or all).
    /// `name_like` keeps names containing the text (case-insensitive; `*` and `?` are
    /// wildcards); `sort` is one of `SORT_KEYS`, `-` first for descending.
    pub async fn datasets(
        &self,
        name_like: Option<&str>,
        sort: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Value>> {
        if limit == Some(0) {
            return Err(Error::invalid(
                "limit must be at least 1; leave it out for every dataset",
            ));
        }
        if self.is_public_api() {
            return self.public_datasets(name_like, sort, limit).await;
        }
        let filters = match name_like {
            Some(text) => vec![json!({
                "field": "name_sort",
                "filterType": "wildcard",
                "query": name_pattern(text)?,
            })],
            None => Vec::new(),
        };
        let sort = sort.map(sort_clause).transpose()?;
        if limit == Some(0) {
            return Err(Error::invalid(
                "limit must be at least 1; leave it out for every dataset",
            ));
        }
        let url = self.transport.url(&routes::SEARCH, &[], &[]);
        let mut out: Vec<Value> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let want = limit.map_or(SEARCH_PAGE, |l| (l - out.len()).min(SEARCH_PAGE));
            let mut body = json!({
                "entities": ["DATASET"],
                "filters": filters,
                "combineResults": false,
                "query": "*",
                "count": want,
                "offset": out.len(),
            });
            if let Some(sort) = &sort {
                body["sort"] = json!({"isRelevance": false, "fieldSorts": [sort]});
            }
            // A search changes nothing, so a lost answer may be asked for again.
            let call = Call::new(Method::POST, url.clone())
                .json(&body)?
                .idempotent();
            let answer: Value = self.transport.json(&call).await?;
            let page = list_in(answer, &["searchObjects"], &call)?;
            let got = page.len();
            let before = seen.len();
            for mut object in page {
                // `id` is the dataset id in every object handed out, whatever the shape.
                if let Some(id) = object_id(&object).map(str::to_owned) {
                    seen.insert(id.clone());
                    if let Some(map) = object.as_object_mut() {
                        map.insert("id".into(), Value::String(id));
                    }
                }
                out.push(object);
            }
            if got > 0 && seen.len() == before {
                // A server that ignores `offset` would otherwise be asked forever.
                return Err(Error::UnexpectedResponse {
                    message: "the dataset search answered a page it had already sent".into(),
                    status: 200,
                    request: call.info(),
                    body: None,
                });
            }
            let done = limit.is_some_and(|l| out.len() >= l);
            if got < want || got == 0 || done {
                break;
            }
        }
        Ok(out)
    }

    /// The one dataset named exactly `name`: `Error::NotFound` when none is, an error
    /// listing their ids when several are.
    pub async fn dataset_by_name(&self, name: &str) -> Result<Dataset> {
        if name.trim().is_empty() {
            return Err(Error::invalid("the dataset name is empty"));
        }
        // Search wildcards in the name itself only widen the search: the exact
        // comparison below decides.
        let pattern = format!("*{}*", name.trim());
        let found = self.datasets(Some(&pattern), None, None).await?;
        let ids: Vec<&str> = found
            .iter()
            .filter(|o| o.get("name").and_then(Value::as_str) == Some(name))
            .filter_map(object_id)
            .collect();
        match ids.as_slice() {
            [id] => self.dataset(id),
            [] => Err(Error::NotFound(format!("no dataset is named {name:?}"))),
            several => Err(Error::invalid(format!(
                "{} datasets are named {name:?}: {}; use client.dataset(id) with one of them",
                several.len(),
                several.join(", ")
            ))),
        }
    }
}

impl Dataset {
    /// Deletes the dataset and its data for good.
    pub async fn delete(&self) -> Result<()> {
        if self.client.is_public_api() {
            return self.public_delete().await;
        }
        let url = self.url(&routes::DATASOURCES, &[], &[("deleteMethod", "hard")]);
        // Sent once: after a lost answer the dataset may be gone, and a second DELETE
        // would report a 404 for a deletion that worked.
        let call = Call::new(Method::DELETE, url).once();
        self.send_change(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_map_to_search_fields() {
        assert_eq!(
            sort_clause("name").unwrap(),
            json!({"field": "name_sort", "sortOrder": "ASC"})
        );
        assert_eq!(
            sort_clause("-createdAt").unwrap(),
            json!({"field": "create_date", "sortOrder": "DESC"})
        );
        let err = sort_clause("size").unwrap_err().to_string();
        assert!(err.contains("name, createdAt"), "{err}");
    }

    #[test]
    fn name_patterns_match_contained_text_unless_placed() {
        assert_eq!(name_pattern("sales").unwrap(), "*sales*");
        assert_eq!(name_pattern("sales*").unwrap(), "sales*");
        assert!(name_pattern("  ").is_err());
    }
}
