//! The `/_emulator/` admin routes, and the layer every request goes through: host and
//! origin checks, authentication, request log, fault injection.

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

/// Wraps every request. Whatever the path: the `Host` must name this server (a page
/// whose name was rebound to 127.0.0.1 names its own host). `/_emulator` requests must
/// come from loopback and from no other site. API requests (`/api`, `/v1`, `/oauth`) are
/// authenticated before their body is read, then logged, and may be faulted.
pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let ctl = req.extensions().get::<Arc<ConnCtl>>().cloned();
    if let Some(ctl) = &ctl
        && let Err(e) = check_host(req.headers(), ctl.local.port(), &st.inner.host)
    {
        return e.into_response();
    }
    if path.starts_with("/_emulator") {
        let remote = ctl.as_ref().is_some_and(|c| !c.peer.ip().is_loopback());
        if remote {
            return ApiError::new(StatusCode::FORBIDDEN, "admin routes are loopback-only")
                .into_response();
        }
        let port = ctl.as_ref().map(|c| c.local.port());
        if let Err(e) = check_admin_request(req.method(), req.headers(), port, &st.inner.host) {
            return e.into_response();
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
    } else if path == LOGIN_PATH {
        // Login checks the credentials in its body.
        (AuthKind::None, Verdict::Allowed)
    } else {
        auth::check(&st, req.headers(), api, &path)
    };
    let content_type = header_str(req.headers(), header::CONTENT_TYPE);
    let content_encoding = header_str(req.headers(), header::CONTENT_ENCODING);

    let log = |status: u16, bytes: &Bytes, fault: Option<u64>, dropped: bool| {
        // A query's SQL, so tests can check what a client sent.
        let sql = path
            .contains("/execute/")
            .then(|| serde_json::from_slice::<serde_json::Value>(bytes).ok())
            .flatten()
            .and_then(|v| v.get("sql")?.as_str().map(str::to_owned));
        st.log_request(json!({
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "auth": auth_kind.name(),
            "content_type": content_type,
            "content_encoding": content_encoding,
            "bytes": bytes.len(),
            "fault": fault,
            "dropped": dropped,
            "sql": sql,
        }));
    };

    // A request without valid credentials is answered before its body is read: nobody
    // unauthenticated can make the emulator hold a large body in memory.
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
        log(resp.status().as_u16(), &Bytes::new(), None, false);
        return resp;
    }

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
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    req.extensions_mut().insert(caller);

    let Some(fault) = st.take_fault(&method, &path) else {
        let resp = next.run(req).await;
        log(resp.status().as_u16(), &bytes, None, false);
        return resp;
    };
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    if let Some(status) = fault.status {
        let resp = fault_response(status, &fault);
        log(resp.status().as_u16(), &bytes, Some(fault.id), false);
        return resp;
    }
    let status = if fault.drop {
        None
    } else {
        // The request is served in full (a commit is applied) before its reply is lost.
        let resp = next.run(req).await;
        if !fault.drop_reply {
            log(resp.status().as_u16(), &bytes, Some(fault.id), false);
            return resp;
        }
        Some(resp.status().as_u16())
    };
    // `status` is what the lost reply would have said; 0 when nothing was served.
    log(status.unwrap_or(0), &bytes, Some(fault.id), true);
    match ctl {
        Some(ctl) => {
            ctl.kill();
            // The connection task drops this future along with the socket.
            std::future::pending().await
        }
        None => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "drop fault: this server was not started by Emulator::start",
        )
        .into_response(),
    }
}

/// The host part of a `Host` (or an origin's authority) and its port, if given.
fn split_host(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

/// Whether `authority` names this server: an IP address (a DNS name rebound to loopback
/// is not one), `localhost`, or the host it was configured to bind; with its port.
fn names_this_server(authority: &str, port: u16, bound_host: &str) -> bool {
    let Some((host, given_port)) = split_host(authority) else {
        return false;
    };
    let port_ok = match given_port {
        Some(p) => p.parse::<u16>().is_ok_and(|p| p == port),
        None => port == 80,
    };
    let bound = bound_host.trim_start_matches('[').trim_end_matches(']');
    port_ok
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host.eq_ignore_ascii_case("localhost")
            || host.eq_ignore_ascii_case(bound))
}

/// Refuses a request whose `Host` names another server (DNS rebinding). A request with no
/// `Host` at all (HTTP/1.0) cannot come from a browser page and is let through.
fn check_host(headers: &HeaderMap, port: u16, bound_host: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::HOST) else {
        return Ok(());
    };
    match value.to_str() {
        Ok(host) if names_this_server(host.trim(), port, bound_host) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "the Host header does not name this emulator",
        )),
    }
}

/// Admin routes change or wipe all state, so no other site may drive them: an `Origin`
/// must be this server's, and a request with a body must say it is JSON (which a form or
/// a simple cross-site `fetch` cannot do without a preflight the emulator never grants).
fn check_admin_request(
    method: &axum::http::Method,
    headers: &HeaderMap,
    port: Option<u16>,
    bound_host: &str,
) -> Result<(), ApiError> {
    let forbidden = |m: &str| Err(ApiError::new(StatusCode::FORBIDDEN, m.to_owned()));
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .zip(port)
            .is_some_and(|(authority, port)| names_this_server(authority, port, bound_host));
        if !same {
            return forbidden("admin routes refuse requests from another origin");
        }
    }
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return forbidden("admin routes refuse cross-site requests");
    }
    if *method != axum::http::Method::GET && *method != axum::http::Method::HEAD {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "admin requests other than GET must have Content-Type: application/json",
            ));
        }
    }
    Ok(())
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
