//! `create analysisrun --from TEMPLATE [--global] [-a NAME=VALUE]`.

use crds::AnalysisRun;
use crds::analysis::{AnalysisTemplate, Argument, ClusterAnalysisTemplate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{Api, Client};

use crate::cluster::{Call, CliError};

/// Runs `create analysisrun`.
///
/// # Errors
/// Template not found, bad arguments, API failures.
pub async fn analysisrun(
    client: &Client,
    namespace: &str,
    from: &str,
    global: bool,
    args: &[String],
    name: Option<String>,
) -> Result<(), CliError> {
    let call = |kind: &'static str, resource: &'static str| Call {
        verb: "get",
        resource,
        kind,
        name: from,
        namespace,
    };
    let spec = if global {
        let api: Api<ClusterAnalysisTemplate> = Api::all(client.clone());
        api.get(from)
            .await
            .map_err(|e| call("clusteranalysistemplate", "clusteranalysistemplates").fail(e))?
            .spec
            .template
    } else {
        let api: Api<AnalysisTemplate> = Api::namespaced(client.clone(), namespace);
        api.get(from)
            .await
            .map_err(|e| call("analysistemplate", "analysistemplates").fail(e))?
            .spec
    };
    let overrides = args
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(n, v)| Argument {
                    name: n.to_string(),
                    value: Some(v.to_string()),
                    value_from: None,
                })
                .ok_or_else(|| CliError::Other(format!("expected NAME=VALUE, got '{a}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let spec = analysis::template::run_spec(&[&spec], &overrides)
        .map_err(|e| CliError::Other(format!("cannot run template '{from}': {e}")))?;
    let run = AnalysisRun {
        metadata: ObjectMeta {
            name: name.clone(),
            generate_name: name.is_none().then(|| format!("{from}-")),
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    };
    let api: Api<AnalysisRun> = Api::namespaced(client.clone(), namespace);
    let created = api.create(&crds::params::create(), &run).await.map_err(|e| {
        Call {
            verb: "create",
            resource: "analysisruns",
            kind: "analysisrun",
            name: name.as_deref().unwrap_or(from),
            namespace,
        }
        .fail(e)
    })?;
    println!("analysisrun '{}' created", created.metadata.name.unwrap_or_default());
    Ok(())
}
