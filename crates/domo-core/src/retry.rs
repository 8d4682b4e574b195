//! When to try a request again, and how long to wait first.

use std::time::Duration;

use rand::Rng;

/// Bounds on retrying one request. Only requests that are safe to repeat are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// First backoff step; each retry doubles it.
    pub base_delay: Duration,
    /// Largest single wait, for backoff and for a server's `Retry-After` alike.
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

/// Statuses that mean "try again later" rather than "this request is wrong".
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based), or `None` to give up.
    ///
    /// A server's `Retry-After` is honoured as given when it fits the budget; otherwise
    /// the wait is exponential with jitter, so that many clients do not retry in step.
    pub fn delay(
        &self,
        retry: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let wait = match retry_after {
            Some(after) if after > self.max_delay => return None,
            Some(after) => after,
            None => {
                let cap = self
                    .base_delay
                    .saturating_mul(1u32 << retry.min(16))
                    .min(self.max_delay);
                // "Equal jitter": at least half the step, so a retry never comes at once.
                let half = cap / 2;
                half + rand::rng().random_range(Duration::ZERO..=half)
            }
        };
        (elapsed + wait <= self.max_elapsed).then_some(wait)
    }
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stops() {
        let p = RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(60),
        };
        for retry in 0..4 {
            let cap = Duration::from_millis(100 * (1 << retry)).min(Duration::from_secs(1));
            for _ in 0..50 {
                let d = p.delay(retry, Duration::ZERO, None).unwrap();
                assert!(d >= cap / 2 && d <= cap, "retry {retry}: {d:?}");
            }
        }
        assert_eq!(p.delay(4, Duration::ZERO, None), None);
    }

    #[test]
    fn retry_after_is_honoured_within_budget() {
        let p = RetryPolicy::default();
        let d = p.delay(0, Duration::ZERO, Some(Duration::from_secs(2)));
        assert_eq!(d, Some(Duration::from_secs(2)));
        // Longer than one wait may be: give up instead of sleeping for minutes.
        assert_eq!(
            p.delay(0, Duration::ZERO, Some(Duration::from_secs(3600))),
            None
        );
        // Past the total budget.
        assert_eq!(
            p.delay(0, Duration::from_secs(119), Some(Duration::from_secs(2))),
            None
        );
    }

    #[test]
    fn no_retries_when_disabled() {
        let p = RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(0, Duration::ZERO, None), None);
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc2822("Sun, 06 Nov 1994 08:49:37 GMT")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [400, 401, 404, 409, 500] {
            assert!(!is_retryable_status(s));
        }
    }
}
