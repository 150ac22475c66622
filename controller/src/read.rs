//! Reading objects the reconcilers do not watch: only a 404 makes an object absent. Any other
//! failure (403, 5xx, a timeout, an answer that does not parse) leaves it unknown, carried as
//! [`Unreadable`] in the snapshot, so a decision never turns "could not read" into a verdict about
//! the user's spec (an `InvalidSpec`, a Degraded health, a revert).

use kube::Api;
use serde::de::DeserializeOwned;

/// What one read gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Read<T> {
    /// The object.
    Found(T),
    /// The API server answered 404: the object does not exist.
    Absent,
    /// The API server could not be asked, or answered something else.
    Unknown(Unreadable),
}

/// Something a decision needed that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// What was read, e.g. `AnalysisTemplate shop/success-rate`.
    pub what: String,
    /// Why it could not be (the client's error, with its causes).
    pub reason: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.what, self.reason)
    }
}

impl<T> Read<T> {
    /// Classifies the answer of a `get_opt` (which already maps 404 to `Ok(None)`).
    pub fn from_get(result: Result<Option<T>, kube::Error>, what: impl FnOnce() -> String) -> Self {
        match result {
            Ok(Some(found)) => Self::Found(found),
            Ok(None) => Self::Absent,
            Err(kube::Error::Api(status)) if status.code == 404 => Self::Absent,
            Err(error) => Self::Unknown(Unreadable {
                what: what(),
                reason: crate::error::chain(&error),
            }),
        }
    }

    /// The object, if found.
    pub fn found(self) -> Option<T> {
        match self {
            Self::Found(found) => Some(found),
            Self::Absent | Self::Unknown(_) => None,
        }
    }

    /// The object mapped through `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Read<U> {
        match self {
            Self::Found(found) => Read::Found(f(found)),
            Self::Absent => Read::Absent,
            Self::Unknown(why) => Read::Unknown(why),
        }
    }
}

/// Gets `name` through `api`; `what` names it in an [`Unreadable`].
pub async fn get<K>(api: &Api<K>, name: &str, what: impl FnOnce() -> String) -> Read<K>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    Read::from_get(api.get_opt(name).await, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: format!("answered {code}"),
            ..kube::core::Status::default()
        }))
    }

    #[test]
    fn only_a_404_is_absent() {
        let what = || "AnalysisTemplate shop/rate".to_owned();
        assert_eq!(Read::from_get(Ok(Some(1)), what), Read::Found(1));
        assert_eq!(Read::<i32>::from_get(Ok(None), what), Read::Absent);
        assert_eq!(Read::<i32>::from_get(Err(api_error(404)), what), Read::Absent);
        for code in [401, 403, 429, 500, 503] {
            match Read::<i32>::from_get(Err(api_error(code)), what) {
                Read::Unknown(why) => {
                    assert_eq!(why.what, "AnalysisTemplate shop/rate");
                    assert!(why.reason.contains(&format!("answered {code}")), "{why}");
                }
                other => panic!("{code} gave {other:?}"),
            }
        }
    }
}
