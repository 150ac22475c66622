//! Who makes a request: the user a bearer token names, with its groups.

use serde_json::{Value, json};

/// Group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Group the authorizer lets do everything (kube-apiserver's privileged group).
pub const MASTERS: &str = "system:masters";

/// An authenticated user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// User name, e.g. `alice` or `system:serviceaccount:ns:name`.
    pub username: String,
    /// UID.
    pub uid: String,
    /// Groups (always including `system:authenticated`).
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with these groups (plus `system:authenticated`).
    #[must_use]
    pub fn new(username: &str, uid: &str, groups: &[String]) -> Self {
        let mut groups = groups.to_vec();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        Self {
            username: username.to_owned(),
            uid: uid.to_owned(),
            groups,
        }
    }

    /// The user of a ServiceAccount, with its groups.
    #[must_use]
    pub fn service_account(namespace: &str, name: &str, uid: &str) -> Self {
        Self::new(
            &format!("system:serviceaccount:{namespace}:{name}"),
            uid,
            &[
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
            ],
        )
    }

    /// The administrator the simulator's own kubeconfig authenticates as.
    #[must_use]
    pub fn admin() -> Self {
        Self::new("sluice-sim-admin", "sluice-sim-admin", &[MASTERS.to_owned()])
    }

    /// Whether the user is in the privileged group.
    #[must_use]
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// The `userInfo` of an AdmissionReview or an access review.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({"username": self.username, "uid": self.uid, "groups": self.groups})
    }
}
