//! Real `kubectl` against `sluice sim`, both run as processes: the CRDs Sluice prints install with
//! plain client-side `kubectl apply` (dry run and for real), `kubectl explain` shows their
//! descriptions, and the manifests users already write apply and read back unchanged.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;

use support::SimProcess;

fn sluice_crds() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("crds").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

const CRD_NAMES: [&str; 7] = [
    "rollouts.argoproj.io",
    "analysistemplates.argoproj.io",
    "clusteranalysistemplates.argoproj.io",
    "analysisruns.argoproj.io",
    "applications.argoproj.io",
    "appprojects.argoproj.io",
    "applicationsets.argoproj.io",
];

#[test]
fn sluice_crds_piped_into_kubectl_apply_dry_run_client() {
    let sim = SimProcess::start();
    let out = sim.kubectl_ok(&["apply", "--dry-run=client", "-f", "-"], Some(&sluice_crds()));
    let expected: Vec<String> = CRD_NAMES
        .iter()
        .map(|n| format!("customresourcedefinition.apiextensions.k8s.io/{n} created (dry run)"))
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    // A client-side dry run creates nothing.
    let listed = sim.kubectl_ok(&["get", "crd", "-o", "name"], None);
    assert_eq!(listed, "");
}

#[test]
fn crds_install_with_plain_apply_and_serve_their_resources() {
    let sim = SimProcess::start();
    let crds = sluice_crds();
    sim.kubectl_ok(&["apply", "--dry-run=server", "-f", "-"], Some(&crds));
    let applied = sim.kubectl_ok(&["apply", "-f", "-"], Some(&crds));
    assert_eq!(
        applied.lines().filter(|l| l.ends_with(" created")).count(),
        7,
        "{applied}"
    );
    let again = sim.kubectl_ok(&["apply", "-f", "-"], Some(&crds));
    assert_eq!(
        again.lines().filter(|l| l.ends_with(" unchanged")).count(),
        7,
        "{again}"
    );
    let resources = sim.kubectl_ok(&["api-resources", "--api-group=argoproj.io", "-o", "name"], None);
    let mut names: Vec<&str> = resources.lines().collect();
    names.sort_unstable();
    let mut want = CRD_NAMES.to_vec();
    want.sort_unstable();
    assert_eq!(names, want);

    // The descriptions written in the Rust types reach `kubectl explain`.
    let explained = sim.kubectl_ok(&["explain", "rollouts.spec.strategy.canary.maxSurge"], None);
    assert!(explained.contains("always a percentage of replicas"), "{explained}");

    // The complete example applies, prints Argo's columns, and reads back as written.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rollout-api.yaml");
    let example = example.to_str().unwrap();
    sim.kubectl_ok(&["apply", "-f", example], None);
    let table = sim.kubectl_ok(&["get", "ro"], None);
    assert!(
        table.starts_with("NAME   DESIRED   CURRENT   UP-TO-DATE   AVAILABLE   AGE\napi    10"),
        "{table}"
    );
    let stored: serde_json::Value =
        serde_json::from_str(&sim.kubectl_ok(&["get", "rollout", "api", "-o", "json"], None)).unwrap();
    let written: serde_json::Value = crds::yaml::from_str(
        std::fs::read_to_string(example)
            .unwrap()
            .split("\n---\n")
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["spec"], written["spec"]);
    assert_eq!(stored["metadata"]["generation"], 1);
    let reapplied = sim.kubectl_ok(&["apply", "-f", example], None);
    assert!(reapplied.contains("rollout.argoproj.io/api unchanged"), "{reapplied}");
}

#[test]
fn every_conformance_manifest_applies_and_reads_back() {
    let sim = SimProcess::start();
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&sluice_crds()));
    sim.kubectl_ok(
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n"),
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut checked = 0;
    for dir in ["seeds", "argo-rollouts"] {
        let dir = root.join(dir);
        // kubectl asks for strict field validation: a field our CRD schemas do not declare would
        // fail here instead of being silently dropped.
        let out = sim.kubectl_ok(&["apply", "-f", dir.to_str().unwrap()], None);
        assert!(out.lines().all(|l| l.ends_with(" created")), "{out}");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for written in crds::yaml::values(&text).unwrap() {
                if written["kind"] == "Service" {
                    continue;
                }
                let kind = written["kind"].as_str().unwrap().to_lowercase();
                let name = written["metadata"]["name"].as_str().unwrap();
                let ns = written["metadata"]["namespace"].as_str().unwrap_or("default");
                let stored: serde_json::Value =
                    serde_json::from_str(&sim.kubectl_ok(&["get", &kind, name, "-n", ns, "-o", "json"], None)).unwrap();
                assert_eq!(
                    stored["spec"],
                    written["spec"],
                    "{} {kind}/{name} reads back differently",
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16);
    let apps = sim.kubectl_ok(&["get", "applications", "-n", "argocd", "-o", "name"], None);
    assert_eq!(apps.lines().count(), 3, "{apps}");
}

#[test]
fn unknown_and_invalid_fields_are_refused_as_kube_apiserver_refuses_them() {
    let sim = SimProcess::start();
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&sluice_crds()));
    let typo = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: typo}\nspec:\n  replicas: 2\n  strategy:\n    canary:\n      stepz: []\n";
    // kubectl's default strict validation: an unknown field is a 400 naming it.
    let out = sim.kubectl(&["apply", "-f", "-"], Some(typo));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Rollout in version \"v1alpha1\" cannot be handled as a Rollout: strict decoding error: unknown field \"spec.strategy.canary.stepz\""), "{stderr}");
    // --validate=warn: the field is pruned and a warning is shown.
    let out = sim.kubectl(&["apply", "--validate=warn", "-f", "-"], Some(typo));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Warning: unknown field \"spec.strategy.canary.stepz\""));
    assert_eq!(
        sim.kubectl_ok(&["get", "ro", "typo", "-o", "jsonpath={.spec.strategy}"], None),
        r#"{"canary":{}}"#
    );
    // A wrong type is 422 Invalid with the field path.
    let wrong = typo.replace("replicas: 2", "replicas: two").replace("typo", "wrong");
    let out = sim.kubectl(&["apply", "-f", "-"], Some(&wrong));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("The Rollout \"wrong\" is invalid: spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""), "{stderr}");
}

#[test]
fn server_side_apply_reports_conflicts_with_client_side_apply() {
    let sim = SimProcess::start();
    sim.kubectl_ok(&["apply", "--server-side", "-f", "-"], Some(&sluice_crds()));
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rollout-api.yaml");
    let example = std::fs::read_to_string(example).unwrap();
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&example));
    let changed = example.replace("replicas: 10", "replicas: 4");
    // kube-apiserver refuses to let a second manager change a field kubectl's client-side apply owns.
    let out = sim.kubectl(&["apply", "--server-side", "-f", "-"], Some(&changed));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using argoproj.io/v1alpha1: .spec.replicas"),
        "{stderr}"
    );
    sim.kubectl_ok(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(&changed),
    );
    assert_eq!(
        sim.kubectl_ok(&["get", "ro", "api", "-o", "jsonpath={.spec.replicas}"], None),
        "4"
    );
}

#[test]
fn kubectl_everyday_verbs_behave_as_on_a_real_cluster() {
    let sim = SimProcess::start();
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&sluice_crds()));
    // `kubectl wait` reads the CRD's Established condition, which the server sets on creation.
    let waited = sim.kubectl_ok(
        &[
            "wait",
            "--for=condition=Established",
            "crd/rollouts.argoproj.io",
            "--timeout=10s",
        ],
        None,
    );
    assert_eq!(
        waited.trim(),
        "customresourcedefinition.apiextensions.k8s.io/rollouts.argoproj.io condition met"
    );
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: app, image: 'app:1', env: [{name: A, value: '1'}]}\n      - {name: sidecar, image: 'proxy:1'}\n";
    sim.kubectl_ok(&["apply", "-f", "-"], Some(deployment));
    // The server applies the Deployment defaults a real API server applies.
    assert_eq!(
        sim.kubectl_ok(
            &[
                "get",
                "deploy",
                "web",
                "-o",
                "jsonpath={.spec.replicas} {.spec.strategy.type} {.spec.template.spec.restartPolicy}"
            ],
            None
        ),
        "1 RollingUpdate Always"
    );
    // Strategic merge patch merges containers by name (the sidecar stays, env merges by name).
    sim.kubectl_ok(&["patch", "deploy", "web", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2","env":[{"name":"B","value":"2"}]}]}}}}"#], None);
    let containers = sim.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}|{.spec.template.spec.containers[0].env[*].name}"], None);
    assert_eq!(containers, "app=app:2 sidecar=proxy:1 |A B");
    // Merge patch replaces lists; JSON patch edits by path.
    sim.kubectl_ok(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"tier":"front"}}}"#,
        ],
        None,
    );
    sim.kubectl_ok(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
        ],
        None,
    );
    // A failing JSON patch test is refused and changes nothing.
    let out = sim.kubectl(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":9},{"op":"replace","path":"/spec/replicas","value":1}]"#,
        ],
        None,
    );
    assert!(!out.status.success());
    // The scale subresource.
    sim.kubectl_ok(&["scale", "deploy", "web", "--replicas=6"], None);
    assert_eq!(
        sim.kubectl_ok(
            &[
                "get",
                "deploy",
                "web",
                "-o",
                "jsonpath={.spec.replicas} {.metadata.labels.tier} {.metadata.generation}"
            ],
            None
        ),
        "6 front 4"
    );
    // Label selectors on get.
    assert_eq!(
        sim.kubectl_ok(&["get", "deploy", "-l", "tier=front", "-o", "name"], None),
        "deployment.apps/web\n"
    );
    assert_eq!(
        sim.kubectl_ok(&["get", "deploy", "-l", "tier!=front", "-o", "name"], None),
        ""
    );
    // `get -w` streams the change after the current state.
    let mut watch = Command::new("kubectl")
        .args([
            "get",
            "deploy",
            "web",
            "-w",
            "-o",
            "jsonpath={.spec.replicas}{\"\\n\"}",
            "--request-timeout=5s",
            "--cache-dir",
        ])
        .arg(sim.dir.path().join("cache"))
        .env("KUBECONFIG", sim.kubeconfig())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "6");
    sim.kubectl_ok(&["scale", "deploy", "web", "--replicas=2"], None);
    // Other updates of the Deployment (its status) may be printed first, still at 6.
    let saw_two = (0..20).any(|_| {
        let line = lines.next().unwrap().unwrap();
        assert!(line == "2" || line == "6", "the watch printed {line}");
        line == "2"
    });
    assert!(saw_two, "the watch never printed the new replica count");
    let _ = watch.kill();
    let _ = watch.wait();
    // delete, and 404 afterwards with kube-apiserver's message.
    sim.kubectl_ok(&["delete", "deploy", "web"], None);
    let out = sim.kubectl(&["get", "deploy", "web"], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (NotFound): deployments.apps \"web\" not found"
    );
}

#[test]
fn kubectl_over_https_with_the_generated_ca() {
    let sim = SimProcess::start_with(&["--tls"]);
    let kubeconfig = std::fs::read_to_string(sim.kubeconfig()).unwrap();
    assert!(kubeconfig.contains("server: https://127.0.0.1:") && kubeconfig.contains("certificate-authority-data:"));
    let out = sim.kubectl_ok(&["apply", "-f", "-"], Some(&sluice_crds()));
    assert_eq!(out.lines().count(), 7, "{out}");
    assert!(
        sim.kubectl_ok(&["get", "ns", "-o", "name"], None)
            .contains("namespace/default")
    );
}

#[test]
fn the_workload_simulator_runs_as_a_separate_process_using_only_the_api() {
    // One process serves only the API; another runs only the workload simulator against it.
    let api = SimProcess::start_with(&["--no-workloads"]);
    let mut workloads = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["sim", "--no-api", "--kubeconfig"])
        .arg(api.kubeconfig())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut reader = BufReader::new(workloads.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let rs = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {sim.sluice.dev/start-delay: 100ms}}\n    spec: {containers: [{name: app, image: 'web:1'}]}\n";
    api.kubectl_ok(&["apply", "-f", "-"], Some(rs));
    let mut available = String::new();
    for _ in 0..100 {
        available = api.kubectl_ok(
            &["get", "rs", "web", "-o", "jsonpath={.status.availableReplicas}"],
            None,
        );
        if available == "2" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = workloads.kill();
    let _ = workloads.wait();
    assert!(
        first.starts_with("sluice sim: simulating workloads for the API server in "),
        "{first}"
    );
    assert_eq!(
        available, "2",
        "the separate workload process made the ReplicaSet available"
    );
}
