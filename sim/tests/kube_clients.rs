//! kube-rs against the simulated API server: `Api`, `watcher`, `reflector` and `Controller` behave
//! as they do against kube-apiserver. Each assertion names the Kubernetes behaviour it mirrors.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crds::rollout::{Rollout, RolloutStatus};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::{Controller, reflector, watcher};
use kube::{Api, Client, CustomResourceExt, ResourceExt};
use serde_json::json;
use sim::Sim;

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    );
    cm.data = Some(BTreeMap::from([("key".to_owned(), "value".to_owned())]));
    cm
}

fn api_error(err: kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(status) => (status.code, status.reason),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn install_rollout_crd(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Rollout::crd()).await.unwrap();
}

/// kube-apiserver serves every page of a list from the first page's snapshot and reports its
/// resourceVersion on each page, so a watch from the last page's resourceVersion (what kube-rs's
/// `watcher` does) sees every change made while the pages were read.
#[tokio::test]
async fn a_paginated_list_then_a_watch_misses_no_change_made_between_pages() {
    use kube::api::{WatchEvent, WatchParams};
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");
    for name in ["p-0", "p-1", "p-2"] {
        api.create(&PostParams::default(), &config_map(name, &[]))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(first.items[0].name_any(), "p-0");
    // A change to an object already listed, between two pages.
    api.patch(
        "p-0",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"key": "changed"}})),
    )
    .await
    .unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    let rest = api.list(&ListParams::default().continue_token(&token)).await.unwrap();
    assert_eq!(
        rest.items.iter().map(ResourceExt::name_any).collect::<Vec<_>>(),
        ["p-1", "p-2"]
    );
    assert_eq!(rest.metadata.resource_version, first.metadata.resource_version);
    let rv = rest.metadata.resource_version.unwrap();
    let params = WatchParams::default().timeout(1);
    let events: Vec<_> = api.watch(&params, &rv).await.unwrap().try_collect().await.unwrap();
    let modified: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Modified(cm) => Some(cm.name_any()),
            _ => None,
        })
        .collect();
    assert_eq!(modified, ["p-0"]);
    // A token is not a way round validation.
    let err = api.list(&ListParams::default().continue_token("zz")).await.unwrap_err();
    assert_eq!(api_error(err).0, 400);
}

#[tokio::test]
async fn crud_selectors_conflicts_and_errors() {
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");
    let created = api
        .create(&PostParams::default(), &config_map("a", &[("app", "web")]))
        .await
        .unwrap();
    // The server assigns uid, resourceVersion and creationTimestamp.
    assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    api.create(&PostParams::default(), &config_map("b", &[("app", "db")]))
        .await
        .unwrap();
    // Creating an existing name is 409 AlreadyExists.
    let err = api
        .create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), (409, "AlreadyExists".into()));
    // Label selectors filter lists.
    let web = api.list(&ListParams::default().labels("app=web")).await.unwrap();
    assert_eq!(web.items.iter().map(ResourceExt::name_any).collect::<Vec<_>>(), ["a"]);
    let not_web = api
        .list(&ListParams::default().labels("app notin (web)"))
        .await
        .unwrap();
    assert_eq!(
        not_web.items.iter().map(ResourceExt::name_any).collect::<Vec<_>>(),
        ["b"]
    );
    // limit/continue paginate.
    let page = api.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let token = page.metadata.continue_.clone().unwrap();
    let rest = api
        .list(&ListParams::default().limit(1).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items[0].name_any(), "b");
    // Replacing with a stale resourceVersion is 409 Conflict (optimistic concurrency).
    let mut stale = created.clone();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"key": "new"}})),
    )
    .await
    .unwrap();
    stale.data = Some(BTreeMap::from([("key".to_owned(), "lost update".to_owned())]));
    let err = api.replace("a", &PostParams::default(), &stale).await.unwrap_err();
    assert_eq!(api_error(err), (409, "Conflict".into()));
    // Missing objects are 404 NotFound; a missing namespace too.
    assert_eq!(api_error(api.get("nope").await.unwrap_err()), (404, "NotFound".into()));
    let elsewhere: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "missing");
    let err = elsewhere
        .create(&PostParams::default(), &config_map("x", &[]))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), (404, "NotFound".into()));
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_error(api.get("a").await.unwrap_err()).0, 404);
}

#[tokio::test]
async fn custom_resources_status_subresource_and_generation() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    install_rollout_crd(&client).await;
    // A CRD is served as soon as it is created.
    let api: Api<Rollout> = Api::namespaced(client, "default");
    let mut ro = Rollout::new("api", serde_json::from_value(json!({"replicas": 2})).unwrap());
    ro.status = Some(RolloutStatus {
        message: Some("ignored on create".into()),
        ..RolloutStatus::default()
    });
    let created = api.create(&PostParams::default(), &ro).await.unwrap();
    // Status is dropped on create when it is a subresource; generation starts at 1.
    assert_eq!(created.status, None);
    assert_eq!(created.metadata.generation, Some(1));
    // Writing /status changes only status and leaves the generation alone.
    let status = json!({"status": {"phase": "Healthy", "observedGeneration": "1"}, "spec": {"replicas": 99}});
    let after = api
        .patch_status("api", &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
    assert_eq!(after.status.unwrap().observed_generation.as_deref(), Some("1"));
    assert_eq!((after.spec.replicas, after.metadata.generation), (Some(2), Some(1)));
    // A spec change bumps the generation; status written through the main resource is ignored.
    let patch = json!({"spec": {"replicas": 3}, "status": {"phase": "Degraded"}});
    let after = api
        .patch("api", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    assert_eq!(after.metadata.generation, Some(2));
    assert_eq!(after.status.unwrap().phase, Some(crds::rollout::RolloutPhase::Healthy));
    // A metadata-only change does not bump the generation.
    let after = api
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(after.metadata.generation, Some(2));
    // The scale subresource reads spec.replicas and status.HPAReplicas.
    let scale = api.get_scale("api").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn watcher_sees_initial_state_then_changes() {
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");
    api.create(&PostParams::default(), &config_map("before", &[]))
        .await
        .unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    // Initial list: Init, InitApply for each object, InitDone.
    while let Some(event) = events.try_next().await.unwrap() {
        match event {
            watcher::Event::Init => seen.push("init".to_owned()),
            watcher::Event::InitApply(cm) => seen.push(format!("init-apply {}", cm.name_any())),
            watcher::Event::InitDone => {
                seen.push("init-done".to_owned());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["init", "init-apply before", "init-done"]);
    api.create(&PostParams::default(), &config_map("after", &[]))
        .await
        .unwrap();
    api.delete("before", &DeleteParams::default()).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), async {
        let mut out = Vec::new();
        while out.len() < 2 {
            match events.try_next().await.unwrap().unwrap() {
                watcher::Event::Apply(cm) => out.push(format!("apply {}", cm.name_any())),
                watcher::Event::Delete(cm) => out.push(format!("delete {}", cm.name_any())),
                _ => {}
            }
        }
        out
    })
    .await
    .unwrap();
    assert_eq!(next, ["apply after", "delete before"]);
}

#[tokio::test]
async fn reflector_store_follows_the_server() {
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api.clone(), watcher::Config::default()));
    let task = tokio::spawn(stream.for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();
    for name in ["one", "two", "three"] {
        api.create(&PostParams::default(), &config_map(name, &[]))
            .await
            .unwrap();
    }
    api.delete("two", &DeleteParams::default()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut names: Vec<String> = reader.state().iter().map(|cm| cm.name_any()).collect();
            names.sort();
            if names == ["one", "three"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the reflector store should converge on the server's objects");
    task.abort();
}

#[tokio::test]
async fn controller_reconciles_each_object() {
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");
    let reconciled = Arc::new(AtomicUsize::new(0));
    let counter = reconciled.clone();
    let controller = Controller::new(api.clone(), watcher::Config::default()).run(
        move |cm: Arc<ConfigMap>, ctx: Arc<Api<ConfigMap>>| {
            let counter = counter.clone();
            async move {
                // Mark each object once through the API; the resulting event reconciles again
                // but finds nothing to do.
                if cm.labels().get("reconciled").is_none() {
                    ctx.patch(
                        &cm.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(json!({"metadata": {"labels": {"reconciled": "yes"}}})),
                    )
                    .await?;
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<_, kube::Error>(Action::await_change())
            }
        },
        |_, _, _| Action::requeue(Duration::from_secs(1)),
        Arc::new(api.clone()),
    );
    let task = tokio::spawn(controller.for_each(|_| async {}));
    for name in ["x", "y"] {
        api.create(&PostParams::default(), &config_map(name, &[]))
            .await
            .unwrap();
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while api
            .list(&ListParams::default().labels("reconciled=yes"))
            .await
            .unwrap()
            .items
            .len()
            < 2
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the controller should reconcile both objects");
    assert_eq!(reconciled.load(Ordering::SeqCst), 2);
    task.abort();
}

#[tokio::test]
async fn server_side_apply_conflicts_force_and_field_removal() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client, "default");
    let deployment = |replicas: i64, containers: serde_json::Value| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
            }
        })
    };
    let two = json!([{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"}]);
    // Apply creates the object; the manager owns what it applied.
    let created = api
        .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(deployment(2, two)))
        .await
        .unwrap();
    let owners: Vec<_> = created
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
        .collect();
    assert_eq!(owners, [("gitops".to_owned(), "Apply".to_owned())]);
    // Another manager changing a field the first one owns conflicts, naming the owner and field
    // (an applier by name only; kube-apiserver adds "using <version>" for updaters).
    let one = json!([{"name": "app", "image": "app:1"}]);
    let err = api
        .patch(
            "web",
            &PatchParams::apply("autoscaler"),
            &Patch::Apply(deployment(5, one.clone())),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected a Status")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"gitops\": .spec.replicas"
    );
    // force takes ownership.
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}
            })),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.replicas, Some(5));
    // The first manager re-applies without the sidecar and without replicas: the sidecar goes,
    // replicas stay (now owned by the autoscaler).
    let mut config = deployment(0, one);
    config["spec"].as_object_mut().unwrap().remove("replicas");
    let after = api
        .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(config))
        .await
        .unwrap();
    let spec = after.spec;
    assert_eq!(spec.replicas, Some(5));
    let names: Vec<String> = spec
        .template
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["app"]);
}

#[tokio::test]
async fn server_side_apply_takes_the_name_from_the_url_when_the_body_has_none() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let api: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client, "default");
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"holderIdentity": "a"}});
    let created = api
        .patch("leader", &PatchParams::apply("elector"), &Patch::Apply(&lease))
        .await
        .unwrap();
    assert_eq!(created.metadata.name.as_deref(), Some("leader"));
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    let renamed = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "other"}});
    let error = api
        .patch("leader", &PatchParams::apply("elector"), &Patch::Apply(&renamed))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("does not match the name on the URL"),
        "{error}"
    );
}
