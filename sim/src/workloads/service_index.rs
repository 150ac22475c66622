//! Which Services select a pod, answered from an index of the Services' selectors by
//! `(namespace, key, value)`, so a pod event costs the Services sharing one of its labels, not
//! every Service of the cluster (the EndpointSlice controller's pod-to-service mapping). Kept
//! from the Service watch's own events, re-lists included.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

type Key = (String, String);

/// Services by a label their selector requires.
#[derive(Debug, Default)]
pub struct ServiceIndex {
    selectors: HashMap<Key, BTreeMap<String, String>>,
    by_label: HashMap<(String, String, String), HashSet<String>>,
    /// The Services of a re-list in progress (they replace the index at its end).
    relisting: Option<Vec<Service>>,
}

fn key(service: &Service) -> Option<Key> {
    Some((service.metadata.namespace.clone()?, service.metadata.name.clone()?))
}

impl ServiceIndex {
    fn insert(&mut self, service: &Service) {
        let Some(key) = key(service) else { return };
        self.remove(&key);
        let selector = service
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        for (k, v) in &selector {
            self.by_label
                .entry((key.0.clone(), k.clone(), v.clone()))
                .or_default()
                .insert(key.1.clone());
        }
        self.selectors.insert(key, selector);
    }

    fn remove(&mut self, key: &Key) {
        let Some(selector) = self.selectors.remove(key) else {
            return;
        };
        for (k, v) in selector {
            let label = (key.0.clone(), k, v);
            if let Some(names) = self.by_label.get_mut(&label) {
                names.remove(&key.1);
                if names.is_empty() {
                    self.by_label.remove(&label);
                }
            }
        }
    }

    /// Follows one event of the Service watch.
    pub fn apply(&mut self, event: &watcher::Event<Service>) {
        match event {
            watcher::Event::Apply(service) => self.insert(service),
            watcher::Event::Delete(service) => {
                if let Some(key) = key(service) {
                    self.remove(&key);
                }
            }
            watcher::Event::Init => self.relisting = Some(Vec::new()),
            watcher::Event::InitApply(service) => self.relisting.get_or_insert_with(Vec::new).push(service.clone()),
            watcher::Event::InitDone => {
                let listed = self.relisting.take().unwrap_or_default();
                *self = Self::default();
                for service in &listed {
                    self.insert(service);
                }
            }
        }
    }

    /// The Services (with a non-empty selector) whose every selector label the pod carries.
    #[must_use]
    pub fn selecting(&self, pod: &Pod) -> Vec<ObjectRef<Service>> {
        let (Some(ns), Some(labels)) = (pod.metadata.namespace.as_deref(), pod.metadata.labels.as_ref()) else {
            return Vec::new();
        };
        let mut found: Vec<&String> = labels
            .iter()
            .filter_map(|(k, v)| self.by_label.get(&(ns.to_owned(), k.clone(), v.clone())))
            .flatten()
            .collect();
        found.sort();
        found.dedup();
        found
            .into_iter()
            .filter(|name| {
                self.selectors
                    .get(&(ns.to_owned(), (*name).clone()))
                    .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
            })
            .map(|name| ObjectRef::new(name).within(ns))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn service(name: &str, selector: serde_json::Value) -> Service {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"selector": selector}}))
            .unwrap()
    }

    fn pod(labels: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns", "labels": labels}})).unwrap()
    }

    fn names(refs: &[ObjectRef<Service>]) -> Vec<String> {
        refs.iter().map(|r| r.name.clone()).collect()
    }

    #[test]
    fn a_pod_maps_to_the_services_whose_whole_selector_it_matches() {
        let mut index = ServiceIndex::default();
        index.apply(&watcher::Event::Apply(service("web", json!({"app": "web"}))));
        index.apply(&watcher::Event::Apply(service(
            "canary",
            json!({"app": "web", "hash": "2"}),
        )));
        index.apply(&watcher::Event::Apply(service("db", json!({"app": "db"}))));
        assert_eq!(
            names(&index.selecting(&pod(json!({"app": "web", "hash": "1"})))),
            ["web"]
        );
        assert_eq!(
            names(&index.selecting(&pod(json!({"app": "web", "hash": "2"})))),
            ["canary", "web"]
        );
        // A selector change and a deletion are followed.
        index.apply(&watcher::Event::Apply(service(
            "canary",
            json!({"app": "web", "hash": "1"}),
        )));
        index.apply(&watcher::Event::Delete(service("web", json!({"app": "web"}))));
        assert_eq!(
            names(&index.selecting(&pod(json!({"app": "web", "hash": "1"})))),
            ["canary"]
        );
    }

    #[test]
    fn a_relist_replaces_what_was_known() {
        let mut index = ServiceIndex::default();
        index.apply(&watcher::Event::Apply(service("gone", json!({"app": "web"}))));
        index.apply(&watcher::Event::Init);
        index.apply(&watcher::Event::InitApply(service("web", json!({"app": "web"}))));
        index.apply(&watcher::Event::InitDone);
        assert_eq!(names(&index.selecting(&pod(json!({"app": "web"})))), ["web"]);
    }
}
