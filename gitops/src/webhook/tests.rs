use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use super::*;

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

const GITHUB: &str = r#"{"ref": "refs/heads/main", "repository": {"html_url": "https://github.com/myorg/k8s-config", "clone_url": "https://github.com/myorg/k8s-config.git", "ssh_url": "git@github.com:myorg/k8s-config.git"},
  "commits": [{"added": ["apps/api/new.yaml"], "modified": ["apps/api/deploy.yaml"], "removed": []}]}"#;

#[test]
fn github_pushes_are_verified_and_read() {
    let secrets = Secrets {
        github: Some("s3cret".into()),
        ..Secrets::default()
    };
    let body = GITHUB.as_bytes();
    let good = format!("sha256={}", sign("s3cret", body));
    let push = parse(
        &headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &good)]),
        body,
        &secrets,
    );
    let push = push.unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(push.revision, "main");
    assert_eq!(push.changed, ["apps/api/new.yaml", "apps/api/deploy.yaml"]);
    assert!(concerns(&push, "https://github.com/myorg/k8s-config", "main"));
    assert!(concerns(&push, "git@github.com:myorg/k8s-config.git", "HEAD"));
    assert!(!concerns(&push, "https://github.com/myorg/k8s-config", "release"));
    assert!(!concerns(&push, "https://github.com/myorg/other", "main"));
    let bad = format!("sha256={}", sign("wrong", body));
    for signature in [Some(bad.as_str()), None] {
        let mut h = headers(&[("X-GitHub-Event", "push")]);
        if let Some(s) = signature {
            h.push(("X-Hub-Signature-256".into(), s.into()));
        }
        assert!(
            matches!(parse(&h, body, &secrets), Err(Refused::Unauthorized(_))),
            "{signature:?}"
        );
    }
    let unsigned = parse(&headers(&[("X-GitHub-Event", "push")]), body, &Secrets::default());
    assert!(
        unsigned.is_ok(),
        "without a configured secret, pushes are taken (as Argo CD)"
    );
    let ping = parse(&headers(&[("X-GitHub-Event", "ping")]), b"{}", &Secrets::default());
    assert!(matches!(ping, Err(Refused::Unsupported(_))));
}

#[test]
fn gitlab_tokens_and_gitea_signatures() {
    let secrets = Secrets {
        github: None,
        gitlab: Some("tok".into()),
        gogs: Some("gs".into()),
    };
    let gitlab = br#"{"ref": "refs/heads/main", "project": {"web_url": "https://gitlab.example/team/app", "git_http_url": "https://gitlab.example/team/app.git"}}"#;
    let ok = parse(
        &headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "tok")]),
        gitlab,
        &secrets,
    );
    assert_eq!(ok.map(|p| p.urls.len()), Ok(2));
    let wrong = parse(
        &headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "nope")]),
        gitlab,
        &secrets,
    );
    assert!(matches!(wrong, Err(Refused::Unauthorized(_))));
    let gitea = br#"{"ref": "refs/heads/dev", "repository": {"clone_url": "http://gitea.local/o/r.git"}}"#;
    let signed = parse(
        &headers(&[("X-Gitea-Event", "push"), ("X-Gitea-Signature", &sign("gs", gitea))]),
        gitea,
        &secrets,
    );
    assert_eq!(signed.map(|p| p.revision), Ok("dev".to_owned()));
    let forged = parse(
        &headers(&[("X-Gitea-Event", "push"), ("X-Gitea-Signature", "00")]),
        gitea,
        &secrets,
    );
    assert!(matches!(forged, Err(Refused::Unauthorized(_))));
}

#[test]
fn manifest_generate_paths_decide_what_a_push_touches() {
    let changed = vec!["apps/api/deploy.yaml".to_owned(), "docs/readme.md".to_owned()];
    let table = [
        ("apps/api", None, true),
        ("apps/web", None, false),
        ("apps/web", Some("."), false),
        ("apps/web", Some("../api"), true),
        ("apps/web", Some("/docs"), true),
        ("apps/web", Some("/shared; ."), false),
        ("", None, true),
    ];
    for (path, annotation, want) in table {
        assert_eq!(touches(&changed, path, annotation), want, "{path} {annotation:?}");
    }
    assert!(touches(&[], "apps/web", None), "unknown changes always touch");
}
