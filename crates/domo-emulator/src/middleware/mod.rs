//! The layers every request goes through before its route, outermost first:
//!
//! 1. `host`: the `Host` names this server; admin routes come from loopback and from no
//!    other site.
//! 2. `request_log`: API requests are logged with their answer.
//! 3. `authenticate`: API requests carry valid credentials for their API.
//! 4. `faults`: API requests are read whole, then may be delayed, failed or dropped.
//!
//! Which dataset a request may touch, and at which level, is declared per route where the
//! routes are registered (`access`), and checked after these.

mod authenticate;
mod faults;
mod host;
mod request_log;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

use crate::auth::Api;
use crate::state::AppState;

/// Parts are up to ~50 MB; leave generous room.
pub const BODY_LIMIT: usize = 512 * 1024 * 1024;

/// The admin routes' namespace.
const ADMIN: &str = "/_emulator";

/// Whether `path` is at or below `prefix`, segment-wise.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The API whose credentials a path takes, if it is an API path: `/api` is the instance
/// API, `/v1` and `/oauth` the public one (api.domo.com). These are the APIs' namespaces,
/// not a list of routes: a request is authenticated (and logged, and faultable) before
/// routing, so a caller without credentials learns nothing from a path, not even whether
/// a route is there. A test checks that every registered route falls in one of them.
pub(crate) fn api_of(path: &str) -> Option<Api> {
    if under(path, "/api") {
        Some(Api::Instance)
    } else if under(path, "/v1") || under(path, "/oauth") {
        Some(Api::Public)
    } else {
        None
    }
}

/// Whether `path` is an admin route's.
pub(crate) fn is_admin(path: &str) -> bool {
    under(path, ADMIN)
}

/// `router` behind the layers above, in their order.
pub(crate) fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    // The last layer added is the outermost.
    router
        .layer(from_fn_with_state(state.clone(), faults::layer))
        .layer(from_fn_with_state(state.clone(), authenticate::layer))
        .layer(from_fn_with_state(state.clone(), request_log::layer))
        .layer(from_fn_with_state(state.clone(), host::layer))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_match_whole_segments() {
        assert_eq!(api_of("/api"), Some(Api::Instance));
        assert_eq!(api_of("/api/data/v3/datasources/x"), Some(Api::Instance));
        assert_eq!(api_of("/v1/datasets"), Some(Api::Public));
        assert_eq!(api_of("/oauth/token"), Some(Api::Public));
        assert_eq!(api_of("/apix"), None);
        assert_eq!(api_of("/v10/x"), None);
        assert_eq!(api_of("/_emulator/state"), None);
        assert!(is_admin("/_emulator/state"));
        assert!(!is_admin("/_emulatorx"));
    }
}
