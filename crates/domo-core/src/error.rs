//! One error type for everything the client can fail at.
//!
//! Errors keep what Domo said (`statusReason`, `message`, `toe`) and which request it was
//! (method and URL), but never a credential: tokens travel in headers only, and headers are
//! not kept.

use std::fmt;

/// How much of a response body an error keeps: enough to diagnose, never a whole export.
const BODY_KEEP: usize = 4096;

/// What the failed request was. URLs never hold credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub method: String,
    pub url: String,
}

impl fmt::Display for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// An HTTP error answer from Domo, with the fields of its error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub status_reason: Option<String>,
    pub message: String,
    pub toe: Option<String>,
    pub request: RequestInfo,
    pub body: Option<String>,
}

/// What kind of failure an [`ApiError`] is, by what it means to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    BadRequest,
    Auth,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Server,
    Other,
}

impl ApiError {
    pub fn kind(&self) -> ApiErrorKind {
        match self.status {
            400 | 422 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Auth,
            403 if is_rate_limit_message(&self.message) => ApiErrorKind::RateLimited,
            403 => ApiErrorKind::Forbidden,
            404 | 410 => ApiErrorKind::NotFound,
            409 => ApiErrorKind::Conflict,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }
}

/// Domo signals some rate limiting as a 403 with this message instead of a 429.
pub(crate) fn is_rate_limit_message(message: &str) -> bool {
    message.to_ascii_lowercase().contains("rate limit")
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Domo answered with an error status.
    #[error("{}", describe_api(.0))]
    Api(Box<ApiError>),

    /// A login was refused (Domo says so with HTTP 200 and `success: false`).
    #[error("login refused by Domo: {reason}")]
    LoginRefused {
        reason: String,
        request: RequestInfo,
    },

    /// The answer was not what the endpoint returns: an HTML page, a wrong shape.
    #[error("{message}")]
    UnexpectedResponse {
        message: String,
        status: u16,
        request: RequestInfo,
        body: Option<String>,
    },

    /// No usable response: connection refused or reset, TLS failure, body cut short.
    #[error("{message}")]
    Transport {
        message: String,
        timeout: bool,
        /// The request may have reached the server (false only when connecting failed).
        sent: bool,
        request: RequestInfo,
    },

    /// The answer is larger than the client takes (`max_answer_bytes`, or an export record
    /// longer than `max_record_bytes`): reading stopped there.
    #[error("{message}")]
    AnswerTooLarge {
        message: String,
        status: u16,
        request: RequestInfo,
    },

    /// The connection was lost after a commit was sent, before its answer came: Domo may
    /// or may not have applied it. Never retried.
    #[error("{message}")]
    CommitOutcomeUnknown {
        message: String,
        request: RequestInfo,
    },

    /// The caller's input is not valid; nothing was sent.
    #[error("{0}")]
    InvalidInput(String),

    /// A lookup (a dataset by name) found nothing; every request itself succeeded.
    #[error("{0}")]
    NotFound(String),

    /// An upload could not complete; nothing was committed.
    #[error("upload part {part} failed: {source}")]
    UploadPart {
        part: u64,
        #[source]
        source: Box<Error>,
    },

    /// Local I/O (reading a CSV to upload, writing an export).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// Arrow data could not be built or read.
    #[error("{0}")]
    Arrow(#[from] arrow_schema::ArrowError),

    /// The caller's progress reporter failed and `stopped` says what that stopped (an
    /// upload before its commit, a read before it is handed over whole).
    #[error("{stopped}: {source}")]
    Callback {
        stopped: &'static str,
        source: crate::progress::CallbackError,
    },

    /// The operation was cancelled before it finished.
    #[error("cancelled")]
    Cancelled,

    /// A thread doing part of the work (decoding, encoding) panicked: a bug here, not bad
    /// data, reported rather than ending the work as if it were complete.
    #[error("a worker thread of domo-datasets failed: {0}")]
    WorkerFailed(String),
}

/// The outcome of a blocking task: its panic is `WorkerFailed`, its abort `Cancelled`.
pub(crate) fn joined<T>(outcome: std::result::Result<T, tokio::task::JoinError>) -> Result<T> {
    outcome.map_err(|e| match e.try_into_panic() {
        Ok(panic) => Error::WorkerFailed(panic_message(panic.as_ref())),
        Err(_) => Error::Cancelled,
    })
}

/// What a panic said, where it said it as text.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".to_owned())
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    /// The request the error belongs to, if any.
    pub fn request(&self) -> Option<&RequestInfo> {
        match self {
            Error::Api(e) => Some(&e.request),
            Error::LoginRefused { request, .. }
            | Error::UnexpectedResponse { request, .. }
            | Error::Transport { request, .. }
            | Error::AnswerTooLarge { request, .. }
            | Error::CommitOutcomeUnknown { request, .. } => Some(request),
            Error::UploadPart { source, .. } => source.request(),
            _ => None,
        }
    }

    /// The error at the root of a wrapped one (an upload part's cause).
    pub fn root(&self) -> &Error {
        match self {
            Error::UploadPart { source, .. } => source.root(),
            other => other,
        }
    }

    /// The error for a commit that failed: a failure after the request may have reached
    /// Domo leaves its outcome unknown, and says how to find it out.
    pub(crate) fn commit_outcome(self, upload_id: u64) -> Error {
        match self {
            Error::Transport {
                message,
                sent: true,
                request,
                ..
            } => Error::CommitOutcomeUnknown {
                message: format!(
                    "commit outcome unknown: {message}; the commit was sent but its answer was \
                     lost, so Domo may or may not have applied it. Before uploading again, look \
                     for a data version of upload {upload_id} in the dataset's data versions \
                     (data_versions)"
                ),
                request,
            },
            other => other,
        }
    }

    /// The error with every occurrence of `secret` in the text it holds replaced by
    /// [`MASK`], so that a server echoing a credential does not put it in an error.
    /// Secrets shorter than [`MIN_SCRUBBED`] bytes are not searched for: text that short
    /// cannot be told from ordinary words.
    pub fn scrub(mut self, secret: &str) -> Error {
        if secret.len() < MIN_SCRUBBED {
            return self;
        }
        let mask = |text: &mut String| {
            if text.contains(secret) {
                *text = text.replace(secret, MASK);
            }
        };
        let mask_opt = |text: &mut Option<String>| {
            if let Some(text) = text {
                mask(text);
            }
        };
        match &mut self {
            Error::Api(api) => {
                mask(&mut api.message);
                mask_opt(&mut api.status_reason);
                mask_opt(&mut api.toe);
                mask_opt(&mut api.body);
                mask(&mut api.request.url);
            }
            Error::LoginRefused { reason, request } => {
                mask(reason);
                mask(&mut request.url);
            }
            Error::UnexpectedResponse {
                message,
                request,
                body,
                ..
            } => {
                mask(message);
                mask_opt(body);
                mask(&mut request.url);
            }
            Error::Transport {
                message, request, ..
            }
            | Error::AnswerTooLarge {
                message, request, ..
            }
            | Error::CommitOutcomeUnknown { message, request } => {
                mask(message);
                mask(&mut request.url);
            }
            Error::InvalidInput(message)
            | Error::WorkerFailed(message)
            | Error::NotFound(message) => mask(message),
            Error::UploadPart { source, .. } => {
                let inner = std::mem::replace(source.as_mut(), Error::Cancelled);
                **source = inner.scrub(secret);
            }
            Error::Io { context, .. } => mask(context),
            Error::Arrow(e) => {
                let text = e.to_string();
                if text.contains(secret) {
                    *e = arrow_schema::ArrowError::ParseError(text.replace(secret, MASK));
                }
            }
            Error::Cancelled | Error::Callback { .. } => {}
        }
        self
    }
}

/// What a secret found in a server's text is replaced with.
pub const MASK: &str = "***";

/// The shortest secret [`Error::scrub`] looks for.
pub const MIN_SCRUBBED: usize = 8;

fn describe_api(e: &ApiError) -> String {
    match &e.status_reason {
        Some(reason) if !e.message.is_empty() => format!("{reason}: {}", e.message),
        Some(reason) => reason.clone(),
        None => e.message.clone(),
    }
}

/// Cuts a body to what an error keeps, on a character boundary.
pub(crate) fn keep_body(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_KEEP)]);
    Some(text.into_owned())
}

/// Builds the error for a non-success answer (or an HTML page in place of JSON).
pub(crate) fn from_response(
    status: u16,
    content_type: &str,
    body: &[u8],
    request: RequestInfo,
) -> Error {
    if looks_like_html(content_type, body) {
        return html_error(status, body, request);
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct DomoErrorBody {
        status_reason: Option<String>,
        message: Option<String>,
        toe: Option<String>,
        error: Option<String>,
        error_description: Option<String>,
        reason: Option<String>,
    }
    let parsed: DomoErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed
        .message
        .or(parsed.error_description)
        .or(parsed.error)
        .or(parsed.reason)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_string();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text
            }
        });
    Error::Api(Box::new(ApiError {
        status,
        status_reason: parsed.status_reason.or_else(|| reason_phrase(status)),
        message,
        toe: parsed.toe,
        request,
        body: keep_body(body),
    }))
}

pub(crate) fn looks_like_html(content_type: &str, body: &[u8]) -> bool {
    if content_type.to_ascii_lowercase().contains("text/html") {
        return true;
    }
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = &body[start..];
    [b"<!doctype html".as_slice(), b"<html"]
        .iter()
        .any(|p| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p))
}

/// An HTML page where JSON or CSV was expected: a maintenance page, or Domo's 200
/// "Domo - Blocked" page. Its title is the most useful part to show.
pub(crate) fn html_error(status: u16, body: &[u8], request: RequestInfo) -> Error {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let title = html_title(&text);
    let what = match &title {
        Some(t) => format!("an HTML page titled {t:?}"),
        None => "an HTML page".to_string(),
    };
    let message = format!(
        "Domo answered HTTP {status} with {what} instead of data (maintenance, or a blocked request)"
    );
    if status >= 400 {
        Error::Api(Box::new(ApiError {
            status,
            status_reason: reason_phrase(status),
            message,
            toe: None,
            request,
            body: keep_body(body),
        }))
    } else {
        Error::UnexpectedResponse {
            message,
            status,
            request,
            body: keep_body(body),
        }
    }
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = text.get(open_end..close)?.trim();
    (!title.is_empty()).then(|| title.to_string())
}

fn reason_phrase(status: u16) -> Option<String> {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> RequestInfo {
        RequestInfo {
            method: "POST".into(),
            url: "https://acme.domo.com/api/query/v1/execute/x".into(),
        }
    }

    #[test]
    fn parses_domo_error_body() {
        let body =
            br#"{"status":400,"statusReason":"Bad Request","message":"bad sql","toe":"ABC-1"}"#;
        let Error::Api(e) = from_response(400, "application/json", body, req()) else {
            panic!("expected an API error");
        };
        assert_eq!(e.status, 400);
        assert_eq!(e.status_reason.as_deref(), Some("Bad Request"));
        assert_eq!(e.message, "bad sql");
        assert_eq!(e.toe.as_deref(), Some("ABC-1"));
        assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    }

    #[test]
    fn missing_message_falls_back_to_reason() {
        let e = from_response(503, "application/json", br#"{"status":503}"#, req());
        let Error::Api(e) = e else { panic!() };
        assert_eq!(e.status_reason.as_deref(), Some("Service Unavailable"));
        assert_eq!(e.kind(), ApiErrorKind::Server);
    }

    #[test]
    fn rate_limit_403_is_rate_limited() {
        let e = from_response(
            403,
            "application/json",
            br#"{"message":"API Rate limit reached."}"#,
            req(),
        );
        let Error::Api(e) = e else { panic!() };
        assert_eq!(e.kind(), ApiErrorKind::RateLimited);
        let e = from_response(
            403,
            "application/json",
            br#"{"message":"Forbidden"}"#,
            req(),
        );
        let Error::Api(e) = e else { panic!() };
        assert_eq!(e.kind(), ApiErrorKind::Forbidden);
    }

    #[test]
    fn html_pages_are_named_not_parsed() {
        let page = b"<!DOCTYPE html><html><head><title>Domo - Blocked</title></head></html>";
        let e = from_response(200, "text/plain", page, req());
        assert!(matches!(e, Error::UnexpectedResponse { status: 200, .. }));
        assert!(e.to_string().contains("Domo - Blocked"), "{e}");
        let e = from_response(
            503,
            "text/html",
            b"<html><title>Maintenance</title></html>",
            req(),
        );
        let Error::Api(api) = &e else { panic!() };
        assert_eq!(api.kind(), ApiErrorKind::Server);
        assert!(e.to_string().contains("Maintenance"));
    }

    #[test]
    fn non_json_error_body_keeps_text() {
        let e = from_response(502, "text/plain", b"upstream gone", req());
        assert!(e.to_string().contains("upstream gone"));
    }
}
