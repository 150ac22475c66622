//! `docs/configuration.md` stays the whole reference: every flag `sluice controller --help`
//! prints and every annotation, label and finalizer the code defines is in it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn reference() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md")).unwrap()
}

#[test]
fn every_controller_flag_is_documented() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["controller", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("--") && *w != "--help")
        .collect();
    assert!(flags.len() >= 15, "{help}");
    let docs = reference();
    for flag in flags {
        assert!(
            docs.contains(&format!("`{flag}")),
            "{flag} is not in docs/configuration.md"
        );
    }
}

#[test]
fn every_annotation_and_label_is_documented() {
    use crds::keys;
    use gitops::sync::annotations as sync;
    let keys = [
        keys::HASH_LABEL,
        keys::REVISION_ANNOTATION,
        keys::DESIRED_REPLICAS_ANNOTATION,
        keys::SCALE_DOWN_DEADLINE_ANNOTATION,
        keys::MANAGED_BY_ANNOTATION,
        keys::INSTANCE_ID_LABEL,
        keys::ROLLOUT_TYPE_LABEL,
        keys::STEP_INDEX_LABEL,
        keys::REFRESH_ANNOTATION,
        keys::MANIFEST_GENERATE_PATHS_ANNOTATION,
        keys::RESOURCES_FINALIZER,
        sync::HOOK,
        sync::HOOK_DELETE_POLICY,
        sync::SYNC_WAVE,
        sync::SYNC_OPTIONS,
        sync::HELM_HOOK,
        sync::HELM_HOOK_WEIGHT,
        sync::HELM_HOOK_DELETE_POLICY,
        gitops::tracking::TRACKING_ID,
        gitops::health::IGNORE_HEALTHCHECK,
        gitops::revert::AUTO_REVERT_ANNOTATION,
        gitops::revert::keep_out::REVERTED_TEMPLATES_ANNOTATION,
        controller::application::decide::revert::HEALTHY_REVISION_ANNOTATION,
        controller::application::decide::revert::GRACE_ANNOTATION,
        controller::applicationset::decide::APPSET_LABEL,
    ];
    let docs = reference();
    for key in keys {
        assert!(
            docs.contains(&format!("`{key}`")),
            "{key} is not in docs/configuration.md"
        );
    }
}
