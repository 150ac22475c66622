//! Reverting in a real repository over `git daemon`: the revert commit (message, trailers,
//! author, parent, diff), only the Application's files of a commit that changed more, a
//! competing push (retried on the new tip, nothing lost, never forced), and a branch that refuses
//! the push (the revert is left on `sluice/revert-<sha>`); a Kustomize overlay whose input is its
//! base too, and nothing of another Application's overlay reverted; squashed reverts; races with
//! a pusher that keeps pushing (10 runs, 100 in the ignored stress test); a conflicting revert left
//! on a branch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use repo::RepoCache;
use repo::remote::Access;
use repo::revert::{Culprit, Pushed, Request, revert_and_push};
use tests::git::{GitDaemon, GitRepo, git};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn request<'a>(url: &'a str, access: &'a Access, culprits: &'a [Culprit]) -> Request<'a> {
    Request {
        url,
        access,
        branch: "main",
        culprits,
        author_name: "Sluice",
        author_email: "sluice@localhost",
        attempts: 10,
        squash: None,
    }
}

fn show(bare: &std::path::Path, what: &str) -> String {
    git(bare, &["show", "-s", &format!("--format={what}"), "main"])
}

#[test]
fn a_revert_is_a_new_commit_on_the_tip_touching_only_the_input() {
    let root = temp("revert");
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(
        &[
            ("apps/api/rollout.yaml", "image: api:1\n"),
            ("apps/web/cm.yaml", "color: blue\n"),
        ],
        "good",
    );
    let bad = repo.commit(
        &[
            ("apps/api/rollout.yaml", "image: api:2-bad\n"),
            ("apps/web/cm.yaml", "color: green\n"),
        ],
        "bad image and a web tweak",
    );
    let later = repo.commit(&[("docs/notes.md", "later work\n")], "later");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    let culprits = [Culprit {
        sha: bad.clone(),
        message: format!(
            "Revert \"bad image and a web tweak\"\n\nwhy\n\nSluice-Revert-Of: {bad}\nSluice-Application: argocd/api\n"
        ),
        only: Some(vec!["apps/api/rollout.yaml".into()]),
    }];
    let access = Access::default();
    let Pushed::Branch(tip) = revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap() else {
        panic!("expected a push to main")
    };
    let bare = &repo.bare;
    assert_eq!(git(bare, &["rev-parse", "main"]), tip);
    assert_eq!(show(bare, "%P"), later, "the revert's parent is the tip");
    assert_eq!(
        show(bare, "%an <%ae>|%cn <%ce>"),
        "Sluice <sluice@localhost>|Sluice <sluice@localhost>"
    );
    assert_eq!(show(bare, "%s"), "Revert \"bad image and a web tweak\"");
    assert_eq!(
        git(
            bare,
            &[
                "show",
                "-s",
                "--format=%(trailers:key=Sluice-Revert-Of,valueonly)",
                "main"
            ]
        ),
        bad
    );
    assert_eq!(git(bare, &["show", "main:apps/api/rollout.yaml"]), "image: api:1");
    assert_eq!(
        git(bare, &["show", "main:apps/web/cm.yaml"]),
        "color: green",
        "outside the input: untouched"
    );
    assert_eq!(git(bare, &["show", "main:docs/notes.md"]), "later work");
    assert_eq!(git(bare, &["rev-list", "--count", "main"]), "4", "nothing rewritten");
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_competing_push_is_kept_and_a_refusing_branch_gets_the_revert_aside() {
    let root = temp("revert-race");
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(&[("apps/api/rollout.yaml", "image: api:1\n")], "good");
    let bad = repo.commit(&[("apps/api/rollout.yaml", "image: api:2-bad\n")], "bad");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    let access = Access::default();
    cache.fetch(&url, &access, 0).unwrap();
    let culprits = [Culprit {
        sha: bad.clone(),
        message: format!("Revert \"bad\"\n\nSluice-Revert-Of: {bad}\n"),
        only: None,
    }];
    // Someone pushes between Sluice's fetch and its push: their commit stays, the revert goes on top.
    let competing = repo.commit(&[("apps/web/cm.yaml", "color: red\n")], "someone else");
    let Pushed::Branch(tip) = revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap() else {
        panic!("expected a push")
    };
    assert_eq!(
        git(&repo.bare, &["rev-parse", "main^"]),
        competing,
        "the competing commit is kept"
    );
    assert_eq!(git(&repo.bare, &["rev-parse", "main"]), tip);
    assert_eq!(git(&repo.bare, &["show", "main:apps/api/rollout.yaml"]), "image: api:1");

    git(&repo.work, &["pull", "-q", "--rebase", "origin", "main"]);
    let again = repo.commit(&[("apps/api/rollout.yaml", "image: api:3-bad\n")], "bad again");
    // A protected branch: a pre-receive hook refuses pushes to main.
    let hook = repo.bare.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nwhile read old new ref; do [ \"$ref\" = refs/heads/main ] && { echo 'main is protected' >&2; exit 1; }; done\nexit 0\n").unwrap();
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&hook)
        .status()
        .unwrap();
    let culprits = [Culprit {
        sha: again.clone(),
        message: format!("Revert \"bad again\"\n\nSluice-Revert-Of: {again}\n"),
        only: None,
    }];
    let pushed = revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap();
    let Pushed::Aside { branch, reason } = pushed else {
        panic!("expected the revert aside")
    };
    assert_eq!(branch, format!("sluice/revert-{}", &again[..12]));
    assert!(reason.contains("refused"), "{reason}");
    assert_eq!(git(&repo.bare, &["rev-parse", "main"]), again, "main untouched");
    assert_eq!(
        git(&repo.bare, &["show", &format!("{branch}:apps/api/rollout.yaml")]),
        "image: api:1"
    );
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

/// A Kustomize overlay's culprit changed its base and another Application's overlay: only the
/// base is reverted. A commit that touched only the other Application is never a culprit.
#[test]
fn a_kustomize_overlay_reverts_its_base_and_nothing_of_another_application() {
    let root = temp("revert-kustomize");
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let overlay = |app: &str| format!("resources: [../../base]\nnamePrefix: {app}-\n");
    let good = repo.commit(
        &[
            ("shop/base/kustomization.yaml", "resources: [deploy.yaml]\n"),
            ("shop/base/deploy.yaml", "image: shop:1\n"),
            ("shop/overlays/prod/kustomization.yaml", &overlay("prod")),
            ("shop/overlays/staging/kustomization.yaml", &overlay("staging")),
            ("web/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("web/cm.yaml", "color: blue\n"),
        ],
        "good",
    );
    let bad = repo.commit(
        &[
            ("shop/base/deploy.yaml", "image: shop:2-bad\n"),
            (
                "shop/overlays/staging/kustomization.yaml",
                "resources: [../../base]\nnamePrefix: stg-\n",
            ),
        ],
        "bad base image and a staging rename",
    );
    let unrelated = repo.commit(&[("web/cm.yaml", "color: green\n")], "web only");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    let access = Access::default();
    cache.fetch(&url, &access, 0).unwrap();

    let input = cache.kustomize_inputs(&url, &unrelated, "shop/overlays/prod").unwrap();
    assert_eq!(input, ["shop/base", "shop/overlays/prod"]);
    let commits: Vec<gitops::revert::Commit> = cache
        .commits_between(&url, &good, &unrelated)
        .unwrap()
        .iter()
        .map(repo::history::CommitInfo::for_decision)
        .collect();
    let situation = gitops::revert::Situation {
        application: "argocd/shop-prod",
        mode: gitops::revert::Mode::On,
        pinned: false,
        known_good: Some(&good),
        commits: &commits,
        input: &input,
        already_reverted: &[],
        recent: (0, 3),
        why: "Rollout shop: aborted",
    };
    let gitops::revert::Verdict::Revert { reverts, .. } = gitops::revert::decide(&situation) else {
        panic!("expected a revert")
    };
    assert_eq!(
        reverts.iter().map(|r| r.original.as_str()).collect::<Vec<_>>(),
        [bad.as_str()],
        "the web-only commit is not a culprit"
    );
    assert_eq!(
        reverts[0].only.as_deref(),
        Some(&["shop/base/deploy.yaml".to_owned()][..])
    );
    let culprits: Vec<Culprit> = reverts.iter().map(Culprit::from).collect();
    revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap();
    let bare = &repo.bare;
    assert_eq!(git(bare, &["show", "main:shop/base/deploy.yaml"]), "image: shop:1");
    assert!(
        git(bare, &["show", "main:shop/overlays/staging/kustomization.yaml"]).contains("stg-"),
        "another Application's overlay is untouched"
    );
    assert_eq!(git(bare, &["show", "main:web/cm.yaml"]), "color: green");
    assert_eq!(
        git(bare, &["diff", "--name-only", "main~1", "main"]),
        "shop/base/deploy.yaml"
    );
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

/// `--revert-squash`: two culprits, one commit reverting both, whose trailers name each.
#[test]
fn squashed_reverts_are_one_commit_naming_every_culprit() {
    let root = temp("revert-squash");
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(
        &[("api/rollout.yaml", "image: api:1\n"), ("api/cm.yaml", "a: 1\n")],
        "good",
    );
    let first = repo.commit(&[("api/rollout.yaml", "image: api:2\n")], "api 2");
    let second = repo.commit(&[("api/cm.yaml", "a: 2\n")], "cm 2");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    let access = Access::default();
    let reverts: Vec<gitops::revert::Revert> = [(&second, "cm 2"), (&first, "api 2")]
        .iter()
        .map(|(sha, subject)| gitops::revert::Revert {
            original: (*sha).clone(),
            message: format!("Revert \"{subject}\"\n"),
            only: None,
        })
        .collect();
    let message = gitops::revert::squashed_message(&reverts, "argocd/api", "Rollout api: aborted");
    let culprits: Vec<Culprit> = reverts.iter().map(Culprit::from).collect();
    let mut asked = request(&url, &access, &culprits);
    asked.squash = Some(&message);
    revert_and_push(&cache, &asked).unwrap();
    let bare = &repo.bare;
    assert_eq!(show(bare, "%P"), second, "one commit, on the tip");
    assert_eq!(show(bare, "%s"), "Revert 2 commits that made argocd/api Degraded");
    assert_eq!(
        git(
            bare,
            &[
                "show",
                "-s",
                "--format=%(trailers:key=Sluice-Revert-Of,valueonly)",
                "main"
            ]
        ),
        format!("{second}\n{first}")
    );
    assert_eq!(git(bare, &["show", "main:api/rollout.yaml"]), "image: api:1");
    assert_eq!(git(bare, &["show", "main:api/cm.yaml"]), "a: 1");
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

/// Someone keeps pushing to the branch (rebasing on rejection, as a person or a bot does, every
/// 50 to 150 ms) while
/// Sluice reverts: every one of their commits survives, the revert lands once, and main only
/// ever moves forward (the bare repository refuses non-fast-forward updates, so a forced push
/// would fail the run).
fn race(runs: usize) {
    let root = temp(&format!("revert-pusher-{runs}"));
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let daemon = GitDaemon::start(&served);
    let access = Access::default();
    let cache = RepoCache::new(root.join("cache")).unwrap();
    for run in 0..runs {
        let repo = GitRepo::create(&served, &format!("apps-{run}"));
        git(&repo.bare, &["config", "receive.denyNonFastForwards", "true"]);
        repo.commit(&[("api/rollout.yaml", "image: api:1\n")], "good");
        let bad = repo.commit(&[("api/rollout.yaml", "image: api:2-bad\n")], "bad");
        let url = daemon.url(&format!("apps-{run}"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pusher = {
            let (work, stop) = (repo.work.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut pushed = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 3 {
                    n += 1;
                    std::fs::write(work.join(format!("other-{n}.txt")), format!("{n}\n")).unwrap();
                    git(&work, &["add", "-A"]);
                    git(&work, &["commit", "-q", "-m", &format!("other {n}")]);
                    let ok = (0..20).any(|_| {
                        let status = std::process::Command::new("git")
                            .args(["push", "-q", "origin", "main"])
                            .current_dir(&work)
                            .stderr(std::process::Stdio::null())
                            .status()
                            .unwrap();
                        status.success() || {
                            git(&work, &["pull", "-q", "--rebase", "origin", "main"]);
                            false
                        }
                    });
                    assert!(ok, "the competing pusher got its commit in");
                    pushed.push(format!("other {n}"));
                    // A busy branch, not a flood: a push every 50 to 150 ms.
                    std::thread::sleep(std::time::Duration::from_millis(50 + (run as u64 * 7 + n) % 100));
                }
                pushed
            })
        };
        let culprits = [Culprit {
            sha: bad.clone(),
            message: format!("Revert \"bad\"\n\nSluice-Revert-Of: {bad}\n"),
            only: None,
        }];
        let pushed = revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let theirs = pusher.join().unwrap();
        assert!(matches!(pushed, Pushed::Branch(_)), "run {run}: {pushed:?}");
        let log = git(&repo.bare, &["log", "--format=%s", "main"]);
        for subject in &theirs {
            assert!(log.lines().any(|l| l == subject), "run {run}: {subject} lost:\n{log}");
        }
        assert_eq!(log.lines().filter(|l| *l == "Revert \"bad\"").count(), 1, "run {run}");
        assert_eq!(git(&repo.bare, &["show", "main:api/rollout.yaml"]), "image: api:1");
    }
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_competing_pusher_loses_nothing_over_ten_races() {
    race(10);
}

/// The stress version: `cargo test -p tests --test git_revert -- --ignored`.
#[test]
#[ignore = "stress: 100 races, about a minute"]
fn a_competing_pusher_loses_nothing_over_a_hundred_races() {
    race(100);
}

/// A revert that conflicts with later commits (the same line changed again) goes onto a branch of
/// its own, made on the culprit where it applies, and main is left alone.
#[test]
fn a_conflicting_revert_is_left_on_a_branch_for_a_pull_request() {
    let root = temp("revert-conflict");
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(&[("api/rollout.yaml", "image: api:1\n")], "good");
    let bad = repo.commit(&[("api/rollout.yaml", "image: api:2-bad\n")], "bad");
    let later = repo.commit(&[("api/rollout.yaml", "image: api:3\n")], "later, same line");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let cache = RepoCache::new(root.join("cache")).unwrap();
    let access = Access::default();
    let culprits = [Culprit {
        sha: bad.clone(),
        message: format!("Revert \"bad\"\n\nSluice-Revert-Of: {bad}\n"),
        only: None,
    }];
    let Pushed::Aside { branch, reason } = revert_and_push(&cache, &request(&url, &access, &culprits)).unwrap() else {
        panic!("expected the revert aside")
    };
    assert_eq!(branch, format!("sluice/revert-{}", &bad[..12]));
    assert!(reason.contains("conflicts"), "{reason}");
    assert_eq!(git(&repo.bare, &["rev-parse", "main"]), later, "main untouched");
    assert_eq!(git(&repo.bare, &["rev-parse", &format!("{branch}^")]), bad);
    assert_eq!(
        git(&repo.bare, &["show", &format!("{branch}:api/rollout.yaml")]),
        "image: api:1"
    );
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}
