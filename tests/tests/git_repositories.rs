//! The repository cache and renderers against real Git servers on loopback: `git daemon` over
//! `git://`, and `git http-backend` with basic auth and bearer tokens over smart HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use repo::credentials::{RepoSecret, Secret, SecretKind};
use repo::remote::{Access, ls_remote};
use repo::render::{self, DirectoryOptions, KustomizeOptions, RenderError, RenderOptions, SourceType};
use repo::{Credentials, GitError, RepoCache};
use tests::git::{GitDaemon, GitHttp, GitRepo, http::Auth};

#[test]
fn revisions_resolve_as_argo_cd_resolves_them_over_git_daemon() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let first = repo.commit(
        &[(
            "guestbook/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )],
        "first",
    );
    repo.tag("v1", None);
    repo.tag("v1-annotated", Some("release 1"));
    let second = repo.commit(
        &[(
            "guestbook/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        )],
        "second",
    );
    tests::git::git(
        &repo.work,
        &["push", "-q", "origin", &format!("{first}:refs/heads/stable")],
    );
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");

    let cache = RepoCache::new(root.join("cache")).unwrap();
    let access = Access::default();
    let advertised = ls_remote(&url, &access).unwrap().unwrap();
    assert_eq!(advertised.get("refs/heads/main"), Some(&second));
    assert_eq!(advertised.get("HEAD"), Some(&second));
    let seen = cache.fetch_count(&url);
    let refs = cache.fetch(&url, &access, seen).unwrap();
    assert_eq!(refs.get("refs/heads/main"), Some(&second));
    for (revision, want) in [
        ("HEAD", &second),
        ("", &second),
        ("main", &second),
        ("stable", &first),
        ("v1", &first),
        ("v1-annotated", &first),
        (first.as_str(), &first),
        (&second[..7], &second),
    ] {
        assert_eq!(&cache.resolve(&url, revision).unwrap(), want, "revision {revision:?}");
    }
    assert!(matches!(
        cache.resolve(&url, "nope"),
        Err(GitError::UnknownRevision { .. })
    ));

    // A caller that waited for another's fetch reuses it instead of fetching again.
    assert_eq!(cache.fetch_count(&url), seen + 1);
    cache.fetch(&url, &access, seen).unwrap();
    assert_eq!(
        cache.fetch_count(&url),
        seen + 1,
        "a coalesced fetch does not go to the remote"
    );

    let work = root.join("checkout");
    cache.export(&url, &first, &work).unwrap();
    let text = std::fs::read_to_string(work.join("guestbook/cm.yaml")).unwrap();
    assert!(text.contains("name: a"));
    assert_eq!(
        cache.changed_paths(&url, &first, &second).unwrap(),
        vec!["guestbook/cm.yaml".to_owned()]
    );
    // A local repository by file:// (what examples/gitops/README.md uses), work tree and all.
    let local = format!("file://{}", repo.work.display());
    cache.fetch(&local, &access, 0).unwrap();
    assert_eq!(cache.resolve(&local, "main").unwrap(), second);
    drop(daemon);
    let _ = std::fs::remove_dir_all(&root);
}

fn secret(data: &[(&str, &str)]) -> RepoSecret {
    RepoSecret {
        name: "repo".into(),
        kind: SecretKind::Repository,
        data: data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn smart_http_needs_the_right_credentials_and_errors_never_show_them() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "private");
    let sha = repo.commit(
        &[("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")],
        "first",
    );
    let server = GitHttp::start(&served, Auth::Basic("bob".into(), "s3cret-pass".into()));
    let url = server.url("private");
    let cache = RepoCache::new(root.join("cache")).unwrap();

    let wrong = Access {
        credentials: secret(&[("username", "bob"), ("password", "wrong-pass")])
            .credentials()
            .unwrap()
            .0,
        ..Access::default()
    };
    let error = cache.fetch(&url, &wrong, 0).unwrap_err().to_string();
    assert!(error.contains(&url), "{error}");
    assert!(!error.contains("wrong-pass"), "{error}");
    assert!(server.refused() > 0);
    let anonymous = cache.fetch(&url, &Access::default(), 0).unwrap_err().to_string();
    assert!(!anonymous.is_empty());

    let right = Access {
        credentials: secret(&[("username", "bob"), ("password", "s3cret-pass")])
            .credentials()
            .unwrap()
            .0,
        ..Access::default()
    };
    assert_eq!(
        ls_remote(&url, &right).unwrap().unwrap().get("refs/heads/main"),
        Some(&sha)
    );
    cache.fetch(&url, &right, 0).unwrap();
    assert_eq!(cache.resolve(&url, "main").unwrap(), sha);
    drop(server);

    let bearer_server = GitHttp::start(&served, Auth::Bearer("tok-123".into()));
    let url = bearer_server.url("private");
    let bearer = Access {
        credentials: Credentials::Bearer {
            token: Secret::new("tok-123"),
        },
        ..Access::default()
    };
    assert_eq!(
        ls_remote(&url, &bearer).unwrap(),
        None,
        "bearer repositories are checked by fetching"
    );
    let cache = RepoCache::new(root.join("cache-bearer")).unwrap();
    cache.fetch(&url, &bearer, 0).unwrap();
    assert_eq!(cache.resolve(&url, "HEAD").unwrap(), sha);
    drop(bearer_server);
    let _ = std::fs::remove_dir_all(&root);
}

fn options() -> RenderOptions {
    RenderOptions {
        timeout: Duration::from_secs(60),
        namespace: "shop".into(),
        ..RenderOptions::default()
    }
}

fn names(rendered: &render::Rendered) -> Vec<String> {
    rendered
        .objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn directories_recurse_and_filter_with_go_globs() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let cm = |n: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}}}\n");
    for (path, text) in [
        ("app/a.yaml", cm("a")),
        ("app/b.yml", cm("b")),
        (
            "app/c.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#.to_owned(),
        ),
        ("app/notes.txt", "not a manifest".to_owned()),
        ("app/sub/d.yaml", cm("d")),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let flat = render::render(&root, "app", "x", &options()).unwrap();
    assert_eq!(flat.source_type, SourceType::Directory);
    assert_eq!(names(&flat), ["a", "b", "c"]);
    let mut deep = options();
    deep.directory = DirectoryOptions {
        recurse: true,
        include: Some("{*.yaml,sub/*.yaml}".into()),
        exclude: Some("a.yaml".into()),
    };
    assert_eq!(names(&render::render(&root, "app", "x", &deep).unwrap()), ["d"]);
    deep.directory.include = Some("*.yaml".into());
    deep.directory.exclude = None;
    assert_eq!(
        names(&render::render(&root, "app", "x", &deep).unwrap()),
        ["a"],
        "`*` does not cross a `/`, as Go's filepath.Match"
    );
    assert_eq!(
        render::render(&root, "missing", "x", &options()),
        Err(RenderError::MissingPath("missing".into()))
    );
    std::fs::write(
        root.join("app/broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
    )
    .unwrap();
    let error = render::render(&root, "app", "x", &options()).unwrap_err().to_string();
    assert!(error.starts_with("app/broken.yaml:"), "{error}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn kustomize_overlays_build_with_the_application_options() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let files = [
        (
            "apps/payment-service/base/kustomization.yaml",
            "resources: [deployment.yaml]\n",
        ),
        (
            "apps/payment-service/base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payment}\nspec:\n  selector: {matchLabels: {app: payment}}\n  template:\n    metadata: {labels: {app: payment}}\n    spec: {containers: [{name: app, image: payment:1.0}]}\n",
        ),
        (
            "apps/payment-service/overlays/production/kustomization.yaml",
            "resources: [../../base]\nnamePrefix: prod-\n",
        ),
    ];
    for (path, text) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let plain = render::render(&root, "apps/payment-service/overlays/production", "x", &options()).unwrap();
    assert_eq!(plain.source_type, SourceType::Kustomize);
    assert_eq!(names(&plain), ["prod-payment"]);
    let mut with = options();
    with.kustomize = KustomizeOptions {
        images: vec!["payment=registry.example/payment:2.0".into()],
        name_suffix: Some("-v2".into()),
        namespace: Some("payments".into()),
        ..KustomizeOptions::default()
    };
    let built = render::render(&root, "apps/payment-service/overlays/production", "x", &with).unwrap();
    let deployment = &built.objects[0];
    assert_eq!(deployment["metadata"]["name"], "prod-payment-v2");
    assert_eq!(deployment["metadata"]["namespace"], "payments");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/payment:2.0"
    );
    std::fs::write(
        root.join("apps/payment-service/base/kustomization.yaml"),
        "resources: [missing.yaml]\n",
    )
    .unwrap();
    let error = render::render(&root, "apps/payment-service/overlays/production", "x", &options()).unwrap_err();
    assert!(
        matches!(&error, RenderError::Tool { tool, .. } if tool == "kustomize"),
        "{error}"
    );
    assert!(error.to_string().contains("missing.yaml"), "{error}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_helm_chart_without_helm_says_so() {
    let has_helm =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("helm").is_file()));
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    std::fs::create_dir_all(root.join("chart")).unwrap();
    std::fs::write(
        root.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )
    .unwrap();
    let result = render::render(&root, "chart", "web", &options());
    if has_helm {
        assert_eq!(result.map(|r| r.source_type).ok(), Some(SourceType::Helm));
    } else {
        let error = result.unwrap_err().to_string();
        assert!(
            error.starts_with("helm: no helm binary on the controller's PATH"),
            "{error}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn ssh_keys_and_host_keys_over_sshd() {
    use repo::credentials::Transport;
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let served = root.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let sha = repo.commit(
        &[("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")],
        "first",
    );
    let server = tests::git::GitSsh::start(&served, &root.join("sshd"));
    let url = server.url("apps");
    let ssh = |key: &str, transport: Transport| Access {
        credentials: Credentials::Ssh {
            username: None,
            private_key: Secret::new(key),
        },
        transport,
    };
    let ignoring = Transport {
        insecure_ignore_host_key: true,
        ..Transport::default()
    };
    let cache = RepoCache::new(root.join("cache")).unwrap();
    cache
        .fetch(&url, &ssh(&server.private_key, ignoring.clone()), 0)
        .unwrap();
    assert_eq!(cache.resolve(&url, "main").unwrap(), sha);
    let known = Transport {
        known_hosts: vec!["# a comment".into(), server.known_hosts_line()],
        ..Transport::default()
    };
    assert_eq!(
        ls_remote(&url, &ssh(&server.private_key, known))
            .unwrap()
            .unwrap()
            .get("refs/heads/main"),
        Some(&sha)
    );
    let stranger = Transport {
        known_hosts: vec![format!("[127.0.0.1]:1 {}", server.host_key.replace("AAAA", "BBBB"))],
        ..Transport::default()
    };
    let refused = ls_remote(&url, &ssh(&server.private_key, stranger))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("hostkey") || refused.contains("host key"), "{refused}");
    assert!(
        refused.contains(&url),
        "the user name stays, nothing is masked without a password: {refused}"
    );
    let other = std::fs::read_to_string(root.join("sshd/host_key")).unwrap();
    let wrong = ls_remote(&url, &ssh(&other, ignoring)).unwrap_err().to_string();
    assert!(!wrong.contains("PRIVATE KEY"), "{wrong}");
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_helm_chart_renders_with_helm_template() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_path_buf();
    let files = [
        ("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
        ("chart/values.yaml", "replicas: 1\nimage: web:1\n"),
        ("chart/values-prod.yaml", "replicas: 3\n"),
        (
            "chart/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  namespace: {{ .Release.Namespace }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: \"{{ .Values.image }}\"}]}\n",
        ),
    ];
    for (path, text) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let mut with = options();
    // Real Helm where installed, else the stand-in that renders with Helm's engine (tests/helm).
    let installed =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("helm").is_file()));
    if !installed {
        with.helm_binary = Some(format!("{}/helm/helm", env!("CARGO_MANIFEST_DIR")));
    }
    with.helm = repo::render::HelmOptions {
        release_name: Some("shop".into()),
        value_files: vec!["values-prod.yaml".into()],
        parameters: vec![repo::render::HelmParameter {
            name: "image".into(),
            value: "web:2".into(),
            force_string: false,
        }],
        ..repo::render::HelmOptions::default()
    };
    let rendered = render::render(&root, "chart", "app", &with).unwrap();
    assert_eq!(rendered.source_type, SourceType::Helm);
    let deployment = &rendered.objects[0];
    assert_eq!(deployment["metadata"]["name"], "shop-web");
    assert_eq!(deployment["metadata"]["namespace"], "shop");
    assert_eq!(deployment["spec"]["replicas"], 3, "valueFiles over the chart's values");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"], "web:2",
        "parameters over both"
    );
    let _ = std::fs::remove_dir_all(&root);
}
