//! Backoff of retries (`syncPolicy.retry.backoff`: duration x factor^n, capped at maxDuration;
//! Argo CD's defaults 5 s, 2, 3 min) and of self-heal (2 s x 3^n, capped at 5 min).

use crds::gitops::RetryStrategy;

/// The wait before retry number `attempt` (1-based), in milliseconds.
#[must_use]
pub fn retry_delay_ms(retry: &RetryStrategy, attempt: i64) -> i64 {
    let backoff = retry.backoff.as_ref();
    let ms = |text: Option<&String>, default: i64| {
        text.and_then(|t| crds::duration::parse(t).ok())
            .map_or(default, |d| d.as_nanos() / 1_000_000)
            .max(0)
    };
    let base = ms(backoff.and_then(|b| b.duration.as_ref()), 5_000);
    let cap = ms(backoff.and_then(|b| b.max_duration.as_ref()), 180_000);
    let factor = backoff.and_then(|b| b.factor).unwrap_or(2).max(1);
    grow(base, factor, attempt - 1, cap)
}

/// The wait before self-heal attempt number `attempt` (0 for the first).
#[must_use]
pub fn self_heal_delay_ms(attempt: u32) -> i64 {
    grow(2_000, 3, i64::from(attempt), 300_000)
}

fn grow(base: i64, factor: i64, exponent: i64, cap: i64) -> i64 {
    let mut delay = base;
    for _ in 0..exponent.max(0) {
        delay = delay.saturating_mul(factor);
        if delay >= cap {
            return cap;
        }
    }
    delay.min(cap)
}

/// Whether another retry is allowed after `count` retries (`limit` -1: unlimited).
#[must_use]
pub fn may_retry(retry: Option<&RetryStrategy>, count: i64) -> bool {
    // As Argo CD's RetryStrategy: an absent limit is 0 (no retries), a negative one unlimited.
    match retry.and_then(|r| r.limit).unwrap_or(0) {
        limit if limit < 0 => true,
        limit => count < limit,
    }
}

#[cfg(test)]
mod tests {
    use crds::gitops::Backoff;

    use super::*;

    #[test]
    fn delays_grow_by_the_factor_up_to_the_cap() {
        let retry = RetryStrategy {
            limit: Some(5),
            backoff: Some(Backoff {
                duration: Some("5s".into()),
                factor: Some(2),
                max_duration: Some("30s".into()),
            }),
            refresh: None,
        };
        let delays: Vec<i64> = (1..=5).map(|n| retry_delay_ms(&retry, n)).collect();
        assert_eq!(delays, [5_000, 10_000, 20_000, 30_000, 30_000]);
        assert_eq!(
            retry_delay_ms(&RetryStrategy::default(), 1),
            5_000,
            "Argo CD's default backoff"
        );
        let heal: Vec<i64> = (0..6).map(self_heal_delay_ms).collect();
        assert_eq!(heal, [2_000, 6_000, 18_000, 54_000, 162_000, 300_000]);
        assert!(may_retry(
            Some(&RetryStrategy {
                limit: Some(-1),
                ..RetryStrategy::default()
            }),
            1_000
        ));
        assert!(!may_retry(Some(&retry), 5));
        assert!(!may_retry(None, 0));
    }
}
