//! A dataset: metadata, schema and SQL queries. Exports and uploads live in their own
//! modules.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::codec::query::DecodedRows;
use crate::codec::query::parallel::AnswerDecoder;
use crate::error::{self, Error, Result};
use crate::routes::{self, Route};
use crate::transport::Call;
use crate::types::{Column, DomoType};

/// A Domo dataset, addressed by id.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub(crate) client: Client,
    pub(crate) id: String,
}

/// Checks an id before it goes into a URL: ids are opaque, but never empty or path-like.
pub(crate) fn validate_id(what: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid(format!("the {what} id is empty")));
    }
    if id.len() > 256
        || id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#%\\".contains(c))
    {
        return Err(Error::invalid(format!(
            "{id:?} is not a {what} id (ids look like \"44c5d1b9-7a26-4369-bf0d-c575bfb168a6\")"
        )));
    }
    Ok(())
}

impl Dataset {
    pub(crate) fn new(client: Client, id: &str) -> Result<Dataset> {
        validate_id("dataset", id)?;
        Ok(Dataset {
            client,
            id: id.to_string(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn url(&self, route: &Route, suffix: &[&str], query: &[(&str, &str)]) -> url::Url {
        let rest: Vec<&str> = [self.id.as_str()]
            .into_iter()
            .chain(suffix.iter().copied())
            .collect();
        self.client.transport.url(route, &rest, query)
    }

    /// The dataset's metadata object, as Domo sends it.
    pub async fn metadata(&self) -> Result<serde_json::Value> {
        if self.client.is_public_api() {
            return self.public_metadata().await;
        }
        let url = self.url(&routes::DATASOURCES, &[], &[("part", "core,rowcolcount")]);
        self.client
            .transport
            .json(&Call::new(Method::GET, url))
            .await
    }

    /// The dataset's row count as its metadata says it (`rowCount` from the instance API,
    /// `rows` from the public one), if it says it.
    pub async fn row_count(&self) -> Result<Option<u64>> {
        let metadata = self.metadata().await?;
        Ok(["rowCount", "rows"]
            .iter()
            .find_map(|key| metadata.get(*key).and_then(|n| n.as_u64())))
    }

    /// The dataset's columns, in order.
    pub async fn schema(&self) -> Result<Vec<Column>> {
        self.schema_with(false).await
    }

    /// The dataset's columns, in order, with hidden columns if `include_hidden`.
    pub async fn schema_with(&self, include_hidden: bool) -> Result<Vec<Column>> {
        // The public API's DataSet object lists the columns a query can read.
        if self.client.is_public_api() {
            return self.public_schema().await;
        }
        let url = self.url(
            &routes::QUERY_DATASOURCES,
            &["schema", "indexed"],
            &[(
                "includeHidden",
                if include_hidden { "true" } else { "false" },
            )],
        );
        let call = Call::new(Method::GET, url);

        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            tables: Vec<Table>,
        }
        #[derive(Deserialize)]
        struct Table {
            #[serde(default)]
            columns: Vec<RawColumn>,
        }
        #[derive(Deserialize)]
        struct RawColumn {
            name: String,
            #[serde(rename = "type", default)]
            kind: String,
        }
        let answer: Answer = self.client.transport.json(&call).await?;
        let table = answer
            .tables
            .into_iter()
            .next()
            .ok_or_else(|| Error::UnexpectedResponse {
                message: "the schema answer has no table".into(),
                status: 200,
                request: call.info(),
                body: None,
            })?;
        Ok(table
            .columns
            .into_iter()
            .map(|c| {
                let domo_type = c.kind.parse().unwrap_or_else(|_| {
                    log::warn!(
                        "column {:?} has type {:?}, unknown here; read as text",
                        c.name,
                        c.kind
                    );
                    DomoType::String
                });
                Column::new(c.name, domo_type)
            })
            .collect())
    }

    /// Runs SQL against the dataset (named `table` in the SQL) and decodes the answer.
    pub async fn query(&self, sql: &str) -> Result<DecodedRows> {
        self.query_answer(sql).await.map(|answer| answer.rows)
    }

    /// Like [`Dataset::query`], with the row cap the answer was given under, so a caller
    /// can tell an answer that may have been cut ([`QueryAnswer::stopped_at_cap`]).
    pub async fn query_answer(&self, sql: &str) -> Result<QueryAnswer> {
        if sql.trim().is_empty() {
            return Err(Error::invalid("the SQL is empty"));
        }
        let url = if self.client.is_public_api() {
            self.public_query_url()
        } else {
            self.url(&routes::QUERY_EXECUTE, &[], &[])
        };
        // A query changes nothing, so a lost answer may be asked for again.
        let call = Call::new(Method::POST, url)
            .json(&json!({ "sql": sql }))?
            .idempotent();
        let mut answer = self.client.transport.send(&call).await?;
        let row_cap = answer
            .header(ANSWER_ROW_CAP_HEADER)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|cap| *cap > 0)
            .unwrap_or(LIVE_ANSWER_ROW_CAP);
        // Announced for the bytes on the wire: a compressed answer decodes to more, and
        // `check_size` counts what it decodes to as it arrives.
        let expected_len = answer.content_length().unwrap_or(0);
        answer.check_size(expected_len)?;
        // Rows are decoded on all cores as they arrive.
        let mut decoder = AnswerDecoder::new(
            crate::codec::available_threads(),
            usize::try_from(expected_len).unwrap_or(usize::MAX),
        );
        let mut read = 0u64;
        while let Some(chunk) = answer.chunk().await? {
            read += chunk.len() as u64;
            answer.check_size(read)?;
            decoder.extend(&chunk);
        }
        let status = answer.status;
        if error::looks_like_html(&answer.content_type, decoder.body()) {
            return Err(answer.fail(error::html_error(status, decoder.body(), call.info())));
        }
        let decoded = error::joined(tokio::task::spawn_blocking(move || decoder.finish()).await)?
            .map_err(|e| {
            answer.fail(Error::UnexpectedResponse {
                message: format!("cannot read the query answer: {}", e.0),
                status,
                request: call.info(),
                body: None,
            })
        })?;
        for (name, kind) in &decoded.unknown_types {
            log::warn!("query column {name:?} has type {kind:?}, unknown here; read as text");
        }
        Ok(QueryAnswer {
            rows: decoded,
            row_cap,
        })
    }
}

/// The most rows Domo answers to one query; it cuts the rest without saying so.
pub const LIVE_ANSWER_ROW_CAP: u64 = 1_000_000;

/// A header the local emulator sends with a query answer: the row cap it answers under
/// when a test set one below the live cap. Domo sends none, and the live cap applies.
pub const ANSWER_ROW_CAP_HEADER: &str = "x-emulator-answer-row-cap";

/// A decoded query answer and the row cap it was answered under.
#[derive(Debug, Clone)]
pub struct QueryAnswer {
    pub rows: DecodedRows,
    /// [`LIVE_ANSWER_ROW_CAP`], or the cap the server announced.
    pub row_cap: u64,
}

impl QueryAnswer {
    /// Whether the answer has exactly as many rows as the server answers at most: the
    /// query may have had more, which only paging (`query_pages`) reads.
    pub fn stopped_at_cap(&self) -> bool {
        self.rows.num_rows() as u64 == self.row_cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_use() {
        validate_id("dataset", "44c5d1b9-7a26-4369-bf0d-c575bfb168a6").unwrap();
        for bad in ["", " ", "a/b", "a b", "x?y", "../etc", "a%2F"] {
            assert!(validate_id("dataset", bad).is_err(), "{bad:?}");
        }
    }
}
