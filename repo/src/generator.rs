//! What an ApplicationSet's Git generator reads from one revision of a fetched repository:
//! every directory, and the files its `files` patterns match with their content, read from the
//! object database (no checkout). The controller and `kubectl sluice appset get` both read it
//! here, so the plugin shows what the controller generates.

use globset::{GlobBuilder, GlobSetBuilder};

use crate::{GitError, RepoCache};

impl RepoCache {
    /// The [`gitops::appset::Revision`] of `revision` of the fetched `url` for `file_patterns`
    /// (a pattern matches from the root, `*` stays within one directory; a pattern that is not a
    /// glob matches nothing, as Argo CD's generator ignores it).
    ///
    /// # Errors
    /// When the revision names nothing or the cache cannot be read.
    pub fn generator_revision(
        &self,
        url: &str,
        revision: &str,
        file_patterns: &[String],
    ) -> Result<gitops::appset::Revision, GitError> {
        let sha = self.resolve(url, revision)?;
        let (directories, paths) = self.listing(url, &sha)?;
        let mut patterns = GlobSetBuilder::new();
        for pattern in file_patterns {
            if let Ok(glob) = GlobBuilder::new(pattern.trim_start_matches('/'))
                .literal_separator(true)
                .build()
            {
                patterns.add(glob);
            }
        }
        let patterns = patterns.build().unwrap_or_else(|_| globset::GlobSet::empty());
        let mut files = Vec::new();
        for path in paths.iter().filter(|p| patterns.is_match(p.as_str())) {
            if let Some(content) = self.read(url, &sha, path)? {
                files.push((path.clone(), String::from_utf8_lossy(&content).into_owned()));
            }
        }
        Ok(gitops::appset::Revision { directories, files })
    }
}
