//! Bearer tokens: a static table (kube-apiserver's `--token-auth-file` format) and the tokens the
//! TokenRequest API issues for ServiceAccounts. Tokens are opaque strings the simulator maps to
//! their user; nothing is signed.

use std::collections::HashMap;

use parking_lot::Mutex;
use rand::Rng;

use super::user::UserInfo;

/// The token the simulator's own kubeconfig carries (an administrator).
pub const ADMIN_TOKEN: &str = "sluice-sim";

/// A ServiceAccount a token was issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedFor {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID of the ServiceAccount.
    pub uid: String,
}

/// Every token the server knows.
#[derive(Debug, Default)]
pub struct Tokens {
    fixed: HashMap<String, UserInfo>,
    issued: Mutex<HashMap<String, IssuedFor>>,
}

/// A line of a tokens file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("tokens file line {line}: {reason}")]
pub struct TokenFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl Tokens {
    /// The administrator's token and the given ones.
    #[must_use]
    pub fn new(fixed: impl IntoIterator<Item = (String, UserInfo)>) -> Self {
        let mut all: HashMap<String, UserInfo> = fixed.into_iter().collect();
        all.insert(ADMIN_TOKEN.into(), UserInfo::admin());
        Self {
            fixed: all,
            issued: Mutex::default(),
        }
    }

    /// Parses kube-apiserver's token file: `token,user,uid,"group1,group2"` per line (groups
    /// optional; `#` starts a comment).
    ///
    /// # Errors
    /// A line with fewer than three fields, or an empty token or user.
    pub fn parse_file(text: &str) -> Result<Vec<(String, UserInfo)>, TokenFileError> {
        let mut all = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (head, groups) = match line.split_once(",\"") {
                Some((head, rest)) => (head, rest.trim_end_matches('"')),
                None => (line, ""),
            };
            let fields: Vec<&str> = head.split(',').map(str::trim).collect();
            let error = |reason: &str| TokenFileError {
                line: i + 1,
                reason: reason.into(),
            };
            let [token, user, uid, rest @ ..] = fields.as_slice() else {
                return Err(error("expected token,user,uid[,\"groups\"]"));
            };
            if token.is_empty() || user.is_empty() {
                return Err(error("the token and the user must not be empty"));
            }
            let mut group_list: Vec<String> = groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect();
            group_list.extend(rest.iter().filter(|g| !g.is_empty()).map(|g| (*g).to_owned()));
            all.push(((*token).to_owned(), UserInfo::new(user, uid, &group_list)));
        }
        Ok(all)
    }

    /// The user a token names, if any.
    #[must_use]
    pub fn user(&self, token: &str) -> Option<UserInfo> {
        if let Some(user) = self.fixed.get(token) {
            return Some(user.clone());
        }
        let issued = self.issued.lock().get(token).cloned()?;
        Some(UserInfo::service_account(&issued.namespace, &issued.name, &issued.uid))
    }

    /// Issues a new token for a ServiceAccount.
    pub fn issue(&self, account: IssuedFor) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let secret: String = (0..40)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        let token = format!("sim-sa-{secret}");
        self.issued.lock().insert(token.clone(), account);
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_names_users_and_groups() {
        let parsed = Tokens::parse_file("# comment\nt1,alice,u1,\"dev,ops\"\nt2,bob,u2\n").unwrap();
        assert_eq!(parsed[0].0, "t1");
        assert_eq!(parsed[0].1.groups, ["dev", "ops", "system:authenticated"]);
        assert_eq!(parsed[1].1.username, "bob");
        let error = Tokens::parse_file("only-a-token\n").unwrap_err();
        assert_eq!(error.line, 1);
    }

    #[test]
    fn issued_tokens_name_their_service_account() {
        let tokens = Tokens::new(Vec::new());
        assert!(tokens.user(ADMIN_TOKEN).unwrap().is_master());
        assert_eq!(tokens.user("unknown"), None);
        let token = tokens.issue(IssuedFor {
            namespace: "ns".into(),
            name: "reader".into(),
            uid: "u".into(),
        });
        let user = tokens.user(&token).unwrap();
        assert_eq!(user.username, "system:serviceaccount:ns:reader");
        assert!(user.groups.contains(&"system:serviceaccounts:ns".to_owned()));
    }
}
