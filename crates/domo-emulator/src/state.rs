//! Shared server state: the store, sessions, fault rules and the request log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::Config;
use crate::errors::{ApiError, EmulatorError};
use crate::store::Store;

/// Session tokens live about 8 hours on the live service.
const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The request log is for tests; cap it so a long-running server does not grow forever.
const MAX_LOG_ENTRIES: usize = 100_000;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    /// The host the server was asked to bind, which a `Host` header may name.
    pub host: String,
    pub token: String,
    pub email: String,
    pub password: String,
    sessions: Mutex<HashMap<String, Instant>>,
    access_tokens: Mutex<HashMap<String, AccessToken>>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<Json>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Opens the store described by `config` (creating `data_dir` if needed).
    pub fn new(config: &Config) -> Result<AppState, EmulatorError> {
        let store = match &config.data_dir {
            Some(dir) => {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                // A folder the emulator creates is its owner's alone, like the file in it.
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
                    .create(dir)
                    .map_err(|source| EmulatorError::DataDir {
                        path: dir.clone(),
                        source,
                    })?;
                Store::open(Some(&dir.join("domo.sqlite")))?
            }
            None => Store::open(None)?,
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                host: config.host.clone(),
                token: config.token.clone(),
                email: config.email.clone(),
                password: config.password.clone(),
                sessions: Mutex::new(HashMap::new()),
                access_tokens: Mutex::new(HashMap::new()),
                faults: Mutex::new(Faults::default()),
                log: Mutex::new(Vec::new()),
            }),
        })
    }

    pub(crate) fn new_session(&self) -> String {
        let token = crate::auth::random_token(40);
        let mut sessions = lock(&self.inner.sessions);
        let now = Instant::now();
        sessions.retain(|_, t| now.duration_since(*t) < SESSION_TTL);
        sessions.insert(token.clone(), now);
        token
    }

    pub(crate) fn session_valid(&self, token: &str) -> bool {
        lock(&self.inner.sessions)
            .get(token)
            .is_some_and(|t| t.elapsed() < SESSION_TTL)
    }

    /// Records an issued OAuth access token, valid until `expires` (Unix seconds, the
    /// JWT's `exp`), acting as `user`, and returns it.
    pub(crate) fn remember_access_token(
        &self,
        token: String,
        expires: i64,
        scopes: Vec<String>,
        user: String,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut tokens = lock(&self.inner.access_tokens);
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(
            token.clone(),
            AccessToken {
                expires,
                scopes,
                user,
            },
        );
        token
    }

    /// The user a known, unexpired access token acts as.
    pub(crate) fn access_token_user(&self, token: &str) -> Option<String> {
        let now = chrono::Utc::now().timestamp();
        lock(&self.inner.access_tokens)
            .get(token)
            .filter(|t| t.expires > now)
            .map(|t| t.user.clone())
    }

    /// The scopes of a known, unexpired access token.
    pub(crate) fn access_token_scopes(&self, token: &str) -> Option<Vec<String>> {
        let now = chrono::Utc::now().timestamp();
        lock(&self.inner.access_tokens)
            .get(token)
            .filter(|t| t.expires > now)
            .map(|t| t.scopes.clone())
    }

    pub(crate) fn add_fault(&self, mut spec: FaultSpec) -> Result<u64, ApiError> {
        spec.validate()?;
        let mut f = lock(&self.inner.faults);
        f.next_id += 1;
        let id = f.next_id;
        // Held once and shared with every answer: a replayed body can be a whole export.
        let body = spec.body.take().map(Bytes::from);
        f.rules.push(FaultRule { id, spec, body });
        Ok(id)
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.inner.faults).rules.clear();
    }

    pub(crate) fn faults_json(&self) -> Json {
        Json::Array(
            lock(&self.inner.faults)
                .rules
                .iter()
                .map(FaultRule::to_json)
                .collect(),
        )
    }

    /// The fault to apply to this request, if a rule fires; consumes one use of it.
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FiredFault> {
        let mut f = lock(&self.inner.faults);
        let mut fired = None;
        for (i, rule) in f.rules.iter_mut().enumerate() {
            if !rule.spec.matches(method, path) {
                continue;
            }
            if rule.spec.skip > 0 {
                rule.spec.skip -= 1;
                continue;
            }
            fired = Some(i);
            break;
        }
        let i = fired?;
        let rule = &mut f.rules[i];
        let out = FiredFault {
            id: rule.id,
            status: rule.spec.status,
            retry_after: rule.spec.retry_after,
            delay: Duration::from_millis(rule.spec.delay_ms),
            drop: rule.spec.drop,
            drop_reply: rule.spec.drop_reply,
            body: rule.body.clone(),
            content_type: rule.spec.content_type.clone(),
        };
        // count <= 0 means the rule fires until cleared.
        if rule.spec.count > 0 {
            rule.spec.count -= 1;
            if rule.spec.count == 0 {
                f.rules.remove(i);
            }
        }
        Some(out)
    }

    pub(crate) fn log_request(&self, entry: Json) {
        let mut log = lock(&self.inner.log);
        if log.len() >= MAX_LOG_ENTRIES {
            log.remove(0);
        }
        log.push(entry);
    }

    pub(crate) fn requests_json(&self) -> Json {
        Json::Array(lock(&self.inner.log).clone())
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.inner.log).clear();
    }

    /// Back to an empty Domo: data, uploads, faults and the request log; config stays.
    pub(crate) fn reset(&self) -> Result<(), ApiError> {
        self.inner.store.reset()?;
        self.clear_faults();
        self.clear_requests();
        Ok(())
    }
}

struct AccessToken {
    expires: i64,
    scopes: Vec<String>,
    /// The user whose client credentials obtained it, whom its requests act as.
    user: String,
}

#[derive(Default)]
struct Faults {
    next_id: u64,
    rules: Vec<FaultRule>,
}

struct FaultRule {
    id: u64,
    spec: FaultSpec,
    /// The spec's body, taken out of it.
    body: Option<Bytes>,
}

impl FaultRule {
    fn to_json(&self) -> Json {
        let s = &self.spec;
        json!({
            "id": self.id, "method": s.method, "path": s.path, "status": s.status,
            "retry_after": s.retry_after, "delay_ms": s.delay_ms, "drop": s.drop,
            "drop_reply": s.drop_reply,
            "count": s.count, "skip": s.skip,
            "body": self.body.as_deref().map(String::from_utf8_lossy),
            "content_type": s.content_type,
        })
    }
}

fn one() -> i64 {
    1
}

/// The body of `POST /_emulator/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub drop: bool,
    /// Serve the request in full (a commit is applied), then close the connection
    /// without sending the reply: the "applied, answer lost" case.
    #[serde(default)]
    pub drop_reply: bool,
    #[serde(default = "one")]
    pub count: i64,
    #[serde(default)]
    pub skip: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

impl FaultSpec {
    fn validate(&self) -> Result<(), ApiError> {
        if !self.path.starts_with('/') {
            return Err(ApiError::bad_request("fault path must start with '/'"));
        }
        if let Some(s) = self.status.filter(|s| !(100..=599).contains(s)) {
            return Err(ApiError::bad_request(format!("invalid status {s}")));
        }
        if (self.drop || self.drop_reply) && self.status.is_some() {
            return Err(ApiError::bad_request(
                "a fault either drops the connection or answers a status, not both",
            ));
        }
        if self.drop && self.drop_reply {
            return Err(ApiError::bad_request(
                "a fault drops the connection either before serving (drop) or after (drop_reply), not both",
            ));
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        let pat: Vec<&str> = self.path.split('/').collect();
        let segs: Vec<&str> = path.split('/').collect();
        glob_segments(&pat, &segs)
    }
}

pub(crate) struct FiredFault {
    pub id: u64,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay: Duration,
    pub drop: bool,
    pub drop_reply: bool,
    pub body: Option<Bytes>,
    pub content_type: Option<String>,
}

/// `**` matches any number of segments; within a segment `*` matches any run of
/// characters.
fn glob_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|k| glob_segments(rest, &segs[k..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => glob_one(p.as_bytes(), s.as_bytes()) && glob_segments(rest, srest),
            None => false,
        },
    }
}

fn glob_one(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|k| glob_one(rest, &s[k..])),
        Some((c, rest)) => s.first() == Some(c) && glob_one(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        let pat: Vec<&str> = p.split('/').collect();
        let segs: Vec<&str> = s.split('/').collect();
        glob_segments(&pat, &segs)
    }

    #[test]
    fn globs() {
        let commit = "/api/data/v3/datasources/*/uploads/*/commit";
        assert!(m(commit, "/api/data/v3/datasources/abc/uploads/3/commit"));
        assert!(!m(commit, "/api/data/v3/datasources/abc/uploads/3/parts/1"));
        assert!(!m(commit, "/api/data/v3/datasources/a/b/uploads/3/commit"));
        assert!(m("/api/**", "/api/data/v3/datasources/a"));
        assert!(m("/api/**/commit", "/api/x/y/commit"));
        assert!(m("/api/query/v1/execute/*", "/api/query/v1/execute/x"));
        assert!(m("/api/*/v*/x", "/api/data/v3/x"));
        assert!(!m("/api/*", "/api/a/b"));
    }
}
