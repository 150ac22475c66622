//! What an ApplicationSet's Git generator reads from a revision (`RepoCache::generator_revision`)
//! over a real `git daemon`: every directory, and only the files its patterns match, with `*`
//! staying within one directory as in Argo CD's Go globs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use repo::RepoCache;
use repo::remote::Access;
use tests::git::{GitDaemon, GitRepo};

#[test]
fn a_revision_lists_directories_and_reads_only_matching_files() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "fleet");
    repo.commit(
        &[
            ("clusters/prod/config.json", "{\"cluster\": \"prod\"}"),
            ("clusters/staging/config.json", "{\"cluster\": \"staging\"}"),
            ("clusters/staging/deep/config.json", "{\"cluster\": \"deep\"}"),
            ("apps/web/cm.yaml", "kind: ConfigMap\n"),
        ],
        "fleet",
    );
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("fleet");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    cache.fetch(&url, &Access::default(), 0).unwrap();

    let read = cache
        .generator_revision(&url, "main", &["/clusters/*/config.json".to_owned(), "[".to_owned()])
        .unwrap();
    for dir in ["apps", "apps/web", "clusters", "clusters/prod", "clusters/staging/deep"] {
        assert!(
            read.directories.iter().any(|d| d == dir),
            "{dir} in {:?}",
            read.directories
        );
    }
    let paths: Vec<&str> = read.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["clusters/prod/config.json", "clusters/staging/config.json"],
        "`*` does not cross a directory and an invalid pattern matches nothing"
    );
    assert_eq!(read.files[0].1, "{\"cluster\": \"prod\"}");

    let unknown = cache.generator_revision(&url, "no-such-branch", &[]);
    assert!(
        matches!(unknown, Err(repo::GitError::UnknownRevision { .. })),
        "{unknown:?}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
