//! Resolving a run's arguments: Secrets are read through the API, field paths from the run.

use std::collections::HashMap;

use analysis::args::{ArgSource, ArgsError, ResolvedArgs, read_field_path, resolve};
use crds::AnalysisRun;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

/// Values fetched before resolution (resolution itself is synchronous).
struct Fetched {
    secrets: HashMap<(String, String), Result<String, String>>,
    object: serde_json::Value,
}

impl ArgSource for Fetched {
    fn secret(&self, name: &str, key: &str) -> Result<String, String> {
        self.secrets
            .get(&(name.to_string(), key.to_string()))
            .cloned()
            .unwrap_or_else(|| Err(format!("secret {name} was not read")))
    }

    fn field(&self, path: &str) -> Result<String, String> {
        read_field_path(&self.object, path)
    }
}

/// Resolves the run's arguments. A missing Secret or key is an argument error, not a transient
/// one: the run ends in Error saying which.
pub(super) async fn resolve_args(
    client: &kube::Client,
    run: &AnalysisRun,
    namespace: &str,
) -> Result<ResolvedArgs, ArgsError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut secrets = HashMap::new();
    for arg in &run.spec.args {
        let Some(secret_ref) = arg.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) else {
            continue;
        };
        let value = match api.get_opt(&secret_ref.name).await {
            Ok(Some(secret)) => secret
                .data
                .and_then(|data| {
                    data.get(&secret_ref.key)
                        .map(|bytes| String::from_utf8_lossy(&bytes.0).into_owned())
                })
                .or_else(|| secret.string_data.and_then(|data| data.get(&secret_ref.key).cloned()))
                .ok_or_else(|| format!("secret {} has no key {:?}", secret_ref.name, secret_ref.key)),
            Ok(None) => Err(format!("secret {} not found in namespace {namespace}", secret_ref.name)),
            Err(error) => Err(format!("reading secret {}: {error}", secret_ref.name)),
        };
        secrets.insert((secret_ref.name.clone(), secret_ref.key.clone()), value);
    }
    let object = serde_json::to_value(run).unwrap_or_default();
    resolve(&run.spec.args, &Fetched { secrets, object })
}
