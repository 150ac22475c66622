//! Smart HTTP: `git http-backend` run as a CGI program behind a small axum server that demands
//! basic auth (or a bearer token), as a Git host does. Plain HTTP on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use tokio::io::AsyncWriteExt;

/// What a request must carry.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Basic` with this user and password.
    Basic(String, String),
    /// `Authorization: Bearer` with this token.
    Bearer(String),
}

struct Shared {
    root: PathBuf,
    auth: Auth,
    writer: Option<Auth>,
    refused: AtomicUsize,
    served: AtomicUsize,
}

/// A running smart-HTTP Git server; stopped on drop.
pub struct GitHttp {
    shared: Arc<Shared>,
    served: crate::serve::Served,
}

impl GitHttp {
    /// Serves the repositories under `root` to clients that authenticate with `auth`.
    pub fn start(root: &Path, auth: Auth) -> Self {
        Self::serve(root, auth, None)
    }

    /// Serves reads to `reader` (or `writer`) and pushes only to `writer`, as a host with
    /// read-only deploy keys does.
    pub fn start_with_writer(root: &Path, reader: Auth, writer: Auth) -> Self {
        Self::serve(root, reader, Some(writer))
    }

    fn serve(root: &Path, auth: Auth, writer: Option<Auth>) -> Self {
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            auth,
            writer,
            refused: AtomicUsize::new(0),
            served: AtomicUsize::new(0),
        });
        let app = axum::Router::new().fallback(serve).with_state(shared.clone());
        Self {
            served: crate::serve::Served::start(app),
            shared,
        }
    }

    /// The URL of repository `name.git`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}.git", self.served.port)
    }

    /// Requests refused for missing or wrong credentials.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Requests served.
    pub fn served(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }
}

fn authorised(auth: &Auth, headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let given = headers.get("authorization")?.to_str().ok()?;
    match auth {
        Auth::Basic(user, password) => {
            let encoded = given.strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
            (decoded == format!("{user}:{password}").as_bytes()).then(|| user.clone())
        }
        Auth::Bearer(token) => (given.strip_prefix("Bearer ") == Some(token.as_str())).then(|| "bearer".to_owned()),
    }
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let push = parts.uri.path().ends_with("/git-receive-pack")
        || parts
            .uri
            .query()
            .is_some_and(|q| q.contains("service=git-receive-pack"));
    let user = match &shared.writer {
        Some(writer) if push => authorised(writer, &parts.headers),
        Some(writer) => authorised(&shared.auth, &parts.headers).or_else(|| authorised(writer, &parts.headers)),
        None => authorised(&shared.auth, &parts.headers),
    };
    let Some(user) = user else {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("WWW-Authenticate", "Basic realm=\"git\"")
            .body(Body::from("authentication required"))
            .unwrap();
    };
    shared.served.fetch_add(1, Ordering::SeqCst);
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    cgi(&shared.root, &parts.method, &parts.uri, &parts.headers, &user, body).await
}

async fn cgi(root: &Path, method: &Method, uri: &Uri, headers: &HeaderMap, user: &str, body: Bytes) -> Response<Body> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or_default())
        .env("REQUEST_METHOD", method.as_str())
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await.unwrap();
    let _ = writer.await;
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, gap)) = split else {
        return Response::builder()
            .status(500)
            .body(Body::from("bad CGI output"))
            .unwrap();
    };
    let mut response = Response::builder().status(200);
    for line in String::from_utf8_lossy(&out[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
            response = response.status(code);
        } else {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(out[end + gap..].to_vec())).unwrap()
}
