//! The `job` provider: one Kubernetes Job per measurement. Complete is Successful, Failed is
//! Failed; terminating the run deletes the Job.

use std::collections::BTreeMap;

use crds::analysis::Measurement;
use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::Api;
use kube::api::{DeleteParams, PropagationPolicy};

use super::{Provider, RunRef, errored, started, terminated};
use crate::run::CompiledMetric;
use crds::analysis::AnalysisPhase;

pub use crds::keys::METRIC_NAME_ANNOTATION;
pub use crds::keys::RUN_NAME_ANNOTATION;
pub use crds::keys::RUN_UID_LABEL;

const JOB_NAME: &str = "job-name";
const JOB_NAMESPACE: &str = "job-namespace";

/// Runs measurement Jobs through the Kubernetes API.
#[derive(Clone)]
pub struct JobProvider {
    client: kube::Client,
}

impl std::fmt::Debug for JobProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobProvider").finish_non_exhaustive()
    }
}

impl JobProvider {
    /// A provider creating Jobs with `client`.
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }

    async fn start(&self, run: &RunRef, metric: &CompiledMetric, sequence: i32, now: Timestamp) -> Measurement {
        let mut measurement = started(now);
        let Some(spec) = metric.metric.provider.job.as_ref() else {
            return errored(measurement, now, "metric has no job provider");
        };
        let name = format!("{}.{}.{sequence}", run.uid, metric.metric.name);
        let mut labels: BTreeMap<String, String> = spec
            .metadata
            .as_ref()
            .map(|m| m.labels.clone().into_iter().collect())
            .unwrap_or_default();
        labels.insert(RUN_UID_LABEL.to_string(), run.uid.clone());
        let mut annotations: BTreeMap<String, String> = spec
            .metadata
            .as_ref()
            .map(|m| m.annotations.clone().into_iter().collect())
            .unwrap_or_default();
        annotations.insert(RUN_NAME_ANNOTATION.to_string(), run.name.clone());
        annotations.insert(METRIC_NAME_ANNOTATION.to_string(), metric.metric.name.clone());
        let job = Job {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(run.namespace.clone()),
                labels: Some(labels),
                annotations: Some(annotations),
                owner_references: Some(vec![OwnerReference {
                    api_version: "argoproj.io/v1alpha1".to_string(),
                    kind: "AnalysisRun".to_string(),
                    name: run.name.clone(),
                    uid: run.uid.clone(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }]),
                ..ObjectMeta::default()
            },
            spec: Some(spec.spec.clone()),
            status: None,
        };
        let api: Api<Job> = Api::namespaced(self.client.clone(), &run.namespace);
        match api.create(&crds::params::create(), &job).await {
            Ok(_) => {}
            // Created by an earlier attempt whose status write was lost: adopt it.
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(error) => return errored(measurement, now, format!("creating job {name}: {error}")),
        }
        measurement.metadata.insert(JOB_NAME.to_string(), name);
        measurement
            .metadata
            .insert(JOB_NAMESPACE.to_string(), run.namespace.clone());
        measurement.resume_at = Some(Time(poll_at(now, now)));
        measurement
    }

    async fn check(&self, run: &RunRef, mut measurement: Measurement, now: Timestamp) -> Measurement {
        let Some(name) = measurement.metadata.get(JOB_NAME).cloned() else {
            return errored(measurement, now, "the measurement lost its job name");
        };
        let api: Api<Job> = Api::namespaced(self.client.clone(), &run.namespace);
        let job = match api.get_opt(&name).await {
            Ok(Some(job)) => job,
            Ok(None) => return errored(measurement, now, format!("job {name} was deleted before it finished")),
            Err(error) => {
                // Transient API trouble: look again later rather than failing the measurement.
                measurement.message = Some(format!("reading job {name}: {error}"));
                measurement.resume_at = Some(Time(poll_at(started_at(&measurement, now), now)));
                return measurement;
            }
        };
        let conditions = job.status.and_then(|s| s.conditions).unwrap_or_default();
        let holds = |kind: &str| conditions.iter().find(|c| c.type_ == kind && c.status == "True");
        if let Some(complete) = holds("Complete").or_else(|| holds("SuccessCriteriaMet")) {
            measurement.phase = Some(AnalysisPhase::Successful);
            measurement.message = complete.message.clone();
        } else if let Some(failed) = holds("Failed").or_else(|| holds("FailureTarget")) {
            measurement.phase = Some(AnalysisPhase::Failed);
            measurement.message = Some(match (&failed.reason, &failed.message) {
                (Some(reason), Some(message)) => format!("{reason}: {message}"),
                (Some(text), None) | (None, Some(text)) => text.clone(),
                (None, None) => format!("job {name} failed"),
            });
        } else {
            measurement.resume_at = Some(Time(poll_at(started_at(&measurement, now), now)));
            return measurement;
        }
        measurement.finished_at = Some(Time(now));
        measurement.resume_at = None;
        measurement.value = None;
        measurement
    }

    async fn stop(&self, run: &RunRef, measurement: Measurement, now: Timestamp) -> Measurement {
        if let Some(name) = measurement.metadata.get(JOB_NAME) {
            let api: Api<Job> = Api::namespaced(self.client.clone(), &run.namespace);
            let params = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Background),
                ..DeleteParams::default()
            };
            match api.delete(name, &params).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => {
                    let mut retry = measurement.clone();
                    retry.message = Some(format!("deleting job {name}: {error}"));
                    retry.resume_at = Some(Time(poll_at(now, now)));
                    return retry;
                }
            }
        }
        terminated(measurement, now)
    }
}

fn started_at(measurement: &Measurement, now: Timestamp) -> Timestamp {
    measurement.started_at.as_ref().map_or(now, |t| t.0)
}

/// The next check of a running Job, backing off as it runs longer: between 1 s and 30 s.
/// Job changes also wake the run through the controller's watch, so this is only a safety net.
fn poll_at(started: Timestamp, now: Timestamp) -> Timestamp {
    let elapsed = now.duration_since(started);
    let delay = (elapsed / 2).clamp(SignedDuration::from_secs(1), SignedDuration::from_secs(30));
    now.checked_add(delay).unwrap_or(now)
}

impl Provider for JobProvider {
    fn run<'a>(
        &'a self,
        run: &'a RunRef,
        metric: &'a CompiledMetric,
        sequence: i32,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(self.start(run, metric, sequence, now))
    }

    fn resume<'a>(
        &'a self,
        run: &'a RunRef,
        _metric: &'a CompiledMetric,
        measurement: Measurement,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(self.check(run, measurement, now))
    }

    fn terminate<'a>(
        &'a self,
        run: &'a RunRef,
        _metric: &'a CompiledMetric,
        measurement: Measurement,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(self.stop(run, measurement, now))
    }
}
