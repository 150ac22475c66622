//! What the analysis providers send, seen by an endpoint that records every request and answers
//! only the expected credentials: Prometheus with basic auth (the password from a Secret), with OAuth2 client credentials (the
//! client secret read from a Secret through an argument) and with `rangeQuery`; the web provider's
//! method, headers, `jsonBody`, `body` and OAuth2. The controller runs over HTTP against the
//! simulated API server; a run only succeeds when the endpoint accepted what it got.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use crds::analysis::AnalysisPhase;
use tests::cluster::Cluster;
use tests::recorder::{ISSUED_TOKEN, Recorded, Recorder};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(30);

async fn succeeded(cluster: &Cluster, name: &str) {
    let run = cluster.completed_run(NS, name, WAIT).await;
    let status = run.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Successful), "{name}: {status:?}");
    let written = serde_json::to_string(&run).unwrap();
    assert!(
        !written.contains("client-s3cret"),
        "the secret is used, never written: {written}"
    );
}

fn at<'a>(requests: &'a [Recorded], path: &str) -> Vec<&'a Recorded> {
    requests.iter().filter(|r| r.path == path).collect()
}

fn run(name: &str, provider: &str) -> String {
    let mut yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: {name}\nspec:\n  args:\n  - name: secret\n    valueFrom:\n      secretKeyRef: {{name: oauth, key: clientSecret}}\n  metrics:\n  - name: m\n    successCondition: 'true'\n    provider:\n"
    );
    for line in provider.lines() {
        yaml.push_str(&format!("      {line}\n"));
    }
    yaml
}

async fn cluster() -> Cluster {
    let cluster = Cluster::start(None).await;
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: oauth\nstringData:\n  clientSecret: client-s3cret\n";
    cluster.apply(secret, NS).await;
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prometheus_sends_basic_auth_and_range_queries() {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sluice:client-s3cret")
    );
    let endpoint = Recorder::start(&expected);
    let cluster = cluster().await;
    let address = endpoint.url();
    cluster
        .apply(
            &run(
                "basic",
                &format!("prometheus:\n  address: {address}\n  query: up{{job=\"api\"}}\n  authentication:\n    basicAuth: {{username: sluice, password: '{{{{args.secret}}}}'}}"),
            ),
            NS,
        )
        .await;
    succeeded(&cluster, "basic").await;
    let requests = endpoint.requests();
    let query = at(&requests, "/api/v1/query");
    assert_eq!(query.len(), 1, "{requests:?}");
    assert_eq!(query[0].query.get("query").map(String::as_str), Some("up{job=\"api\"}"));

    cluster
        .apply(
            &run(
                "range",
                &format!("prometheus:\n  address: {address}\n  query: rate(errors[1m])\n  rangeQuery:\n    start: now() - duration(\"10m\")\n    end: now()\n    step: 1m\n  authentication:\n    basicAuth: {{username: sluice, password: '{{{{args.secret}}}}'}}"),
            ),
            NS,
        )
        .await;
    succeeded(&cluster, "range").await;
    let requests = endpoint.requests();
    let range = at(&requests, "/api/v1/query_range");
    assert_eq!(range.len(), 1, "{requests:?}");
    let number = |k: &str| {
        let text = range[0].query.get(k).cloned().unwrap_or_default();
        text.parse::<f64>().unwrap_or_else(|_| panic!("{k}={text}"))
    };
    assert!(
        (number("end") - number("start") - 600.0).abs() < 2.0,
        "{:?}",
        range[0].query
    );
    assert_eq!(number("step"), 60.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prometheus_gets_an_oauth2_token_with_the_secret_from_the_cluster() {
    let endpoint = Recorder::start(&format!("Bearer {ISSUED_TOKEN}"));
    let cluster = cluster().await;
    let address = endpoint.url();
    cluster
        .apply(
            &run(
                "oauth",
                &format!("prometheus:\n  address: {address}\n  query: up\n  authentication:\n    oauth2:\n      tokenUrl: {address}/oauth/token\n      clientId: sluice\n      clientSecret: '{{{{args.secret}}}}'\n      scopes: [read, metrics]"),
            ),
            NS,
        )
        .await;
    succeeded(&cluster, "oauth").await;
    let requests = endpoint.requests();
    let token = at(&requests, "/oauth/token");
    assert_eq!(token.len(), 1, "{requests:?}");
    let form: std::collections::BTreeMap<String, String> =
        form_urlencoded::parse(token[0].body.as_bytes()).into_owned().collect();
    assert_eq!(form.get("grant_type").map(String::as_str), Some("client_credentials"));
    assert_eq!(form.get("client_id").map(String::as_str), Some("sluice"));
    assert_eq!(
        form.get("client_secret").map(String::as_str),
        Some("client-s3cret"),
        "the Secret's value, sent to the token endpoint"
    );
    assert_eq!(form.get("scope").map(String::as_str), Some("read metrics"));
    assert_eq!(at(&requests, "/api/v1/query").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn web_sends_its_method_headers_body_and_oauth2_token() {
    let endpoint = Recorder::start(&format!("Bearer {ISSUED_TOKEN}"));
    let cluster = cluster().await;
    let address = endpoint.url();
    let oauth = format!(
        "  authentication:\n    oauth2:\n      tokenUrl: {address}/oauth/token\n      clientId: sluice\n      clientSecret: '{{{{args.secret}}}}'"
    );
    cluster
        .apply(
            &run(
                "post",
                &format!("web:\n  method: POST\n  url: {address}/web/check\n  headers:\n  - key: X-Release\n    value: api-2\n  jsonBody:\n    service: api\n    window: 5m\n  jsonPath: '{{$.ok}}'\n{oauth}"),
            ),
            NS,
        )
        .await;
    succeeded(&cluster, "post").await;
    cluster
        .apply(
            &run(
                "put",
                &format!("web:\n  method: PUT\n  url: {address}/web/text\n  body: plain words\n  jsonPath: '{{$.rate}}'\n{oauth}"),
            ),
            NS,
        )
        .await;
    succeeded(&cluster, "put").await;
    let requests = endpoint.requests();
    let post = at(&requests, "/web/check");
    assert_eq!(post.len(), 1, "{requests:?}");
    assert_eq!(post[0].method, "POST");
    assert_eq!(post[0].headers.get("x-release").map(String::as_str), Some("api-2"));
    assert_eq!(
        post[0].headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    let body: serde_json::Value = serde_json::from_str(&post[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"service": "api", "window": "5m"}));
    let put = at(&requests, "/web/text");
    assert_eq!((put[0].method.as_str(), put[0].body.as_str()), ("PUT", "plain words"));
    assert!(
        !at(&requests, "/oauth/token").is_empty(),
        "the token came from the token endpoint"
    );
}
