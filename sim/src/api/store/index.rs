//! The store's indexes, kept beside the objects so the hot paths never scan the whole store:
//! objects by uid (owners that still exist, the owner a foreground deletion waits on),
//! dependents by owner uid (garbage collection after every delete; kube-apiserver's garbage
//! collector keeps the same graph, `GraphBuilder`'s `uidToNode`) and objects by label (a list
//! with `app=web` reads the objects carrying it, not every object of the type).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// A type: (group, plural).
pub type TypeKey = (String, String);
/// An object of a type: (namespace, name).
pub type ObjKey = (String, String);
/// Where an object is stored.
pub type Location = (TypeKey, ObjKey);

/// Objects by uid and dependents by owner uid.
#[derive(Debug, Default)]
pub struct Index {
    by_uid: HashMap<String, Location>,
    dependents: HashMap<String, BTreeSet<Location>>,
    labels: HashMap<(TypeKey, String, String), BTreeSet<ObjKey>>,
}

fn labels(object: &Value) -> impl Iterator<Item = (&String, &str)> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k, v.as_str()?)))
}

fn uid(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
}

fn owners(object: &Value) -> impl Iterator<Item = &str> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

impl Index {
    /// Records `object` at `at`, replacing what `previous` (the version it replaces) recorded.
    pub fn insert(&mut self, at: &Location, object: &Value, previous: Option<&Value>) {
        if let Some(old) = previous {
            self.remove(at, old);
        }
        if let Some(uid) = uid(object) {
            self.by_uid.insert(uid.to_owned(), at.clone());
        }
        for owner in owners(object) {
            self.dependents.entry(owner.to_owned()).or_default().insert(at.clone());
        }
        for (key, value) in labels(object) {
            self.labels
                .entry((at.0.clone(), key.clone(), value.to_owned()))
                .or_default()
                .insert(at.1.clone());
        }
    }

    /// Forgets `object`, stored at `at`.
    pub fn remove(&mut self, at: &Location, object: &Value) {
        if let Some(uid) = uid(object)
            && self.by_uid.get(uid) == Some(at)
        {
            self.by_uid.remove(uid);
        }
        for owner in owners(object) {
            if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(at);
                if set.is_empty() {
                    self.dependents.remove(owner);
                }
            }
        }
        for (key, value) in labels(object) {
            let label = (at.0.clone(), key.clone(), value.to_owned());
            if let Some(set) = self.labels.get_mut(&label) {
                set.remove(&at.1);
                if set.is_empty() {
                    self.labels.remove(&label);
                }
            }
        }
    }

    /// The keys of the objects of a type that carry every `key=value` label given; `None` when
    /// none is given (every object is a candidate).
    #[must_use]
    pub fn labelled<'a>(
        &self,
        type_key: &TypeKey,
        mut wanted: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Option<Vec<ObjKey>> {
        let mut smallest: Option<&BTreeSet<ObjKey>> = None;
        let mut sets = Vec::new();
        let empty = BTreeSet::new();
        let (k, v) = wanted.next()?;
        let lookup = |k: &str, v: &str| self.labels.get(&(type_key.clone(), k.to_owned(), v.to_owned()));
        for (k, v) in std::iter::once((k, v)).chain(wanted) {
            let set = lookup(k, v).unwrap_or(&empty);
            if smallest.is_none_or(|s| set.len() < s.len()) {
                smallest = Some(set);
            }
            sets.push(set);
        }
        let smallest = smallest.unwrap_or(&empty);
        Some(
            smallest
                .iter()
                .filter(|key| sets.iter().all(|s| s.contains(*key)))
                .cloned()
                .collect(),
        )
    }

    /// Where the object with `uid` is stored.
    #[must_use]
    pub fn find(&self, uid: &str) -> Option<&Location> {
        self.by_uid.get(uid)
    }

    /// The objects whose ownerReferences name `uid`, in type and key order.
    #[must_use]
    pub fn dependents_of(&self, uid: &str) -> Vec<Location> {
        self.dependents
            .get(uid)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(name: &str) -> Location {
        ((String::new(), "pods".into()), ("ns".into(), name.into()))
    }

    #[test]
    fn owners_and_uids_follow_every_version() {
        let mut index = Index::default();
        let owned = json!({"metadata": {"uid": "p1", "ownerReferences": [{"uid": "rs1"}]}});
        index.insert(&at("a"), &owned, None);
        assert_eq!(index.find("p1"), Some(&at("a")));
        assert_eq!(index.dependents_of("rs1"), vec![at("a")]);
        // Adopted by another owner: the first one no longer has it.
        let adopted = json!({"metadata": {"uid": "p1", "ownerReferences": [{"uid": "rs2"}]}});
        index.insert(&at("a"), &adopted, Some(&owned));
        assert!(index.dependents_of("rs1").is_empty());
        assert_eq!(index.dependents_of("rs2"), vec![at("a")]);
        index.remove(&at("a"), &adopted);
        assert_eq!(index.find("p1"), None);
        assert!(index.dependents_of("rs2").is_empty());
    }

    #[test]
    fn labels_select_candidates_and_follow_relabelling() {
        let mut index = Index::default();
        let pods = (String::new(), "pods".to_owned());
        let web = json!({"metadata": {"labels": {"app": "web", "hash": "1"}}});
        let db = json!({"metadata": {"labels": {"app": "db"}}});
        index.insert(&at("a"), &web, None);
        index.insert(&at("b"), &db, None);
        let keys = |index: &Index, wanted: &[(&str, &str)]| index.labelled(&pods, wanted.iter().copied());
        assert_eq!(keys(&index, &[("app", "web")]), Some(vec![at("a").1]));
        assert_eq!(keys(&index, &[("app", "web"), ("hash", "2")]), Some(vec![]));
        assert_eq!(keys(&index, &[]), None);
        let relabelled = json!({"metadata": {"labels": {"app": "db"}}});
        index.insert(&at("a"), &relabelled, Some(&web));
        assert_eq!(keys(&index, &[("app", "db")]).map(|k| k.len()), Some(2));
        assert_eq!(keys(&index, &[("app", "web")]), Some(vec![]));
    }
}
