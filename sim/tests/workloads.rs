//! The workload simulator against the simulated API server: ReplicaSets get pods, pods become ready
//! (or crash-loop, or run to completion) as their behaviour says, and status follows.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use sim::Sim;

/// A simulated cluster with the workload simulator running; both stop when it is dropped.
struct Cluster {
    _sim: Sim,
    client: kube::Client,
    workloads: tokio::task::JoinHandle<()>,
}

impl Cluster {
    async fn start() -> Self {
        let sim = Sim::start().await.unwrap();
        let client = sim.client().unwrap();
        let workloads = sim::workloads::runner::spawn(client.clone());
        Self {
            _sim: sim,
            client,
            workloads,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.workloads.abort();
    }
}

fn replicaset(name: &str, replicas: i32, image: &str) -> ReplicaSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": {"sim.sluice.dev/start-delay": "200ms"}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    }))
    .unwrap()
}

/// Polls until `check` holds, or fails after 10 seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::from_std(crds::clock::stopwatch()) + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::from_std(crds::clock::stopwatch()) < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn replicasets_get_ready_pods_and_scale_down_with_their_status() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    rs_api
        .create(&PostParams::default(), &replicaset("web", 3, "web:1.0"))
        .await
        .unwrap();
    eventually("3 available replicas", || async {
        rs_api
            .get_status("web")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.available_replicas == Some(3) && s.ready_replicas == Some(3))
    })
    .await;
    let list = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(list.len(), 3);
    for pod in &list {
        // Named <rs>-<5 characters>, owned by the ReplicaSet, Running and Ready with a pod IP.
        assert!(pod.name_any().starts_with("web-") && pod.name_any().len() == "web-".len() + 5);
        assert_eq!(pod.owner_references()[0].name, "web");
        let status = pod.status.clone().unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert!(status.pod_ip.unwrap().starts_with("10.244."));
    }
    rs_api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    eventually("scaled to 1", || async {
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len()
            == 1
    })
    .await;
    // Which pod goes is the pure decision's business (not-ready, then youngest first; tested in
    // `workloads::replicaset`): these three share one creation second.
    eventually("status follows the scale-down", || async {
        rs_api
            .get_status("web")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.replicas == 1 && s.observed_generation == Some(2))
    })
    .await;
}

#[tokio::test]
async fn crashing_versions_never_become_ready() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    rs_api
        .create(&PostParams::default(), &replicaset("broken", 2, "web:2.0-crash"))
        .await
        .unwrap();
    eventually("crash-looping pods", || async {
        let list = pods
            .list(&ListParams::default().labels("app=broken"))
            .await
            .unwrap()
            .items;
        list.len() == 2
            && list.iter().all(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|c| {
                        c[0].state
                            .as_ref()
                            .and_then(|s| s.waiting.as_ref())
                            .and_then(|w| w.reason.as_deref())
                            == Some("CrashLoopBackOff")
                    })
            })
    })
    .await;
    let status = rs_api.get_status("broken").await.unwrap().status.unwrap();
    assert_eq!(
        (
            status.replicas,
            status.ready_replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0)
        ),
        (2, 0, 0)
    );
}

#[tokio::test]
async fn run_to_completion_pods_finish_by_exit_code() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for (name, image) in [("ok", "job:1"), ("bad", "job:1-fail")] {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    eventually("both pods finished", || async {
        let phase = |p: Pod| p.status.and_then(|s| s.phase).unwrap_or_default();
        phase(pods.get("ok").await.unwrap()) == "Succeeded" && phase(pods.get("bad").await.unwrap()) == "Failed"
    })
    .await;
}

#[tokio::test]
async fn jobs_complete_or_fail_after_their_backoff_limit() {
    use k8s_openapi::api::batch::v1::Job;
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job = |name: &str, image: &str| -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"backoffLimit": 1, "template": {
                "metadata": {"annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "check", "image": image}]}
            }}
        }))
        .unwrap()
    };
    jobs.create(&PostParams::default(), &job("passes", "check:1"))
        .await
        .unwrap();
    jobs.create(&PostParams::default(), &job("fails", "check:1-fail"))
        .await
        .unwrap();
    let condition = |j: Job| -> Option<String> {
        j.status?
            .conditions?
            .into_iter()
            .find(|c| c.status == "True")
            .map(|c| c.type_)
    };
    eventually("both jobs finished", || async {
        condition(jobs.get("passes").await.unwrap()).as_deref() == Some("Complete")
            && condition(jobs.get("fails").await.unwrap()).as_deref() == Some("Failed")
    })
    .await;
    // backoffLimit 1: the failing job ran two pods before giving up.
    let status = jobs.get("fails").await.unwrap().status.unwrap();
    assert_eq!((status.failed, status.succeeded.unwrap_or(0)), (Some(2), 0));
    assert_eq!(jobs.get("passes").await.unwrap().status.unwrap().succeeded, Some(1));
}

#[tokio::test]
async fn services_get_endpoint_slices_of_the_pods_they_select() {
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let slices: Api<EndpointSlice> = Api::namespaced(client, "default");
    rs_api
        .create(&PostParams::default(), &replicaset("api", 2, "api:1"))
        .await
        .unwrap();
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "api-stable"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    services.create(&PostParams::default(), &svc).await.unwrap();
    let ready_endpoints = |slice: EndpointSlice| {
        slice
            .endpoints
            .iter()
            .flatten()
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
            .count()
    };
    eventually("two ready endpoints", || async {
        slices.get("api-stable").await.map(ready_endpoints).unwrap_or(0) == 2
    })
    .await;
    let slice = slices.get("api-stable").await.unwrap();
    assert_eq!(slice.labels()["kubernetes.io/service-name"], "api-stable");
    assert_eq!(slice.ports.unwrap()[0].port, Some(8080));
    // Pointing the selector elsewhere (as a rollout does with the pod-template hash) empties it.
    services
        .patch(
            "api-stable",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"selector": {"app": "api", "rollouts-pod-template-hash": "none"}}})),
        )
        .await
        .unwrap();
    eventually("no endpoints", || async {
        slices
            .get("api-stable")
            .await
            .is_ok_and(|s| s.endpoints.is_none_or(|e| e.is_empty()))
    })
    .await;
}

#[tokio::test]
async fn deleting_a_running_pod_terminates_it_gracefully() {
    use kube::api::DeleteParams;
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web", "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
        "spec": {"terminationGracePeriodSeconds": 30, "containers": [{"name": "app", "image": "web:1"}]}
    }))
    .unwrap();
    // Without a kubelet nobody binds the pod: deleting an unscheduled pod removes it at once.
    pods.create(&PostParams::default(), &pod).await.unwrap();
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("web").await.unwrap().is_none());
    let workloads = sim::workloads::runner::spawn(client);
    pods.create(&PostParams::default(), &pod).await.unwrap();
    eventually("bound and running", || async {
        let p = pods.get("web").await.unwrap();
        p.spec.unwrap().node_name.is_some() && p.status.and_then(|s| s.phase).as_deref() == Some("Running")
    })
    .await;
    // A bound, running pod is only marked: deletionTimestamp = now + grace period.
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    let marked = pods.get("web").await.unwrap();
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    assert!(marked.metadata.deletion_timestamp.is_some());
    // The kubelet removes it after the sped-up grace period (30 s / 30).
    eventually("gone after the grace period", || async {
        pods.get_opt("web").await.unwrap().is_none()
    })
    .await;
    workloads.abort();
}

#[tokio::test]
async fn deployments_roll_out_new_versions_through_replicasets() {
    use k8s_openapi::api::apps::v1::Deployment;
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let replicasets: Api<ReplicaSet> = Api::namespaced(client, "default");
    let deploy: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "shop"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "shop"}},
                 "template": {"metadata": {"labels": {"app": "shop"}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                              "spec": {"terminationGracePeriodSeconds": 3, "containers": [{"name": "app", "image": "shop:1"}]}}}
    }))
    .unwrap();
    deployments.create(&PostParams::default(), &deploy).await.unwrap();
    let reason = |d: Deployment| -> String {
        d.status
            .and_then(|s| s.conditions)
            .and_then(|c| c.into_iter().find(|c| c.type_.as_deref() == Some("Progressing")))
            .and_then(|c| c.reason)
            .unwrap_or_default()
    };
    eventually("first version available", || async {
        let d = deployments.get("shop").await.unwrap();
        d.status.as_ref().is_some_and(|s| s.available_replicas == Some(4)) && reason(d) == "NewReplicaSetAvailable"
    })
    .await;
    deployments
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop:2"}]}}}}),
            ),
        )
        .await
        .unwrap();
    eventually("second version rolled out", || async {
        let d = deployments.get("shop").await.unwrap();
        // As `kubectl rollout status` does: only a status for the current generation counts.
        let observed = d.status.as_ref().and_then(|s| s.observed_generation) == d.metadata.generation;
        let done = observed
            && d.status.as_ref().is_some_and(|s| {
                s.updated_replicas == Some(4) && s.available_replicas == Some(4) && s.replicas == Some(4)
            });
        done && reason(d) == "NewReplicaSetAvailable"
    })
    .await;
    // Two ReplicaSets, revisions 1 and 2; the old one scaled to zero.
    let mut sets: Vec<(String, i32)> = replicasets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|rs| {
            (
                rs.annotations()["deployment.kubernetes.io/revision"].clone(),
                rs.spec.replicas.unwrap_or(0),
            )
        })
        .collect();
    sets.sort();
    assert_eq!(sets, [("1".to_owned(), 0), ("2".to_owned(), 4)]);
}

#[tokio::test]
async fn each_version_reports_its_own_success_rate() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let (addr, metrics) = sim::workloads::metrics_server::serve(client.clone(), "127.0.0.1:0", 50.0, None)
        .await
        .unwrap();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client, "default");
    for (name, hash, image) in [("api-good", "good1", "api:1.0.0"), ("api-bad", "bad1", "api:1.1.0-bad")] {
        let mut rs = replicaset(name, 2, image);
        let labels = json!({"app": "api", "rollouts-pod-template-hash": hash});
        let mut value = serde_json::to_value(&rs).unwrap();
        value["spec"]["selector"]["matchLabels"] = labels.clone();
        value["spec"]["template"]["metadata"]["labels"] = labels;
        rs = serde_json::from_value(value).unwrap();
        rs_api.create(&PostParams::default(), &rs).await.unwrap();
    }
    let url = format!("http://{addr}/metrics");
    let rate_of = |text: &str, hash: &str| -> Option<f64> {
        let sum = |status: &str| -> f64 {
            text.lines()
                .filter(|l| {
                    l.starts_with("http_requests_total{")
                        && l.contains(&format!("rollouts_pod_template_hash=\"{hash}\""))
                        && l.contains(&format!("status=\"{status}\""))
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        let (ok, err) = (sum("200"), sum("500"));
        (ok + err > 0.0).then(|| ok / (ok + err))
    };
    let serving = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains("status=\"200\""))
            .count()
    };
    eventually("four pods serving", || async {
        serving(&reqwest::get(&url).await.unwrap().text().await.unwrap()) == 4
    })
    .await;
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    // The series carry the labels the seed query and a hash filter need.
    assert!(text.contains("job=\"api\",namespace=\"default\""));
    let good = rate_of(&text, "good1").unwrap();
    let bad = rate_of(&text, "bad1").unwrap();
    assert!(
        (good - 0.97).abs() < 1e-6 && (bad - 0.80).abs() < 1e-6,
        "good {good}, bad {bad}"
    );
    metrics.abort();
}

#[tokio::test]
async fn a_restarted_simulator_resumes_from_api_state() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let first = sim::workloads::runner::spawn(client.clone());
    rs_api
        .create(&PostParams::default(), &replicaset("web", 2, "web:1"))
        .await
        .unwrap();
    eventually("2 available", || async {
        rs_api
            .get_status("web")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.available_replicas == Some(2))
    })
    .await;
    // Stop it, change the desired state while it is down, start a fresh one.
    first.abort();
    let _ = first.await;
    rs_api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len(),
        2,
        "nothing acts while it is down"
    );
    let second = sim::workloads::runner::spawn(client);
    eventually("4 available after the restart", || async {
        rs_api
            .get_status("web")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.available_replicas == Some(4))
    })
    .await;
    assert_eq!(
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len(),
        4,
        "no duplicates"
    );
    second.abort();
}

#[tokio::test]
async fn statefulsets_and_daemonsets_become_ready() {
    use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let template = json!({"metadata": {"labels": {"app": "db"}, "annotations": {"sim.sluice.dev/start-delay": "50ms"}},
                          "spec": {"containers": [{"name": "db", "image": "db:1"}]}});
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template}
    }))
    .unwrap();
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": template}
    }))
    .unwrap();
    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let ds_api: Api<DaemonSet> = Api::namespaced(client.clone(), "default");
    sts_api.create(&PostParams::default(), &sts).await.unwrap();
    ds_api.create(&PostParams::default(), &ds).await.unwrap();
    eventually("3 ready StatefulSet replicas, in order", || async {
        sts_api
            .get_status("db")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.ready_replicas == Some(3))
    })
    .await;
    eventually("the DaemonSet pod ready", || async {
        ds_api
            .get_status("agent")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.number_ready == 1)
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for ordinal in 0..3 {
        assert!(pods.get(&format!("db-{ordinal}")).await.is_ok(), "db-{ordinal}");
    }
}
