//! HTTP to Domo: base URLs, credentials, timeouts, retries, and turning answers into errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::error::{self, Error, RequestInfo, Result};
use crate::oauth::OAuth;
use crate::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use crate::routes::Route;

/// The package version, sent in the User-Agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A secret that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Result<Secret> {
        let value = value.into();
        if value.trim().is_empty() {
            return Err(Error::invalid("the token is empty"));
        }
        if HeaderValue::from_str(&value).is_err() {
            return Err(Error::invalid(
                "the token contains characters that cannot be sent in an HTTP header",
            ));
        }
        Ok(Secret(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How requests prove who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A developer access token, sent as `X-DOMO-Developer-Token`.
    DeveloperToken(Secret),
    /// A session token from a login, sent as `X-DOMO-Authentication`.
    SessionToken(Secret),
    /// An OAuth client of the public API: its access token is sent as
    /// `Authorization: Bearer`.
    OAuth(Arc<OAuth>),
    /// No credentials (only the login request itself).
    None,
}

impl Credentials {
    /// Whether requests go to the public API (`api.domo.com`, `/v1/...`) rather than an
    /// instance's own API (`/api/...`).
    pub fn is_public_api(&self) -> bool {
        matches!(self, Credentials::OAuth(_))
    }

    /// The texts to mask in errors.
    fn secrets(&self) -> Vec<Secret> {
        match self {
            Credentials::DeveloperToken(s) | Credentials::SessionToken(s) => vec![s.clone()],
            Credentials::OAuth(o) => o.secrets(),
            Credentials::None => Vec::new(),
        }
    }
}

/// A header carrying a credential, marked sensitive so that it is never logged.
fn secret_header(name: &'static str, value: &str) -> Option<(&'static str, HeaderValue)> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some((name, value))
}

/// The header a request carries, and the access token in it, if any.
type Auth = (Option<(&'static str, HeaderValue)>, Option<Secret>);

/// The most redirects one request follows (all to the base URL's origin).
pub const MAX_REDIRECTS: usize = 5;

/// Settings of a client's HTTP side.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// The longest wait for any read on an open connection.
    pub read_timeout: Duration,
    /// The longest one request may take, from its first attempt to the last byte of its
    /// answer, retries included; `None` for no limit. Unlike `read_timeout`, a server
    /// sending a byte now and then does not extend it.
    pub deadline: Option<Duration>,
    /// The most bytes a whole answer read into memory (a query's rows, a JSON answer) may
    /// have once decompressed. Exports stream and are not bounded by it.
    pub max_answer_bytes: u64,
    /// The longest one record (row) of an export may be, in bytes: a record that does not
    /// end (an unclosed quote) fails there instead of filling memory.
    pub max_record_bytes: u64,
    pub retry: RetryPolicy,
    pub verify_tls: bool,
    /// Appended to `domo-datasets/<version>`.
    pub user_agent: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(300),
            deadline: None,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            retry: RetryPolicy::default(),
            verify_tls: true,
            user_agent: None,
        }
    }
}

/// The default of [`ClientOptions::max_answer_bytes`]: 2 GiB.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 2 << 30;

/// The default of [`ClientOptions::max_record_bytes`]: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 << 20;

impl ClientOptions {
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("connect_timeout", Some(self.connect_timeout)),
            ("read_timeout", Some(self.read_timeout)),
            ("deadline", self.deadline),
        ] {
            if value.is_some_and(|v| v.is_zero()) {
                return Err(Error::invalid(format!("{name} must be greater than zero")));
            }
        }
        for (name, value) in [
            ("max_answer_bytes", self.max_answer_bytes),
            ("max_record_bytes", self.max_record_bytes),
        ] {
            if value == 0 {
                return Err(Error::invalid(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }
}

/// The base URL for an instance name (`acme` -> `https://acme.domo.com`) or a full URL.
pub fn base_url(instance: &str) -> Result<String> {
    let instance = instance.trim();
    if instance.is_empty() {
        return Err(Error::invalid(
            "instance is empty: give an instance name like \"acme\" or a URL like \"https://acme.domo.com\"",
        ));
    }
    if instance.contains("://") {
        let url = Url::parse(instance)
            .map_err(|e| Error::invalid(format!("instance URL {instance:?} is not valid: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid(format!(
                "instance URL must start with http:// or https://, not {}://",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::invalid(format!(
                "instance URL {instance:?} has no host"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(
                "instance URL must not contain credentials; pass token= instead",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid(format!(
                "instance URL {instance:?} must not have a query or fragment"
            )));
        }
        return Ok(url.as_str().trim_end_matches('/').to_string());
    }
    let host = instance.trim_end_matches('/');
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    if host.contains('.') {
        if !host.split('.').all(valid) {
            return Err(Error::invalid(format!(
                "instance host {instance:?} is not valid"
            )));
        }
        return Ok(format!("https://{}", host.to_ascii_lowercase()));
    }
    if !valid(host) {
        return Err(Error::invalid(format!(
            "instance name {instance:?} is not valid: use letters, digits and '-' (as in acme.domo.com), or a full URL"
        )));
    }
    Ok(format!("https://{}.domo.com", host.to_ascii_lowercase()))
}

/// What a request sends.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    /// CSV text, gzip-compressed or not.
    Csv {
        data: Bytes,
        gzip: bool,
    },
}

/// One logical request; it may be sent more than once if it is idempotent.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    method: Method,
    url: Url,
    body: Body,
    accept: &'static str,
    /// Safe to send again after a failure that may have reached the server.
    idempotent: bool,
}

impl Call {
    pub fn new(method: Method, url: Url) -> Call {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE
        );
        Call {
            method,
            url,
            body: Body::Empty,
            accept: "application/json",
            idempotent,
        }
    }

    pub fn json(self, value: &impl serde::Serialize) -> Result<Call> {
        let data = serde_json::to_vec(value)
            .map_err(|e| Error::invalid(format!("request body cannot be encoded: {e}")))?;
        Ok(self.body(Body::Json(data.into())))
    }

    pub fn body(mut self, body: Body) -> Call {
        self.body = body;
        self
    }

    /// Marks a request that may be sent again after a failure that may have reached the
    /// server: one that changes nothing, or that leaves the same state however often it
    /// is repeated (GET, PUT and DELETE are, by default).
    pub fn idempotent(mut self) -> Call {
        self.idempotent = true;
        self
    }

    pub fn accept(mut self, accept: &'static str) -> Call {
        self.accept = accept;
        self
    }

    /// Marks a request that must never be sent twice (a commit, a create).
    pub fn once(mut self) -> Call {
        self.idempotent = false;
        self
    }

    pub fn info(&self) -> RequestInfo {
        RequestInfo {
            method: self.method.to_string(),
            url: self.url.to_string(),
        }
    }
}

/// Sends calls to one Domo instance through one connection pool.
///
/// Requests go to the base URL's origin only: a redirect is followed when it stays on
/// that origin (scheme, host and port), checked at every hop, at most [`MAX_REDIRECTS`]
/// times; a redirect elsewhere is an error and is not requested, so neither the token nor
/// the request body reaches another server.
#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    retry: RetryPolicy,
    deadline: Option<Duration>,
    max_answer_bytes: u64,
    max_record_bytes: u64,
}

impl Transport {
    pub fn new(
        instance: &str,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Transport> {
        options.validate()?;
        let base = Url::parse(&base_url(instance)?)
            .map_err(|e| Error::invalid(format!("instance URL is not valid: {e}")))?;
        let mut agent = format!("domo-datasets/{VERSION}");
        if let Some(extra) = options
            .user_agent
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            agent.push(' ');
            agent.push_str(extra.trim());
        }
        let origin = base.origin();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if attempt.url().origin() == origin {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .user_agent(agent)
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .tls_danger_accept_invalid_certs(!options.verify_tls)
            .build()
            .map_err(|e| Error::invalid(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Transport {
            http,
            base,
            credentials,
            retry: options.retry.clone(),
            deadline: options.deadline,
            max_answer_bytes: options.max_answer_bytes,
            max_record_bytes: options.max_record_bytes,
        })
    }

    /// See [`ClientOptions::max_record_bytes`].
    pub(crate) fn max_record_bytes(&self) -> u64 {
        self.max_record_bytes
    }

    /// `err` without the credential in any text a server put in it.
    pub(crate) fn scrub(&self, err: Error) -> Error {
        self.credentials
            .secrets()
            .iter()
            .fold(err, |err, s| err.scrub(s.expose()))
    }

    /// The header proving who asks; for an OAuth client, a valid access token (obtained
    /// first if none is kept, or if `refused` is the kept one).
    async fn auth(&self, refused: Option<&Secret>) -> Result<Auth> {
        Ok(match &self.credentials {
            Credentials::DeveloperToken(s) => {
                (secret_header("X-DOMO-Developer-Token", s.expose()), None)
            }
            Credentials::SessionToken(s) => {
                (secret_header("X-DOMO-Authentication", s.expose()), None)
            }
            Credentials::OAuth(o) => {
                let token = o
                    .access_token(refused, || self.request_token(o))
                    .await
                    .map_err(|e| self.scrub(e))?;
                let value = format!("Bearer {}", token.expose());
                (secret_header("Authorization", &value), Some(token))
            }
            Credentials::None => (None, None),
        })
    }

    /// Obtains the credential a request needs, if it is obtained (an OAuth access token).
    pub(crate) async fn authenticate(&self) -> Result<()> {
        self.auth(None).await.map(drop)
    }

    /// Asks `/oauth/token` for an access token with the client's id and secret (HTTP
    /// Basic), retrying what is safe to retry as for any request: asking twice is harmless.
    async fn request_token(&self, oauth: &OAuth) -> Result<(Secret, Duration)> {
        let scope = oauth.scope_param();
        let url = self.url(
            &crate::routes::OAUTH_TOKEN,
            &[],
            &[("grant_type", "client_credentials"), ("scope", &scope)],
        );
        let call = Call::new(Method::GET, url);
        let basic = format!(
            "Basic {}",
            base64_encode(format!("{}:{}", oauth.client_id(), oauth.secret().expose()).as_bytes())
        );
        // Sent once, without the retry loop (which asks for tokens itself).
        let response = self
            .send_once(&call, secret_header("Authorization", &basic))
            .await
            .map_err(|e| transport_error(e, &call.info()))?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let content_type = header_text(&response, CONTENT_TYPE);
            let body = read_error_body(response).await;
            return Err(error::from_response(
                status,
                &content_type,
                &body,
                call.info(),
            ));
        }
        let content_type = header_text(&response, CONTENT_TYPE);
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(e, &call.info()))?;

        #[derive(serde::Deserialize)]
        struct Granted {
            access_token: String,
            #[serde(default)]
            expires_in: Option<f64>,
        }
        let granted: Granted = decode_json(&body, &content_type, status, &call)?;
        let token = Secret::new(granted.access_token).map_err(|_| Error::UnexpectedResponse {
            message: "Domo's token answer has no usable access_token".into(),
            status,
            request: call.info(),
            body: None,
        })?;
        // Domo's tokens live an hour; an answer without a lifetime is taken to be that.
        let lifetime = granted
            .expires_in
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(Duration::from_secs(3600), |s| {
                Duration::from_secs_f64(s.min(86_400.0 * 365.0))
            });
        Ok((token, lifetime))
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The URL of `route` followed by the segments `rest` below the base; each segment is
    /// percent-encoded whole, so an id cannot add path parts.
    pub(crate) fn url(&self, route: &Route, rest: &[&str], query: &[(&str, &str)]) -> Url {
        // An OAuth client talks to the public API only, any other to its instance's.
        debug_assert_eq!(
            route.api == crate::routes::Api::Public,
            self.credentials.is_public_api(),
            "{route:?} called by a client of the other API"
        );
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(route.path).extend(rest);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends a call, retrying what is safe to retry, and returns a successful answer whose
    /// body has not been read yet (its reads keep to the call's deadline).
    pub(crate) async fn send(&self, call: &Call) -> Result<Answer> {
        if self.credentials.is_public_api() {
            let base = self.base.path().trim_end_matches('/');
            let route = call
                .url
                .path()
                .strip_prefix(base)
                .unwrap_or(call.url.path());
            if route.starts_with("/api/") {
                // The method's route belongs to the instance API: say so before sending.
                return Err(crate::public::instance_only(&format!(
                    "This method ({} {route})",
                    call.method
                )));
            }
        }
        let deadline = self.deadline.map(|d| Instant::now() + d);
        let sent = match deadline {
            Some(at) => tokio::time::timeout_at(at, self.send_retrying(call, None))
                .await
                .unwrap_or_else(|_| Err(deadline_error(&call.info(), self.deadline))),
            None => self.send_retrying(call, None).await,
        };
        let response = sent.map_err(|e| self.scrub(e))?;
        Ok(Answer {
            content_type: header_text(&response, CONTENT_TYPE),
            status: response.status().as_u16(),
            response,
            deadline,
            limit: self.deadline,
            max_answer_bytes: self.max_answer_bytes,
            request: call.info(),
            secrets: self.credentials.secrets(),
        })
    }

    /// Sends with the client's credentials, or with `auth` when given (the token request).
    async fn send_retrying(&self, call: &Call, auth: Option<Auth>) -> Result<Response> {
        let started = std::time::Instant::now();
        let mut retry = 0u32;
        let mut refused: Option<Secret> = None;
        loop {
            let (header, token) = match &auth {
                Some(given) => given.clone(),
                None => self.auth(refused.as_ref()).await?,
            };
            let outcome = self.send_once(call, header).await;
            let (err, retry_after) = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                // An access token refused (revoked, or expired early) is renewed once; the
                // request was not carried out, so even a commit may be sent again.
                Ok(response)
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED
                        && refused.is_none()
                        && token.is_some() =>
                {
                    log::info!(
                        "{} {}: access token refused; renewing it",
                        call.method,
                        call.url
                    );
                    refused = token;
                    continue;
                }
                Ok(response) if response.status().is_redirection() => {
                    return Err(redirect_error(&response, &self.base, call));
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    let content_type = header_text(&response, CONTENT_TYPE);
                    let body = read_error_body(response).await;
                    let err = self.scrub(error::from_response(
                        status,
                        &content_type,
                        &body,
                        call.info(),
                    ));
                    if !(call.idempotent && is_retryable(&err)) {
                        return Err(err);
                    }
                    (err, retry_after)
                }
                Err(e) => {
                    // A failed connect never reached the server, so even a commit may be re-sent.
                    let safe = call.idempotent || e.is_connect();
                    let err = self.scrub(transport_error(e, &call.info()));
                    if !safe {
                        return Err(err);
                    }
                    (err, None)
                }
            };
            let Some(wait) = self.retry.delay(retry, started.elapsed(), retry_after) else {
                return Err(err);
            };
            log::warn!(
                "{} {} failed ({err}); retry {} of {} in {:.2}s",
                call.method,
                call.url,
                retry + 1,
                self.retry.max_retries,
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    async fn send_once(
        &self,
        call: &Call,
        auth: Option<(&'static str, HeaderValue)>,
    ) -> reqwest::Result<Response> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, call.accept);
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        request = match &call.body {
            Body::Empty => request,
            Body::Json(data) => request
                .header(CONTENT_TYPE, "application/json")
                .body(data.clone()),
            Body::Csv { data, gzip } => {
                let request = request.header(CONTENT_TYPE, "text/csv");
                let request = if *gzip {
                    request.header(CONTENT_ENCODING, "gzip")
                } else {
                    request
                };
                request.body(data.clone())
            }
        };
        log::debug!("{} {}", call.method, call.url);
        request.send().await
    }

    /// Sends a call and decodes its JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let (body, content_type, status) = self.bytes(call).await?;
        decode_json(&body, &content_type, status, call).map_err(|e| self.scrub(e))
    }

    /// Sends a call and reads its whole answer (at most `max_answer_bytes` of it).
    pub(crate) async fn bytes(&self, call: &Call) -> Result<(Bytes, String, u16)> {
        let mut answer = self.send(call).await?;
        answer.check_size(answer.content_length().unwrap_or(0))?;
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = answer.chunk().await? {
            answer.check_size(body.len() as u64 + chunk.len() as u64)?;
            body.extend_from_slice(&chunk);
        }
        Ok((body.freeze(), answer.content_type, answer.status))
    }
}

/// A successful answer whose body is read chunk by chunk, within the call's deadline.
pub(crate) struct Answer {
    response: Response,
    pub content_type: String,
    pub status: u16,
    deadline: Option<Instant>,
    limit: Option<Duration>,
    max_answer_bytes: u64,
    request: RequestInfo,
    secrets: Vec<Secret>,
}

impl Answer {
    /// The next piece of the body (decompressed), or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let next = match self.deadline {
            Some(at) => match tokio::time::timeout_at(at, self.response.chunk()).await {
                Ok(next) => next,
                Err(_) => return Err(self.fail(deadline_error(&self.request, self.limit))),
            },
            None => self.response.chunk().await,
        };
        next.map_err(|e| self.fail(transport_error(e, &self.request)))
    }

    /// A header of the answer, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name)?.to_str().ok()
    }

    /// The length the server announced, if any (not checked against what comes).
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// An error unless an answer of `read` bytes may be read whole
    /// (`ClientOptions::max_answer_bytes`).
    pub fn check_size(&self, read: u64) -> Result<()> {
        if read > self.max_answer_bytes {
            let err = too_large(self.status, &self.request, self.max_answer_bytes);
            return Err(self.fail(err));
        }
        Ok(())
    }

    /// The request this answers.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// `err`, about this answer, without the credential in its text.
    pub fn fail(&self, err: Error) -> Error {
        self.secrets
            .iter()
            .fold(err, |err, s| err.scrub(s.expose()))
    }
}

/// Standard base64 (with padding), for HTTP Basic credentials.
fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn too_large(status: u16, request: &RequestInfo, max: u64) -> Error {
    Error::AnswerTooLarge {
        message: format!(
            "the answer is larger than max_answer_bytes ({max} bytes once decompressed); \
             raise the client's max_answer_bytes if it is expected"
        ),
        status,
        request: request.clone(),
    }
}

fn deadline_error(request: &RequestInfo, limit: Option<Duration>) -> Error {
    let limit = limit.map_or(0.0, |d| d.as_secs_f64());
    Error::Transport {
        message: format!(
            "{request}: timed out (no complete answer within the deadline of {limit} s)"
        ),
        timeout: true,
        sent: true,
        request: request.clone(),
    }
}

/// The error for a redirect that leaves the base URL's origin, which is not followed.
fn redirect_error(response: &Response, base: &Url, call: &Call) -> Error {
    let status = response.status().as_u16();
    // The other server's origin only: its path and query are its own business.
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| response.url().join(v).ok())
        .map_or_else(
            || "a location that cannot be read".to_string(),
            |url| url.origin().ascii_serialization(),
        );
    Error::UnexpectedResponse {
        message: format!(
            "Domo answered HTTP {status}, a redirect to {target}, which is not followed: \
             requests and credentials go to {} only",
            base.origin().ascii_serialization(),
        ),
        status,
        request: call.info(),
        body: None,
    }
}

/// Decodes a successful JSON answer, naming HTML pages and wrong shapes clearly.
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    content_type: &str,
    status: u16,
    call: &Call,
) -> Result<T> {
    if error::looks_like_html(content_type, body) {
        return Err(error::html_error(status, body, call.info()));
    }
    serde_json::from_slice(body).map_err(|e| Error::UnexpectedResponse {
        message: format!("Domo's answer is not the JSON this endpoint returns: {e}"),
        status,
        request: call.info(),
        body: error::keep_body(body),
    })
}

fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Api(api) => {
            is_retryable_status(api.status)
                || api.status == 403 && error::is_rate_limit_message(&api.message)
        }
        _ => false,
    }
}

pub(crate) fn header_text(response: &Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Reads at most a little of an error body: it is for the message, not for data.
async fn read_error_body(mut response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= 64 * 1024 {
            break;
        }
    }
    body
}

pub(crate) fn transport_error(e: reqwest::Error, request: &RequestInfo) -> Error {
    let timeout = e.is_timeout();
    let sent = !e.is_connect();
    let what = if timeout {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut short"
    } else {
        "the request failed"
    };
    // reqwest's own message can include the URL; ours has it too, without credentials.
    let mut cause = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let message = if cause.is_empty() {
        format!("{request}: {what}")
    } else {
        format!("{request}: {what} ({cause})")
    };
    Error::Transport {
        message,
        timeout,
        sent,
        request: request.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_become_domo_hosts() {
        assert_eq!(base_url("acme").unwrap(), "https://acme.domo.com");
        assert_eq!(
            base_url(" Acme-Corp ").unwrap(),
            "https://acme-corp.domo.com"
        );
        assert_eq!(base_url("acme.domo.com/").unwrap(), "https://acme.domo.com");
    }

    #[test]
    fn full_urls_are_kept_without_trailing_slashes() {
        assert_eq!(
            base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080///").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url("https://proxy.local/domo/").unwrap(),
            "https://proxy.local/domo"
        );
    }

    #[test]
    fn bad_instances_are_refused() {
        for bad in [
            "",
            "  ",
            "ftp://x",
            "http://",
            "acme corp",
            "https://u:p@acme.domo.com",
            "-x",
            "http://h/?q=1",
        ] {
            assert!(base_url(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn urls_encode_each_segment() {
        let t = Transport::new(
            "http://127.0.0.1:1/prefix/",
            Credentials::None,
            &ClientOptions::default(),
        )
        .unwrap();
        let url = t.url(
            &crate::routes::STREAMS,
            &["a/b c"],
            &[("includeHeader", "true")],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/prefix/api/data/v1/streams/a%2Fb%20c?includeHeader=true"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("super-secret-token").unwrap();
        assert!(!format!("{s:?}").contains("super"));
        let c = Credentials::DeveloperToken(s);
        assert!(!format!("{c:?}").contains("super"));
        assert!(Secret::new("").is_err());
        assert!(Secret::new("a\nb").is_err());
    }

    #[test]
    fn basic_credentials_are_base64() {
        // RFC 4648 test vectors.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn only_safe_methods_are_idempotent() {
        let url = Url::parse("http://x/").unwrap();
        assert!(Call::new(Method::GET, url.clone()).idempotent);
        assert!(Call::new(Method::PUT, url.clone()).idempotent);
        assert!(!Call::new(Method::POST, url.clone()).idempotent);
        assert!(!Call::new(Method::PUT, url).once().idempotent);
    }
}
