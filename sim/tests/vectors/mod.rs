//! Replaying `../shared/vectors/apiserver/`: requests and the answers a real kube-apiserver gave
//! them, run against the simulator and compared by the rules of that folder's README (a strict
//! tier: codes, reasons, causes' fields, response fields, managedFields, relations; and a message
//! tier: messages, bodies and Warning headers after normalization).

pub mod compare;
pub mod run;

use serde_json::Value;

/// One vector of a family file.
#[derive(Clone, Debug)]
pub struct Vector {
    /// `family/name`.
    pub id: String,
    /// The steps before the check.
    pub setup: Vec<Value>,
    /// The request whose answer is compared.
    pub check: Value,
    /// What the real server answered.
    pub expect: Value,
    /// Steps after the check (answers ignored).
    pub cleanup: Vec<Value>,
}

/// Every vector of every family file in `dir`, in file order.
pub fn load(dir: &std::path::Path) -> Vec<Vector> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = crds::yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let family = doc["family"].as_str().unwrap_or_default().to_owned();
        for v in doc["vectors"].as_array().into_iter().flatten() {
            let list = |key: &str| v[key].as_array().cloned().unwrap_or_default();
            all.push(Vector {
                id: format!("{family}/{}", v["name"].as_str().unwrap_or_default()),
                setup: list("setup"),
                check: v["check"].clone(),
                expect: v["expect"].clone(),
                cleanup: list("cleanup"),
            });
        }
    }
    all
}

/// The vector's substitutions applied to every string of `value` (map keys included): `{ns}`, and
/// a string that is exactly `{repeat:C:N}`.
#[must_use]
pub fn substitute(value: &Value, ns: &str) -> Value {
    let text = |s: &str| -> String {
        if let Some(spec) = s.strip_prefix("{repeat:").and_then(|r| r.strip_suffix('}'))
            && let Some((c, n)) = spec.rsplit_once(':')
            && let Ok(n) = n.parse::<usize>()
        {
            return c.repeat(n);
        }
        s.replace("{ns}", ns)
    };
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.iter().map(|i| substitute(i, ns)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (text(k), substitute(v, ns))).collect()),
        other => other.clone(),
    }
}
