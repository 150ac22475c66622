//! What a Rollout references: the analyses it may start (and their templates) and the Services it
//! names, each with the path of its field, as Argo's `GetRolloutReferencedResources` collects them.

use super::{AnalysisTemplateRef, Rollout, RolloutAnalysis};

/// One analysis of a Rollout, with the path of its field (`spec.strategy.canary.steps[2].analysis`).
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisAt<'a> {
    /// Field path.
    pub path: String,
    /// The analysis.
    pub analysis: &'a RolloutAnalysis,
}

/// An analysis template a Rollout references.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateRef {
    /// A ClusterAnalysisTemplate rather than an AnalysisTemplate of the Rollout's namespace.
    pub cluster: bool,
    /// Its name.
    pub name: String,
}

impl From<&AnalysisTemplateRef> for TemplateRef {
    fn from(t: &AnalysisTemplateRef) -> Self {
        Self {
            cluster: t.cluster_scope.unwrap_or(false),
            name: t.template_name.clone(),
        }
    }
}

impl TemplateRef {
    /// The kind the reference names.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        if self.cluster {
            "ClusterAnalysisTemplate"
        } else {
            "AnalysisTemplate"
        }
    }
}

/// A Service a Rollout names, with the path of its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRef {
    /// Field path (`spec.strategy.canary.stableService`).
    pub path: &'static str,
    /// Service name.
    pub name: String,
}

impl Rollout {
    /// Every analysis the Rollout may start: background, steps, pre- and post-promotion.
    #[must_use]
    pub fn analyses(&self) -> Vec<AnalysisAt<'_>> {
        let mut all = Vec::new();
        let Some(strategy) = self.spec.strategy.as_ref() else {
            return all;
        };
        if let Some(canary) = &strategy.canary {
            if let Some(bg) = &canary.analysis {
                all.push(AnalysisAt {
                    path: "spec.strategy.canary.analysis".into(),
                    analysis: &bg.analysis,
                });
            }
            for (i, step) in canary.steps.iter().enumerate() {
                if let Some(analysis) = &step.analysis {
                    all.push(AnalysisAt {
                        path: format!("spec.strategy.canary.steps[{i}].analysis"),
                        analysis,
                    });
                }
            }
        }
        if let Some(bg) = &strategy.blue_green {
            let phases = [
                (
                    "spec.strategy.blueGreen.prePromotionAnalysis",
                    &bg.pre_promotion_analysis,
                ),
                (
                    "spec.strategy.blueGreen.postPromotionAnalysis",
                    &bg.post_promotion_analysis,
                ),
            ];
            for (path, analysis) in phases {
                if let Some(analysis) = analysis {
                    all.push(AnalysisAt {
                        path: path.into(),
                        analysis,
                    });
                }
            }
        }
        all
    }

    /// Every analysis template the Rollout references (each once).
    #[must_use]
    pub fn template_refs(&self) -> Vec<TemplateRef> {
        let mut refs: Vec<TemplateRef> = self
            .analyses()
            .iter()
            .flat_map(|a| a.analysis.templates.iter())
            .map(TemplateRef::from)
            .collect();
        refs.sort();
        refs.dedup();
        refs
    }

    /// Whether the Rollout references this template.
    #[must_use]
    pub fn references_template(&self, template: &TemplateRef) -> bool {
        self.template_refs().contains(template)
    }

    /// The Services the Rollout names: stable and canary, or active and preview.
    #[must_use]
    pub fn service_refs(&self) -> Vec<ServiceRef> {
        let mut refs = Vec::new();
        let Some(strategy) = self.spec.strategy.as_ref() else {
            return refs;
        };
        let mut add = |path: &'static str, name: &Option<String>| {
            if let Some(name) = name {
                refs.push(ServiceRef {
                    path,
                    name: name.clone(),
                });
            }
        };
        if let Some(c) = &strategy.canary {
            add("spec.strategy.canary.stableService", &c.stable_service);
            add("spec.strategy.canary.canaryService", &c.canary_service);
        }
        if let Some(bg) = &strategy.blue_green {
            add("spec.strategy.blueGreen.activeService", &bg.active_service);
            add("spec.strategy.blueGreen.previewService", &bg.preview_service);
        }
        refs
    }

    /// The names of the Services the Rollout names.
    #[must_use]
    pub fn service_names(&self) -> Vec<String> {
        self.service_refs().into_iter().map(|s| s.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(strategy: serde_json::Value) -> Rollout {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web"},
            "spec": {"strategy": strategy}
        }))
        .unwrap()
    }

    #[test]
    fn a_canary_references_its_services_and_every_template_once() {
        let r = rollout(serde_json::json!({"canary": {
            "stableService": "web-stable", "canaryService": "web-canary",
            "analysis": {"templates": [{"templateName": "rate"}]},
            "steps": [
                {"setWeight": 20},
                {"analysis": {"templates": [{"templateName": "rate"}, {"templateName": "latency", "clusterScope": true}]}}
            ]
        }}));
        assert_eq!(r.service_names(), ["web-stable", "web-canary"]);
        assert_eq!(r.service_refs()[1].path, "spec.strategy.canary.canaryService");
        let paths: Vec<String> = r.analyses().into_iter().map(|a| a.path).collect();
        assert_eq!(
            paths,
            [
                "spec.strategy.canary.analysis",
                "spec.strategy.canary.steps[1].analysis"
            ]
        );
        let latency = TemplateRef {
            cluster: true,
            name: "latency".into(),
        };
        assert_eq!(
            r.template_refs(),
            [
                TemplateRef {
                    cluster: false,
                    name: "rate".into()
                },
                latency.clone()
            ]
        );
        assert!(r.references_template(&latency));
        assert_eq!(latency.kind(), "ClusterAnalysisTemplate");
        // The same name in the other scope is another template.
        assert!(!r.references_template(&TemplateRef {
            cluster: false,
            name: "latency".into()
        }));
    }

    #[test]
    fn a_blue_green_references_active_preview_and_both_analyses() {
        let r = rollout(serde_json::json!({"blueGreen": {
            "activeService": "web", "previewService": "web-preview",
            "prePromotionAnalysis": {"templates": [{"templateName": "smoke"}]},
            "postPromotionAnalysis": {"templates": [{"templateName": "rate"}]}
        }}));
        assert_eq!(r.service_names(), ["web", "web-preview"]);
        assert_eq!(r.analyses().len(), 2);
        assert_eq!(r.template_refs().len(), 2);
    }
}
