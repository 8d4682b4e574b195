//! Altering a dataset's schema: adding, renaming and retyping columns.

use reqwest::Method;
use serde_json::{Value, json};

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::transport::Call;
use crate::types::{Column, DomoType, validate_columns};

/// One column of the new schema. `from` names the existing column it renames; without
/// it, a column keeps the existing column of the same name, or is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChange {
    pub name: String,
    pub domo_type: DomoType,
    pub from: Option<String>,
}

pub(crate) fn schema_body(columns: &[ColumnChange]) -> Result<Value> {
    if columns.is_empty() {
        return Err(Error::invalid("the new schema has no columns"));
    }
    let plain: Vec<Column> = columns
        .iter()
        .map(|c| Column::new(c.name.clone(), c.domo_type))
        .collect();
    validate_columns(&plain)?;
    if let Some(c) = columns
        .iter()
        .find(|c| c.from.as_deref().is_some_and(|f| f.trim().is_empty()))
    {
        return Err(Error::invalid(format!(
            "column {:?} renames an empty column name",
            c.name
        )));
    }
    let cols: Vec<Value> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.name,
                "id": c.from.as_deref().unwrap_or(&c.name),
                "type": c.domo_type.name(),
                "visible": true,
                "order": i,
            })
        })
        .collect();
    Ok(json!({"columns": cols, "objects": [], "views": []}))
}

impl Dataset {
    /// Replaces the schema with `columns`: existing columns are matched by `from` or by
    /// name and their values converted; Domo refuses changes the data cannot take.
    pub async fn alter_schema(&self, columns: &[ColumnChange]) -> Result<()> {
        let body = schema_body(columns)?;
        let url = self.url(&["api", "data", "v2", "datasources"], &["schemas"], &[]);
        let call = Call::new(Method::POST, url).json(&body)?.once();
        self.send_change(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, t: DomoType, from: Option<&str>) -> ColumnChange {
        ColumnChange {
            name: name.into(),
            domo_type: t,
            from: from.map(str::to_owned),
        }
    }

    #[test]
    fn renames_send_the_old_name_as_id() {
        let body = schema_body(&[change("key", DomoType::Long, Some("id"))]).unwrap();
        assert_eq!(body["columns"][0]["id"], "id");
        assert_eq!(body["columns"][0]["name"], "key");
        assert_eq!(body["columns"][0]["type"], "LONG");
    }

    #[test]
    fn bad_schemas_are_refused() {
        assert!(schema_body(&[]).is_err());
        assert!(
            schema_body(&[
                change("a", DomoType::Long, None),
                change("a", DomoType::Double, None)
            ])
            .is_err()
        );
        assert!(schema_body(&[change("", DomoType::Long, None)]).is_err());
        assert!(schema_body(&[change("a", DomoType::Long, Some(" "))]).is_err());
    }
}
