//! What is known about a dataset beyond its data: metadata parts, details, properties,
//! history, copy status and log, cards, and the stored query, SQL, data and dataflow.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::answers::list_in;
use crate::codec::listings::{FieldKind, RecordColumn, col};
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::routes;
use crate::transport::Call;

/// Parts of the metadata that can be asked for.
/// A dataset's history as a table.
pub const HISTORY_COLUMNS: &[RecordColumn] = &[
    col(
        "timestamp",
        &["timestamp", "time", "date"],
        FieldKind::TimestampMs,
    ),
    col("action", &["action", "type"], FieldKind::Text),
    col("user", &["user", "userName", "userId"], FieldKind::Text),
    col("details", &["details", "description"], FieldKind::Text),
];

/// A dataset's cards as a table.
pub const CARD_COLUMNS: &[RecordColumn] = &[
    col("id", &["id"], FieldKind::Int),
    col("title", &["title"], FieldKind::Text),
    col("type", &["type"], FieldKind::Text),
    col("chart_type", &["chartType"], FieldKind::Text),
    col("owner_id", &["ownerId"], FieldKind::Text),
    col("datasource_id", &["datasourceId"], FieldKind::Text),
];

pub const METADATA_PARTS: &[&str] = &[
    "core",
    "permission",
    "status",
    "pdp",
    "rowcolcount",
    "certification",
    "sharecount",
    "alertcount",
    "dataprovider",
    "features",
    "impactcounts",
    "functions",
    "cryo",
];

pub(crate) fn check_parts(parts: &[String]) -> Result<String> {
    if parts.is_empty() {
        return Err(Error::invalid(format!(
            "no metadata parts given; use some of {}",
            METADATA_PARTS.join(", ")
        )));
    }
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let lower = p.trim().to_ascii_lowercase();
        if !METADATA_PARTS.contains(&lower.as_str()) {
            return Err(Error::invalid(format!(
                "{p:?} is not a metadata part; use some of {}",
                METADATA_PARTS.join(", ")
            )));
        }
        out.push(lower);
    }
    Ok(out.join(","))
}

impl Dataset {
    fn v2(&self, suffix: &[&str]) -> url::Url {
        self.url(&routes::DATASOURCES_V2, suffix, &[])
    }

    async fn get_json(&self, url: url::Url) -> Result<Value> {
        self.client
            .transport
            .json(&Call::new(Method::GET, url))
            .await
    }

    /// The list an answer holds, bare or under `key`.
    async fn get_list(&self, url: url::Url, key: &str) -> Result<Vec<Value>> {
        let call = Call::new(Method::GET, url);
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &[key], &call)
    }

    /// The metadata with these parts (see `METADATA_PARTS`).
    pub async fn metadata_parts(&self, parts: &[String]) -> Result<Value> {
        let part = check_parts(parts)?;
        let url = self.url(&routes::DATASOURCES, &[], &[("part", &part)]);
        self.get_json(url).await
    }

    /// Details: schema, properties, counts.
    pub async fn details(&self) -> Result<Value> {
        self.get_json(self.v2(&[])).await
    }

    /// Changes properties (e.g. `dataProviderType`, `name`, `description`).
    pub async fn set_properties(&self, properties: Map<String, Value>) -> Result<()> {
        if properties.is_empty() {
            return Err(Error::invalid("no properties given"));
        }
        if let Some(k) = properties.keys().find(|k| k.trim().is_empty()) {
            return Err(Error::invalid(format!("property name {k:?} is empty")));
        }
        let url = self.url(&routes::DATASOURCES, &["properties"], &[]);
        let call = Call::new(Method::PUT, url).json(&Value::Object(properties))?;
        self.send_change(call).await
    }

    /// Changes to the dataset, oldest first, each `{"timestamp", "action", "user",
    /// "details"}`.
    pub async fn history(&self) -> Result<Vec<Value>> {
        self.get_list(self.v2(&["history"]), "changes").await
    }

    /// The status of the copy that made this dataset.
    pub async fn copy_status(&self) -> Result<Value> {
        self.get_json(self.v2(&["copy", "status"])).await
    }

    /// The log lines of the copy that made this dataset.
    pub async fn copy_log(&self) -> Result<Vec<String>> {
        let lines = self.get_list(self.v2(&["copy", "log"]), "log").await?;
        Ok(lines
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect())
    }

    /// Cards built on the dataset, with their drill paths if `drill`.
    pub async fn cards(&self, drill: bool) -> Result<Vec<Value>> {
        let url = self.url(
            &routes::CONTENT_DATASOURCES,
            &["cards"],
            &[("drill", if drill { "true" } else { "false" })],
        );
        self.get_list(url, "cards").await
    }

    /// The data as `{"columns": [...], "rows": [[...], ...]}` (small datasets; use
    /// `export` or `query` for large ones).
    pub async fn data(&self) -> Result<Value> {
        self.get_json(self.v2(&["data"])).await
    }

    /// Replaces all rows with `rows` (objects of column name to value).
    pub async fn replace_data(&self, rows: Vec<Value>) -> Result<()> {
        if let Some(i) = rows.iter().position(|r| !r.is_object()) {
            return Err(Error::invalid(format!(
                "row {i} is not a mapping of column name to value"
            )));
        }
        let call = Call::new(Method::PUT, self.v2(&["data"])).json(&json!({ "data": rows }))?;
        self.send_change(call).await
    }

    async fn stored_text(&self, key: &str) -> Result<Option<String>> {
        let answer = self.get_json(self.v2(&[key])).await?;
        Ok(answer.get(key).and_then(Value::as_str).map(str::to_owned))
    }

    async fn set_stored_text(&self, key: &str, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Error::invalid(format!("the {key} is empty")));
        }
        let call = Call::new(Method::PUT, self.v2(&[key])).json(&json!({ key: text }))?;
        self.send_change(call).await
    }

    /// The query stored with the dataset, if any.
    pub async fn saved_query(&self) -> Result<Option<String>> {
        self.stored_text("query").await
    }

    pub async fn set_saved_query(&self, query: &str) -> Result<()> {
        self.set_stored_text("query", query).await
    }

    /// The SQL stored with the dataset, if any.
    pub async fn saved_sql(&self) -> Result<Option<String>> {
        self.stored_text("sql").await
    }

    pub async fn set_saved_sql(&self, sql: &str) -> Result<()> {
        self.set_stored_text("sql", sql).await
    }

    /// The dataflow whose output this dataset is.
    pub async fn dataflow(&self) -> Result<Value> {
        let mut answer = self.get_json(self.v2(&["dataflow"])).await?;
        Ok(match answer.get_mut("dataflow") {
            Some(flow) => flow.take(),
            None => answer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parts_are_checked() {
        assert_eq!(
            check_parts(&["core".into(), "PERMISSION".into()]).unwrap(),
            "core,permission"
        );
        let err = check_parts(&["everything".into()]).unwrap_err().to_string();
        assert!(err.contains("rowcolcount"), "{err}");
        assert!(check_parts(&[]).is_err());
    }
}
