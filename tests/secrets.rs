//! Secrets audit: every command (`check`, `render`, `status`, `publish --dry-run`, `publish`,
//! `doctor`, `auth refresh`) runs in a git repository with a bare `origin`, with every
//! credential set to a distinctive value, against fakes whose error bodies echo the request
//! URL with the credentials in its query. No secret may appear on stdout or stderr, in any
//! file of the repository or of `origin` (`.git/` included), or in any git object.
//!
//! `crier auth threads` prints its own token by design and is not run here; `auth refresh`
//! writes the *new* token into `.env`, which is not one of the audited secrets.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_threads.rs"]
mod fake_threads;

use common::{Fixture, git};
use std::path::Path;
use std::time::Duration;

const THREADS_TOKEN: &str = "THauditToken_q7Zx3mK9vW2pL5nB8cR4";
const DEVTO_KEY: &str = "devtoAuditKey_h6Tg1yU0iO3eA7sD9fJ2";
const GITHUB_TOKEN: &str = "ghp_auditGithubToken_X4c8V2b6N1m5Q9w3";
const GIT_TOKEN: &str = "gitAuditToken_K3j7H1g5F9d2S6a0P4";
const APP_SECRET: &str = "appAuditSecret_Z2x6C0v4B8n3M7l1K5";
const SECRETS: [&str; 5] = [THREADS_TOKEN, DEVTO_KEY, GITHUB_TOKEN, GIT_TOKEN, APP_SECRET];

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 2\n  \
     processing_timeout_secs: 5\n  poll_interval_ms: 20\n  write_interval_ms: 10\n";

/// What a careless Threads server answers: the request URL, with the token crier sent in its
/// query (a server can only echo what it was sent: the other secrets never go to Threads).
fn echo(path: &str) -> String {
    format!("https://graph.threads.net{path}?fields=id,username&access_token={THREADS_TOKEN}")
}

fn graph_error(path: &str) -> String {
    format!(
        "{{\"error\":{{\"message\":\"Invalid request {}\",\"type\":\"OAuthException\",\"code\":100,\
         \"fbtrace_id\":\"Aaudit\"}}}}",
        echo(path)
    )
}

/// A careless Forem: the request URL with the `api-key` it was sent.
fn forem_error(path: &str) -> String {
    format!(
        "{{\"error\":\"bad request: https://dev.to{path}?api_key={DEVTO_KEY} (api-key: {DEVTO_KEY})\",\"status\":400}}"
    )
}

struct Audit {
    // Field order matters: the fakes (their server tasks) go before the runtime.
    threads: fake_threads::FakeThreads,
    devto: fake_devto::FakeDevto,
    _rt: tokio::runtime::Runtime,
    repo: Fixture,
    origin: tempfile::TempDir,
    /// Every output so far, for the final check (and the failure message).
    outputs: Vec<(String, i32, String, String)>,
}

impl Audit {
    fn new() -> Self {
        let rt = common::runtime(2);
        let threads = rt.block_on(fake_threads::FakeThreads::start(fake_threads::FakeConfig {
            token: THREADS_TOKEN.into(),
            app_secret: APP_SECRET.into(),
            drop_hang: Duration::from_secs(3),
            ..fake_threads::FakeConfig::default()
        }));
        let devto = rt.block_on(fake_devto::FakeDevto::start(fake_devto::FakeConfig {
            api_key: DEVTO_KEY.into(),
            drop_hang: Duration::from_secs(3),
            ..fake_devto::FakeConfig::default()
        }));
        let repo = Fixture::new("crier-secrets-");
        repo.file("crier.yaml", CONFIG);
        repo.file("content/hello.md", "---\nplatforms: [threads]\n---\n\nHello from the audit.\n");
        repo.file(
            "content/article.md",
            "---\ntitle: Audit article\nplatforms: [devto, threads]\ntags: [rust]\n---\n\nThe audited article.\n",
        );
        repo.file("notes.txt", "not a post\n");
        let origin = common::push_to_new_origin(repo.root());
        Self { threads, devto, _rt: rt, repo, origin, outputs: Vec::new() }
    }

    fn root(&self) -> &Path {
        self.repo.root()
    }

    /// Runs `crier -C <repo> --color never ARGS…` with every secret in the environment.
    fn crier(&mut self, args: &[&str]) -> i32 {
        let run = self
            .repo
            .crier()
            .env("CRIER_THREADS_API_URL", self.threads.base_url())
            .env("CRIER_DEVTO_API_URL", self.devto.base_url())
            .env("THREADS_ACCESS_TOKEN", THREADS_TOKEN)
            .env("DEVTO_API_KEY", DEVTO_KEY)
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
            .env("CRIER_GIT_TOKEN", GIT_TOKEN)
            .env("THREADS_APP_ID", self.threads.app_id())
            .env("THREADS_APP_SECRET", APP_SECRET)
            .args(args)
            .run();
        let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
        self.outputs.push((args.join(" "), code, stdout, stderr));
        code
    }

    fn last(&self) -> String {
        let (args, code, stdout, stderr) = self.outputs.last().expect("a run");
        format!("--- crier {args}: exit {code}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}")
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Secrets found in the files and git objects of the repository at `dir`.
fn leaks_in(dir: &Path) -> (Vec<String>, usize, usize) {
    let mut leaks = Vec::new();
    let files = common::walk(dir);
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_default();
        for s in SECRETS {
            if contains(&bytes, s) {
                leaks.push(format!("{s} in file {}", path.display()));
            }
        }
    }
    let repo = git2::Repository::open(dir).expect("open the repository");
    let odb = repo.odb().expect("object database");
    let mut ids = Vec::new();
    odb.foreach(|id| {
        ids.push(*id);
        true
    })
    .expect("list objects");
    for id in &ids {
        let obj = odb.read(*id).expect("read object");
        for s in SECRETS {
            if contains(obj.data(), s) {
                leaks.push(format!("{s} in git object {id} ({:?})", obj.kind()));
            }
        }
    }
    (leaks, files.len(), ids.len())
}

#[test]
fn no_command_leaks_a_secret_anywhere() {
    use fake_devto::{Fault as DFault, Route as DRoute};
    use fake_threads::{Fault, Route};

    let mut a = Audit::new();

    // Offline commands.
    a.crier(&["check"]);
    assert_eq!(a.outputs.last().map(|o| o.1), Some(0), "{}", a.last());
    a.crier(&["render", "content/article.md"]);
    a.crier(&["render", "content/article.md", "--format", "json"]);
    a.crier(&["status"]);
    a.crier(&["status", "--format", "json"]);
    a.crier(&["publish", "--dry-run"]);
    assert_eq!(a.threads.calls() + a.devto.calls(), 0, "offline commands talk to nobody");

    // doctor, with servers that echo the credentials in their errors.
    a.threads.fail_next(Route::Any, Fault::Status(400, graph_error("/v1.0/me")));
    a.crier(&["doctor"]);
    a.threads.fail_next(Route::Any, Fault::Status(500, format!("<html><body>500 for {}</body></html>", echo("/me"))));
    a.threads.fail_next(Route::Any, Fault::Status(500, format!("<html><body>500 for {}</body></html>", echo("/me"))));
    a.threads.fail_next(Route::Any, Fault::Status(500, format!("<html><body>500 for {}</body></html>", echo("/me"))));
    a.threads.fail_next(Route::Any, Fault::Status(500, format!("<html><body>500 for {}</body></html>", echo("/me"))));
    a.crier(&["doctor"]);
    a.crier(&["doctor"]);

    // publish: every call fails with an echoing 400 (nothing published), then 500s that are retried.
    a.devto.fail_next(DRoute::Any, DFault::Status(400, forem_error("/api/articles/me/all")));
    a.threads.fail_next(Route::Any, Fault::Status(400, graph_error("/v1.0/me")));
    let code = a.crier(&["publish"]);
    assert_eq!(code, 1, "{}", a.last());
    a.devto.fail_next(DRoute::Create, DFault::Status(400, forem_error("/api/articles")));
    a.threads.fail_next(Route::CreateContainer, Fault::Status(400, graph_error("/v1.0/1/threads")));
    let code = a.crier(&["publish"]);
    assert_eq!(code, 1, "{}", a.last());
    a.devto.fail_next(DRoute::ListMine, DFault::Status(500, forem_error("/api/articles/me/all")));
    a.threads.fail_next(Route::Publish, Fault::Status(500, graph_error("/v1.0/1/threads_publish")));
    a.threads.fail_next(Route::Media, Fault::Status(500, format!("<pre>{}</pre>", echo("/v1.0/2"))));
    let code = a.crier(&["publish"]);
    assert_eq!(code, 0, "{}", a.last());
    assert_eq!((a.threads.published_posts().len(), a.devto.articles().len()), (2, 1), "{}", a.last());
    assert!(git(a.origin.path(), &["log", "--format=%s", "main"]).contains("crier"), "records were pushed");
    a.crier(&["status"]);
    a.crier(&["publish"]);

    // auth refresh: an echoing error, too early, then a real refresh (writes the *new* token to .env).
    a.threads.fail_next(Route::RefreshToken, Fault::Status(400, graph_error("/refresh_access_token")));
    a.crier(&["auth", "refresh"]);
    a.crier(&["auth", "refresh"]);
    a.threads.advance_clock(Duration::from_secs(25 * 3600));
    let code = a.crier(&["auth", "refresh"]);
    assert_eq!(code, 0, "{}", a.last());
    let code = a.crier(&["auth", "refresh", "--print-token"]);
    assert_eq!(code, 0, "{}", a.last());

    let mut leaks = Vec::new();
    for (args, code, stdout, stderr) in &a.outputs {
        for s in SECRETS {
            if stdout.contains(s) || stderr.contains(s) {
                leaks.push(format!(
                    "{s} in the output of `crier {args}` (exit {code})\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
                ));
            }
        }
    }
    // The echoes did reach the output, redacted: the audit tested something.
    for cmd in ["doctor", "publish", "auth refresh"] {
        assert!(
            a.outputs.iter().any(|(args, _, out, err)| args.starts_with(cmd)
                && (out.contains("[REDACTED]") || err.contains("[REDACTED]"))),
            "no output of `crier {cmd}` showed a (redacted) echoed error"
        );
    }
    let (in_repo, files, objects) = leaks_in(a.root());
    let (in_origin, origin_files, origin_objects) = leaks_in(a.origin.path());
    leaks.extend(in_repo);
    leaks.extend(in_origin);
    assert!(files > 10 && objects > 5 && origin_files > 5 && origin_objects > 5, "the audit saw the repositories");
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
