//! Following the demo Rollout: the live tree on a terminal (redrawn on every watch event), one line
//! per change otherwise, and a record of what happened for the summary.

use std::io::{IsTerminal as _, Write as _};

use crds::rollout::RolloutPhase;
use crds::{AnalysisRun, Rollout};
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use plugin::view::{Inputs, build, render};

/// Watch caches of the demo namespace.
pub struct Live {
    rollouts: Store<Rollout>,
    sets: Store<ReplicaSet>,
    pods: Store<Pod>,
    runs: Store<AnalysisRun>,
    events: futures::stream::SelectAll<futures::stream::BoxStream<'static, ()>>,
    tty: bool,
    last: String,
}

fn reflect<K>(api: Api<K>) -> (Store<K>, impl Stream<Item = ()> + Send + 'static)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff())
        .filter_map(|event| async move { event.ok().map(|_| ()) });
    (store, stream)
}

impl Live {
    /// Starts watching `namespace`.
    pub fn start(client: &Client, namespace: &str) -> Self {
        let (rollouts, r) = reflect(Api::<Rollout>::namespaced(client.clone(), namespace));
        let (sets, s) = reflect(Api::<ReplicaSet>::namespaced(client.clone(), namespace));
        let (pods, p) = reflect(Api::<Pod>::namespaced(client.clone(), namespace));
        let (runs, a) = reflect(Api::<AnalysisRun>::namespaced(client.clone(), namespace));
        Self {
            rollouts,
            sets,
            pods,
            runs,
            events: futures::stream::select_all([r.boxed(), s.boxed(), p.boxed(), a.boxed()]),
            tty: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            last: String::new(),
        }
    }

    /// The Rollout now.
    pub fn rollout(&self, name: &str) -> Option<Rollout> {
        self.rollouts
            .state()
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .map(|r| (*r).clone())
    }

    /// The AnalysisRuns now.
    pub fn runs(&self) -> Vec<AnalysisRun> {
        self.runs.state().iter().map(|r| (**r).clone()).collect()
    }

    /// Draws the Rollout: the whole tree on a terminal, else one line when its state changes.
    fn draw(&mut self, name: &str) {
        let Some(rollout) = self.rollout(name) else { return };
        let sets: Vec<ReplicaSet> = self.sets.state().iter().map(|x| (**x).clone()).collect();
        let pods: Vec<Pod> = self.pods.state().iter().map(|x| (**x).clone()).collect();
        let runs = self.runs();
        let view = build(&Inputs {
            rollout: &rollout,
            replicasets: &sets,
            pods: &pods,
            runs: &runs,
            now: jiff::Timestamp::now(),
        });
        let text = if self.tty {
            render(&view, true)
        } else {
            let h = &view.header;
            let message = if h.status.2.is_empty() {
                String::new()
            } else {
                format!(" - {}", h.status.2)
            };
            format!(
                "{} {}{message} | step {} | weight {} (actual {}) | replicas {}/{} updated, {} available\n",
                h.status.0.glyph(),
                h.status.1,
                h.step.map_or("-".into(), |(i, n)| format!("{i}/{n}")),
                h.set_weight.unwrap_or(0),
                h.actual_weight.unwrap_or(0),
                h.replicas[2],
                h.replicas[0],
                h.replicas[4],
            )
        };
        if text != self.last {
            let mut out = std::io::stdout().lock();
            if self.tty {
                let _ = write!(out, "\x1b[H\x1b[2J{text}");
            } else {
                let _ = write!(out, "  {text}");
            }
            let _ = out.flush();
            self.last = text;
        }
    }

    /// Draws on every change until `done` holds for the Rollout, or `limit` passes.
    pub async fn until(
        &mut self,
        name: &str,
        limit: std::time::Duration,
        done: impl Fn(&Rollout) -> bool,
    ) -> Option<Rollout> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(())) => {}
                Ok(None) | Err(_) => return None,
            }
            self.draw(name);
            if let Some(rollout) = self.rollout(name).filter(|r| done(r)) {
                return Some(rollout);
            }
        }
    }
}

/// Whether the controller has acted on the latest spec and the Rollout is in `phase`.
pub fn settled_in(rollout: &Rollout, phase: RolloutPhase) -> bool {
    let status = rollout.status.clone().unwrap_or_default();
    status.observed_generation == rollout.metadata.generation.map(|g| g.to_string()) && status.phase == Some(phase)
}
