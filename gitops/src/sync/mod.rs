//! The plan of a sync, decided purely (gitops-engine's `syncTasks` and `sync_context`): each
//! resource becomes a task in a phase (PreSync → Sync → PostSync; SyncFail hooks only after a
//! failure) and a wave; steps run in (phase, wave) order and, within a step, by kind order then
//! name. Pruning runs in reverse wave order (the waves of prune tasks are mirrored), and
//! `PruneLast` prunes after every wave of the Sync phase. The executor applies a step, waits until
//! it is synced and healthy, then goes on: there is no fixed delay between waves.

pub mod annotations;
mod order;

use serde_json::Value;

pub use annotations::{DeletePolicy, HookType, Phase};
pub use order::kind_rank;

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Apply a desired resource.
    Apply,
    /// Create (and run) a hook.
    Hook,
    /// Delete a resource that is no longer desired.
    Prune,
}

/// One thing a sync does to one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Task<'a> {
    /// Apply, run a hook, or prune.
    pub action: Action,
    /// The phase it belongs to.
    pub phase: Phase,
    /// Its wave (for prune tasks, the mirrored wave).
    pub wave: i64,
    /// The object (desired for apply and hooks, live for prune).
    pub object: &'a Value,
}

impl Task<'_> {
    fn kind(&self) -> &str {
        self.object.get("kind").and_then(Value::as_str).unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Tasks that run together, then are waited on.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<'a> {
    /// Phase.
    pub phase: Phase,
    /// Wave.
    pub wave: i64,
    /// Tasks, in apply order.
    pub tasks: Vec<Task<'a>>,
}

/// The whole plan of a sync.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan<'a> {
    /// Steps in order.
    pub steps: Vec<Step<'a>>,
    /// SyncFail hooks, run only when the sync fails.
    pub on_failure: Vec<Task<'a>>,
    /// Resources left alone: hooks marked `Skip`, and extra resources with `Prune=false` or whose
    /// pruning was not asked for (reported as requiring pruning, never deleted).
    pub left_alone: Vec<&'a Value>,
}

/// How the sync was asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Delete resources that are no longer desired (`prune`).
    pub prune: bool,
    /// Prune after every other wave of the Sync phase (`PruneLast=true`).
    pub prune_last: bool,
}

fn option(object: &Value, name: &str, value: &str) -> bool {
    annotations::sync_options(object)
        .iter()
        .any(|(k, v)| k == name && v.eq_ignore_ascii_case(value))
}

/// Plans a sync of `desired` (rendered from Git) that must remove `extra` (live resources no longer
/// desired).
#[must_use]
pub fn plan<'a>(desired: &'a [Value], extra: &'a [Value], options: Options) -> Plan<'a> {
    let mut plan = Plan::default();
    let mut tasks = Vec::new();
    for object in desired {
        let wave = annotations::wave(object);
        match annotations::hook_types(object) {
            None => tasks.push(Task {
                action: Action::Apply,
                phase: Phase::Sync,
                wave,
                object,
            }),
            Some(types) if types.contains(&HookType::Skip) => plan.left_alone.push(object),
            Some(types) => {
                for t in types {
                    let HookType::Phase(phase) = t else { continue };
                    let task = Task {
                        action: Action::Hook,
                        phase,
                        wave,
                        object,
                    };
                    if phase == Phase::SyncFail {
                        plan.on_failure.push(task);
                    } else {
                        tasks.push(task);
                    }
                }
            }
        }
    }
    let mut prunes = Vec::new();
    for object in extra {
        if !options.prune || option(object, "Prune", "false") {
            plan.left_alone.push(object);
        } else {
            prunes.push(Task {
                action: Action::Prune,
                phase: Phase::Sync,
                wave: annotations::wave(object),
                object,
            });
        }
    }
    mirror_prune_waves(&mut prunes);
    let last_sync_wave = tasks
        .iter()
        .chain(&prunes)
        .filter(|t| t.phase == Phase::Sync)
        .map(|t| t.wave)
        .max()
        .unwrap_or(0)
        .max(0);
    for task in &mut prunes {
        if options.prune_last || option(task.object, "PruneLast", "true") {
            task.wave = last_sync_wave + 1;
        }
    }
    tasks.extend(prunes);
    tasks.sort_by(|a, b| {
        (a.phase, a.wave)
            .cmp(&(b.phase, b.wave))
            .then_with(|| order_within_step(a, b))
    });
    for task in tasks {
        match plan.steps.last_mut() {
            Some(step) if step.phase == task.phase && step.wave == task.wave => step.tasks.push(task),
            _ => plan.steps.push(Step {
                phase: task.phase,
                wave: task.wave,
                tasks: vec![task],
            }),
        }
    }
    plan
}

/// Within a step: applies before prunes; applies by kind order, prunes by reverse kind order
/// (workloads go before their namespace); kinds outside the order grouped by kind name; then by
/// name.
///
/// gitops-engine (`syncTasks.Less`) compares only names among kinds outside its order, so a
/// Rollout `api` went out before the AnalysisTemplate `success-rate` it references and could be
/// judged InvalidSpec (Degraded) for a moment. Grouping by kind sends AnalysisTemplate before
/// Rollout, and one kind's applies go out together.
fn order_within_step(a: &Task<'_>, b: &Task<'_>) -> std::cmp::Ordering {
    let pruning = |t: &Task<'_>| t.action == Action::Prune;
    pruning(a).cmp(&pruning(b)).then_with(|| {
        let ka = (kind_rank(a.kind()), a.kind());
        let kb = (kind_rank(b.kind()), b.kind());
        let by_kind = if pruning(a) { kb.cmp(&ka) } else { ka.cmp(&kb) };
        by_kind.then_with(|| a.name().cmp(b.name()))
    })
}

/// gitops-engine's symmetric swap: the lowest prune wave gets the highest and so on, so what was
/// created last is deleted first.
fn mirror_prune_waves(prunes: &mut [Task<'_>]) {
    let mut waves: Vec<i64> = prunes.iter().map(|t| t.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    let n = waves.len();
    for task in prunes.iter_mut() {
        if let Some(i) = waves.iter().position(|w| *w == task.wave) {
            task.wave = waves[n - 1 - i];
        }
    }
}

#[cfg(test)]
mod tests;
