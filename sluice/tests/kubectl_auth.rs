//! Real kubectl against `sluice sim --authz`: kubectl's generators (which send protobuf bodies)
//! create what they create on a real cluster, a restricted ServiceAccount's token from `kubectl
//! create token` gets kube-apiserver's Forbidden, `kubectl auth can-i` answers yes and no, and
//! an unknown token is Unauthorized.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::SimProcess;

const RBAC: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pod-reader, namespace: default}\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [get, list, watch]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader-pods, namespace: default}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}\nsubjects:\n- {kind: ServiceAccount, name: reader, namespace: default}\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

#[test]
fn kubectl_generators_tokens_and_can_i_behave_as_on_a_real_cluster() {
    let sim = SimProcess::start_with(&["--authz"]);
    // Generators send protobuf.
    let created = [
        (vec!["create", "namespace", "argocd"], "namespace/argocd created"),
        (
            vec![
                "create",
                "deployment",
                "web",
                "--image=nginx:1",
                "--replicas=2",
                "--port=80",
            ],
            "deployment.apps/web created",
        ),
        (
            vec![
                "create",
                "secret",
                "generic",
                "creds",
                "--from-literal=password=hunter2",
            ],
            "secret/creds created",
        ),
        (
            vec!["create", "configmap", "settings", "--from-literal=level=info"],
            "configmap/settings created",
        ),
        (
            vec!["run", "once", "--image=busybox", "--restart=Never", "--", "true"],
            "pod/once created",
        ),
        (
            vec!["expose", "deployment", "web", "--port=80", "--target-port=8080"],
            "service/web exposed",
        ),
        (
            vec!["create", "job", "migrate", "--image=busybox", "--", "true"],
            "job.batch/migrate created",
        ),
        (
            vec!["create", "serviceaccount", "reader"],
            "serviceaccount/reader created",
        ),
    ];
    for (args, said) in created {
        assert_eq!(sim.kubectl_ok(&args, None).trim(), said, "{args:?}");
    }
    let get = |path: &str, jsonpath: &str| sim.kubectl_ok(&["get", path, "-o", &format!("jsonpath={jsonpath}")], None);
    assert_eq!(
        get(
            "deployment/web",
            "{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"
        ),
        "2 nginx:1 80"
    );
    assert_eq!(get("secret/creds", "{.data.password}"), "aHVudGVyMg==");
    assert_eq!(get("configmap/settings", "{.data.level}"), "info");
    assert_eq!(
        get("service/web", "{.spec.selector.app} {.spec.ports[0].targetPort}"),
        "web 8080"
    );
    assert_eq!(get("namespace/argocd", "{.status.phase}"), "Active");

    // A restricted ServiceAccount.
    sim.kubectl_ok(&["apply", "-f", "-"], Some(RBAC));
    let token = sim.kubectl_ok(&["create", "token", "reader"], None).trim().to_string();
    assert!(!token.is_empty());
    let listed = sim.kubectl_ok(&["--token", &token, "get", "pods", "-o", "name"], None);
    assert!(listed.contains("pod/once"), "{listed}");
    let refused = sim.kubectl(&["--token", &token, "get", "secrets"], None);
    assert!(!refused.status.success());
    assert_eq!(
        stderr(&refused),
        "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
    );
    let stranger = sim.kubectl(&["--token", "not-a-token", "get", "pods"], None);
    assert!(!stranger.status.success());
    assert!(
        stderr(&stranger).ends_with("error: You must be logged in to the server (Unauthorized)"),
        "{}",
        stderr(&stranger)
    );

    // kubectl auth can-i, as the reader (impersonated by the administrator) and with its token.
    let as_reader = "--as=system:serviceaccount:default:reader";
    let yes = sim.kubectl(&["auth", "can-i", "list", "pods", as_reader], None);
    assert_eq!(
        (yes.status.code(), String::from_utf8_lossy(&yes.stdout).trim()),
        (Some(0), "yes")
    );
    let no = sim.kubectl(&["auth", "can-i", "delete", "pods", as_reader], None);
    assert_eq!(
        (no.status.code(), String::from_utf8_lossy(&no.stdout).trim()),
        (Some(1), "no")
    );
    let own = sim.kubectl(&["--token", &token, "auth", "can-i", "get", "secrets"], None);
    assert_eq!(
        (own.status.code(), String::from_utf8_lossy(&own.stdout).trim()),
        (Some(1), "no")
    );
}
