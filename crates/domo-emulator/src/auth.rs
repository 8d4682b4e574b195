//! Developer tokens, password login and session tokens.

use axum::http::HeaderMap;
use rand::Rng;

use crate::state::AppState;

pub const DEVELOPER_HEADER: &str = "x-domo-developer-token";
pub const SESSION_HEADER: &str = "x-domo-authentication";

/// Which credential a request presented (for the request log), and whether it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Developer,
    Session,
    None,
}

impl AuthKind {
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::Developer => "developer",
            AuthKind::Session => "session",
            AuthKind::None => "none",
        }
    }
}

/// Header names are matched case-insensitively by `HeaderMap` already.
pub fn check(state: &AppState, headers: &HeaderMap) -> (AuthKind, bool) {
    if let Some(v) = headers.get(DEVELOPER_HEADER) {
        let ok = v
            .to_str()
            .is_ok_and(|t| constant_time_eq(t, &state.inner.token));
        return (AuthKind::Developer, ok);
    }
    if let Some(v) = headers.get(SESSION_HEADER) {
        let ok = v.to_str().is_ok_and(|t| state.session_valid(t));
        return (AuthKind::Session, ok);
    }
    (AuthKind::None, false)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
