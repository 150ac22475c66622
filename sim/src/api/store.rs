//! The object store: every object by type, namespace and name, the resourceVersion counter, and the
//! event history that watches replay.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

mod deletion;
mod index;

use index::{Index, Location, ObjKey};

use super::objects::changed;
use super::registry::Registry;
use super::resources::ResourceType;
use super::selectors::LabelSelector;
use super::status::ApiError;
use super::{crd, defaults};

/// How many past events are kept for watches that resume from a resourceVersion.
pub const HISTORY: usize = 20_000;
/// How many events a watcher may fall behind before it is cut off with 410 Gone.
pub const WATCH_BUFFER: usize = 10_000;

/// A change, as watches report it.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchEvent {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Group of the object's type.
    pub group: String,
    /// Plural of the object's type.
    pub plural: String,
    /// Namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// ADDED, MODIFIED or DELETED.
    pub event_type: &'static str,
    /// The object after the change (before it, for DELETED), shared with the store.
    pub object: Arc<Value>,
    /// The object before a MODIFIED change, so watches with selectors can tell an object that
    /// entered or left the selection.
    pub previous: Option<Arc<Value>>,
    /// The watch line `{"type": event_type, "object": ...}` as JSON, encoded once by the first
    /// watcher that sends it and shared by every other.
    pub encoded: std::sync::OnceLock<axum::body::Bytes>,
}

/// How dependents are treated when their owner is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted after the owner (the default).
    Background,
    /// Dependents are deleted before the owner.
    Foreground,
    /// Dependents lose their owner reference and stay.
    Orphan,
}

use index::TypeKey;

/// The finalizer that keeps an owner while its dependents are deleted first.
const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an owner whose dependents are orphaned.
const ORPHAN: &str = "orphan";

/// The state of the simulated cluster.
#[derive(Debug)]
pub struct Store {
    /// Served resource types.
    pub registry: Registry,
    objects: HashMap<TypeKey, BTreeMap<ObjKey, Arc<Value>>>,
    rv: u64,
    cluster_ips: u64,
    history: VecDeque<Arc<WatchEvent>>,
    tx: broadcast::Sender<Arc<WatchEvent>>,
    index: Index,
}

fn type_key(rt: &ResourceType) -> TypeKey {
    (rt.group.clone(), rt.plural.clone())
}

fn meta<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Current time as Kubernetes writes timestamps (RFC 3339, seconds).
#[must_use]
pub fn now() -> String {
    rfc3339(jiff::Timestamp::now())
}

/// A timestamp as Kubernetes writes them (RFC 3339, whole seconds, UTC).
#[must_use]
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// A store with the namespaces every cluster has.
    #[must_use]
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(WATCH_BUFFER);
        let mut store = Self {
            registry: Registry::default(),
            objects: HashMap::new(),
            rv: 1,
            cluster_ips: 0,
            history: VecDeque::new(),
            tx,
            index: Index::default(),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now(), "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            });
            store.rv += 1;
            let mut obj = obj;
            obj["metadata"]["resourceVersion"] = json!(store.rv.to_string());
            let at: Location = ((String::new(), "namespaces".into()), (String::new(), ns.into()));
            store.index.insert(&at, &obj, None);
            store.objects.entry(at.0).or_default().insert(at.1, Arc::new(obj));
        }
        store
    }

    /// The latest resourceVersion.
    #[must_use]
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// A receiver of every future change.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WatchEvent>> {
        self.tx.subscribe()
    }

    /// Events after `rv`, or 410 Gone when they are no longer kept.
    ///
    /// # Errors
    /// [`ApiError::gone`] when `rv` is older than the history.
    pub fn events_since(&self, rv: u64) -> Result<Vec<Arc<WatchEvent>>, ApiError> {
        if !self.retains(rv) {
            let oldest = self.history.front().map_or(self.rv, |e| e.rv - 1);
            return Err(ApiError::gone(format!("too old resource version: {rv} ({oldest})")));
        }
        // The history is in resourceVersion order.
        let from = self.history.partition_point(|e| e.rv <= rv);
        Ok(self.history.range(from..).cloned().collect())
    }

    /// Whether every change after `rv` is still in the history (a watch or a continued list
    /// from `rv` can be served; kube-apiserver answers 410 once etcd compacted it).
    #[must_use]
    pub fn retains(&self, rv: u64) -> bool {
        let oldest = self.history.front().map_or(self.rv + 1, |e| e.rv);
        rv + 1 >= oldest || rv >= self.rv
    }

    fn record(
        &mut self,
        rt: &ResourceType,
        event_type: &'static str,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let event = Arc::new(WatchEvent {
            rv: self.rv,
            group: rt.group.clone(),
            plural: rt.plural.clone(),
            namespace: meta(&object, "namespace").to_owned(),
            event_type,
            object,
            previous,
            encoded: std::sync::OnceLock::new(),
        });
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(event.clone());
        // Nobody listening is fine.
        let _ = self.tx.send(event);
    }

    /// Stores a new version of an object (with the next resourceVersion) and records the event;
    /// the map and the watch history share one copy.
    fn put(&mut self, rt: &ResourceType, mut obj: Value, event_type: &'static str) -> Value {
        self.next_rv(&mut obj);
        let key = (meta(&obj, "namespace").to_owned(), meta(&obj, "name").to_owned());
        let shared = Arc::new(obj);
        let at: Location = (type_key(rt), key);
        let previous = self
            .objects
            .entry(at.0.clone())
            .or_default()
            .insert(at.1.clone(), shared.clone());
        self.index.insert(&at, &shared, previous.as_deref());
        self.record(rt, event_type, shared.clone(), previous);
        Arc::unwrap_or_clone(shared)
    }

    fn next_rv(&mut self, obj: &mut Value) {
        self.rv += 1;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(self.rv.to_string()));
        }
    }

    /// One object.
    ///
    /// # Errors
    /// 404 when it does not exist.
    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&type_key(rt))
            .and_then(|objs| objs.get(&(namespace.to_owned(), name.to_owned())))
            .map(|o| Value::clone(o))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    /// Whether any object of the type exists.
    #[must_use]
    pub fn has_any(&self, rt: &ResourceType) -> bool {
        self.objects.get(&type_key(rt)).is_some_and(|objs| !objs.is_empty())
    }

    /// Objects of a type, in one namespace or all, sorted by namespace and name.
    #[must_use]
    pub fn list(&self, rt: &ResourceType, namespace: Option<&str>) -> Vec<Value> {
        self.list_where(rt, namespace, |_| true)
    }

    /// Objects of a type matching a label selector and `keep`: only the objects carrying its
    /// `key=value` labels are looked at (through the label index), then every requirement and
    /// `keep` are checked. Sorted by namespace and name, as [`Store::list_where`].
    pub fn list_selected(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selector: &LabelSelector,
        keep: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        self.list_selected_shared(rt, namespace, selector, keep)
            .into_iter()
            .map(Arc::unwrap_or_clone)
            .collect()
    }

    /// [`Store::list_selected`], sharing the stored objects instead of copying them (a list
    /// response only serialises them).
    pub fn list_selected_shared(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selector: &LabelSelector,
        keep: impl Fn(&Value) -> bool,
    ) -> Vec<Arc<Value>> {
        let type_key = type_key(rt);
        let Some(objs) = self.objects.get(&type_key) else {
            return Vec::new();
        };
        let Some(candidates) = self.index.labelled(&type_key, selector.equalities()) else {
            let wanted = |o: &&Arc<Value>| selector.matches(o) && keep(o);
            return match namespace {
                Some(ns) => objs
                    .range((ns.to_owned(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, o)| o)
                    .filter(wanted)
                    .cloned()
                    .collect(),
                None => objs.values().filter(wanted).cloned().collect(),
            };
        };
        candidates
            .iter()
            .filter(|(ns, _)| namespace.is_none_or(|want| want == ns))
            .filter_map(|key| objs.get(key))
            .filter(|o| selector.matches(o) && keep(o))
            .cloned()
            .collect()
    }

    /// Objects of a type that satisfy `keep`, filtered before they are copied.
    pub fn list_where(&self, rt: &ResourceType, namespace: Option<&str>, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        let Some(objs) = self.objects.get(&type_key(rt)) else {
            return Vec::new();
        };
        let copy = |(_, o): (_, &Arc<Value>)| keep(o).then(|| Value::clone(o));
        match namespace {
            // Keys sort by namespace first: one namespace is one range, not a scan of all.
            Some(want) => objs
                .range((want.to_owned(), String::new())..)
                .take_while(|((ns, _), _)| ns == want)
                .filter_map(copy)
                .collect(),
            None => objs.iter().filter_map(copy).collect(),
        }
    }

    fn namespace_exists(&self, namespace: &str) -> bool {
        self.objects
            .get(&(String::new(), "namespaces".into()))
            .is_some_and(|ns| ns.contains_key(&(String::new(), namespace.to_owned())))
    }

    /// Stores a prepared new object.
    ///
    /// # Errors
    /// 409 when it exists, 404 when its namespace does not.
    pub fn create(&mut self, rt: &ResourceType, mut obj: Value, dry_run: bool) -> Result<Value, ApiError> {
        let (namespace, name) = (meta(&obj, "namespace").to_owned(), meta(&obj, "name").to_owned());
        if rt.namespaced && !self.namespace_exists(&namespace) {
            return Err(ApiError::not_found("", "namespaces", &namespace));
        }
        let key = (namespace, name.clone());
        if self
            .objects
            .get(&type_key(rt))
            .is_some_and(|objs| objs.contains_key(&key))
        {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        // Simulated ClusterIPs come from 10.96.0.0/16 and are never routed anywhere.
        let n = self.cluster_ips;
        defaults::initial_status(rt, &mut obj, || format!("10.96.{}.{}", n / 250, n % 250 + 1));
        if rt.group.is_empty() && rt.plural == "services" && !dry_run {
            self.cluster_ips += 1;
        }
        if is_crd(rt)
            && let Some(map) = obj.as_object_mut()
        {
            map.insert(
                "status".into(),
                crd::accepted_status(&Value::Object(map.clone()), &now()),
            );
        }
        if dry_run {
            return Ok(obj);
        }
        let obj = self.put(rt, obj, "ADDED");
        if is_crd(rt) {
            self.sync_crd(&obj);
        }
        Ok(obj)
    }

    /// Replaces a stored object with a prepared new version; a version equal to the stored one is
    /// not written (no new resourceVersion, no event), as on a real server.
    ///
    /// # Errors
    /// 404 when the object is gone.
    pub fn replace(&mut self, rt: &ResourceType, mut obj: Value, dry_run: bool) -> Result<Value, ApiError> {
        let key = (meta(&obj, "namespace").to_owned(), meta(&obj, "name").to_owned());
        let old = self.get(rt, &key.0, &key.1)?;
        if let Some(rv) = old.pointer("/metadata/resourceVersion").cloned() {
            obj["metadata"]["resourceVersion"] = rv;
        }
        if !changed(&old, &obj) || dry_run {
            return Ok(if dry_run { obj } else { old });
        }
        let finalizers_left = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if obj.pointer("/metadata/deletionTimestamp").is_some() && !finalizers_left {
            return self.remove(rt, &key.0, &key.1);
        }
        let obj = self.put(rt, obj, "MODIFIED");
        if is_crd(rt) {
            self.sync_crd(&obj);
        }
        Ok(obj)
    }

    /// Binds a pod to a node (`pods/{name}/binding`): the one write that may set `spec.nodeName`.
    ///
    /// # Errors
    /// 404 when the pod is gone, 409 when it is bound already.
    pub fn bind(&mut self, rt: &ResourceType, namespace: &str, name: &str, node: &str) -> Result<Value, ApiError> {
        let mut pod = self.get(rt, namespace, name)?;
        if pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty())
        {
            let mut err = ApiError::conflict("", "pods", name);
            err.message = format!("pod {name} is already assigned to a node");
            return Err(err);
        }
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("nodeName".into(), json!(node));
        }
        Ok(self.put(rt, pod, "MODIFIED"))
    }

    fn sync_crd(&mut self, crd_obj: &Value) {
        if let Some(rt) = crd::resource_type(crd_obj) {
            self.registry.register(rt);
        }
    }

    /// Deleting a CRD deletes its objects (each with a DELETED event) and stops serving the type.
    fn drop_crd(&mut self, crd_obj: &Value) {
        if let Some(rt) = crd::resource_type(crd_obj) {
            for obj in self.list(&rt, None) {
                let _ = self.remove(&rt, meta(&obj, "namespace"), meta(&obj, "name"));
            }
            self.objects.remove(&type_key(&rt));
            self.registry.unregister(&rt.group, &rt.plural);
        }
    }
}

fn is_crd(rt: &ResourceType) -> bool {
    rt.group == "apiextensions.k8s.io" && rt.plural == "customresourcedefinitions"
}
