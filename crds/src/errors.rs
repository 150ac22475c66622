//! Printing an error with its causes, the one way every part of Sluice does it (controller logs and
//! conditions, analysis measurements, the plugin's and the binary's messages).

/// The error and all its causes, joined by `: ` (`connecting to ...: tcp connect error: refused`),
/// so a failure says what actually failed.
#[must_use]
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("reading the template")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_cause_is_named() {
        let error = Outer(std::io::Error::other("connection refused"));
        assert_eq!(super::chain(&error), "reading the template: connection refused");
    }
}
