//! Deleting objects as kube-apiserver and the garbage collector do: finalizers mark an object
//! deleting, `propagationPolicy` decides what happens to its dependents (Background: collected;
//! Foreground: the owner waits for them; Orphan: their ownerReferences are removed), and a
//! namespace's objects go with it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::objects::changed;
use super::super::resources::ResourceType;
use super::super::status::ApiError;
use super::index::Location;
use super::{FOREGROUND, ORPHAN, Propagation, Store, is_crd, meta, rfc3339, type_key};

impl Store {
    /// Deletes an object: marks it when finalizers remain, otherwise removes it and collects its
    /// dependents as `propagation` says.
    ///
    /// # Errors
    /// 404 when it does not exist.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        propagation: Propagation,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let obj = self.get(rt, namespace, name)?;
        if dry_run {
            return Ok(obj);
        }
        let uid = meta(&obj, "uid").to_owned();
        match propagation {
            // kube-apiserver marks the owner with the `orphan` finalizer (the answer shows it);
            // the garbage collector then orphans the dependents, drops the finalizer and, with
            // none left, the owner: done here at once.
            Propagation::Orphan => {
                let marked = self.mark_deleting(rt, obj.clone(), Some(ORPHAN), 0)?;
                self.orphan_dependents(&uid);
                self.release(rt, namespace, name, ORPHAN);
                return Ok(marked);
            }
            Propagation::Foreground if !self.dependents_of(&uid).is_empty() => {
                // The owner stays, marked, until its dependents are gone (they are deleted now;
                // those with finalizers of their own keep it waiting).
                let marked = self.mark_deleting(rt, obj, Some(FOREGROUND), 0)?;
                for (dep_rt, ns, dep) in self.dependents_of(&uid) {
                    let _ = self.delete(&dep_rt, &ns, &dep, Propagation::Foreground, false);
                }
                self.finish_foreground(&uid);
                return Ok(self.get(rt, namespace, name).unwrap_or(marked));
            }
            // Nothing to wait for: marked with `foregroundDeletion` (as answered), then removed.
            Propagation::Foreground => {
                let marked = self.mark_deleting(rt, obj.clone(), Some(FOREGROUND), 0)?;
                self.release(rt, namespace, name, FOREGROUND);
                return Ok(marked);
            }
            Propagation::Background => {}
        }
        let has_finalizers = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            return self.mark_deleting(rt, obj, None, 0);
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            self.empty_namespace(name);
        }
        self.remove(rt, namespace, name)
    }

    /// Takes `finalizer` off a marked object, and removes the object when no finalizer is left.
    fn release(&mut self, rt: &ResourceType, namespace: &str, name: &str, finalizer: &str) {
        let Ok(mut obj) = self.get(rt, namespace, name) else {
            return;
        };
        let mut left = true;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            if let Some(list) = meta.get_mut("finalizers").and_then(Value::as_array_mut) {
                list.retain(|f| f != finalizer);
                left = !list.is_empty();
            }
            if !left {
                meta.remove("finalizers");
            }
        }
        if left {
            let _ = self.replace(rt, obj, false);
        } else {
            let _ = self.remove(rt, namespace, name);
        }
    }

    /// Sets `deletionTimestamp` (once) to now plus the grace period and optionally adds a
    /// finalizer, keeping the object.
    ///
    /// # Errors
    /// None today; the signature leaves room for storage errors.
    pub fn mark_deleting(
        &mut self,
        rt: &ResourceType,
        mut obj: Value,
        finalizer: Option<&str>,
        grace_seconds: i64,
    ) -> Result<Value, ApiError> {
        let previous = obj.clone();
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace_seconds);
            m.entry("deletionTimestamp").or_insert_with(|| json!(rfc3339(at)));
            m.entry("deletionGracePeriodSeconds").or_insert(json!(grace_seconds));
            if let Some(f) = finalizer {
                let list = m.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(items) = list.as_array_mut()
                    && !items.iter().any(|x| x == f)
                {
                    items.push(json!(f));
                }
            }
        }
        if !changed(&previous, &obj) {
            return Ok(obj);
        }
        Ok(self.put(rt, obj, "MODIFIED"))
    }

    /// Removes an owner in foreground deletion once none of its dependents is left.
    fn finish_foreground(&mut self, owner_uid: &str) {
        if !self.dependents_of(owner_uid).is_empty() {
            return;
        }
        let Some((rt, ns, name)) = self.find_uid(owner_uid) else {
            return;
        };
        let Ok(mut owner) = self.get(&rt, &ns, &name) else {
            return;
        };
        let waiting = owner
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == FOREGROUND));
        if !waiting || owner.pointer("/metadata/deletionTimestamp").is_none() {
            return;
        }
        if let Some(items) = owner.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
            items.retain(|x| x != FOREGROUND);
        }
        let _ = self.replace(&rt, owner, false);
    }

    fn find_uid(&self, uid: &str) -> Option<(ResourceType, String, String)> {
        let at = self.index.find(uid)?;
        self.typed(at)
    }

    /// The served type and key of a stored location.
    fn typed(&self, ((group, plural), (ns, name)): &Location) -> Option<(ResourceType, String, String)> {
        let rt = self
            .registry
            .all()
            .find(|rt| &rt.group == group && &rt.plural == plural)?;
        Some((rt.clone(), ns.clone(), name.clone()))
    }

    pub(super) fn remove(&mut self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, ApiError> {
        let removed = self
            .objects
            .get_mut(&type_key(rt))
            .and_then(|objs| objs.remove(&(namespace.to_owned(), name.to_owned())))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        self.index
            .remove(&(type_key(rt), (namespace.to_owned(), name.to_owned())), &removed);
        let mut obj = Arc::unwrap_or_clone(removed);
        self.next_rv(&mut obj);
        let shared = Arc::new(obj);
        self.record(rt, "DELETED", shared.clone(), None);
        let obj = Arc::unwrap_or_clone(shared);
        if is_crd(rt) {
            self.drop_crd(&obj);
        }
        self.collect_dependents(meta(&obj, "uid").to_owned());
        let owners: Vec<String> = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for owner in owners {
            self.finish_foreground(&owner);
        }
        Ok(obj)
    }

    /// Every stored object whose ownerReferences name `uid`, with its type.
    fn dependents_of(&self, uid: &str) -> Vec<(ResourceType, String, String)> {
        self.index
            .dependents_of(uid)
            .iter()
            .filter_map(|at| self.typed(at))
            .collect()
    }

    /// Background garbage collection: dependents whose every owner is gone are deleted.
    fn collect_dependents(&mut self, uid: String) {
        let mut pending = vec![uid];
        while let Some(owner) = pending.pop() {
            for (rt, ns, name) in self.dependents_of(&owner) {
                let Ok(obj) = self.get(&rt, &ns, &name) else { continue };
                let refs = obj
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let alive = refs.iter().any(|r| {
                    let other = r.get("uid").and_then(Value::as_str).unwrap_or_default();
                    other != owner && self.uid_exists(other)
                });
                if !alive {
                    let _ = self.delete(&rt, &ns, &name, Propagation::Background, false);
                }
            }
        }
    }

    fn uid_exists(&self, uid: &str) -> bool {
        self.index.find(uid).is_some()
    }

    fn orphan_dependents(&mut self, uid: &str) {
        for (rt, ns, name) in self.dependents_of(uid) {
            let Ok(mut obj) = self.get(&rt, &ns, &name) else {
                continue;
            };
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                if let Some(refs) = meta.get_mut("ownerReferences").and_then(Value::as_array_mut) {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                }
                // The garbage collector's patch leaves no empty list behind.
                if meta
                    .get("ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                {
                    meta.remove("ownerReferences");
                }
            }
            let _ = self.replace(&rt, obj, false);
        }
    }

    fn empty_namespace(&mut self, namespace: &str) {
        let types: Vec<ResourceType> = self.registry.all().filter(|t| t.namespaced).cloned().collect();
        for rt in types {
            for obj in self.list(&rt, Some(namespace)) {
                let name = meta(&obj, "name").to_owned();
                let _ = self.remove(&rt, namespace, &name);
            }
        }
    }
}
