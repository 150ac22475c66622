//! What a decision about a run needs: the run compiled once per generation, with its arguments
//! resolved (Secrets read through the API, field paths from the run).

use std::collections::HashMap;
use std::sync::Arc;

use analysis::args::{ArgSource, ArgsError, ResolvedArgs, read_field_path, resolve};
use analysis::run::compile;
use crds::AnalysisRun;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::context::AnalysisRunContext;
use super::snapshot::{RunKey, StartedRun};

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
async fn resolve_args(client: &kube::Client, run: &AnalysisRun, namespace: &str) -> Result<ResolvedArgs, ArgsError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut secrets = HashMap::new();
    for arg in &run.spec.args {
        let Some(secret_ref) = arg.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) else {
            continue;
        };
        let value = match api.get_opt(&secret_ref.name).await {
            Ok(Some(secret)) => crds::secrets::fields(&secret)
                .find(|(key, _)| *key == secret_ref.key)
                .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
                .ok_or_else(|| format!("secret {} has no key {:?}", secret_ref.name, secret_ref.key)),
            Ok(None) => Err(format!("secret {} not found in namespace {namespace}", secret_ref.name)),
            Err(error) => Err(format!("reading secret {}: {error}", secret_ref.name)),
        };
        secrets.insert((secret_ref.name.clone(), secret_ref.key.clone()), value);
    }
    let object = serde_json::to_value(run).unwrap_or_default();
    resolve(&run.spec.args, &Fetched { secrets, object })
}

/// The compiled run for this generation, compiling (and resolving arguments) on first sight.
pub async fn started_run(ctx: &AnalysisRunContext, run: &AnalysisRun, namespace: &str, key: RunKey) -> Arc<StartedRun> {
    if let Some(started) = ctx.started.lock().get(&key) {
        return started.clone();
    }
    let started = match resolve_args(&ctx.base.client, run, namespace).await {
        Ok(resolved) => StartedRun {
            compiled: compile(&run.spec, &resolved, &ctx.providers.supported()),
            args: resolved,
        },
        Err(error) => StartedRun {
            compiled: Err(error.to_string()),
            args: ResolvedArgs::default(),
        },
    };
    let started = Arc::new(started);
    let mut cache = ctx.started.lock();
    // Older generations of the same run are not needed any more.
    cache.retain(|(uid, _), _| *uid != key.0);
    cache.insert(key, started.clone());
    started
}

/// Forgets the compiled forms of a completed run.
pub fn forget(ctx: &AnalysisRunContext, uid: &str) {
    ctx.started.lock().retain(|(u, _), _| u != uid);
}
