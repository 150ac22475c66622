//! The evidence a revert commit's body gives: for each AnalysisRun that failed a Degraded
//! Rollout, the metrics that failed, the value last measured and the condition it was judged by,
//! so a person reading `git log` knows why without opening the cluster.

use crds::AnalysisRun;
use crds::analysis::AnalysisPhase;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn bad(phase: Option<AnalysisPhase>) -> bool {
    matches!(
        phase,
        Some(AnalysisPhase::Failed | AnalysisPhase::Error | AnalysisPhase::Inconclusive)
    )
}

/// One line per failed metric of `run`:
/// `AnalysisRun api-2-1: metric "success-rate" Failed, measured 0.82 (failureCondition result[0] < 0.95; 1 failed, limit 0)`.
#[must_use]
pub fn lines(run: &AnalysisRun) -> Vec<String> {
    let name = run.metadata.name.as_deref().unwrap_or_default();
    let Some(status) = run.status.as_ref().filter(|s| bad(s.phase)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = status
        .metric_results
        .iter()
        .filter(|m| bad(m.phase))
        .map(|m| {
            let spec = run.spec.metrics.iter().find(|s| s.name == m.name);
            let last = m.measurements.last();
            let measured = last
                .and_then(|x| x.value.as_deref())
                .map_or_else(String::new, |v| format!(", measured {v}"));
            let mut judged = Vec::new();
            if let Some(c) = spec.and_then(|s| s.failure_condition.as_deref()) {
                judged.push(format!("failureCondition {c}"));
            }
            if let Some(c) = spec.and_then(|s| s.success_condition.as_deref()) {
                judged.push(format!("successCondition {c}"));
            }
            let limit = match spec.and_then(|s| s.failure_limit.as_ref()) {
                Some(IntOrString::Int(n)) => n.to_string(),
                Some(IntOrString::String(text)) => text.clone(),
                None => "0".to_owned(),
            };
            judged.push(format!("{} failed, limit {limit}", m.failed));
            if let Some(message) = m.message.as_deref().or_else(|| last.and_then(|x| x.message.as_deref())) {
                judged.push(message.to_owned());
            }
            let phase = m.phase.map_or("", AnalysisPhase::as_str);
            format!(
                "AnalysisRun {name}: metric \"{}\" {phase}{measured} ({})",
                m.name,
                judged.join("; ")
            )
        })
        .collect();
    if out.is_empty() {
        let phase = status.phase.map_or("", AnalysisPhase::as_str);
        out.push(format!(
            "AnalysisRun {name}: {phase}: {}",
            status.message.as_deref().unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_names_its_metric_value_and_condition() {
        let run: AnalysisRun = serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": "api-6f8d-2-1"},
            "spec": {"metrics": [
                {"name": "success-rate", "failureCondition": "result[0] < 0.95", "failureLimit": 1, "provider": {"prometheus": {"query": "q"}}},
                {"name": "latency", "successCondition": "result[0] < 0.3", "provider": {"prometheus": {"query": "q"}}}
            ]},
            "status": {"phase": "Failed", "metricResults": [
                {"name": "success-rate", "phase": "Failed", "failed": 2, "count": 2,
                 "measurements": [{"phase": "Failed", "value": "[0.91]"}, {"phase": "Failed", "value": "[0.82]"}]},
                {"name": "latency", "phase": "Successful", "count": 2}
            ]}
        }))
        .unwrap_or_default();
        assert_eq!(
            lines(&run),
            [
                "AnalysisRun api-6f8d-2-1: metric \"success-rate\" Failed, measured [0.82] (failureCondition result[0] < 0.95; 2 failed, limit 1)"
            ]
        );
        let mut passing = run;
        if let Some(s) = passing.status.as_mut() {
            s.phase = Some(AnalysisPhase::Successful);
        }
        assert!(lines(&passing).is_empty());
    }
}
