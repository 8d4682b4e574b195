//! Credentials: every API request is authenticated before its body is read, so nobody
//! without valid credentials can make the emulator hold a large body in memory.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_of;
use super::request_log::Note;
use crate::auth::{self, AuthKind, Verdict};
use crate::errors::ApiError;
use crate::state::AppState;

const LOGIN_PATH: &str = "/api/content/v2/authentication";
const TOKEN_PATH: &str = "/oauth/token";

/// Checks an API request's credentials for its API, and tells the handlers (and the
/// per-route access check) who the caller is.
pub(crate) async fn layer(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let Some(api) = api_of(path) else {
        return next.run(req).await;
    };
    let (kind, verdict) = if path == TOKEN_PATH {
        // The token route checks its own (Basic) credentials.
        let kind = if auth::has_basic(req.headers()) {
            AuthKind::Basic
        } else {
            AuthKind::None
        };
        (kind, Verdict::Allowed)
    } else if path == LOGIN_PATH {
        // Login checks the credentials in its body.
        (AuthKind::None, Verdict::Allowed)
    } else {
        auth::check(&st, req.headers(), api, path)
    };
    if let Some(note) = req.extensions().get::<Note>() {
        note.auth(kind);
    }
    let refusal = match verdict {
        Verdict::Allowed => None,
        Verdict::Unauthorized(message) => Some(ApiError::new(StatusCode::UNAUTHORIZED, message)),
        Verdict::Forbidden(message) => Some(ApiError::new(StatusCode::FORBIDDEN, message)),
    };
    if let Some(e) = refusal {
        let mut resp = e.into_response();
        // The unread body leaves the connection in no state for another request.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    let caller = auth::caller(&st, req.headers());
    req.extensions_mut().insert(caller);
    next.run(req).await
}
