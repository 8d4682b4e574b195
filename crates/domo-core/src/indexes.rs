//! Index requests: index a dataset's data versions (all eligible ones, or given ids),
//! re-index, read progress, and wait for completion with bounded polling.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::transport::Call;
use crate::versions::{json_or_empty, validate_tag};

/// Longest `wait_for_index` accepts.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// First pause between polls; each next one is 1.5 times longer, up to `MAX_POLL`.
pub const FIRST_POLL: Duration = Duration::from_millis(200);
pub const MAX_POLL: Duration = Duration::from_secs(5);

/// Statuses that mean an index request is done, and those that mean it failed.
const DONE: &[&str] = &[
    "COMPLETE",
    "COMPLETED",
    "SUCCESS",
    "SUCCEEDED",
    "DONE",
    "INDEXED",
];
const FAILED: &[&str] = &[
    "FAILED",
    "FAILURE",
    "ERROR",
    "CANCELLED",
    "CANCELED",
    "ABORTED",
];

/// How an index status reads: still running, done, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexPhase {
    Running,
    Done,
    Failed,
}

/// The status text in an index answer: `status`, `state` or `currentState`; a list of
/// statuses counts by its last entry.
pub fn index_status_text(answer: &Value) -> Option<String> {
    let entry = match answer {
        Value::Array(items) => items.last()?,
        other => other,
    };
    ["status", "state", "currentState", "indexStatus"]
        .iter()
        .find_map(|k| entry.get(*k).and_then(Value::as_str))
        .map(str::to_ascii_uppercase)
}

pub fn index_phase(status: &str) -> IndexPhase {
    let s = status.to_ascii_uppercase();
    if DONE.contains(&s.as_str()) {
        IndexPhase::Done
    } else if FAILED.contains(&s.as_str()) {
        IndexPhase::Failed
    } else {
        IndexPhase::Running
    }
}

/// The id of the index request an answer describes (`indexId`, `id` or `indexRequestKey`).
pub fn index_id_of(answer: &Value) -> Option<String> {
    ["indexId", "id", "indexRequestKey"]
        .iter()
        .find_map(|k| match answer.get(*k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// Checks data-version ids: integers or non-empty strings.
pub fn validate_data_ids(ids: &[Value]) -> Result<()> {
    for id in ids {
        let ok = match id {
            Value::Number(n) => n.as_i64().is_some_and(|i| i >= 0),
            Value::String(s) => !s.trim().is_empty(),
            _ => false,
        };
        if !ok {
            return Err(Error::invalid(format!(
                "{id} is not a data version id (give integers or id strings)"
            )));
        }
    }
    Ok(())
}

/// Pauses between polls: 0.2 s growing by half each time, at most 5 s, never past the
/// deadline.
pub fn poll_delay(attempt: u32, remaining: Duration) -> Duration {
    let grown = FIRST_POLL.as_secs_f64() * 1.5f64.powi(attempt.min(30) as i32);
    Duration::from_secs_f64(grown.min(MAX_POLL.as_secs_f64())).min(remaining)
}

impl Dataset {
    /// Asks Domo to index data versions: `data_ids` empty means every complete, unindexed
    /// version. Returns Domo's answer (with the index id to follow).
    pub async fn index(&self, data_ids: &[Value]) -> Result<Value> {
        validate_data_ids(data_ids)?;
        let url = self.url(&["api", "data", "v3", "datasources"], &["indexes"], &[]);
        let call = Call::new(Method::POST, url)
            .json(&json!({ "dataIds": data_ids }))?
            .once();
        json_or_empty(&self.client.transport, &call).await
    }

    /// Re-runs an index request.
    pub async fn reindex(&self, index_id: &str, data_ids: &[Value]) -> Result<Value> {
        validate_tag("index id", index_id)?;
        validate_data_ids(data_ids)?;
        let url = self.url(
            &["api", "data", "v3", "datasources"],
            &["indexes", index_id],
            &[],
        );
        let call = Call::new(Method::PUT, url)
            .json(&json!({ "dataIds": data_ids, "reindex": true }))?
            .once();
        json_or_empty(&self.client.transport, &call).await
    }

    /// The progress of an index request.
    pub async fn index_status(&self, index_id: &str) -> Result<Value> {
        validate_tag("index id", index_id)?;
        let url = self.url(
            &["api", "data", "v3", "datasources"],
            &["indexes", index_id, "statuses"],
            &[],
        );
        self.client
            .transport
            .json(&Call::new(Method::GET, url))
            .await
    }

    /// Polls an index request's status (with growing pauses) until it completes, fails,
    /// or `timeout` passes. Returns the last status answer.
    pub async fn wait_for_index(&self, index_id: &str, timeout: Duration) -> Result<Value> {
        validate_tag("index id", index_id)?;
        if timeout.is_zero() || timeout > MAX_WAIT {
            return Err(Error::invalid(format!(
                "timeout must be more than 0 and at most {} s",
                MAX_WAIT.as_secs()
            )));
        }
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let answer = self.index_status(index_id).await?;
            let status = index_status_text(&answer).unwrap_or_default();
            match index_phase(&status) {
                IndexPhase::Done => return Ok(answer),
                IndexPhase::Failed => {
                    let err = Error::UnexpectedResponse {
                        message: format!("index {index_id} of dataset {} ended {status}", self.id),
                        status: 200,
                        request: self.status_request(index_id),
                        body: Some(answer.to_string()),
                    };
                    return Err(self.client.transport.scrub(err));
                }
                IndexPhase::Running => {}
            }
            let remaining = timeout.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(self.client.transport.scrub(Error::Transport {
                    message: format!(
                        "index {index_id} of dataset {} did not complete within {:.1} s (last status {})",
                        self.id,
                        timeout.as_secs_f64(),
                        if status.is_empty() {
                            "unknown"
                        } else {
                            &status
                        }
                    ),
                    timeout: true,
                    sent: true,
                    request: self.status_request(index_id),
                }));
            }
            tokio::time::sleep(poll_delay(attempt, remaining)).await;
            attempt += 1;
        }
    }

    fn status_request(&self, index_id: &str) -> crate::error::RequestInfo {
        let url = self.url(
            &["api", "data", "v3", "datasources"],
            &["indexes", index_id, "statuses"],
            &[],
        );
        Call::new(Method::GET, url).info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_tolerantly() {
        assert_eq!(
            index_status_text(&json!({"status": "indexing"})).as_deref(),
            Some("INDEXING")
        );
        assert_eq!(
            index_status_text(&json!([{"state": "QUEUED"}, {"state": "COMPLETE"}])).as_deref(),
            Some("COMPLETE")
        );
        assert_eq!(index_status_text(&json!({})), None);
        assert_eq!(index_phase("complete"), IndexPhase::Done);
        assert_eq!(index_phase("FAILED"), IndexPhase::Failed);
        assert_eq!(index_phase("QUEUED"), IndexPhase::Running);
        assert_eq!(index_phase(""), IndexPhase::Running);
        assert_eq!(index_id_of(&json!({"indexId": 4})).as_deref(), Some("4"));
        assert_eq!(index_id_of(&json!({"id": "x"})).as_deref(), Some("x"));
        assert_eq!(index_id_of(&json!({})), None);
    }

    #[test]
    fn polling_backs_off_within_bounds() {
        let long = Duration::from_secs(3600);
        assert_eq!(poll_delay(0, long), FIRST_POLL);
        assert!(poll_delay(1, long) > poll_delay(0, long));
        assert_eq!(poll_delay(50, long), MAX_POLL);
        assert_eq!(
            poll_delay(50, Duration::from_millis(30)),
            Duration::from_millis(30)
        );
    }

    #[test]
    fn data_ids_are_checked() {
        validate_data_ids(&[json!(1), json!("abc")]).unwrap();
        for bad in [json!(-1), json!(""), json!(null), json!([1]), json!(1.5)] {
            assert!(
                validate_data_ids(std::slice::from_ref(&bad)).is_err(),
                "{bad}"
            );
        }
    }
}
