//! Who may talk to the emulator at all: a `Host` that names this server on every request
//! (a page whose name was rebound to 127.0.0.1 names its own host), and, for the admin
//! routes, a loopback peer and no other site.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::is_admin;
use crate::errors::ApiError;
use crate::server::ConnCtl;
use crate::state::AppState;

/// The outermost layer: refuses what comes from elsewhere before anything is logged.
pub(crate) async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let ctl = req.extensions().get::<Arc<ConnCtl>>().cloned();
    if let Some(ctl) = &ctl
        && let Err(e) = check_host(req.headers(), ctl.local.port(), &st.inner.host)
    {
        return e.into_response();
    }
    if is_admin(req.uri().path()) {
        let remote = ctl.as_ref().is_some_and(|c| !c.peer.ip().is_loopback());
        if remote {
            return ApiError::new(StatusCode::FORBIDDEN, "admin routes are loopback-only")
                .into_response();
        }
        let port = ctl.as_ref().map(|c| c.local.port());
        if let Err(e) = check_admin_request(req.method(), req.headers(), port, &st.inner.host) {
            return e.into_response();
        }
    }
    next.run(req).await
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
