//! Observing an Application: its project, its source rendered from Git, every desired resource
//! compared with its live object, and the live resources it tracks that Git no longer declares.

use std::collections::HashSet;
use std::sync::Arc;

use crds::gitops::{AppProjectSpec, StoredApplication};
use futures::StreamExt as _;
use kube::ResourceExt as _;
use serde_json::Value;

use super::compare::{self, Compared};
use super::context::AppContext;
use super::snapshot::{ClusterRef, InvalidSpec, Observed, Resource, Snapshot, Unobserved};
use crate::runtime::live::{Kind, LiveState};
use crate::runtime::render::{self, Request};
use crds::keys::{MANIFEST_GENERATE_PATHS_ANNOTATION, REFRESH_ANNOTATION};

/// How many dry runs one reconcile has in flight.
const CONCURRENT_DRY_RUNS: usize = 16;

fn project(ctx: &AppContext, app: &StoredApplication) -> Result<AppProjectSpec, InvalidSpec> {
    let name = app
        .spec
        .project
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    let found =
        ctx.runtime.projects.state().into_iter().find(|p| {
            p.name_any() == name && p.namespace().as_deref() == Some(ctx.runtime.settings.namespace.as_str())
        });
    match found {
        Some(p) => Ok(p.spec.clone()),
        None if name == "default" => Ok(gitops::project::default_project()),
        None => Err(InvalidSpec(format!(
            "AppProject {name:?} does not exist in namespace {}",
            ctx.runtime.settings.namespace
        ))),
    }
}

/// Takes the snapshot of `app` at the context clock's now.
pub async fn snapshot(ctx: &Arc<AppContext>, app: &StoredApplication) -> Snapshot {
    let name = app.name_any();
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let refresh = app.annotations().get(REFRESH_ANNOTATION).cloned();
    let self_heal = ctx
        .self_heal
        .lock()
        .get(&app.uid().unwrap_or_default())
        .cloned()
        .unwrap_or_default();
    let destination = &app.spec.destination;
    let resolved = ctx
        .runtime
        .clusters
        .resolve(
            &ctx.runtime.secrets.state(),
            destination.server.as_deref().unwrap_or_default(),
            destination.name.as_deref().unwrap_or_default(),
        )
        .await;
    let (cluster, live) = match resolved {
        Ok(r) => {
            let unreachable = ctx.runtime.clusters.reachable(&r.server, &name).await.err();
            let live = unreachable.is_none().then_some(r.live);
            let cluster = ClusterRef {
                server: r.server,
                name: r.name,
                unreachable,
            };
            (Ok(cluster), live)
        }
        Err(message) => (Err(InvalidSpec(message)), None),
    };
    let mut snap = Snapshot {
        cluster,
        app: app.clone(),
        now: ctx.base.clock.now(),
        project: project(ctx, app),
        source: Err(Unobserved::Skipped),
        extra: Vec::new(),
        live_hooks: Vec::new(),
        self_heal,
        namespace: namespace.clone(),
        auto_revert: gitops::revert::mode(
            app.annotations()
                .get(gitops::revert::AUTO_REVERT_ANNOTATION)
                .map(String::as_str),
            ctx.runtime.settings.auto_revert,
        ) != gitops::revert::Mode::Off,
        revert: None,
    };
    // Nothing more to see on a cluster that cannot be named or does not answer.
    let Some(live) = live else {
        snap.source = Err(match &snap.cluster {
            Err(InvalidSpec(message)) => Unobserved::Invalid(message.clone()),
            Ok(c) => Unobserved::Unreadable(c.unreachable.clone().unwrap_or_default()),
        });
        return snap;
    };
    let live = &*live;
    // Kinds the Application managed last time, so resources Git dropped are still seen.
    let mut watched: Vec<(Kind, Option<String>)> = Vec::new();
    for r in app.status.iter().flat_map(|s| &s.resources) {
        let api_version = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        if let Some(kind) = live.kind(&api_version, &r.kind).await {
            watched.push((kind, Some(r.namespace.clone()).filter(|n| !n.is_empty())));
        }
    }
    if app.metadata.deletion_timestamp.is_none() {
        snap.source = observe_source(ctx, live, app, &name, &namespace, refresh.as_deref(), &mut watched).await;
    }
    if let Ok(observed) = &snap.source {
        snap.revert = super::history::inputs(ctx, app, &observed.revision).await;
        if let Some(inputs) = snap.revert.as_mut() {
            inputs.analysis = super::history::analysis(ctx, live, observed).await;
        }
    }
    tracked(&mut snap, live, &watched, &name).await;
    snap
}

/// The live objects this Application tracks in the watched (kind, namespace) pairs: its hooks,
/// and the resources Git no longer declares (every one, when Git could not be read).
async fn tracked(snap: &mut Snapshot, live: &LiveState, watched: &[(Kind, Option<String>)], name: &str) {
    let desired_keys: HashSet<String> = match &snap.source {
        Ok(o) => o
            .resources
            .iter()
            .map(|r| key(&r.desired))
            .chain(o.hooks.iter().map(key))
            .collect(),
        Err(_) => HashSet::new(),
    };
    let mut seen = HashSet::new();
    let mut stores = HashSet::new();
    for (kind, ns) in watched {
        // One pass per watched (kind, namespace), however many resources use it.
        if !stores.insert((
            kind.resource.api_version.clone(),
            kind.resource.kind.clone(),
            ns.clone(),
        )) {
            continue;
        }
        let store = live.store(kind, ns.as_deref()).await;
        for object in store.state() {
            // Only objects this Application tracks are turned into JSON.
            let id = object
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(gitops::tracking::TRACKING_ID));
            let tracked_here = id.is_some_and(|id| id.split_once(':').is_some_and(|(app, _)| app == name));
            if !tracked_here {
                continue;
            }
            let Ok(value) = serde_json::to_value(&*object) else {
                continue;
            };
            let hook = gitops::sync::annotations::hook_types(&value).is_some();
            // Hooks named by generateName carry the id of their manifest, so only its app counts.
            let ours = if hook {
                parsed_app(&value).as_deref() == Some(name)
            } else {
                gitops::tracking::tracked_by(&value).as_deref() == Some(name)
            };
            if !ours || !seen.insert(key(&value)) {
                continue;
            }
            if hook {
                snap.live_hooks.push(value);
            } else if !desired_keys.contains(&key(&value)) || snap.source.is_err() {
                snap.extra.push(value);
            }
        }
    }
}

fn parsed_app(object: &Value) -> Option<String> {
    let id = object
        .pointer("/metadata/annotations")?
        .get(gitops::tracking::TRACKING_ID)?
        .as_str()?;
    gitops::tracking::parse(id).map(|(app, _)| app)
}

fn key(object: &Value) -> String {
    gitops::tracking::ResourceKey::of(object).to_string()
}

async fn observe_source(
    ctx: &Arc<AppContext>,
    cluster: &LiveState,
    app: &StoredApplication,
    name: &str,
    namespace: &str,
    refresh: Option<&str>,
    watched: &mut Vec<(Kind, Option<String>)>,
) -> Result<Observed, Unobserved> {
    let source = app
        .spec
        .primary_source()
        .ok_or_else(|| Unobserved::Invalid("spec.source: the Application has no source".into()))?;
    let revision = target_revision(app, source);
    let got = render::observe(
        &ctx.runtime,
        Request {
            source,
            revision,
            app: name,
            namespace,
            fetch: refresh.is_some() || app.operation.is_some(),
            rerender: refresh == Some("hard"),
            previous: previous_revision(app).zip(
                app.annotations()
                    .get(MANIFEST_GENERATE_PATHS_ANNOTATION)
                    .map(String::as_str),
            ),
        },
    )
    .await?;
    let rendered = got
        .rendered
        .as_ref()
        .as_ref()
        .map_err(|e| Unobserved::Invalid(e.clone()))?;
    let mut resources = Vec::new();
    let mut hooks = Vec::new();
    let mut to_compare = Vec::new();
    for object in &rendered.objects {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind_name = object["kind"].as_str().unwrap_or_default();
        let kind = cluster.kind(api_version, kind_name).await;
        let prepared = prepare(object, kind.as_ref(), namespace, name);
        if gitops::sync::annotations::hook_types(&prepared).is_some() {
            if let Some(kind) = &kind {
                watched.push((kind.clone(), ns_of(&prepared)));
            }
            hooks.push(prepared);
            continue;
        }
        match kind {
            Some(kind) => {
                watched.push((kind.clone(), ns_of(&prepared)));
                to_compare.push((kind, prepared));
            }
            None => resources.push(Resource {
                desired: prepared,
                live: None,
                compared: Compared::Error(format!("the server does not serve {kind_name} in {api_version}")),
                namespaced: true,
                served: false,
            }),
        }
    }
    let rules: Vec<_> = ctx
        .runtime
        .settings
        .ignore_differences
        .iter()
        .chain(&app.spec.ignore_differences)
        .cloned()
        .collect();
    let compared: Vec<Resource> = futures::stream::iter(to_compare)
        .map(|(kind, desired)| {
            let rules = &rules;
            async move {
                let store = cluster.store(&kind, ns_of(&desired).as_deref()).await;
                let live = find(&store, &kind, &desired).map(|l| ctx.comparisons.freshest(&desired, l));
                let compared = compare::compare(
                    cluster,
                    &ctx.comparisons,
                    &kind,
                    &desired,
                    live.as_ref(),
                    rules,
                    &ctx.base.metrics.app_requests,
                )
                .await;
                Resource {
                    desired,
                    live,
                    compared,
                    namespaced: kind.namespaced,
                    served: true,
                }
            }
        })
        .buffered(CONCURRENT_DRY_RUNS)
        .collect()
        .await;
    resources.extend(compared);
    Ok(Observed {
        revision: got.revision.clone(),
        source_type: rendered.source_type.as_str(),
        resources,
        hooks,
    })
}

/// The revision to render: a sync's own, else the one a running manual sync started on (it runs
/// to the end there), else the source's target (an automated sync follows it, so a newer commit
/// can supersede it).
fn target_revision<'a>(app: &'a StoredApplication, source: &'a crds::gitops::ApplicationSource) -> &'a str {
    let operation_revision = app
        .operation
        .as_ref()
        .and_then(|o| o.sync.as_ref())
        .and_then(|s| s.revision.as_deref());
    let running_manual = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .filter(|s| s.phase == "Running")
        .and_then(|s| s.operation.as_ref())
        .filter(|o| o.initiated_by.as_ref().and_then(|i| i.automated) != Some(true))
        .and_then(|o| o.sync.as_ref())
        .and_then(|s| s.revision.as_deref());
    operation_revision
        .or(running_manual)
        .or(source.target_revision.as_deref())
        .unwrap_or("HEAD")
}

fn previous_revision(app: &StoredApplication) -> Option<&str> {
    app.status.as_ref()?.sync.as_ref()?.revision.as_deref()
}

fn ns_of(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn find(
    store: &kube::runtime::reflector::Store<kube::api::DynamicObject>,
    kind: &Kind,
    desired: &Value,
) -> Option<Value> {
    let name = desired.pointer("/metadata/name").and_then(Value::as_str)?;
    let mut reference = kube::runtime::reflector::ObjectRef::new_with(name, kind.resource.clone());
    if let Some(ns) = ns_of(desired).filter(|_| kind.namespaced) {
        reference = reference.within(&ns);
    }
    store.get(&reference).and_then(|o| serde_json::to_value(&*o).ok())
}

/// The desired object as it will be applied (see [`gitops::tracking::prepare`]); a kind not
/// served yet counts as namespaced.
#[must_use]
pub fn prepare(object: &Value, kind: Option<&Kind>, namespace: &str, app: &str) -> Value {
    gitops::tracking::prepare(object, kind.is_none_or(|k| k.namespaced), namespace, app)
}
