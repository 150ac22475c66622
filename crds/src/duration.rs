//! Durations as Argo and Argo CD users write them.
//!
//! Go duration strings (`"300ms"`, `"1m30s"`, `"1.5h"`), where a bare integer string means seconds
//! (`"30"` is 30 s), and pause durations which may also be a plain number of seconds.

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A parsed duration. It may be negative or zero; validation decides whether that is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

/// A duration string that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?} (expected a number of seconds or a value such as \"30s\", \"5m\", \"1h30m\")")]
pub struct DurationError {
    /// The rejected text.
    pub input: String,
}

impl Duration {
    /// A duration of whole seconds.
    #[must_use]
    pub const fn from_secs(secs: i64) -> Self {
        Self {
            nanos: secs.saturating_mul(1_000_000_000),
        }
    }

    /// The duration in nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// The duration in (fractional) seconds.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // durations beyond 2^53 ns (104 days) lose sub-microsecond precision only
    pub fn as_secs_f64(self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// True when the duration is longer than zero.
    #[must_use]
    pub const fn is_positive(self) -> bool {
        self.nanos > 0
    }

    /// The duration as a standard one, or `None` when it is negative.
    #[must_use]
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos).ok().map(std::time::Duration::from_nanos)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

/// Parses a duration string: a Go duration, or a bare integer meaning seconds.
///
/// # Errors
/// [`DurationError`] when the text is neither.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let err = || DurationError { input: text.to_owned() };
    if let Ok(secs) = trimmed.parse::<i64>() {
        return Ok(Duration::from_secs(secs));
    }
    if trimmed.is_empty() {
        return Err(err());
    }
    go_parse_duration::parse_duration(trimmed)
        .map(|nanos| Duration { nanos })
        .map_err(|_| err())
}

/// Parses a pause duration: a number of seconds, or a duration string.
///
/// # Errors
/// [`DurationError`] when a string value cannot be parsed.
pub fn parse_int_or_string(value: &IntOrString) -> Result<Duration, DurationError> {
    match value {
        IntOrString::Int(secs) => Ok(Duration::from_secs(i64::from(*secs))),
        IntOrString::String(text) => parse(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_users_write() {
        let cases: &[(&str, i64)] = &[
            ("30", 30_000_000_000),
            ("30s", 30_000_000_000),
            ("5m", 300_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("300ms", 300_000_000),
            ("0", 0),
            ("-5s", -5_000_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse(text).map(Duration::as_nanos), Ok(*nanos), "{text}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for text in ["", "5 minutes", "m", "1d", "abc", "5mins"] {
            assert!(parse(text).is_err(), "{text:?} should not parse");
        }
        assert_eq!(
            parse("soon").map_err(|e| e.to_string()),
            Err("invalid duration \"soon\" (expected a number of seconds or a value such as \"30s\", \"5m\", \"1h30m\")".into())
        );
    }

    #[test]
    fn pause_duration_accepts_numbers_and_strings() {
        assert_eq!(parse_int_or_string(&IntOrString::Int(40)), Ok(Duration::from_secs(40)));
        assert_eq!(
            parse_int_or_string(&IntOrString::String("40".into())),
            Ok(Duration::from_secs(40))
        );
        assert_eq!(
            parse_int_or_string(&IntOrString::String("2m".into())),
            Ok(Duration::from_secs(120))
        );
    }
}
