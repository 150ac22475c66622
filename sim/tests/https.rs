//! The simulator over HTTPS: clients that trust its generated CA connect; clients that do not, fail.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, ResourceExt};
use sim::Sim;

#[tokio::test]
async fn kube_client_trusting_the_generated_ca_connects() {
    let sim = Sim::start_on("127.0.0.1:0", true).await.unwrap();
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    let namespaces: Api<Namespace> = Api::all(sim.client().unwrap());
    let names: Vec<String> = namespaces
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert!(names.contains(&"default".to_owned()));
    // The kubeconfig carries the CA.
    assert!(sim.kubeconfig_yaml().contains("certificate-authority-data: "));
}

#[tokio::test]
async fn a_client_without_the_ca_is_refused() {
    let sim = Sim::start_on("127.0.0.1:0", true).await.unwrap();
    let config = kube::Config::new(sim.url().parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: Api<Namespace> = Api::all(client);
    let Err(error) = namespaces.list(&Default::default()).await else {
        panic!("an unknown CA must not be trusted")
    };
    // Refused for the certificate, not for any other reason (a wrong port would fail too).
    let chain = format!("{error:?}").to_lowercase();
    assert!(
        chain.contains("certificate") || chain.contains("unknownissuer"),
        "{chain}"
    );
}
