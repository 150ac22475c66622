//! `jqPathExpressions`: each expression `e` removes what `del(e)` removes, as Argo CD runs them
//! through gojq; here through `jaq`, compiled with jq's standard definitions.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// The object with everything `expression` selects deleted, or why the expression failed.
pub fn delete(object: &Value, expression: &str) -> Result<Value, String> {
    run(object, expression, &format!("del({expression})"))
}

/// The paths (lists of keys and indexes) `expression` selects in `object`.
pub fn paths(object: &Value, expression: &str) -> Result<Vec<Vec<Value>>, String> {
    let found = run(object, expression, &format!("[path({expression})]"))?;
    serde_json::from_value(found).map_err(|e| e.to_string())
}

fn run(object: &Value, expression: &str, code: &str) -> Result<Value, String> {
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errors| format!("{expression:?} does not parse ({} errors)", errors.len()))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errors| format!("{expression:?} does not compile ({} errors)", errors.len()))?;
    let bytes = serde_json::to_vec(object).map_err(|e| e.to_string())?;
    let input = jaq_json::read::parse_single(&bytes).map_err(|e| format!("{e:?}"))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let mut out = filter.id.run((ctx, input)).map(unwrap_valr);
    match out.next() {
        Some(Ok(value)) => serde_json::from_str(&value.to_string()).map_err(|e| e.to_string()),
        Some(Err(e)) => Err(format!("{expression:?}: {e}")),
        None => Ok(object.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{delete, paths};

    #[test]
    fn deletes_what_the_expression_selects() {
        let pod =
            json!({"spec": {"containers": [{"name": "app", "image": "a"}, {"name": "istio-proxy", "image": "p"}]}});
        let kept = delete(&pod, r#".spec.containers[] | select(.name == "istio-proxy")"#);
        assert_eq!(
            kept,
            Ok(json!({"spec": {"containers": [{"name": "app", "image": "a"}]}}))
        );
        assert_eq!(delete(&pod, ".spec.missing"), Ok(pod.clone()));
        assert!(delete(&pod, ".spec[").is_err());
        let found = paths(&pod, r#".spec.containers[] | select(.name == "istio-proxy") | .image"#);
        assert_eq!(
            found,
            Ok(vec![vec![json!("spec"), json!("containers"), json!(1), json!("image")]])
        );
    }
}
