//! The manager stops with the reason when a reconciler cannot start, instead of serving on with
//! `/readyz` saying ready and no Application reconciler behind it.

use std::time::Duration;

use controller::Context;
use controller::manager::{Manager, ManagerError, Options};
use controller::runtime::AppSettings;

#[tokio::test]
async fn a_repository_cache_that_cannot_be_made_stops_the_manager() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // No API server answers here: the Rollout and AnalysisRun reconcilers would wait for it
    // forever, so only the runtime's failure can end the run.
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    // A file where the cache folder should be: it cannot be made.
    let file = tempfile::NamedTempFile::new().unwrap();
    let options = Options {
        applications: Some(AppSettings {
            repo_cache: Some(file.path().join("repos")),
            ..AppSettings::default()
        }),
        ..Options::default()
    };
    let manager = Manager::new(Context::new(client), options).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(20), manager.run(std::future::pending()))
        .await
        .expect("the manager stops on its own");
    match stopped {
        Err(ManagerError::Runtime(error)) => {
            let chain = crds::errors::chain(&error);
            assert!(chain.contains("repository cache"), "{chain}");
        }
        other => panic!("expected the runtime's error, got {other:?}"),
    }
}
