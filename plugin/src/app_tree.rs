//! The family tree `app list` draws, pure: an Application's parent is the ApplicationSet that
//! controls it (ownerReference) or the Application whose tracking id it carries (app of apps);
//! an ApplicationSet's parent is the Application that manages it. Roots come first by name, each
//! followed by its descendants, drawn with `├──`/`└──`.

use std::collections::BTreeMap;

use crds::gitops::{ApplicationSet, StoredApplication};
use kube::ResourceExt as _;

/// One row of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// The Application at this index of the list.
    App(usize),
    /// The ApplicationSet at this index of the list.
    Set(usize),
}

fn tracked_by(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<String> {
    let id = meta.annotations.as_ref()?.get(gitops::tracking::TRACKING_ID)?;
    gitops::tracking::parse(id).map(|(app, _)| app)
}

/// Every Application and ApplicationSet with the prefix of its row (`""` for a root), in the
/// order drawn.
#[must_use]
pub fn order(apps: &[StoredApplication], sets: &[ApplicationSet]) -> Vec<(Node, String)> {
    let key = |ns: Option<String>, name: String| (ns.unwrap_or_default(), name);
    let app_at: BTreeMap<(String, String), usize> = apps
        .iter()
        .enumerate()
        .map(|(i, a)| (key(a.namespace(), a.name_any()), i))
        .collect();
    let set_at: BTreeMap<(String, String), usize> = sets
        .iter()
        .enumerate()
        .map(|(i, s)| (key(s.namespace(), s.name_any()), i))
        .collect();
    let parent_app =
        |ns: Option<String>, meta| tracked_by(meta).and_then(|p| app_at.get(&key(ns, p)).map(|&i| Node::App(i)));
    let parent = |node: &Node| -> Option<Node> {
        match node {
            Node::App(i) => {
                let app = &apps[*i];
                let owner = app
                    .owner_references()
                    .iter()
                    .find(|o| o.controller == Some(true) && o.kind == "ApplicationSet")
                    .and_then(|o| set_at.get(&key(app.namespace(), o.name.clone())).map(|&s| Node::Set(s)));
                owner.or_else(|| parent_app(app.namespace(), &app.metadata).filter(|p| *p != Node::App(*i)))
            }
            Node::Set(i) => parent_app(sets[*i].namespace(), &sets[*i].metadata),
        }
    };
    let name = |node: &Node| match node {
        Node::App(i) => (apps[*i].namespace().unwrap_or_default(), apps[*i].name_any()),
        Node::Set(i) => (sets[*i].namespace().unwrap_or_default(), sets[*i].name_any()),
    };
    let all: Vec<Node> = (0..apps.len())
        .map(Node::App)
        .chain((0..sets.len()).map(Node::Set))
        .collect();
    let mut children: BTreeMap<usize, Vec<Node>> = BTreeMap::new();
    let mut roots = Vec::new();
    for (at, node) in all.iter().enumerate() {
        match parent(node).and_then(|p| all.iter().position(|n| *n == p)) {
            Some(p) => children.entry(p).or_default().push(node.clone()),
            None => roots.push(at),
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(name);
    }
    roots.sort_by_key(|&at| name(&all[at]));
    let mut out = Vec::new();
    let mut seen = vec![false; all.len()];
    for root in roots {
        walk(&all, &children, root, "", "", &mut seen, &mut out);
    }
    out
}

fn walk(
    all: &[Node],
    children: &BTreeMap<usize, Vec<Node>>,
    at: usize,
    prefix: &str,
    indent: &str,
    seen: &mut [bool],
    out: &mut Vec<(Node, String)>,
) {
    if std::mem::replace(&mut seen[at], true) {
        return;
    }
    out.push((all[at].clone(), prefix.to_owned()));
    let kids = children.get(&at).cloned().unwrap_or_default();
    for (k, kid) in kids.iter().enumerate() {
        let last = k + 1 == kids.len();
        let Some(kid_at) = all.iter().position(|n| n == kid) else {
            continue;
        };
        let branch = format!("{indent}{}", if last { "└── " } else { "├── " });
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        walk(all, children, kid_at, &branch, &deeper, seen, out);
    }
}
