//! Access control declared where each route is registered: which path parameter (or body
//! field) names the dataset or stream a request is about, and which access level it
//! needs. The check reads the id through the same extractor the handler uses (axum's
//! `Path`, which percent-decodes), so the id checked is the id acted on: `%34` in an id
//! cannot name one dataset to the check and another to the handler.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde_json::{Value as Json, json};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::routes::blocking;
use crate::state::AppState;
use crate::store::{ADMIN_ID, rank};

/// Largest body read to find the dataset a body-addressed route is about.
const BODY_ID_LIMIT: usize = 1024 * 1024;

/// The access a request needs to the dataset it addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Any access (reads: metadata, queries, exports).
    View,
    /// CAN_EDIT (uploads, schema, properties, sharing).
    Edit,
    /// Co-ownership (deleting the dataset, giving ownership away).
    Own,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::View => "CAN_VIEW",
            Level::Edit => "CAN_EDIT",
            Level::Own => "CO_OWNER",
        }
    }
}

/// What a route is about, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Names no existing dataset (login, create, list): authentication is all it needs.
    Open,
    /// An `/_emulator/` route: loopback, same-host and same-origin checks apply instead.
    Admin,
    /// The dataset whose id is this path parameter.
    Dataset(&'static str, Level),
    /// The dataset behind the stream whose id is this path parameter.
    Stream(&'static str, Level),
    /// The dataset whose id is this field of the JSON body.
    BodyDataset(&'static str, Level),
}

impl Access {
    pub fn to_json(self) -> Json {
        let (kind, by, level) = match self {
            Access::Open => ("open", None, None),
            Access::Admin => ("admin", None, None),
            Access::Dataset(p, l) => ("dataset", Some(p), Some(l)),
            Access::Stream(p, l) => ("stream", Some(p), Some(l)),
            Access::BodyDataset(f, l) => ("body", Some(f), Some(l)),
        };
        json!({"kind": kind, "by": by, "level": level.map(Level::name)})
    }
}

/// One registered route: method, path template and declared access.
#[derive(Debug, Clone)]
pub struct Entry {
    pub method: &'static str,
    pub path: String,
    pub access: Access,
}

/// A router under construction that cannot take a route without its access.
pub struct Table {
    state: AppState,
    router: Router<AppState>,
    entries: Vec<Entry>,
}

impl Table {
    pub fn new(state: AppState) -> Self {
        Table {
            state,
            router: Router::new(),
            entries: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: &'static str, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            _ => MethodFilter::DELETE,
        };
        let guard = axum::middleware::from_fn_with_state((self.state.clone(), access), check);
        self.router = self.router.route(path, on(filter, handler.layer(guard)));
        self.entries.push(Entry {
            method,
            path: path.to_owned(),
            access,
        });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add("GET", p, a, h)
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add("POST", p, a, h)
    }
    pub fn put<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add("PUT", p, a, h)
    }
    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add("PATCH", p, a, h)
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add("DELETE", p, a, h)
    }

    /// The router and the list of what it serves.
    pub fn finish(self) -> (Router<AppState>, Vec<Entry>) {
        (self.router, self.entries)
    }
}

fn forbidden(message: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, message).into_response()
}

/// Refuses, with Domo's 403, a seeded user's request beyond their access to the dataset
/// the request addresses. The administrator may do anything.
async fn check(
    State((st, access)): State<(AppState, Access)>,
    req: Request,
    next: Next,
) -> Response {
    let level = match access {
        Access::Open | Access::Admin => return next.run(req).await,
        Access::Dataset(_, l) | Access::Stream(_, l) | Access::BodyDataset(_, l) => l,
    };
    let user = match req.extensions().get::<Caller>() {
        Some(c) if c.0 == ADMIN_ID => return next.run(req).await,
        Some(c) => c.0.clone(),
        // Every API request is authenticated before routing; a request that was not has
        // no business with a dataset.
        None => {
            return ApiError::new(StatusCode::UNAUTHORIZED, "authentication required")
                .into_response();
        }
    };
    let (mut parts, body) = req.into_parts();
    let (dataset, req) = match access {
        Access::Dataset(param, _) | Access::Stream(param, _) => {
            let params =
                match Path::<HashMap<String, String>>::from_request_parts(&mut parts, &()).await {
                    Ok(Path(p)) => p,
                    Err(e) => {
                        return ApiError::bad_request(format!("invalid path: {e}")).into_response();
                    }
                };
            let Some(id) = params.get(param).cloned() else {
                return ApiError::internal(format!("route declares no parameter '{param}'"))
                    .into_response();
            };
            let dataset = if matches!(access, Access::Stream(..)) {
                match stream_dataset(&st, &id).await {
                    Ok(Some(d)) => d,
                    // No such stream: the route answers its own 404.
                    Ok(None) => return next.run(Request::from_parts(parts, body)).await,
                    Err(e) => return e.into_response(),
                }
            } else {
                id
            };
            (dataset, Request::from_parts(parts, body))
        }
        Access::BodyDataset(field, _) => {
            let bytes = match to_bytes(body, BODY_ID_LIMIT).await {
                Ok(b) => b,
                Err(_) => {
                    return ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("the body must be at most {BODY_ID_LIMIT} bytes"),
                    )
                    .into_response();
                }
            };
            let id = serde_json::from_slice::<Json>(&bytes)
                .ok()
                .and_then(|v| match v.get(field) {
                    Some(Json::String(s)) => Some(s.clone()),
                    Some(Json::Number(n)) => Some(n.to_string()),
                    _ => None,
                });
            let req = Request::from_parts(parts, Body::from(bytes));
            match id {
                Some(id) => (id, req),
                // No dataset named: the handler answers its own 400.
                None => return next.run(req).await,
            }
        }
        Access::Open | Access::Admin => return next.run(Request::from_parts(parts, body)).await,
    };
    let have = {
        let (st, user, id) = (st.clone(), user.clone(), dataset.clone());
        blocking(move || st.inner.store.access_rank(&id, &user)).await
    };
    match have {
        Err(e) => e.into_response(),
        // No such dataset: the route answers its 404.
        Ok(None) => next.run(req).await,
        Ok(Some(have)) if have >= rank(level.name()) => next.run(req).await,
        Ok(Some(0)) => forbidden(format!(
            "User {user} does not have access to DataSource {dataset}"
        )),
        Ok(Some(_)) => forbidden(format!(
            "User {user} needs {} access to DataSource {dataset} for this request",
            level.name()
        )),
    }
}

/// The dataset behind stream `id`, if there is such a stream.
async fn stream_dataset(st: &AppState, id: &str) -> Result<Option<String>, ApiError> {
    let Ok(sid) = id.parse::<i64>() else {
        return Ok(None);
    };
    let st = st.clone();
    blocking(move || match st.inner.store.stream(sid) {
        Ok(s) => Ok(Some(s.dataset.id)),
        Err(e) if e.status == StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e),
    })
    .await
}
