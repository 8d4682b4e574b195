//! Data versions and partitions of a dataset: listing (with paging done for the caller,
//! bounded), searching, deleting; and the small JSON-records-to-Arrow helper that turns
//! these listings into tables.

use std::future::Future;

use reqwest::Method;
use serde_json::{Value, json};

use crate::answers::{json_or_empty, list_in};
use crate::codec::listings::{FieldKind, RecordColumn, col};
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::routes;
use crate::transport::Call;

/// Page size of the partition search (Domo's default).
pub const PARTITION_PAGE: u64 = 100;
/// Largest page the partition search is asked for.
pub const MAX_PARTITION_PAGE: u64 = 1000;
/// Page size of the Magic data-version list (Domo's default).
pub const MAGIC_PAGE: u64 = 500;
/// Default bound on the items a listing helper collects over all pages.
pub const DEFAULT_MAX_ITEMS: usize = 100_000;

/// Fields the partition search sorts and filters on.
pub const PARTITION_FIELDS: &[&str] = &["datecompleted", "partitionid", "rowcount"];

/// How to sort and filter a partition search.
#[derive(Debug, Clone)]
pub struct PartitionSearch {
    /// One of `PARTITION_FIELDS` (case-insensitive).
    pub sort: String,
    pub descending: bool,
    /// Inclusive bounds on the sort field (`filterValues.MIN` / `MAX`).
    pub min: Option<Value>,
    pub max: Option<Value>,
}

impl Default for PartitionSearch {
    fn default() -> Self {
        PartitionSearch {
            sort: "datecompleted".into(),
            descending: true,
            min: None,
            max: None,
        }
    }
}

impl PartitionSearch {
    /// Checks the search and returns its `paginationFields`.
    pub fn pagination_fields(&self) -> Result<Value> {
        let field = self.sort.to_ascii_lowercase();
        if !PARTITION_FIELDS.contains(&field.as_str()) {
            return Err(Error::invalid(format!(
                "cannot sort partitions by {:?}: use one of {}",
                self.sort,
                PARTITION_FIELDS.join(", ")
            )));
        }
        for (name, bound) in [("min", &self.min), ("max", &self.max)] {
            match bound {
                None | Some(Value::Null | Value::Number(_) | Value::String(_)) => {}
                Some(other) => {
                    return Err(Error::invalid(format!(
                        "{name} must be a number or a string, not {other}"
                    )));
                }
            }
        }
        Ok(json!([{
            "fieldName": field,
            "sortOrder": if self.descending { "DESC" } else { "ASC" },
            "filterValues": {"MIN": self.min, "MAX": self.max},
        }]))
    }
}

/// A partition tag or data-version id that goes into a URL.
pub(crate) fn validate_tag(what: &str, tag: &str) -> Result<()> {
    if tag.trim().is_empty() {
        return Err(Error::invalid(format!("the {what} is empty")));
    }
    if tag.len() > 512 || tag.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{tag:?} is not a valid {what}")));
    }
    Ok(())
}

/// Fetches pages of `page_size` from offset 0 until a short page, collecting at most
/// `max_items` (a warning says when the bound cut the listing short). `fetch(limit,
/// offset)` returns one page.
pub async fn collect_pages<F, Fut>(
    page_size: u64,
    max_items: usize,
    mut fetch: F,
) -> Result<Vec<Value>>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Vec<Value>>>,
{
    if page_size == 0 {
        return Err(Error::invalid("the page size must be at least 1"));
    }
    if max_items == 0 {
        return Err(Error::invalid("max_items must be at least 1"));
    }
    let mut out: Vec<Value> = Vec::new();
    let mut offset = 0u64;
    loop {
        let page = fetch(page_size, offset).await?;
        let n = page.len() as u64;
        out.extend(page);
        if out.len() >= max_items {
            if n == page_size || out.len() > max_items {
                log::warn!(
                    "stopped listing after {max_items} items (max_items); there may be more"
                );
            }
            out.truncate(max_items);
            return Ok(out);
        }
        if n < page_size {
            return Ok(out);
        }
        offset += n;
    }
}

impl Dataset {
    /// Every data version of the dataset, with details.
    pub async fn data_versions(&self) -> Result<Vec<Value>> {
        let url = self.url(&routes::DATASOURCES, &["dataversions", "details"], &[]);
        let call = Call::new(Method::GET, url);
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["versions", "dataVersions", "list"], &call)
    }

    /// The dataset's partition tags (no row counts).
    pub async fn partitions(&self) -> Result<Vec<Value>> {
        let url = self.url(&routes::QUERY_DATASOURCES, &["partition"], &[]);
        let call = Call::new(Method::GET, url);
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["partitions", "list"], &call)
    }

    /// One page of the partition search.
    pub async fn search_partitions(
        &self,
        search: &PartitionSearch,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<Value>> {
        if !(1..=MAX_PARTITION_PAGE).contains(&limit) {
            return Err(Error::invalid(format!(
                "limit must be from 1 to {MAX_PARTITION_PAGE}, not {limit}"
            )));
        }
        let body = json!({
            "paginationFields": search.pagination_fields()?,
            "limit": limit,
            "offset": offset,
        });
        let url = self.url(&routes::QUERY_DATASOURCES, &["partition", "list"], &[]);
        // A search changes nothing.
        let call = Call::new(Method::POST, url).json(&body)?.idempotent();
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["partitions", "list", "results"], &call)
    }

    /// Every partition the search finds, page by page, at most `max_items`.
    pub async fn search_all_partitions(
        &self,
        search: &PartitionSearch,
        max_items: usize,
    ) -> Result<Vec<Value>> {
        search.pagination_fields()?;
        collect_pages(PARTITION_PAGE, max_items, |limit, offset| {
            self.search_partitions(search, limit, offset)
        })
        .await
    }

    /// One page of the data versions the MAGIC engine knows for this dataset.
    pub async fn magic_data_versions_page(
        &self,
        expression: &str,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<Value>> {
        if expression.trim().is_empty() {
            return Err(Error::invalid("the version expression is empty"));
        }
        if limit == 0 {
            return Err(Error::invalid("limit must be at least 1"));
        }
        let (limit_text, offset_text) = (limit.to_string(), offset.to_string());
        let url = self.client.transport.url(
            &routes::VERSION_HYDRATE,
            &[],
            &[
                ("engine", "MAGIC"),
                ("limit", &limit_text),
                ("offset", &offset_text),
            ],
        );
        let body = json!({
            "id": "",
            "type": "LoadFromVault",
            "dataSourceId": self.id,
            "versionWindow": {"type": "EXPRESSION", "expression": expression},
        });
        let call = Call::new(Method::POST, url).json(&body)?.idempotent();
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["dataVersions", "versions", "list"], &call)
    }

    /// Every Magic data version matching `expression`, page by page, at most `max_items`.
    pub async fn magic_data_versions(
        &self,
        expression: &str,
        max_items: usize,
    ) -> Result<Vec<Value>> {
        if expression.trim().is_empty() {
            return Err(Error::invalid("the version expression is empty"));
        }
        collect_pages(MAGIC_PAGE, max_items, |limit, offset| {
            self.magic_data_versions_page(expression, limit, offset)
        })
        .await
    }

    /// Marks the data version behind a partition tag deleted: its rows leave queries.
    pub async fn delete_data_version(&self, partition: &str) -> Result<Value> {
        validate_tag("partition tag or data version", partition)?;
        let url = self.url(&routes::QUERY_DATASOURCES, &["tag", partition, "data"], &[]);
        json_or_empty(&self.client.transport, &Call::new(Method::DELETE, url)).await
    }

    /// Removes a partition tag from the dataset.
    pub async fn delete_partition(&self, partition: &str) -> Result<Value> {
        validate_tag("partition tag", partition)?;
        let url = self.url(&routes::QUERY_DATASOURCES, &["partition", partition], &[]);
        json_or_empty(&self.client.transport, &Call::new(Method::DELETE, url)).await
    }
}

// ---- records to Arrow ----

pub const DATA_VERSION_COLUMNS: &[RecordColumn] = &[
    col(
        "data_version_id",
        &["dataVersionId", "versionId", "id"],
        FieldKind::Int,
    ),
    col("upload_id", &["uploadId"], FieldKind::Int),
    col(
        "data_tag",
        &["dataTag", "partitionId", "tag"],
        FieldKind::Text,
    ),
    col(
        "update_method",
        &["updateMethod", "action"],
        FieldKind::Text,
    ),
    col("status", &["status", "state"], FieldKind::Text),
    col("row_count", &["rowCount", "rows"], FieldKind::Int),
    col(
        "created",
        &["createTime", "createdAt", "created"],
        FieldKind::TimestampMs,
    ),
    col(
        "committed",
        &["committedTime", "committedAt"],
        FieldKind::TimestampMs,
    ),
    col("deleted", &["deleted"], FieldKind::Bool),
];

pub const PARTITION_COLUMNS: &[RecordColumn] = &[
    col(
        "partition_id",
        &["partitionId", "dataTag", "tag"],
        FieldKind::Text,
    ),
    col(
        "data_version_id",
        &["dataVersionId", "versionId"],
        FieldKind::Int,
    ),
    col("row_count", &["rowCount", "rows"], FieldKind::Int),
    col(
        "date_completed",
        &["dateCompleted", "datecompleted"],
        FieldKind::TimestampMs,
    ),
    col("status", &["status"], FieldKind::Text),
];

pub const EXECUTION_COLUMNS: &[RecordColumn] = &[
    col("execution_id", &["executionId", "id"], FieldKind::Int),
    col("stream_id", &["streamId"], FieldKind::Int),
    col("state", &["currentState", "state"], FieldKind::Text),
    col("update_method", &["updateMethod"], FieldKind::Text),
    col("rows_inserted", &["rowsInserted"], FieldKind::Int),
    col("bytes_inserted", &["bytesInserted"], FieldKind::Int),
    col("started_at", &["startedAt"], FieldKind::TimestampSecs),
    col("ended_at", &["endedAt"], FieldKind::TimestampSecs),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::listings::records_to_batch;
    use arrow_array::Array;
    use std::cell::RefCell;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn pages_of(total: u64, page: u64, max: usize) -> (Vec<Value>, Vec<(u64, u64)>) {
        let asked = RefCell::new(Vec::new());
        let items = block(collect_pages(page, max, |limit, offset| {
            asked.borrow_mut().push((limit, offset));
            let n = limit.min(total.saturating_sub(offset));
            async move { Ok((offset..offset + n).map(Value::from).collect()) }
        }))
        .unwrap();
        (items, asked.into_inner())
    }

    #[test]
    fn pages_until_a_short_page() {
        let (items, asked) = pages_of(250, 100, 1000);
        assert_eq!(items.len(), 250);
        assert_eq!(items[249], json!(249));
        assert_eq!(asked, [(100, 0), (100, 100), (100, 200)]);
    }

    #[test]
    fn an_exact_multiple_takes_one_empty_page() {
        let (items, asked) = pages_of(200, 100, 1000);
        assert_eq!(items.len(), 200);
        assert_eq!(asked.len(), 3);
    }

    #[test]
    fn max_items_bounds_the_listing() {
        let (items, asked) = pages_of(10_000, 100, 250);
        assert_eq!(items.len(), 250);
        assert_eq!(asked.len(), 3);
        assert!(block(collect_pages(0, 1, |_, _| async { Ok(vec![]) })).is_err());
        assert!(block(collect_pages(1, 0, |_, _| async { Ok(vec![]) })).is_err());
    }

    #[test]
    fn partition_search_is_checked() {
        let ok = PartitionSearch {
            sort: "RowCount".into(),
            descending: false,
            min: Some(json!(1)),
            max: None,
        };
        let fields = ok.pagination_fields().unwrap();
        assert_eq!(fields[0]["fieldName"], "rowcount");
        assert_eq!(fields[0]["sortOrder"], "ASC");
        let bad = PartitionSearch {
            sort: "size".into(),
            ..PartitionSearch::default()
        };
        assert!(bad.pagination_fields().is_err());
        let bad = PartitionSearch {
            min: Some(json!([1])),
            ..PartitionSearch::default()
        };
        assert!(bad.pagination_fields().is_err());
        assert!(validate_tag("partition tag", " ").is_err());
        assert!(validate_tag("partition tag", "2024-01-01").is_ok());
    }

    #[test]
    fn records_become_typed_columns() {
        let records = [
            json!({"executionId": 7, "currentState": "SUCCESS", "rowsInserted": "12", "startedAt": 1656009784.5}),
            json!({"id": 8, "startedAt": null}),
        ];
        let batch = records_to_batch(&records, EXECUTION_COLUMNS).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        assert_eq!(ids.values(), &[7, 8]);
        let started = batch
            .column(6)
            .as_any()
            .downcast_ref::<arrow_array::TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(started.value(0), 1_656_009_784_500);
        assert!(started.is_null(1));
        let rows = batch
            .column(4)
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        assert_eq!(rows.value(0), 12);
    }
}
