//! Streams (Domo's connectors feeding a dataset): create, read, update, execute, and
//! their execution history, on the instance API (`/api/data/v1/streams`).

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::answers::{json_or_empty, list_in};
use crate::client::Client;
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::routes;
use crate::transport::Call;
use crate::types::{Column, validate_columns};

/// A Domo stream, addressed by its numeric id.
#[derive(Debug, Clone)]
pub struct Stream {
    pub(crate) client: Client,
    pub(crate) id: u64,
}

/// Schedule types `advancedScheduleJson` may name.
pub const SCHEDULE_TYPES: &[&str] = &["MANUAL", "ONCE", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH"];

/// `APPEND` or `REPLACE`, in any case.
pub fn update_method(method: &str) -> Result<&'static str> {
    match method.trim().to_ascii_uppercase().as_str() {
        "APPEND" => Ok("APPEND"),
        "REPLACE" => Ok("REPLACE"),
        _ => Err(Error::invalid(format!(
            "update method must be \"APPEND\" or \"REPLACE\", not {method:?}"
        ))),
    }
}

fn small_int(
    schedule: &Map<String, Value>,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>> {
    match schedule.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "schedule {key:?} must be an integer from {} to {}, not {v}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

/// Checks a schedule (a JSON object, or its text) and returns the `advancedScheduleJson`
/// text Domo wants. `type` is required (one of `SCHEDULE_TYPES`); `timezone` defaults to
/// UTC; `interval` (required for MINUTE and HOUR) is a positive integer; `hour` 0-23 and
/// `minute` 0-59 when given. Other keys pass through.
pub fn schedule_json(schedule: &Value) -> Result<String> {
    let parsed;
    let schedule = match schedule {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| Error::invalid(format!("the schedule is not valid JSON: {e}")))?;
            &parsed
        }
        other => other,
    };
    let Value::Object(map) = schedule else {
        return Err(Error::invalid(format!(
            "the schedule must be a dict such as {{\"type\": \"DAY\", \"hour\": 6}}, not {schedule}"
        )));
    };
    let mut map = map.clone();
    let kind = match map.get("type") {
        Some(Value::String(t)) => t.trim().to_ascii_uppercase(),
        Some(other) => {
            return Err(Error::invalid(format!(
                "schedule \"type\" must be a string, not {other}"
            )));
        }
        None => {
            return Err(Error::invalid(format!(
                "the schedule needs a \"type\": one of {}",
                SCHEDULE_TYPES.join(", ")
            )));
        }
    };
    if !SCHEDULE_TYPES.contains(&kind.as_str()) {
        return Err(Error::invalid(format!(
            "schedule type {kind:?} is not one of {}",
            SCHEDULE_TYPES.join(", ")
        )));
    }
    map.insert("type".into(), json!(kind));
    match map.get("timezone") {
        None | Some(Value::Null) => {
            map.insert("timezone".into(), json!("UTC"));
        }
        Some(Value::String(tz)) if !tz.trim().is_empty() => {}
        Some(other) => {
            return Err(Error::invalid(format!(
                "schedule \"timezone\" must be a zone name such as \"UTC\", not {other}"
            )));
        }
    }
    let interval = small_int(&map, "interval", 1..=100_000)?;
    if matches!(kind.as_str(), "MINUTE" | "HOUR") && interval.is_none() {
        return Err(Error::invalid(format!(
            "a {kind} schedule needs an \"interval\" (every how many {}s)",
            kind.to_ascii_lowercase()
        )));
    }
    small_int(&map, "hour", 0..=23)?;
    small_int(&map, "minute", 0..=59)?;
    if let Some(between) = map.get("between")
        && !(between.is_null() || between.is_object())
    {
        return Err(Error::invalid(
            "schedule \"between\" must be null or a dict with start and end",
        ));
    }
    Ok(Value::Object(map).to_string())
}

/// Configuration items from a `{name: value}` object or a list of item objects (each
/// with a `name`; `type` defaults to `string`, `category` to `METADATA`).
pub fn configuration_items(config: &Value) -> Result<Vec<Value>> {
    let item = |name: &str, value: &Value| -> Result<Value> {
        if name.trim().is_empty() {
            return Err(Error::invalid("a configuration item has an empty name"));
        }
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Null => {
                return Err(Error::invalid(format!(
                    "configuration {name:?} has no value"
                )));
            }
            other => other.to_string(),
        };
        Ok(json!({"name": name, "value": value, "type": "string", "category": "METADATA"}))
    };
    match config {
        Value::Null => Ok(vec![]),
        Value::Object(map) => map.iter().map(|(k, v)| item(k, v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let Value::Object(obj) = c else {
                    return Err(Error::invalid(format!(
                        "configuration item {i} must be a dict with \"name\" and \"value\""
                    )));
                };
                let name = obj.get("name").and_then(Value::as_str).ok_or_else(|| {
                    Error::invalid(format!("configuration item {i} has no \"name\""))
                })?;
                let mut out = item(name, obj.get("value").unwrap_or(&Value::Null))?;
                for key in ["type", "category"] {
                    if let Some(v) = obj.get(key).filter(|v| v.is_string()) {
                        out[key] = v.clone();
                    }
                }
                Ok(out)
            })
            .collect(),
        other => Err(Error::invalid(format!(
            "configuration must be a dict of name to value or a list of items, not {other}"
        ))),
    }
}

fn account_json(account: &Value) -> Result<Value> {
    match account {
        Value::Null => Ok(Value::Null),
        Value::Number(n) if n.as_u64().is_some() => Ok(json!({ "id": n })),
        Value::String(s) if !s.trim().is_empty() => Ok(json!({ "id": s })),
        Value::Object(o) if o.contains_key("id") => Ok(account.clone()),
        other => Err(Error::invalid(format!(
            "account must be an account id or a dict with \"id\", not {other}"
        ))),
    }
}

fn transport_json(transport: &Value) -> Result<Value> {
    match transport {
        Value::Object(o) if o.get("type").is_some_and(Value::is_string) => Ok(transport.clone()),
        other => Err(Error::invalid(format!(
            "transport must be a dict with a \"type\" (e.g. {{\"type\": \"CONNECTOR\", \"description\": \"com.domo.connector...\", \"version\": \"0\"}}), not {other}"
        ))),
    }
}

fn provider_key(key: &str) -> Result<Value> {
    if key.trim().is_empty() || key.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "{key:?} is not a data provider key (such as \"snowflake-unload-v2\")"
        )));
    }
    Ok(json!({ "key": key }))
}

/// What a new stream is made of.
#[derive(Debug, Clone, Default)]
pub struct StreamSpec {
    pub name: String,
    pub description: Option<String>,
    /// The data provider key (`dataProvider.key`).
    pub provider: String,
    /// `transport`; by default `{"type": "CONNECTOR", "description": provider, "version": "0"}`.
    pub transport: Option<Value>,
    /// See `configuration_items`.
    pub configuration: Value,
    /// An account id, or `{"id": ...}`.
    pub account: Value,
    pub update_method: String,
    /// See `schedule_json`; none leaves the stream unscheduled.
    pub schedule: Option<Value>,
    /// The dataset's columns, sent as `schemaDefinition` when given.
    pub schema: Option<Vec<Column>>,
}

impl StreamSpec {
    /// The checked request body.
    pub fn body(&self) -> Result<Value> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("the stream's dataset name is empty"));
        }
        let mut body = json!({
            "transport": match &self.transport {
                Some(t) => transport_json(t)?,
                None => json!({"type": "CONNECTOR", "description": self.provider, "version": "0"}),
            },
            "configuration": configuration_items(&self.configuration)?,
            "account": account_json(&self.account)?,
            "updateMethod": update_method(&self.update_method)?,
            "dataProvider": provider_key(&self.provider)?,
            "dataSource": {
                "name": self.name,
                "description": self.description.clone().unwrap_or_default(),
            },
        });
        if let Some(schedule) = &self.schedule {
            body["advancedScheduleJson"] = json!(schedule_json(schedule)?);
        }
        if let Some(columns) = &self.schema {
            validate_columns(columns)?;
            body["schemaDefinition"] = json!({ "columns": columns });
        }
        Ok(body)
    }
}

/// Changes to a stream; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct StreamUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub provider: Option<String>,
    pub transport: Option<Value>,
    pub configuration: Option<Value>,
    /// `Some(Value::Null)` removes the account.
    pub account: Option<Value>,
    pub update_method: Option<String>,
    /// `Some(Value::Null)` removes the schedule.
    pub schedule: Option<Value>,
}

impl StreamUpdate {
    /// Checks every given field, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        self.apply(&json!({})).map(drop)
    }

    /// The full body for `PUT`: the stream as it is (`current`, from `get`) with these changes.
    pub fn apply(&self, current: &Value) -> Result<Value> {
        let get = |k: &str| current.get(k).cloned().unwrap_or(Value::Null);
        let source = get("dataSource");
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let configuration = match &self.configuration {
            Some(c) => configuration_items(c)?,
            None => get("configuration")
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|c| {
                            let mut c = c.clone();
                            if let Some(o) = c.as_object_mut() {
                                o.remove("streamId");
                            }
                            c
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let provider = match &self.provider {
            Some(p) => provider_key(p)?,
            None => json!({ "key": text(&get("dataProvider"), "key") }),
        };
        let method = match &self.update_method {
            Some(m) => update_method(m)?.to_string(),
            None => text(current, "updateMethod"),
        };
        let mut body = json!({
            "transport": match &self.transport {
                Some(t) => transport_json(t)?,
                None => get("transport"),
            },
            "configuration": configuration,
            "account": match &self.account {
                Some(a) => account_json(a)?,
                None => get("account"),
            },
            "updateMethod": method,
            "dataProvider": provider,
            "dataSource": {
                "name": self.name.clone().unwrap_or_else(|| text(&source, "name")),
                "description": self.description.clone().unwrap_or_else(|| text(&source, "description")),
            },
        });
        if let Some(name) = &self.name
            && name.trim().is_empty()
        {
            return Err(Error::invalid("the stream's dataset name is empty"));
        }
        body["advancedScheduleJson"] = match &self.schedule {
            Some(Value::Null) => Value::Null,
            Some(s) => json!(schedule_json(s)?),
            None => get("advancedScheduleJson"),
        };
        Ok(body)
    }
}

fn stream_id_of(answer: &Value) -> Option<u64> {
    match answer.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Client {
    /// Creates a connector stream and its dataset. Returns the stream and Domo's answer.
    pub async fn create_stream(&self, spec: &StreamSpec) -> Result<(Stream, Value)> {
        let body = spec.body()?;
        let url = self.transport.url(&routes::STREAMS, &[], &[]);
        let call = Call::new(Method::POST, url).json(&body)?.once();
        let answer = json_or_empty(&self.transport, &call).await?;
        let id = stream_id_of(&answer).ok_or_else(|| {
            self.transport.scrub(Error::UnexpectedResponse {
                message: "Domo created the stream but did not say its id".into(),
                status: 200,
                request: call.info(),
                body: Some(answer.to_string()),
            })
        })?;
        Ok((self.stream(id), answer))
    }
}

impl Dataset {
    /// The stream that feeds this dataset (from the metadata's `streamId`; on the public
    /// API, from the stream search).
    pub async fn stream(&self) -> Result<Stream> {
        if self.client.is_public_api() {
            return Ok(self.client.stream(self.public_stream_id().await?));
        }
        let metadata = self.metadata().await?;
        match metadata.get("streamId") {
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                Ok(self.client.stream(n.as_u64().unwrap_or_default()))
            }
            Some(Value::String(s)) if s.parse::<u64>().is_ok() => {
                Ok(self.client.stream(s.parse().unwrap_or_default()))
            }
            _ => Err(Error::UnexpectedResponse {
                message: format!(
                    "dataset {} has no stream (no streamId in its metadata)",
                    self.id
                ),
                status: 200,
                request: crate::error::RequestInfo {
                    method: "GET".into(),
                    url: self.url(&routes::DATASOURCES, &[], &[]).to_string(),
                },
                body: None,
            }),
        }
    }
}

impl Stream {
    pub(crate) fn new(client: Client, id: u64) -> Stream {
        Stream { client, id }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn url(&self, suffix: &[&str]) -> url::Url {
        let id = self.id.to_string();
        let rest: Vec<&str> = [id.as_str()]
            .into_iter()
            .chain(suffix.iter().copied())
            .collect();
        self.client.transport.url(&routes::STREAMS, &rest, &[])
    }

    /// The stream's configuration and state, as Domo sends it.
    pub async fn get(&self) -> Result<Value> {
        if self.client.is_public_api() {
            let call = Call::new(Method::GET, self.public_url(&[]));
            return self.client.transport.json(&call).await;
        }
        self.client
            .transport
            .json(&Call::new(Method::GET, self.url(&[])))
            .await
    }

    /// Changes the stream: reads it, applies `changes`, and sends the whole stream back
    /// (Domo's update replaces it). Returns Domo's answer.
    pub async fn update(&self, changes: &StreamUpdate) -> Result<Value> {
        changes.validate()?;
        let current = self.get().await?;
        let body = changes.apply(&current)?;
        let call = Call::new(Method::PUT, self.url(&[])).json(&body)?;
        json_or_empty(&self.client.transport, &call).await
    }

    /// The stream's executions, newest first.
    pub async fn executions(&self) -> Result<Vec<Value>> {
        if self.client.is_public_api() {
            let call = Call::new(Method::GET, self.public_url(&["executions"]));
            let answer: Value = self.client.transport.json(&call).await?;
            return list_in(answer, &["executions"], &call);
        }
        let call = Call::new(Method::GET, self.url(&["history", "aggregate"]));
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["executions", "history", "list"], &call)
    }

    /// Runs the stream now. Never re-sent: a lost answer does not start a second run.
    pub async fn execute(&self) -> Result<Value> {
        let call = Call::new(Method::POST, self.url(&["executions"]))
            .json(&json!({ "action": "MANUAL" }))?
            .once();
        json_or_empty(&self.client.transport, &call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_checked_and_completed() {
        let text = schedule_json(&json!({"type": "minute", "interval": 30})).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "MINUTE");
        assert_eq!(v["timezone"], "UTC");
        assert_eq!(v["interval"], 30);
        schedule_json(&json!("{\"type\": \"MANUAL\", \"timezone\": \"UTC\"}")).unwrap();
        schedule_json(&json!({"type": "DAY", "hour": 6, "minute": 30, "timezone": "Europe/Paris"}))
            .unwrap();
        for bad in [
            json!({}),
            json!({"type": "SOMETIMES"}),
            json!({"type": 3}),
            json!({"type": "MINUTE"}),
            json!({"type": "HOUR", "interval": 0}),
            json!({"type": "DAY", "hour": 24}),
            json!({"type": "DAY", "minute": -1}),
            json!({"type": "DAY", "timezone": ""}),
            json!({"type": "DAY", "between": 3}),
            json!("not json"),
            json!([1]),
        ] {
            assert!(schedule_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bodies_are_built_and_checked() {
        let spec = StreamSpec {
            name: "sales".into(),
            provider: "snowflake-unload-v2".into(),
            configuration: json!({"query": "SELECT 1", "rows": 5}),
            account: json!(3),
            update_method: "append".into(),
            schedule: Some(json!({"type": "MANUAL"})),
            ..StreamSpec::default()
        };
        let body = spec.body().unwrap();
        assert_eq!(body["updateMethod"], "APPEND");
        assert_eq!(body["account"], json!({"id": 3}));
        assert_eq!(body["dataProvider"]["key"], "snowflake-unload-v2");
        assert_eq!(body["configuration"][1]["value"], "5");
        assert!(body["advancedScheduleJson"].is_string());
        assert!(body.get("schemaDefinition").is_none());
        for bad in [
            StreamSpec {
                update_method: "MERGE".into(),
                ..spec.clone()
            },
            StreamSpec {
                name: " ".into(),
                ..spec.clone()
            },
            StreamSpec {
                provider: "".into(),
                ..spec.clone()
            },
            StreamSpec {
                account: json!([]),
                ..spec.clone()
            },
            StreamSpec {
                configuration: json!([{"value": "x"}]),
                ..spec.clone()
            },
            StreamSpec {
                transport: Some(json!({"version": "1"})),
                ..spec.clone()
            },
            StreamSpec {
                schedule: Some(json!({"type": "MINUTE"})),
                ..spec.clone()
            },
        ] {
            assert!(bad.body().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn updates_keep_what_is_not_changed() {
        let current = json!({
            "id": 5,
            "transport": {"type": "CONNECTOR", "version": "0"},
            "updateMethod": "REPLACE",
            "dataProvider": {"key": "pg", "name": "Postgres"},
            "account": {"id": 1},
            "dataSource": {"name": "a", "description": "b", "rowCount": 3},
            "advancedScheduleJson": "{\"type\":\"MANUAL\"}",
            "configuration": [{"streamId": 5, "name": "q", "value": "x", "type": "string", "category": "METADATA"}],
        });
        let body = StreamUpdate {
            update_method: Some("append".into()),
            schedule: Some(Value::Null),
            ..StreamUpdate::default()
        }
        .apply(&current)
        .unwrap();
        assert_eq!(body["updateMethod"], "APPEND");
        assert_eq!(body["dataProvider"], json!({"key": "pg"}));
        assert_eq!(body["dataSource"], json!({"name": "a", "description": "b"}));
        assert!(body["advancedScheduleJson"].is_null());
        assert!(body["configuration"][0].get("streamId").is_none());
        assert!(
            StreamUpdate {
                update_method: Some("x".into()),
                ..StreamUpdate::default()
            }
            .validate()
            .is_err()
        );
    }
}
