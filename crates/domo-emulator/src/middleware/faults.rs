//! Fault injection: a request that matches a fault rule is delayed, answered with the
//! rule's status, or has its connection dropped before or after it is served.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request_log::Note;
use super::{BODY_LIMIT, api_of};
use crate::errors::{ApiError, error_body, json_response};
use crate::server::ConnCtl;
use crate::state::{AppState, FiredFault};

/// Reads an API request's whole body, then applies the first fault rule that matches.
/// Reading the body first gives the log its size, and makes a dropped connection happen
/// after the request was fully sent, which is the ambiguous case (did the server act on
/// it?) clients must cope with.
pub(crate) async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if api_of(req.uri().path()).is_none() {
        return next.run(req).await;
    }
    let note = req.extensions().get::<Note>().cloned();
    let ctl = req.extensions().get::<Arc<ConnCtl>>().cloned();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
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
    if let Some(note) = &note {
        note.body(&path, &bytes);
    }
    let req = Request::from_parts(parts, Body::from(bytes));

    let Some(fault) = st.take_fault(&method, &path) else {
        return next.run(req).await;
    };
    if let Some(note) = &note {
        note.fault(fault.id);
    }
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    if let Some(status) = fault.status {
        return fault_response(status, &fault);
    }
    let status = if fault.drop {
        None
    } else {
        // The request is served in full (a commit is applied) before its reply is lost.
        let resp = next.run(req).await;
        if !fault.drop_reply {
            return resp;
        }
        Some(resp.status().as_u16())
    };
    match ctl {
        Some(ctl) => {
            // Logged before the connection goes, so a client that sees it gone finds the
            // entry; `status` is what the lost reply would have said, 0 when nothing was
            // served.
            if let Some(note) = &note {
                note.dropped(&st, status.unwrap_or(0));
            }
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

fn fault_response(status: u16, fault: &FiredFault) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match &fault.body {
        Some(body) => {
            let ct = fault.content_type.clone().unwrap_or_else(|| {
                if body.trim_ascii_start().starts_with(b"<") {
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
