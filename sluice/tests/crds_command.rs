//! `sluice crds` prints exactly the committed CRD YAML, so `sluice crds | kubectl apply -f -`
//! installs what the repository documents.
// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn sluice_crds_prints_the_committed_yaml() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("crds").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../crds/crds.yaml")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "sluice crds differs from crds/crds.yaml"
    );
}

#[test]
fn sluice_crds_output_is_seven_crd_documents() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("crds").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let kinds: Vec<String> = crds::yaml::values(&text)
        .unwrap()
        .into_iter()
        .map(|v| {
            format!(
                "{}/{}",
                v["kind"].as_str().unwrap(),
                v["spec"]["names"]["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "CustomResourceDefinition/Rollout",
            "CustomResourceDefinition/AnalysisTemplate",
            "CustomResourceDefinition/ClusterAnalysisTemplate",
            "CustomResourceDefinition/AnalysisRun",
            "CustomResourceDefinition/Application",
            "CustomResourceDefinition/AppProject",
            "CustomResourceDefinition/ApplicationSet",
        ]
    );
}
