use super::*;

fn commit(sha: &str, subject: &str, paths: &[&str]) -> Commit {
    Commit {
        sha: sha.into(),
        subject: subject.into(),
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        reverts: None,
    }
}

fn situation<'a>(commits: &'a [Commit], input: &'a [String]) -> Situation<'a> {
    Situation {
        application: "argocd/api",
        mode: Mode::On,
        pinned: false,
        known_good: Some("good"),
        commits,
        input,
        already_reverted: &[],
        recent: (0, 3),
        why: "Rollout api aborted: Metric \"success-rate\" assessed Failed (0.80)",
    }
}

#[test]
fn culprits_are_the_commits_that_changed_the_input_newest_first() {
    let commits = [
        commit("c3", "docs", &["docs/readme.md"]),
        commit(
            "c2",
            "bad image and a web tweak",
            &["apps/api/rollout.yaml", "apps/web/cm.yaml"],
        ),
        commit("c1", "api config", &["apps/api/config.yaml"]),
    ];
    let input = vec!["apps/api".to_owned()];
    let Verdict::Revert { reverts, dry_run } = decide(&situation(&commits, &input)) else {
        unreachable!()
    };
    assert!(!dry_run);
    assert_eq!(
        reverts.iter().map(|r| r.original.as_str()).collect::<Vec<_>>(),
        ["c2", "c1"]
    );
    assert_eq!(
        reverts[0].only.as_deref(),
        Some(&["apps/api/rollout.yaml".to_owned()][..])
    );
    assert_eq!(reverts[1].only, None);
    let m = &reverts[0].message;
    assert!(
        m.starts_with(
            "Revert \"bad image and a web tweak\"\n\nSluice reverted c2 because Application argocd/api became Degraded"
        ),
        "{m}"
    );
    assert!(m.contains("only these are reverted:\n  apps/api/rollout.yaml"), "{m}");
    assert_eq!(trailer(m, REVERT_OF_TRAILER), Some("c2"));
    assert_eq!(trailer(m, APPLICATION_TRAILER), Some("argocd/api"));
}

#[test]
fn refusals_and_no_ops() {
    let commits = [commit("c1", "bad", &["apps/api/rollout.yaml"])];
    let input = vec!["apps/api".to_owned()];
    let base = situation(&commits, &input);
    let refused = |s: Situation<'_>| matches!(decide(&s), Verdict::Refused(_));
    assert_eq!(
        decide(&Situation {
            mode: Mode::Off,
            ..base.clone()
        }),
        Verdict::Nothing
    );
    assert!(refused(Situation {
        pinned: true,
        ..base.clone()
    }));
    assert!(refused(Situation {
        known_good: None,
        ..base.clone()
    }));
    assert!(
        refused(Situation {
            recent: (3, 3),
            ..base.clone()
        }),
        "rate limit"
    );
    let done = ["c1".to_owned()];
    assert_eq!(
        decide(&Situation {
            already_reverted: &done,
            ..base.clone()
        }),
        Verdict::Nothing,
        "never twice"
    );
    let mut revert = commit("r1", "Revert \"bad\"", &["apps/api/rollout.yaml"]);
    revert.reverts = Some("c0".into());
    let reverted = [revert];
    assert!(
        refused(Situation {
            commits: &reverted,
            ..base.clone()
        }),
        "never a revert"
    );
    let elsewhere = [commit("c9", "web only", &["apps/web/cm.yaml"])];
    assert_eq!(
        decide(&Situation {
            commits: &elsewhere,
            ..base.clone()
        }),
        Verdict::Nothing,
        "another app's commit"
    );
    assert!(matches!(
        decide(&Situation {
            mode: Mode::DryRun,
            ..base
        }),
        Verdict::Revert { dry_run: true, .. }
    ));
    assert_eq!(mode(Some("dry-run"), false), Mode::DryRun);
    assert_eq!(mode(None, true), Mode::On);
    assert_eq!(mode(Some("false"), true), Mode::Off);
}

#[test]
fn a_squashed_revert_names_every_commit_in_its_trailers() {
    let reverts = vec![
        Revert {
            original: "b".repeat(40),
            message: "Revert \"api 3\"\n\nbody".into(),
            only: None,
        },
        Revert {
            original: "a".repeat(40),
            message: "Revert \"api 2 and web\"\n\nbody".into(),
            only: Some(vec!["api/rollout.yaml".into()]),
        },
    ];
    let message = squashed_message(&reverts, "argocd/api", "Rollout api: aborted");
    assert!(
        message.starts_with("Revert 2 commits that made argocd/api Degraded\n\n"),
        "{message}"
    );
    assert!(
        message.contains("- bbbbbbbbbbbb \"api 3\"\n- aaaaaaaaaaaa \"api 2 and web\" (only api/rollout.yaml)"),
        "{message}"
    );
    assert_eq!(
        trailers(&message, REVERT_OF_TRAILER).collect::<Vec<_>>(),
        ["b".repeat(40), "a".repeat(40)]
    );
    assert_eq!(trailer(&message, APPLICATION_TRAILER), Some("argocd/api"));
}
