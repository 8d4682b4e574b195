//! Credentials: developer tokens, password login and session tokens for the instance API
//! (`/api/...`); OAuth client credentials and bearer access tokens for the public API
//! (`/v1/...`), as pydomo uses it.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng;
use serde_json::Value as Json;

use crate::state::AppState;
use crate::store::ADMIN_ID;

pub const DEVELOPER_HEADER: &str = "x-domo-developer-token";
pub const SESSION_HEADER: &str = "x-domo-authentication";

/// The scopes a public-API client can ask for; a token without a scope asked for gets all.
pub const SCOPES: &[&str] = &[
    "data",
    "user",
    "audit",
    "dashboard",
    "account",
    "buzz",
    "workflow",
];

/// Which credential a request presented (for the request log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Developer,
    Session,
    Bearer,
    Basic,
    None,
}

impl AuthKind {
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::Developer => "developer",
            AuthKind::Session => "session",
            AuthKind::Bearer => "bearer",
            AuthKind::Basic => "basic",
            AuthKind::None => "none",
        }
    }
}

/// The two APIs take different credentials, as on Domo (instance host vs api.domo.com).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Instance,
    Public,
}

/// Whether a request may go on, and if not, with which status and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Unauthorized(&'static str),
    Forbidden(&'static str),
}

/// Header names are matched case-insensitively by `HeaderMap` already.
pub fn check(state: &AppState, headers: &HeaderMap, api: Api, path: &str) -> (AuthKind, Verdict) {
    match api {
        Api::Instance => check_instance(state, headers),
        Api::Public => check_public(state, headers, path),
    }
}

/// Who a request acts as: the administrator (`ADMIN_ID`) or a seeded user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// The user an authenticated request acts as. Only seeded users' developer tokens and
/// the access tokens their client credentials obtained name someone else than the
/// administrator.
pub fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    if let Some(user) = authorization(headers, "bearer").and_then(|t| state.access_token_user(&t)) {
        return Caller(user);
    }
    let token = headers.get(DEVELOPER_HEADER).and_then(|v| v.to_str().ok());
    match token {
        Some(t) if !constant_time_eq(t, &state.inner.token) => state
            .inner
            .store
            .user_by_token(t)
            .map_or_else(|| Caller(ADMIN_ID.into()), |u| Caller(u.id)),
        _ => Caller(ADMIN_ID.into()),
    }
}

fn check_instance(state: &AppState, headers: &HeaderMap) -> (AuthKind, Verdict) {
    if let Some(v) = headers.get(DEVELOPER_HEADER) {
        let ok = v.to_str().is_ok_and(|t| {
            constant_time_eq(t, &state.inner.token) || state.inner.store.user_by_token(t).is_some()
        });
        return (AuthKind::Developer, verdict(ok, "Invalid developer token"));
    }
    if let Some(v) = headers.get(SESSION_HEADER) {
        let ok = v.to_str().is_ok_and(|t| state.session_valid(t));
        return (
            AuthKind::Session,
            verdict(ok, "Invalid or expired session token"),
        );
    }
    (AuthKind::None, Verdict::Unauthorized(NO_CREDENTIALS))
}

const NO_CREDENTIALS: &str = "Full authentication is required to access this resource";

fn verdict(ok: bool, message: &'static str) -> Verdict {
    if ok {
        Verdict::Allowed
    } else {
        Verdict::Unauthorized(message)
    }
}

fn check_public(state: &AppState, headers: &HeaderMap, path: &str) -> (AuthKind, Verdict) {
    if let Some(token) = authorization(headers, "bearer") {
        let Some(scopes) = state.access_token_scopes(&token) else {
            return (
                AuthKind::Bearer,
                Verdict::Unauthorized("Invalid or expired access token"),
            );
        };
        let needs_data = ["/v1/datasets", "/v1/streams"]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")));
        if needs_data && !scopes.iter().any(|s| s == "data") {
            return (
                AuthKind::Bearer,
                Verdict::Forbidden("The access token does not have the 'data' scope"),
            );
        }
        return (AuthKind::Bearer, Verdict::Allowed);
    }
    if headers.contains_key(DEVELOPER_HEADER) {
        // A developer token is an instance credential; api.domo.com does not take it.
        return (
            AuthKind::Developer,
            Verdict::Unauthorized(
                "The public API takes an OAuth access token (Authorization: Bearer <token>)",
            ),
        );
    }
    (AuthKind::None, Verdict::Unauthorized(NO_CREDENTIALS))
}

/// The credentials of an `Authorization: <scheme> <credentials>` header, the scheme
/// matched case-insensitively (pydomo sends `bearer`, most clients `Bearer`).
fn authorization(headers: &HeaderMap, scheme: &str) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (s, rest) = v.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme)
        .then(|| rest.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The `(user, password)` of an HTTP Basic `Authorization` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = authorization(headers, "basic")?;
    let decoded = STANDARD.decode(encoded.as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

pub fn has_basic(headers: &HeaderMap) -> bool {
    authorization(headers, "basic").is_some()
}

/// A JWT-shaped token carrying `claims`. Its signature is random bytes: the emulator
/// recognises its tokens by looking them up, but clients (pydomo) read `exp` from the
/// payload to know when to renew, so the payload must be real base64url JSON.
pub fn jwt(claims: &Json) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signature: [u8; 32] = rand::rng().random();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature))
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn jwt_payload_is_readable_base64url_json() {
        let t = jwt(&serde_json::json!({"exp": 123, "scope": ["data"]}));
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let v: Json = serde_json::from_slice(&payload).unwrap();
        assert_eq!(v["exp"], 123);
        assert!(!t.contains('=') && !t.contains('+') && !t.contains('/'));
    }

    #[test]
    fn bearer_tokens_expire_and_need_the_data_scope() {
        let st = AppState::new(&crate::Config::default()).unwrap();
        let check = |token: &str, path: &str| {
            check_public(
                &st,
                &headers(&[("authorization", &format!("bearer {token}"))]),
                path,
            )
            .1
        };
        let live = st.remember_access_token(
            "live".into(),
            i64::MAX,
            vec!["data".into()],
            ADMIN_ID.into(),
        );
        assert_eq!(check(&live, "/v1/datasets/x"), Verdict::Allowed);
        let old = st.remember_access_token("old".into(), 1, vec!["data".into()], ADMIN_ID.into());
        assert!(matches!(
            check(&old, "/v1/datasets"),
            Verdict::Unauthorized(_)
        ));
        assert!(matches!(
            check("never-issued", "/v1/datasets"),
            Verdict::Unauthorized(_)
        ));
        let user = st.remember_access_token(
            "user".into(),
            i64::MAX,
            vec!["user".into()],
            ADMIN_ID.into(),
        );
        assert!(matches!(
            check(&user, "/v1/streams/1001"),
            Verdict::Forbidden(_)
        ));
        assert_eq!(check(&user, "/v1/users"), Verdict::Allowed);
        let (kind, v) = check_public(
            &st,
            &headers(&[(DEVELOPER_HEADER, crate::DEFAULT_TOKEN)]),
            "/v1/datasets",
        );
        assert_eq!(kind, AuthKind::Developer);
        assert!(matches!(v, Verdict::Unauthorized(_)));
    }

    #[test]
    fn basic_credentials_parse() {
        let h = headers(&[(
            "authorization",
            &format!("Basic {}", STANDARD.encode("a@b.c:p:w")),
        )]);
        assert_eq!(basic_credentials(&h), Some(("a@b.c".into(), "p:w".into())));
        assert_eq!(
            basic_credentials(&headers(&[("authorization", "Basic !!")])),
            None
        );
        assert_eq!(
            basic_credentials(&headers(&[("authorization", "Bearer x")])),
            None
        );
    }
}
