//! `sluice crds`: print every CRD.

use std::io::Write;

use super::CommandError;

/// Prints every CRD as multi-document YAML.
///
/// # Errors
/// When rendering or writing fails.
pub fn run() -> Result<(), CommandError> {
    let yaml = ::crds::crdgen::render_all()?;
    std::io::stdout()
        .lock()
        .write_all(yaml.as_bytes())
        .map_err(CommandError::Stdout)
}
