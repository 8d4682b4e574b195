//! The request log: one entry per API request, for tests to check what a client sent and
//! what it was answered. Inner layers add what they learn (credentials, body, fault) to
//! the request's [`Note`]; the entry is written when the answer leaves, or when a fault
//! drops the connection.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::api_of;
use crate::auth::AuthKind;
use crate::state::AppState;

/// What is known of one API request so far; shared by the layers it passes through.
#[derive(Clone)]
pub(crate) struct Note(Arc<Mutex<Entry>>);

struct Entry {
    /// The log entry's fields known before the request goes in.
    fields: serde_json::Map<String, Json>,
    auth: AuthKind,
    bytes: usize,
    sql: Option<String>,
    fault: Option<u64>,
    /// Set once the entry is in the log.
    written: bool,
}

impl Note {
    fn with<T>(&self, f: impl FnOnce(&mut Entry) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn auth(&self, kind: AuthKind) {
        self.with(|e| e.auth = kind);
    }

    /// The request's body, read in full: its size, and a query's SQL.
    pub(crate) fn body(&self, path: &str, bytes: &Bytes) {
        let sql = path
            .contains("/execute/")
            .then(|| serde_json::from_slice::<Json>(bytes).ok())
            .flatten()
            .and_then(|v| v.get("sql")?.as_str().map(str::to_owned));
        self.with(|e| {
            e.bytes = bytes.len();
            e.sql = sql;
        });
    }

    pub(crate) fn fault(&self, id: u64) {
        self.with(|e| e.fault = Some(id));
    }

    /// Writes the entry of a request whose connection is dropped; `status` is what the
    /// lost reply would have said (0 when nothing was served).
    pub(crate) fn dropped(&self, st: &AppState, status: u16) {
        self.write(st, status, None, true);
    }

    fn write(&self, st: &AppState, status: u16, answer: Option<&HeaderMap>, dropped: bool) {
        let entry = self.with(|e| {
            if std::mem::replace(&mut e.written, true) {
                return None;
            }
            let mut fields = std::mem::take(&mut e.fields);
            let encoding = answer.and_then(|h| header_text(h, header::CONTENT_ENCODING));
            for (key, value) in [
                ("status", json!(status)),
                ("auth", json!(e.auth.name())),
                ("bytes", json!(e.bytes)),
                ("fault", json!(e.fault)),
                ("dropped", json!(dropped)),
                ("sql", json!(e.sql.take())),
                ("answer_encoding", json!(encoding)),
            ] {
                fields.insert(key.into(), value);
            }
            Some(Json::Object(fields))
        });
        if let Some(entry) = entry {
            st.log_request(entry);
        }
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Logs every API request (`/api`, `/v1`, `/oauth`) with its answer's status.
pub(crate) async fn layer(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if api_of(&path).is_none() {
        return next.run(req).await;
    }
    let mut query = req.uri().query().unwrap_or("").to_owned();
    // The password is also the OAuth client secret, which a client may put in the query.
    for secret in [st.inner.token.as_str(), st.inner.password.as_str()] {
        if !secret.is_empty() && query.contains(secret) {
            query = query.replace(secret, "***");
        }
    }
    let headers = req.headers();
    let mut fields = serde_json::Map::new();
    for (key, value) in [
        ("method", json!(req.method().as_str())),
        ("path", json!(path)),
        ("query", json!(query)),
        (
            "content_type",
            json!(header_text(headers, header::CONTENT_TYPE)),
        ),
        (
            "content_encoding",
            json!(header_text(headers, header::CONTENT_ENCODING)),
        ),
        (
            "accept_encoding",
            json!(header_text(headers, header::ACCEPT_ENCODING)),
        ),
    ] {
        fields.insert(key.into(), value);
    }
    let note = Note(Arc::new(Mutex::new(Entry {
        fields,
        auth: AuthKind::None,
        bytes: 0,
        sql: None,
        fault: None,
        written: false,
    })));
    req.extensions_mut().insert(note.clone());
    let resp = next.run(req).await;
    note.write(&st, resp.status().as_u16(), Some(resp.headers()), false);
    resp
}
