//! Which resource types are served, in which groups and versions.

use super::resources::{ResourceType, builtins};

/// The served resource types: built-ins plus those registered by CRDs.
#[derive(Clone, Debug)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Default for Registry {
    fn default() -> Self {
        Self { types: builtins() }
    }
}

impl Registry {
    /// The type served at `group/version/plural`.
    #[must_use]
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Adds or replaces a custom type (same group and plural).
    pub fn register(&mut self, rt: ResourceType) {
        self.types.retain(|t| !(t.group == rt.group && t.plural == rt.plural));
        self.types.push(rt);
    }

    /// Removes a custom type.
    pub fn unregister(&mut self, group: &str, plural: &str) {
        self.types
            .retain(|t| !(t.custom && t.group == group && t.plural == plural));
    }

    /// Every served type.
    pub fn all(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.iter()
    }

    /// The named groups (not the core group) with their versions, in first-seen order.
    #[must_use]
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types.iter().filter(|t| !t.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => versions.push(t.version.clone()),
                Some(_) => {}
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        groups
    }

    /// Types served in one group version.
    pub fn in_group_version<'a>(&'a self, group: &'a str, version: &'a str) -> impl Iterator<Item = &'a ResourceType> {
        self.types
            .iter()
            .filter(move |t| t.group == group && t.version == version)
    }
}
