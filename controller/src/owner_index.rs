//! A watch cache indexed by controlling owner, so a reconcile reads its own children without
//! scanning every object of the kind.
//!
//! kube-runtime's reflector `Store` looks objects up by name only: finding the ReplicaSets of one
//! Rollout meant filtering the whole cache, so each reconcile cost O(objects) and a fleet's
//! reconciles O(objects²) (client-go solves the same problem with informer indexers, e.g. the
//! Deployment controller's `getReplicaSetsForDeployment` lister). This index follows the same watch
//! events as the store, in the store's order, and keeps only names: objects are still read
//! from the store, so there is one copy of each.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

/// Who controls an object: the controller owner's UID, or none (an orphan, kept per namespace so
/// adoption looks only at its own namespace).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Owner {
    Uid(String),
    Orphan(String),
}

/// An object's namespace and name.
type Key = (String, String);

#[derive(Default)]
struct Index {
    children: HashMap<Owner, BTreeSet<Key>>,
    owner_of: HashMap<Key, Owner>,
}

impl Index {
    fn insert(&mut self, key: Key, owner: Owner) {
        if let Some(old) = self.owner_of.insert(key.clone(), owner.clone()) {
            if old == owner {
                return;
            }
            self.remove_from(&old, &key);
        }
        self.children.entry(owner).or_default().insert(key);
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.owner_of.remove(key) {
            self.remove_from(&old, key);
        }
    }

    fn remove_from(&mut self, owner: &Owner, key: &Key) {
        if let Some(set) = self.children.get_mut(owner) {
            set.remove(key);
            if set.is_empty() {
                self.children.remove(owner);
            }
        }
    }
}

#[derive(Default)]
struct State {
    current: Index,
    /// The index being rebuilt by a relist, swapped in at its end (as the store does).
    relisting: Option<Index>,
}

/// The objects of a watch cache by controlling owner. Clones share one index.
pub struct OwnerIndex<K: Resource + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store: Store<K>,
    state: Arc<RwLock<State>>,
}

impl<K: Resource + 'static> Clone for OwnerIndex<K>
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

fn key_and_owner<K: Resource>(object: &K) -> (Key, Owner) {
    let meta = object.meta();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let key = (namespace.clone(), meta.name.clone().unwrap_or_default());
    let owner = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map_or(Owner::Orphan(namespace), |o| Owner::Uid(o.uid.clone()));
    (key, owner)
}

impl<K> OwnerIndex<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    /// An empty index over `store`; feed it the events that fill the store ([`Self::apply`]).
    #[must_use]
    pub fn new(store: Store<K>) -> Self {
        Self {
            store,
            state: Arc::default(),
        }
    }

    /// Follows one watch event, after the store has applied it.
    pub fn apply(&self, event: &watcher::Event<K>) {
        let Ok(mut state) = self.state.write() else {
            return;
        };
        match event {
            watcher::Event::Apply(object) => {
                let (key, owner) = key_and_owner(object);
                state.current.insert(key, owner);
            }
            watcher::Event::Delete(object) => state.current.remove(&key_and_owner(object).0),
            watcher::Event::Init => state.relisting = Some(Index::default()),
            watcher::Event::InitApply(object) => {
                let (key, owner) = key_and_owner(object);
                state.relisting.get_or_insert_with(Index::default).insert(key, owner);
            }
            watcher::Event::InitDone => {
                if let Some(index) = state.relisting.take() {
                    state.current = index;
                }
            }
        }
    }

    fn read(&self, owner: &Owner) -> Vec<Arc<K>> {
        let keys: Vec<Key> = match self.state.read() {
            Ok(state) => state
                .current
                .children
                .get(owner)
                .map(|set| set.iter().cloned().collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        keys.into_iter()
            .filter_map(|(namespace, name)| {
                let reference = ObjectRef::new(&name);
                let reference = if namespace.is_empty() {
                    reference
                } else {
                    reference.within(&namespace)
                };
                self.store.get(&reference)
            })
            // The store may hold a newer version than the index saw (it applies each event
            // first): keep only objects whose controller is still the one asked for.
            .filter(|object| key_and_owner(&**object).1 == *owner)
            .collect()
    }

    /// The objects whose controller owner has `uid`.
    #[must_use]
    pub fn controlled_by(&self, uid: &str) -> Vec<Arc<K>> {
        self.read(&Owner::Uid(uid.to_owned()))
    }

    /// The objects in `namespace` that have no controller owner.
    #[must_use]
    pub fn orphans_in(&self, namespace: &str) -> Vec<Arc<K>> {
        self.read(&Owner::Orphan(namespace.to_owned()))
    }

    /// The store the index reads objects from.
    #[must_use]
    pub fn store(&self) -> &Store<K> {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
    use kube::runtime::reflector;

    fn rs(name: &str, owner: Option<&str>) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                owner_references: owner.map(|uid| {
                    vec![OwnerReference {
                        controller: Some(true),
                        uid: uid.into(),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            ..ReplicaSet::default()
        }
    }

    /// A store and its index fed the same events, store first (as `reflect_indexed` does).
    struct Fixture {
        writer: reflector::store::Writer<ReplicaSet>,
        index: OwnerIndex<ReplicaSet>,
    }

    impl Fixture {
        fn new() -> Self {
            let (store, writer) = reflector::store();
            Self {
                writer,
                index: OwnerIndex::new(store),
            }
        }

        fn send(&mut self, event: watcher::Event<ReplicaSet>) {
            self.writer.apply_watcher_event(&event);
            self.index.apply(&event);
        }

        fn names(objects: &[Arc<ReplicaSet>]) -> Vec<String> {
            let mut names: Vec<String> = objects.iter().map(|o| o.metadata.name.clone().unwrap()).collect();
            names.sort();
            names
        }
    }

    #[test]
    fn children_follow_applies_deletes_and_changes_of_owner() {
        let mut f = Fixture::new();
        f.send(watcher::Event::Apply(rs("a", Some("u1"))));
        f.send(watcher::Event::Apply(rs("b", Some("u1"))));
        f.send(watcher::Event::Apply(rs("c", Some("u2"))));
        f.send(watcher::Event::Apply(rs("orphan", None)));
        assert_eq!(Fixture::names(&f.index.controlled_by("u1")), ["a", "b"]);
        assert_eq!(Fixture::names(&f.index.orphans_in("ns")), ["orphan"]);
        assert!(f.index.orphans_in("other").is_empty());

        // Adoption moves the orphan to its new owner; a release makes `b` an orphan.
        f.send(watcher::Event::Apply(rs("orphan", Some("u2"))));
        f.send(watcher::Event::Apply(rs("b", None)));
        assert_eq!(Fixture::names(&f.index.controlled_by("u1")), ["a"]);
        assert_eq!(Fixture::names(&f.index.controlled_by("u2")), ["c", "orphan"]);
        assert_eq!(Fixture::names(&f.index.orphans_in("ns")), ["b"]);

        f.send(watcher::Event::Delete(rs("a", Some("u1"))));
        assert!(f.index.controlled_by("u1").is_empty());
    }

    #[test]
    fn a_relist_replaces_the_index_at_its_end() {
        let mut f = Fixture::new();
        f.send(watcher::Event::Apply(rs("gone-while-away", Some("u1"))));
        f.send(watcher::Event::Apply(rs("kept", Some("u1"))));
        f.send(watcher::Event::Init);
        f.send(watcher::Event::InitApply(rs("kept", Some("u1"))));
        // Until the relist ends, readers see the previous state, as the store shows it.
        assert_eq!(
            Fixture::names(&f.index.controlled_by("u1")),
            ["gone-while-away", "kept"]
        );
        f.send(watcher::Event::InitApply(rs("new", Some("u1"))));
        f.send(watcher::Event::InitDone);
        assert_eq!(Fixture::names(&f.index.controlled_by("u1")), ["kept", "new"]);
    }

    #[test]
    fn a_store_newer_than_the_index_is_filtered_by_its_owner() {
        let mut f = Fixture::new();
        f.send(watcher::Event::Apply(rs("a", Some("u1"))));
        // The store has applied the change of owner; the index has not seen it yet.
        f.writer
            .apply_watcher_event(&watcher::Event::Apply(rs("a", Some("u2"))));
        assert!(f.index.controlled_by("u1").is_empty());
    }
}
