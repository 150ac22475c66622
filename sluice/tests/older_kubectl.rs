//! kubectl 1.27, 1.28 and 1.29 against `sluice sim`: they fetch the OpenAPI v2 document before
//! `apply` (and stopped with `NotFound` without it), then apply, read and explain as 1.30+ do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{SimProcess, versioned_kubectl};

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {level: info}\n";

fn ok(sim: &SimProcess, bin: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = sim.kubectl_bin(bin, args, stdin);
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn older_kubectl_versions_apply_get_and_explain() {
    let sim = SimProcess::start();
    let crds = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("crds")
        .output()
        .unwrap();
    let crds = String::from_utf8(crds.stdout).unwrap();
    let rollout =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rollout-api.yaml")).unwrap();
    for version in ["1.27", "1.28", "1.29"] {
        let bin = versioned_kubectl(version);
        let client = ok(&sim, &bin, &["version", "--client"], None);
        assert!(client.contains(&format!("v{version}.")), "{client}");
        ok(&sim, &bin, &["apply", "-f", "-"], Some(&crds));
        let applied = ok(&sim, &bin, &["apply", "-f", "-"], Some(CONFIG_MAP));
        assert!(applied.contains("configmap/settings"), "{version}: {applied}");
        let applied = ok(&sim, &bin, &["apply", "-f", "-"], Some(&rollout));
        assert!(applied.contains("rollout.argoproj.io/api"), "{version}: {applied}");
        // A second apply computes a patch against the last applied configuration.
        let changed = CONFIG_MAP.replace("level: info", &format!("level: {}", version.replace('.', "-")));
        let again = ok(&sim, &bin, &["apply", "-f", "-"], Some(&changed));
        assert!(again.contains("configmap/settings configured"), "{version}: {again}");
        let level = ok(
            &sim,
            &bin,
            &["get", "configmap", "settings", "-o", "jsonpath={.data.level}"],
            None,
        );
        assert_eq!(level, version.replace('.', "-"));
        let listed = ok(&sim, &bin, &["get", "rollouts"], None);
        assert!(listed.contains("api"), "{version}: {listed}");
        let explained = ok(&sim, &bin, &["explain", "rollouts.spec.strategy.canary"], None);
        assert!(
            explained.contains("KIND:") && explained.contains("Rollout"),
            "{version}: {explained}"
        );
    }
}
