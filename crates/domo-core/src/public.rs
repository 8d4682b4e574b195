//! The public API's (`api.domo.com`, `/v1/...`) dataset routes, used by OAuth clients
//! where an instance route serves token and session clients: metadata, schema, listing,
//! create, rename/describe, delete. Shapes as in Domo's developer documentation.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::answers::list_in;
use crate::client::Client;
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::routes;
use crate::streams::Stream;
use crate::transport::Call;
use crate::types::{Column, DomoType, validate_columns};
use crate::upload::UploadOptions;

/// The public API serves lists 50 at a time.
pub const PUBLIC_PAGE: usize = 50;

/// Sort keys the public API's dataset list takes (optionally prefixed by `-`).
pub const PUBLIC_SORT_KEYS: &[&str] = &[
    "name",
    "lastTouched",
    "lastUpdated",
    "createdAt",
    "cardCount",
    "cardViewCount",
    "errorState",
];

/// `/v1/datasets` and what follows.
pub(crate) fn datasets_route(client: &Client, rest: &[&str], query: &[(&str, &str)]) -> url::Url {
    client.transport.url(&routes::PUBLIC_DATASETS, rest, query)
}

/// The error for a method the public API has no route for, raised before any request.
pub(crate) fn instance_only(what: &str) -> Error {
    Error::invalid(format!(
        "{what} has no equivalent in Domo's public API, which an OAuth client uses; use a \
         client of the instance API for it: Client(instance, token=...) or \
         Client.login(instance, email, password)"
    ))
}

/// The columns of a public-API dataset object (`schema.columns[]` of `{"type", "name"}`).
fn columns_of(answer: &Value) -> Option<Vec<Column>> {
    let columns = answer.get("schema")?.get("columns")?.as_array()?;
    columns
        .iter()
        .map(|c| {
            let name = c.get("name")?.as_str()?;
            let kind = c.get("type").and_then(Value::as_str).unwrap_or("STRING");
            let domo_type = kind.parse().unwrap_or_else(|_| {
                log::warn!("column {name:?} has type {kind:?}, unknown here; read as text");
                DomoType::String
            });
            Some(Column::new(name, domo_type))
        })
        .collect()
}

fn schema_json(columns: &[Column]) -> Value {
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| json!({"type": c.domo_type.name(), "name": c.name}))
        .collect();
    json!({ "columns": columns })
}

impl Client {
    /// `GET /v1/datasets`, page after page (50 each) until `limit` or a short page.
    pub(crate) async fn public_datasets(
        &self,
        name_like: Option<&str>,
        sort: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Value>> {
        if let Some(sort) = sort {
            let key = sort.trim().trim_start_matches('-');
            if !PUBLIC_SORT_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(Error::invalid(format!(
                    "{sort:?} is not a sort key; use one of {}, optionally prefixed by '-'",
                    PUBLIC_SORT_KEYS.join(", ")
                )));
            }
        }
        // The public API matches names containing the text; wildcards mean nothing to it.
        let name_like = name_like.map(|n| n.trim().trim_matches(['*', '?']).to_owned());
        if name_like.as_deref() == Some("") {
            return Err(Error::invalid(
                "name_like is empty; leave it out to list every dataset",
            ));
        }
        let mut out: Vec<Value> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let want = limit.map_or(PUBLIC_PAGE, |l| (l - out.len()).min(PUBLIC_PAGE));
            let (want_text, offset) = (want.to_string(), out.len().to_string());
            let mut query = vec![("limit", want_text.as_str()), ("offset", offset.as_str())];
            if let Some(name) = &name_like {
                query.push(("nameLike", name.as_str()));
            }
            if let Some(sort) = sort {
                query.push(("sort", sort.trim()));
            }
            let call = Call::new(Method::GET, datasets_route(self, &[], &query));
            let page = list_in(self.transport.json(&call).await?, &["datasets"], &call)?;
            let got = page.len();
            let before = seen.len();
            for object in page {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    seen.insert(id.to_owned());
                }
                out.push(object);
            }
            if got > 0 && seen.len() == before {
                return Err(Error::UnexpectedResponse {
                    message: "the dataset list answered a page it had already sent".into(),
                    status: 200,
                    request: call.info(),
                    body: None,
                });
            }
            if got < want || got == 0 || limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    /// `POST /v1/datasets`: a new, empty dataset.
    pub(crate) async fn public_create_dataset(
        &self,
        name: &str,
        columns: &[Column],
        description: Option<&str>,
    ) -> Result<Dataset> {
        if name.trim().is_empty() {
            return Err(Error::invalid("the dataset name is empty"));
        }
        validate_columns(columns)?;
        let mut body = json!({ "name": name, "schema": schema_json(columns) });
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call::new(Method::POST, datasets_route(self, &[], &[]))
            .json(&body)?
            .once();
        let created: Value = self.transport.json(&call).await?;
        let id =
            created
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::UnexpectedResponse {
                    message: "Domo created the dataset but did not say its id".into(),
                    status: 201,
                    request: call.info(),
                    body: None,
                })?;
        self.dataset(id)
    }
}

impl Dataset {
    /// `/v1/datasets/{id}` and what follows.
    pub(crate) fn public_route(&self, rest: &[&str]) -> url::Url {
        self.public_url(rest, &[])
    }

    fn public_url(&self, rest: &[&str], query: &[(&str, &str)]) -> url::Url {
        let segments: Vec<&str> = [self.id.as_str()].iter().chain(rest).copied().collect();
        datasets_route(&self.client, &segments, query)
    }

    /// `GET /v1/datasets/{id}`: the DataSet object, with its schema.
    pub(crate) async fn public_metadata(&self) -> Result<Value> {
        let call = Call::new(Method::GET, self.public_url(&[], &[]));
        self.client.transport.json(&call).await
    }

    /// The columns of `GET /v1/datasets/{id}`.
    pub(crate) async fn public_schema(&self) -> Result<Vec<Column>> {
        let call = Call::new(Method::GET, self.public_url(&[], &[]));
        let answer: Value = self.client.transport.json(&call).await?;
        columns_of(&answer).ok_or_else(|| Error::UnexpectedResponse {
            message: "the dataset answer has no schema.columns list of {type, name}".into(),
            status: 200,
            request: call.info(),
            body: None,
        })
    }

    /// `DELETE /v1/datasets/{id}`, sent once.
    pub(crate) async fn public_delete(&self) -> Result<()> {
        let call = Call::new(Method::DELETE, self.public_url(&[], &[])).once();
        self.client.transport.send(&call).await.map(drop)
    }

    /// The URL of the public query route, `POST /v1/datasets/query/execute/{id}`.
    pub(crate) fn public_query_url(&self) -> url::Url {
        datasets_route(&self.client, &["query", "execute", &self.id], &[])
    }

    /// The URL of the public export, `GET /v1/datasets/{id}/data?includeHeader=true`
    /// (nulls as empty fields).
    pub(crate) fn public_export_url(&self) -> url::Url {
        self.public_url(&["data"], &[("includeHeader", "true")])
    }

    /// Renames the dataset and/or changes its description (`PUT /v1/datasets/{id}` on the
    /// public API; the properties route on the instance API). Returns nothing: the new
    /// values are what was sent.
    pub async fn update(&self, name: Option<&str>, description: Option<&str>) -> Result<()> {
        if name.is_none() && description.is_none() {
            return Err(Error::invalid("give a new name, a new description or both"));
        }
        if name.is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::invalid("the dataset name is empty"));
        }
        let mut body = serde_json::Map::new();
        if self.client.is_public_api() {
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            if let Some(description) = description {
                body.insert("description".into(), json!(description));
            }
            let call = Call::new(Method::PUT, self.public_url(&[], &[])).json(&body)?;
            return self.client.transport.send(&call).await.map(drop);
        }
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        if let Some(description) = description {
            body.insert("description".into(), json!(description));
        }
        self.set_properties(body).await
    }
}

impl Dataset {
    /// The id of the stream that feeds this dataset, for an upload through the Streams
    /// API (`GET /v1/streams/search?q=dataSource.id:{id}`). A partition has no
    /// equivalent there: refused before anything is sent.
    pub(crate) async fn public_upload_stream(&self, options: &UploadOptions) -> Result<u64> {
        if options.partition.is_some() {
            return Err(instance_only("An upload with partition="));
        }
        self.public_stream_id().await
    }

    /// The id of the one stream that feeds this dataset
    /// (`GET /v1/streams/search?q=dataSource.id:{id}`).
    pub(crate) async fn public_stream_id(&self) -> Result<u64> {
        let streams = self.client.streams(Some(&self.id)).await?;
        let ids: Vec<u64> = streams.iter().filter_map(id_number).collect();
        match ids.as_slice() {
            [id] => Ok(*id),
            [] => Err(Error::NotFound(format!(
                "dataset {} has no stream to upload through; a dataset made with \
                 POST /v1/datasets or client.create_dataset has one",
                self.id
            ))),
            several => Err(Error::UnexpectedResponse {
                message: format!(
                    "dataset {} is fed by {} streams ({several:?}); upload through one of \
                     them is ambiguous",
                    self.id,
                    several.len()
                ),
                status: 200,
                request: crate::error::RequestInfo {
                    method: "GET".into(),
                    url: streams_route(&self.client, &["search"], &[]).to_string(),
                },
                body: None,
            }),
        }
    }

    /// Opens an execution of `stream` (`POST /v1/streams/{id}/executions`), sent once.
    pub(crate) async fn public_start_execution(&self, stream: u64, method: &str) -> Result<u64> {
        let sid = stream.to_string();
        let url = streams_route(&self.client, &[&sid, "executions"], &[]);
        let call = Call::new(Method::POST, url)
            .json(&json!({ "updateMethod": method }))?
            .once();
        let answer: Value = self.client.transport.json(&call).await?;
        id_number(&answer).ok_or_else(|| Error::UnexpectedResponse {
            message: "Domo opened the stream execution but did not say its id".into(),
            status: 201,
            request: call.info(),
            body: None,
        })
    }

    /// `/v1/streams/{stream}/executions/{execution}/...`.
    pub(crate) fn public_execution_url(
        &self,
        stream: u64,
        execution: u64,
        rest: &[&str],
    ) -> url::Url {
        let (sid, eid) = (stream.to_string(), execution.to_string());
        let segments: Vec<&str> = [sid.as_str(), "executions", eid.as_str()]
            .iter()
            .chain(rest)
            .copied()
            .collect();
        streams_route(&self.client, &segments, &[])
    }
}

/// `/v1/streams` and what follows.
pub(crate) fn streams_route(client: &Client, rest: &[&str], query: &[(&str, &str)]) -> url::Url {
    client.transport.url(&routes::PUBLIC_STREAMS, rest, query)
}

/// A numeric `id` (a number, or a string of digits).
fn id_number(object: &Value) -> Option<u64> {
    match object.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The error for a method only the public API serves, raised before any request.
pub(crate) fn public_only(what: &str) -> Error {
    Error::invalid(format!(
        "{what} is served by Domo's public API only; use an OAuth client for it: \
         Client.oauth(client_id, client_secret)"
    ))
}

impl Client {
    /// Streams, as the public API describes them (`GET /v1/streams`, 50 a page), or the
    /// streams of one dataset (`/v1/streams/search?q=dataSource.id:{id}`). A token or
    /// session client answers the one stream of `dataset_id` (from its metadata).
    pub async fn streams(&self, dataset_id: Option<&str>) -> Result<Vec<Value>> {
        if let Some(id) = dataset_id {
            crate::datasets::validate_id("dataset", id)?;
        }
        if !self.is_public_api() {
            return match dataset_id {
                // Boxed: on the public API, finding a dataset's stream lists streams.
                Some(id) => {
                    let stream = Box::pin(self.dataset(id)?.stream()).await?;
                    Ok(vec![stream.get().await?])
                }
                None => Err(public_only("Listing every stream (client.streams())")),
            };
        }
        let query = dataset_id.map(|id| format!("dataSource.id:{id}"));
        let mut out: Vec<Value> = Vec::new();
        let mut seen: HashSet<u64> = HashSet::new();
        loop {
            let offset = out.len().to_string();
            let limit = PUBLIC_PAGE.to_string();
            let mut params = vec![("limit", limit.as_str()), ("offset", offset.as_str())];
            let rest: &[&str] = match &query {
                Some(q) => {
                    params.push(("q", q.as_str()));
                    &["search"]
                }
                None => &[],
            };
            let call = Call::new(Method::GET, streams_route(self, rest, &params));
            let page = list_in(self.transport.json(&call).await?, &["streams"], &call)?;
            let got = page.len();
            let before = seen.len();
            for object in page {
                seen.extend(id_number(&object));
                out.push(object);
            }
            if got > 0 && seen.len() == before {
                return Err(Error::UnexpectedResponse {
                    message: "the stream list answered a page it had already sent".into(),
                    status: 200,
                    request: call.info(),
                    body: None,
                });
            }
            if got < PUBLIC_PAGE {
                break;
            }
        }
        Ok(out)
    }
}

impl Stream {
    /// `/v1/streams/{id}` and what follows.
    pub(crate) fn public_url(&self, rest: &[&str]) -> url::Url {
        let id = self.id().to_string();
        let segments: Vec<&str> = [id.as_str()].iter().chain(rest).copied().collect();
        streams_route(self.client(), &segments, &[])
    }

    /// Deletes the stream (`DELETE /v1/streams/{id}`; the public API only), sent once.
    /// Its dataset stays.
    pub async fn delete(&self) -> Result<()> {
        if !self.client().is_public_api() {
            return Err(public_only("stream.delete()"));
        }
        let call = Call::new(Method::DELETE, self.public_url(&[])).once();
        self.client().transport.send(&call).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_from_the_schema() {
        let v = json!({"schema": {"columns": [
            {"type": "LONG", "name": "id"},
            {"type": "STRING", "name": "s"},
        ]}});
        let cols = columns_of(&v).unwrap();
        assert_eq!(cols[0].name, "id");
        assert_eq!(cols[0].domo_type, DomoType::Long);
        assert_eq!(cols[1].domo_type, DomoType::String);
        assert!(columns_of(&json!({"schema": {}})).is_none());
    }
}
