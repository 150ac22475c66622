//! Integration and end-to-end tests of Sluice; the tests live in `tests/tests/`.
