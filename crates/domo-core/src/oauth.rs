//! OAuth client credentials for Domo's public API (`api.domo.com`): the access token is
//! asked for once, kept, and asked for again shortly before it expires or when Domo
//! refuses it.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::transport::Secret;

/// The host of Domo's public API.
pub const DEFAULT_API_HOST: &str = "api.domo.com";

/// How long before its expiry a token is renewed: a request started just before the
/// expiry must not arrive just after it.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// A client id and secret, and the access token they last obtained.
pub struct OAuth {
    client_id: String,
    secret: Secret,
    scopes: Vec<String>,
    cache: Mutex<Tokens>,
    /// One token request at a time: concurrent calls wait for it instead of each asking.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Tokens {
    current: Option<(Secret, Instant)>,
    /// The token before the current one, still masked in errors about requests that used it.
    previous: Option<Secret>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl PartialEq for OAuth {
    fn eq(&self, other: &Self) -> bool {
        self.client_id == other.client_id
            && self.secret == other.secret
            && self.scopes == other.scopes
    }
}

impl Eq for OAuth {}

impl OAuth {
    /// Checks the credentials and scopes; asks for nothing yet.
    pub fn new(client_id: &str, client_secret: &str, scopes: &[String]) -> Result<OAuth> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(Error::invalid("the OAuth client id is empty"));
        }
        // HTTP Basic credentials are `id:secret`: a colon in the id would split it wrongly.
        if client_id.contains(':') || client_id.chars().any(char::is_control) {
            return Err(Error::invalid(
                "the OAuth client id must not contain ':' or control characters",
            ));
        }
        if client_secret.is_empty() {
            return Err(Error::invalid("the OAuth client secret is empty"));
        }
        let secret = Secret::new(client_secret)
            .map_err(|_| Error::invalid("the OAuth client secret cannot be sent in a header"))?;
        if scopes.is_empty() {
            return Err(Error::invalid(
                "scopes is empty: give at least one, such as (\"data\",)",
            ));
        }
        let mut checked = Vec::with_capacity(scopes.len());
        for scope in scopes {
            let scope = scope.trim().to_ascii_lowercase();
            if scope.is_empty() || !scope.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(Error::invalid(format!(
                    "{scope:?} is not an OAuth scope (scopes are words such as data, user, audit)"
                )));
            }
            if !checked.contains(&scope) {
                checked.push(scope);
            }
        }
        Ok(OAuth {
            client_id: client_id.to_owned(),
            secret,
            scopes: checked,
            cache: Mutex::new(Tokens::default()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The scopes as the token request's `scope` parameter.
    pub(crate) fn scope_param(&self) -> String {
        self.scopes.join(" ")
    }

    /// The texts to mask in errors: the client secret and the tokens it obtained.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let tokens = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = vec![self.secret.clone()];
        out.extend(tokens.current.as_ref().map(|(t, _)| t.clone()));
        out.extend(tokens.previous.clone());
        out
    }

    /// The kept token, unless it is about to expire or is `refused`.
    fn kept(&self, refused: Option<&Secret>) -> Option<Secret> {
        let tokens = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (token, renew_at) = tokens.current.as_ref()?;
        (Instant::now() < *renew_at && Some(token) != refused).then(|| token.clone())
    }

    /// A valid access token: the kept one, or one obtained by `fetch` (which answers the
    /// token and its lifetime). `refused` is a token Domo answered 401 to; it is not
    /// given again.
    pub(crate) async fn access_token<F, Fut>(
        &self,
        refused: Option<&Secret>,
        fetch: F,
    ) -> Result<Secret>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Secret, Duration)>>,
    {
        if let Some(token) = self.kept(refused) {
            return Ok(token);
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Another call may have renewed it while this one waited.
        if let Some(token) = self.kept(refused) {
            return Ok(token);
        }
        let (token, lifetime) = fetch().await?;
        // A token living less than twice the margin is renewed halfway through its life.
        let early = RENEW_MARGIN.min(lifetime / 2);
        let renew_at = Instant::now() + lifetime.saturating_sub(early);
        let mut tokens = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let old = tokens.current.replace((token.clone(), renew_at));
        if let Some((old, _)) = old {
            tokens.previous = Some(old);
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn credentials_and_scopes_are_checked() {
        assert!(OAuth::new("", "s", &scopes(&["data"])).is_err());
        assert!(OAuth::new("a:b", "s", &scopes(&["data"])).is_err());
        assert!(OAuth::new("id", "", &scopes(&["data"])).is_err());
        assert!(OAuth::new("id", "s", &[]).is_err());
        assert!(OAuth::new("id", "s", &scopes(&["data user"])).is_err());
        let ok = OAuth::new("id", "s", &scopes(&["Data", "user", "data"])).unwrap();
        assert_eq!(ok.scope_param(), "data user");
    }

    #[test]
    fn the_secret_does_not_print() {
        let o = OAuth::new("id", "very-secret-value", &scopes(&["data"])).unwrap();
        assert!(!format!("{o:?}").contains("very-secret"));
    }

    #[tokio::test]
    async fn tokens_are_kept_until_near_expiry_or_refused() {
        let o = OAuth::new("id", "secret", &scopes(&["data"])).unwrap();
        let fetched = std::sync::atomic::AtomicUsize::new(0);
        let fetch = |life: u64| {
            let n = fetched.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                Ok((
                    Secret::new(format!("token-{n}")).unwrap(),
                    Duration::from_secs(life),
                ))
            }
        };
        let a = o.access_token(None, || fetch(3600)).await.unwrap();
        let b = o.access_token(None, || fetch(3600)).await.unwrap();
        assert_eq!(a, b);
        let c = o.access_token(Some(&b), || fetch(0)).await.unwrap();
        assert_ne!(b, c);
        // A token with no life left is renewed at once.
        let d = o.access_token(None, || fetch(3600)).await.unwrap();
        assert_ne!(c, d);
        assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 3);
        let secrets = o.secrets();
        assert!(secrets.contains(&c) && secrets.contains(&d));
    }
}
