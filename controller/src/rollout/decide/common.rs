//! Steps both strategies share: ReplicaSets by role, creating or adopting the new one, revisions,
//! history cleanup, scaling with events, and the base of the new status.

use crds::meta::selector_string;
use crds::rollout::RolloutStatus;
use k8s_openapi::api::apps::v1::ReplicaSet;

use super::Pass;
use crate::rollout::identity::{
    available, find_new, hash_of, new_replicaset, ready, revision_of, spec_replicas, status_replicas,
};
use crate::rollout::plan::{Action, Event, reason};
use crate::rollout::snapshot::Snapshot;
use crds::keys::SCALE_DOWN_DEADLINE_ANNOTATION;

/// The Rollout's ReplicaSets by role.
#[derive(Clone, Debug, Default)]
pub struct Sets<'a> {
    /// All of them.
    pub all: Vec<&'a ReplicaSet>,
    /// The one running the desired template.
    pub new: Option<&'a ReplicaSet>,
    /// The one whose hash is `status.stableRS` (may be the new one).
    pub stable: Option<&'a ReplicaSet>,
    /// Neither new nor stable.
    pub older: Vec<&'a ReplicaSet>,
}

impl<'a> Sets<'a> {
    /// Sorts the snapshot's ReplicaSets into roles.
    #[must_use]
    pub fn classify(snap: &'a Snapshot, hash: &str, stable_hash: Option<&str>) -> Self {
        let all: Vec<&ReplicaSet> = snap.replicasets.iter().collect();
        let template = snap.rollout.spec.template.clone().unwrap_or_default();
        let new = find_new(&snap.replicasets, hash, &template).map(|i| &snap.replicasets[i]);
        let stable = stable_hash.and_then(|h| all.iter().copied().find(|rs| hash_of(rs) == Some(h)));
        let name = |rs: Option<&ReplicaSet>| rs.and_then(|r| r.metadata.name.clone());
        let (new_name, stable_name) = (name(new), name(stable));
        let older = all
            .iter()
            .copied()
            .filter(|rs| rs.metadata.name != new_name && rs.metadata.name != stable_name)
            .collect();
        Self {
            all,
            new,
            stable,
            older,
        }
    }

    /// Whether the new ReplicaSet is the stable one.
    #[must_use]
    pub fn new_is_stable(&self) -> bool {
        matches!((self.new, self.stable), (Some(n), Some(s)) if n.metadata.name == s.metadata.name)
    }
}

fn rs_name(rs: &ReplicaSet) -> String {
    rs.metadata.name.clone().unwrap_or_default()
}

/// Adopts orphans, keeps the new ReplicaSet's revision the highest and mirrors it on the Rollout.
/// When the new ReplicaSet is missing, it is to be created with `initial` replicas (a strategy
/// may resize it with [`size_new`]; [`create_pending`] writes it once the pass is decided).
pub fn ensure_new_replicaset(pass: &mut Pass<'_>, initial: i32) {
    let owner = pass.rollout.metadata.uid.clone();
    for rs in &pass.sets.all {
        let controlled = rs
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.controller == Some(true) && Some(&o.uid) == owner.as_ref());
        if !controlled {
            pass.plan.actions.push(Action::AdoptReplicaSet { name: rs_name(rs) });
        }
    }
    let max_other = pass
        .sets
        .all
        .iter()
        .filter(|rs| Some(rs.metadata.name.as_ref()) != pass.sets.new.map(|n| n.metadata.name.as_ref()))
        .map(|rs| revision_of(rs))
        .max()
        .unwrap_or(0);
    match pass.sets.new {
        Some(rs) => {
            let current = revision_of(rs);
            pass.revision = if current > max_other { current } else { max_other + 1 };
            if pass.revision != current {
                pass.plan.actions.push(Action::AnnotateReplicaSet {
                    name: rs_name(rs),
                    key: crds::keys::REVISION_ANNOTATION.into(),
                    value: Some(pass.revision.to_string()),
                });
            }
        }
        None => {
            pass.revision = max_other + 1;
            pass.new_size = Some(initial);
        }
    }
    if crds::keys::revision(&pass.rollout.metadata) != pass.revision {
        pass.plan.actions.push(Action::SetRevision {
            revision: pass.revision,
        });
    }
}

/// Sets the size of the ReplicaSet this pass creates (nothing when it creates none).
pub fn size_new(pass: &mut Pass<'_>, replicas: i32) {
    if let Some(size) = pass.new_size.as_mut() {
        *size = replicas;
    }
}

/// Writes the creation of the new ReplicaSet, at its decided size, ahead of every other action.
pub fn create_pending(pass: &mut Pass<'_>) {
    let Some(size) = pass.new_size else { return };
    let rs = new_replicaset(pass.rollout, &pass.hash, size, pass.revision);
    let name = rs_name(&rs);
    pass.plan.actions.insert(0, Action::CreateReplicaSet(Box::new(rs)));
    let events = [
        Event::normal(
            reason::NEW_REPLICA_SET_CREATED,
            format!(
                "Created ReplicaSet {name} (revision {}) with size {size}",
                pass.revision
            ),
        ),
        Event::normal(
            reason::ROLLOUT_UPDATED,
            format!("Rollout updated to revision {}", pass.revision),
        ),
    ];
    pass.plan.events.splice(0..0, events);
}

/// Makes the new ReplicaSet stable.
pub fn promote(pass: &mut Pass<'_>, status: &mut RolloutStatus, reason: &str) {
    pass.pause.clear();
    pass.pause.remove_abort();
    status.promote_full = None;
    if pass.rollout.canary().is_some() {
        let count = pass.rollout.step_count();
        status.current_step_index = (count > 0).then_some(count);
    }
    if status.stable_rs.as_deref() != Some(pass.hash.as_str()) {
        status.stable_rs = Some(pass.hash.clone());
        pass.event(Event::normal(
            reason::ROLLOUT_COMPLETED,
            format!(
                "Rollout completed update to revision {} ({}): {reason}",
                pass.revision, pass.hash
            ),
        ));
    }
}

/// Scales a ReplicaSet when its spec differs, with Argo's `ScalingReplicaSet` event. Returns whether
/// it scaled.
pub fn scale(pass: &mut Pass<'_>, rs: &ReplicaSet, replicas: i32) -> bool {
    let current = spec_replicas(rs);
    if current == replicas {
        return false;
    }
    let name = rs_name(rs);
    let direction = if replicas > current { "up" } else { "down" };
    pass.event(Event::normal(
        reason::SCALING_REPLICA_SET,
        format!(
            "Scaled {direction} ReplicaSet {name} (revision {}) from {current} to {replicas}",
            revision_of(rs)
        ),
    ));
    pass.plan.actions.push(Action::ScaleReplicaSet { name, replicas });
    true
}

/// Deletes empty old ReplicaSets beyond `revisionHistoryLimit`, oldest first.
pub fn cleanup_history(pass: &mut Pass<'_>, keep_hashes: &[Option<&str>]) {
    let limit = usize::try_from(pass.rollout.spec.effective_revision_history_limit()).unwrap_or(0);
    let mut empty: Vec<&ReplicaSet> = pass
        .sets
        .older
        .iter()
        .copied()
        .filter(|rs| spec_replicas(rs) == 0 && status_replicas(rs) == 0)
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .filter(|rs| !keep_hashes.contains(&hash_of(rs)))
        .collect();
    if empty.len() <= limit {
        return;
    }
    empty.sort_by_key(|rs| revision_of(rs));
    let extra = empty.len() - limit;
    for rs in empty.into_iter().take(extra) {
        pass.plan.actions.push(Action::DeleteReplicaSet { name: rs_name(rs) });
    }
}

/// Sets (`Some`) or removes (`None`) a ReplicaSet's scale-down deadline.
pub fn annotate_deadline(pass: &mut Pass<'_>, rs: &ReplicaSet, at: Option<jiff::Timestamp>) {
    pass.plan.actions.push(Action::AnnotateReplicaSet {
        name: rs.metadata.name.clone().unwrap_or_default(),
        key: SCALE_DOWN_DEADLINE_ANNOTATION.into(),
        value: at.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    });
}

/// The scale-down deadline annotation of a ReplicaSet, if any.
pub fn scale_down_deadline(rs: &ReplicaSet) -> Option<jiff::Timestamp> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(SCALE_DOWN_DEADLINE_ANNOTATION)?
        .parse()
        .ok()
}

/// The status fields every reconcile recomputes from the ReplicaSets.
pub fn base_status(pass: &Pass<'_>) -> RolloutStatus {
    let all = &pass.sets.all;
    let mut status = RolloutStatus {
        observed_generation: pass.rollout.metadata.generation.map(|g| g.to_string()),
        current_pod_hash: Some(pass.hash.clone()),
        stable_rs: pass.old.stable_rs.clone(),
        collision_count: pass.old.collision_count,
        restarted_at: pass.old.restarted_at.clone(),
        replicas: Some(all.iter().map(|rs| status_replicas(rs)).sum()),
        updated_replicas: Some(pass.sets.new.map_or(0, status_replicas)),
        ready_replicas: Some(all.iter().map(|rs| ready(rs)).sum()),
        available_replicas: Some(all.iter().map(|rs| available(rs)).sum()),
        hpa_replicas: Some(all.iter().map(|rs| status_replicas(rs)).sum()),
        selector: pass.rollout.spec.selector.as_ref().map(selector_string),
        ..RolloutStatus::default()
    };
    status.promote_full = pass.old.promote_full.filter(|p| *p);
    status
}
