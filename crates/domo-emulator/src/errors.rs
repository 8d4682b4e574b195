//! Domo-shaped errors: every failure a client can cause becomes an `ApiError`, which
//! renders as `{"status", "statusReason", "message", "toe"}` like the live service.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;

/// An error answered to an API client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    pub fn dataset_not_found(id: &str) -> Self {
        Self::not_found(format!("DataSource {id} not found"))
    }
}

/// A trace id shaped like Domo's `toe` (e.g. `UI7PGLVN12-Q56L5-9DHPR`), fresh per error so
/// that a client which keeps it on its exceptions can be tested for doing so.
pub fn new_toe() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut part = |n: usize| -> String {
        (0..n)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!("{}-{}-{}", part(10), part(5), part(5))
}

/// The JSON error body for `status` with `message`.
pub fn error_body(status: StatusCode, message: &str) -> serde_json::Value {
    serde_json::json!({
        "status": status.as_u16(),
        "statusReason": status.canonical_reason().unwrap_or("Unknown"),
        "message": message,
        "toe": new_toe(),
    })
}

pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    json_text_response(status, body.to_string().into_bytes())
}

/// A response whose body is JSON text already rendered.
pub fn json_text_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, message = %self.message, "emulator error");
        }
        json_response(self.status, &error_body(self.status, &self.message))
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("storage error: {e}"))
    }
}

/// Errors from starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("cannot start the server thread: {0}")]
    Runtime(#[source] std::io::Error),
}
