//! Which controller replica manages an Application (what Argo CD's application-controller
//! StatefulSet does with `--shard`/`ARGOCD_CONTROLLER_REPLICAS`, its `legacy` method): with `M`
//! shards, a cluster belongs to shard `fnv1a32(server) % M`, the controller's own cluster to
//! shard 0; or, for one big cluster, each Application to `fnv1a32(namespace/name) % M`. With one
//! shard every replica manages everything. The hash is written out here because it must never
//! change between versions or replicas (std's `DefaultHasher` makes no such promise).

/// The local cluster's server URL.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// How Applications are spread over the shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShardBy {
    /// By the destination cluster: a cluster's Applications stay together.
    #[default]
    Cluster,
    /// By the Application itself: for one cluster holding many Applications.
    Application,
}

/// One replica's share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This replica's shard, `0..count`.
    pub index: u32,
    /// How many shards there are (at least 1).
    pub count: u32,
    /// How Applications are spread.
    pub by: ShardBy,
}

impl Shard {
    /// The shard of an Application deploying to `server`.
    #[must_use]
    pub fn of(&self, server: &str, app_namespace: &str, app_name: &str) -> u32 {
        let count = self.count.max(1);
        match self.by {
            ShardBy::Cluster if server == IN_CLUSTER || server.is_empty() => 0,
            ShardBy::Cluster => fnv1a32(server) % count,
            ShardBy::Application => fnv1a32(&format!("{app_namespace}/{app_name}")) % count,
        }
    }

    /// Whether this replica manages that Application.
    #[must_use]
    pub fn owns(&self, server: &str, app_namespace: &str, app_name: &str) -> bool {
        self.count <= 1 || self.of(server, app_namespace, app_name) == self.index
    }
}

/// The shard a StatefulSet gives its pod: the ordinal at the end of `hostname` (`sluice-2`).
#[must_use]
pub fn ordinal(hostname: &str) -> Option<u32> {
    hostname.rsplit_once('-')?.1.parse().ok()
}

/// 32-bit FNV-1a of `text` (`crds::hash`'s).
#[must_use]
pub fn fnv1a32(text: &str) -> u32 {
    crds::hash::fnv32a_of(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a() {
        // Reference values of the 32-bit FNV-1a test suite.
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
    }

    #[test]
    fn each_application_has_exactly_one_shard() {
        let servers = [
            "https://kubernetes.default.svc",
            "https://eu.example:6443",
            "https://us.example:6443",
            "https://ap.example:6443",
        ];
        for by in [ShardBy::Cluster, ShardBy::Application] {
            for server in servers {
                for app in ["api", "web", "worker"] {
                    let owners: Vec<u32> = (0..3)
                        .filter(|&index| Shard { index, count: 3, by }.owns(server, "argocd", app))
                        .collect();
                    assert_eq!(owners.len(), 1, "{by:?} {server} {app}: {owners:?}");
                }
            }
        }
        let two = |index| Shard {
            index,
            count: 2,
            by: ShardBy::Cluster,
        };
        assert!(
            two(0).owns("https://kubernetes.default.svc", "argocd", "x"),
            "the local cluster is shard 0's"
        );
        let apps_on_one_cluster: Vec<u32> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|n| {
                Shard {
                    index: 0,
                    count: 2,
                    by: ShardBy::Application,
                }
                .of(IN_CLUSTER, "argocd", n)
            })
            .collect();
        assert!(
            apps_on_one_cluster.contains(&0) && apps_on_one_cluster.contains(&1),
            "{apps_on_one_cluster:?}"
        );
        let one = Shard {
            index: 0,
            count: 1,
            by: ShardBy::Cluster,
        };
        assert!(
            one.owns("https://eu.example:6443", "argocd", "x"),
            "one shard manages everything"
        );
    }

    #[test]
    fn a_statefulset_pod_names_its_ordinal() {
        assert_eq!(ordinal("sluice-2"), Some(2));
        assert_eq!(ordinal("sluice-application-controller-0"), Some(0));
        assert_eq!(ordinal("sluice"), None);
    }
}
