//! Leader election on a Lease (through `kube-lease-manager`): only the holder runs the reconcilers.

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::ManagerError;

/// Where the leader Lease lives and how long it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElection {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// Seconds a leader's Lease stays valid without renewal.
    pub lease_duration: u64,
}

impl Default for LeaderElection {
    fn default() -> Self {
        Self {
            namespace: "default".into(),
            lease_name: "sluice-controller".into(),
            lease_duration: 15,
        }
    }
}

type LeaseTask = JoinHandle<Result<LeaseManager, kube_lease_manager::LeaseManagerError>>;

/// A replica taking part in the election.
pub(super) struct Candidate {
    channel: watch::Receiver<bool>,
    task: LeaseTask,
}

impl Candidate {
    /// Joins the election as `identity`.
    pub async fn join(
        client: &kube::Client,
        election: &LeaderElection,
        identity: String,
    ) -> Result<Self, ManagerError> {
        let manager = LeaseManagerBuilder::new(client.clone(), &election.lease_name)
            .with_namespace(&election.namespace)
            .with_identity(identity)
            .with_duration(election.lease_duration)
            .with_grace(election.lease_duration.div_ceil(3).max(1))
            .build()
            .await
            .map_err(|source| ManagerError::Lease {
                lease: election.lease_name.clone(),
                source,
            })?;
        let (channel, task) = manager.watch().await;
        Ok(Self { channel, task })
    }

    /// Completes when this replica holds the Lease.
    pub async fn elected(&mut self) -> Result<(), ManagerError> {
        loop {
            if *self.channel.borrow_and_update() {
                return Ok(());
            }
            if self.channel.changed().await.is_err() {
                return Err(ManagerError::LostLease);
            }
        }
    }

    /// Completes when this replica no longer holds the Lease.
    pub async fn lost(&mut self) {
        loop {
            if self.channel.changed().await.is_err() || !*self.channel.borrow_and_update() {
                return;
            }
        }
    }

    /// Leaves the election and hands the Lease over at once.
    pub async fn resign(self) {
        drop(self.channel);
        if let Ok(Ok(manager)) = self.task.await
            && let Err(error) = manager.release().await
        {
            tracing::warn!(%error, "cannot release the leader lease");
        }
    }
}

/// A unique identity for this replica: the host name and a random suffix.
#[must_use]
pub fn identity() -> String {
    format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "sluice".into()),
        uuid::Uuid::new_v4().simple()
    )
}
