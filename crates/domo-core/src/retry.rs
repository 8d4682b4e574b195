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

/// The longest wait a `Retry-After` is read as: a larger value (or a date further ahead)
/// means the same to the retry policy, which gives up on anything above `max_delay`.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (the IMF-fixdate, RFC 850
/// and asctime forms), capped at [`RETRY_AFTER_CAP`]. A negative, not-a-number or
/// unreadable value is `None`, as if the header were absent.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        // Too large for a Duration (1e20, infinity) is as good as the cap.
        return Some(
            Duration::try_from_secs_f64(secs).map_or(RETRY_AFTER_CAP, |d| d.min(RETRY_AFTER_CAP)),
        );
    }
    let when = http_date(value)?;
    let delta = when - now;
    Some(
        delta
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CAP),
    )
}

/// An HTTP date in any of the three forms HTTP allows (RFC 9110, section 5.6.7).
fn http_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(when) = chrono::DateTime::parse_from_rfc2822(value) {
        return Some(when.with_timezone(&chrono::Utc));
    }
    // RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(&value, format).ok())
        .map(|naive| naive.and_utc())
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
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn retry_after_out_of_range_is_capped_not_a_panic() {
        let now = chrono::Utc::now();
        for huge in [
            "1e20",
            "1e308",
            "inf",
            "99999999999999999999999999999999",
            "18446744073709551616",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(RETRY_AFTER_CAP),
                "{huge}"
            );
        }
        for ignored in ["NaN", "-inf", "-1e20", "-0.5", "", "1e", "0x10"] {
            assert_eq!(parse_retry_after(ignored, now), None, "{ignored}");
        }
        assert_eq!(parse_retry_after("-0", now), Some(Duration::ZERO));
        // The policy gives up on a wait that long rather than sleeping through it.
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, Duration::ZERO, Some(RETRY_AFTER_CAP)), None);
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
