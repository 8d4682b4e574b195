//! The `/_emulator/` admin routes, and the layer every `/api` request goes through:
//! request log, fault injection, then authentication.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use crate::auth::{self, Api, AuthKind, Verdict};
use crate::errors::{ApiError, error_body, json_response};
use crate::server::ConnCtl;
use crate::state::{AppState, FaultSpec, FiredFault};
use crate::store::Dataset;

/// Parts are up to ~50 MB; leave generous room.
pub const BODY_LIMIT: usize = 512 * 1024 * 1024;

const LOGIN_PATH: &str = "/api/content/v2/authentication";
const TOKEN_PATH: &str = "/oauth/token";

/// Which API a path belongs to, if any: those requests are logged, faultable and
/// authenticated.
fn api_of(path: &str) -> Option<Api> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/api") {
        Some(Api::Instance)
    } else if under("/v1") || under("/oauth") {
        Some(Api::Public)
    } else {
        None
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Wraps every request: API requests (`/api`, `/v1`, `/oauth`) are logged, may be
/// faulted, and must be authenticated; `/_emulator` requests must come from loopback.
pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_emulator") {
        let remote = req
            .extensions()
            .get::<Arc<ConnCtl>>()
            .is_some_and(|c| !c.peer.ip().is_loopback());
        if remote {
            return ApiError::new(StatusCode::FORBIDDEN, "admin routes are loopback-only")
                .into_response();
        }
        return next.run(req).await;
    }
    let Some(api) = api_of(&path) else {
        return next.run(req).await;
    };

    let method = req.method().as_str().to_owned();
    let mut query = req.uri().query().unwrap_or("").to_owned();
    // The password is also the OAuth client secret, which a client may put in the query.
    for secret in [st.inner.token.as_str(), st.inner.password.as_str()] {
        if !secret.is_empty() && query.contains(secret) {
            query = query.replace(secret, "***");
        }
    }
    let caller = auth::caller(&st, req.headers());
    let (auth_kind, verdict) = if path == TOKEN_PATH {
        // The token route checks its own (Basic) credentials.
        let kind = if auth::has_basic(req.headers()) {
            AuthKind::Basic
        } else {
            AuthKind::None
        };
        (kind, Verdict::Allowed)
    } else {
        auth::check(&st, req.headers(), api, &path)
    };
    let content_type = header_str(req.headers(), header::CONTENT_TYPE);
    let content_encoding = header_str(req.headers(), header::CONTENT_ENCODING);
    let ctl = req.extensions().get::<Arc<ConnCtl>>().cloned();

    // Read the whole body first: it gives the log its size, and a dropped connection
    // then happens after the request was fully sent, which is the ambiguous case
    // (did the server act on it?) clients must cope with.
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body could not be read (limit {BODY_LIMIT} bytes): {e}"),
            )
            .into_response();
        }
    };
    let n_bytes = bytes.len();
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(caller);

    let log = |status: u16, fault: Option<u64>, dropped: bool| {
        st.log_request(json!({
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "auth": auth_kind.name(),
            "content_type": content_type,
            "content_encoding": content_encoding,
            "bytes": n_bytes,
            "fault": fault,
            "dropped": dropped,
        }));
    };

    if let Some(fault) = st.take_fault(&method, &path) {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.drop {
            log(0, Some(fault.id), true);
            match ctl {
                Some(ctl) => {
                    ctl.kill();
                    // The connection task drops this future along with the socket.
                    return std::future::pending().await;
                }
                None => {
                    return ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "drop fault: this server was not started by Emulator::start",
                    )
                    .into_response();
                }
            }
        }
        if let Some(status) = fault.status {
            let resp = fault_response(status, &fault);
            log(resp.status().as_u16(), Some(fault.id), false);
            return resp;
        }
        let resp = authenticated(&path, verdict, req, next).await;
        log(resp.status().as_u16(), Some(fault.id), false);
        return resp;
    }
    let resp = authenticated(&path, verdict, req, next).await;
    log(resp.status().as_u16(), None, false);
    resp
}

async fn authenticated(path: &str, verdict: Verdict, req: Request, next: Next) -> Response {
    match verdict {
        _ if path == LOGIN_PATH => next.run(req).await,
        Verdict::Allowed => next.run(req).await,
        Verdict::Unauthorized(message) => {
            ApiError::new(StatusCode::UNAUTHORIZED, message).into_response()
        }
        Verdict::Forbidden(message) => {
            ApiError::new(StatusCode::FORBIDDEN, message).into_response()
        }
    }
}

fn fault_response(status: u16, fault: &FiredFault) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match &fault.body {
        Some(body) => {
            let ct = fault.content_type.clone().unwrap_or_else(|| {
                if body.trim_start().starts_with('<') {
                    "text/html;charset=UTF-8".into()
                } else {
                    "application/json;charset=UTF-8".into()
                }
            });
            let mut r = (status, body.clone()).into_response();
            if let Ok(v) = HeaderValue::from_str(&ct) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        None => {
            let message = match status.as_u16() {
                429 => "Too many requests",
                _ => "Injected fault",
            };
            let mut r = json_response(status, &error_body(status, message));
            if let Some(v) = fault
                .content_type
                .as_deref()
                .and_then(|c| HeaderValue::from_str(c).ok())
            {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
    };
    if let Some(secs) = fault.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

// ---- admin handlers ----

fn admin_json(body: Json) -> Response {
    json_response(StatusCode::OK, &body)
}

pub async fn reset(State(st): State<AppState>) -> Result<Response, ApiError> {
    tokio::task::spawn_blocking(move || st.reset())
        .await
        .map_err(|e| ApiError::internal(format!("reset failed: {e}")))??;
    Ok(admin_json(json!({"ok": true})))
}

fn dataset_summary(ds: &Dataset) -> Json {
    json!({"id": ds.id, "name": ds.name, "rowCount": ds.row_count, "schema": ds.schema_json()})
}

pub async fn state(State(st): State<AppState>) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let (datasets, uploads) = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>((
            st2.inner.store.datasets()?,
            st2.inner.store.uploads_summary()?,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(format!("state failed: {e}")))??;
    Ok(admin_json(json!({
        "datasets": datasets.iter().map(dataset_summary).collect::<Vec<_>>(),
        "uploads": uploads,
        "faults": st.faults_json(),
    })))
}

pub async fn add_fault(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let spec: FaultSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid fault rule: {e}")))?;
    let id = st.add_fault(spec)?;
    Ok(admin_json(json!({"id": id})))
}

pub async fn list_faults(State(st): State<AppState>) -> Response {
    admin_json(st.faults_json())
}

pub async fn clear_faults(State(st): State<AppState>) -> Response {
    st.clear_faults();
    admin_json(json!({"ok": true}))
}

pub async fn requests(State(st): State<AppState>) -> Response {
    admin_json(st.requests_json())
}

pub async fn clear_requests(State(st): State<AppState>) -> Response {
    st.clear_requests();
    admin_json(json!({"ok": true}))
}
