//! The fault matrix: every platform call `crier publish` makes × every fault the fakes can
//! inject. Each cell runs `crier publish` with the fault queued, then a clean rerun, and
//! asserts: no duplicate (each post exists exactly once on the fake), no loss (after the rerun
//! every due post is published and recorded) and a clear error (exit 0 or 1, never a panic,
//! a failure names the platform, no secret in the output).
//!
//! Threads and dev.to share one matrix (below); Bluesky and Mastodon each have their own
//! calls and the faults their fakes inject (at the end), run and reported the same way.
//!
//! The results are written as tables to `docs/reliability.md`, one section per matrix; the
//! test fails when the committed section differs (`CRIER_UPDATE_RELIABILITY=1 cargo test
//! --test faults` rewrites it).

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_bluesky.rs"]
mod fake_bluesky;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_discord.rs"]
mod fake_discord;
#[path = "support/fake_linkedin.rs"]
mod fake_linkedin;
#[path = "support/fake_mastodon.rs"]
mod fake_mastodon;
#[path = "support/fake_nostr.rs"]
mod fake_nostr;
#[path = "support/fake_telegram.rs"]
mod fake_telegram;
#[path = "support/fake_threads.rs"]
mod fake_threads;
#[path = "support/fake_x.rs"]
mod fake_x;

use common::{Fixture, NOW, Run, png};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A single `crier publish` never takes longer than this.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Longer than crier's request timeout here (`publish.request_timeout_secs: 2`): delayed and
/// dropped replies arrive too late.
const TOO_LATE: Duration = Duration::from_secs(3);
const REFRESHED_TOKEN: &str = "THrefreshedToken9876543210zyxwSECRET";
const DOC: &str = "docs/reliability.md";

/// Fast tunables (as tests/publish.rs uses).
const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 2\n  \
     processing_timeout_secs: 5\n  poll_interval_ms: 20\n  write_interval_ms: 10\n\
     media:\n  base_url: \"https://cdn.example/\"\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Threads,
    Devto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Me,
    PublishingLimit,
    ListThreads,
    CreateContainer,
    ContainerStatus,
    Publish,
    Permalink,
    ListMine,
    Create,
    Update,
}

const CALLS: [Call; 10] = [
    Call::Me,
    Call::PublishingLimit,
    Call::ListThreads,
    Call::CreateContainer,
    Call::ContainerStatus,
    Call::Publish,
    Call::Permalink,
    Call::ListMine,
    Call::Create,
    Call::Update,
];

impl Call {
    fn platform(self) -> Platform {
        match self {
            Call::ListMine | Call::Create | Call::Update => Platform::Devto,
            _ => Platform::Threads,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Call::Me => "Threads `GET /me`",
            Call::PublishingLimit => "Threads `GET /{user}/threads_publishing_limit`",
            Call::ListThreads => "Threads `GET /{user}/threads` (list)",
            Call::CreateContainer => "Threads `POST /{user}/threads` (create container)",
            Call::ContainerStatus => "Threads `GET /{container}` (status)",
            Call::Publish => "Threads `POST /{user}/threads_publish`",
            Call::Permalink => "Threads `GET /{media}` (permalink)",
            Call::ListMine => "dev.to `GET /articles/me/all`",
            Call::Create => "dev.to `POST /articles`",
            Call::Update => "dev.to `PUT /articles/{id}`",
        }
    }

    fn threads_route(self) -> fake_threads::Route {
        use fake_threads::Route;
        match self {
            Call::Me => Route::Me,
            Call::PublishingLimit => Route::PublishingLimit,
            Call::ListThreads => Route::ListThreads,
            Call::CreateContainer => Route::CreateContainer,
            Call::ContainerStatus => Route::ContainerStatus,
            Call::Publish => Route::Publish,
            Call::Permalink => Route::Media,
            _ => unreachable!("not a Threads call"),
        }
    }

    fn devto_route(self) -> fake_devto::Route {
        match self {
            Call::ListMine => fake_devto::Route::ListMine,
            Call::Create => fake_devto::Route::Create,
            Call::Update => fake_devto::Route::Update,
            _ => unreachable!("not a dev.to call"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    Timeout,
    Dropped,
    ServerError,
    RateLimited,
    Html,
    Truncated,
    Malformed,
    TokenExpired,
}

const FAULTS: [FaultKind; 8] = [
    FaultKind::Timeout,
    FaultKind::Dropped,
    FaultKind::ServerError,
    FaultKind::RateLimited,
    FaultKind::Html,
    FaultKind::Truncated,
    FaultKind::Malformed,
    FaultKind::TokenExpired,
];

impl FaultKind {
    fn label(self) -> &'static str {
        match self {
            FaultKind::Timeout => "timeout",
            FaultKind::Dropped => "reply lost after acting",
            FaultKind::ServerError => "HTTP 503",
            FaultKind::RateLimited => "429 + Retry-After",
            FaultKind::Html => "HTML error page",
            FaultKind::Truncated => "truncated JSON",
            FaultKind::Malformed => "malformed JSON (200)",
            FaultKind::TokenExpired => "token expires",
        }
    }

    fn threads(self) -> fake_threads::Fault {
        use fake_threads::Fault;
        match self {
            FaultKind::Timeout => Fault::Delay(TOO_LATE),
            FaultKind::Dropped => Fault::DropAfterAction,
            FaultKind::ServerError => Fault::Status(503, "Service Unavailable".into()),
            FaultKind::RateLimited => Fault::RateLimited { retry_after_secs: Some(1) },
            FaultKind::Html => Fault::HtmlPage,
            FaultKind::Truncated => Fault::TruncatedJson,
            FaultKind::Malformed => Fault::Status(200, "{not json".into()),
            // The token expires exactly at this call (Graph code 190, subcode 463).
            FaultKind::TokenExpired => Fault::GraphError { code: 190, subcode: Some(463), transient: false },
        }
    }

    /// `None`: the dev.to fake cannot inject it.
    fn devto(self) -> Option<fake_devto::Fault> {
        use fake_devto::Fault;
        Some(match self {
            FaultKind::Timeout => Fault::Delay(TOO_LATE),
            FaultKind::Dropped => Fault::DropAfterAction,
            FaultKind::ServerError => Fault::Status(503, "Service Unavailable".into()),
            FaultKind::RateLimited => Fault::RateLimited { retry_after_secs: Some(1) },
            FaultKind::Html => Fault::HtmlPage,
            FaultKind::Truncated => return None,
            FaultKind::Malformed => Fault::Status(200, "{not json".into()),
            // dev.to keys do not expire on their own: a revoked key is Forem's 401.
            FaultKind::TokenExpired => Fault::Status(401, "{\"error\":\"unauthorized\",\"status\":401}".into()),
        })
    }
}

// ---------------------------------------------------------------- the world

struct World {
    // Field order matters: the fakes (their server tasks) go before the runtime.
    threads: fake_threads::FakeThreads,
    devto: fake_devto::FakeDevto,
    _rt: tokio::runtime::Runtime,
    repo: Fixture,
    threads_token: String,
}

common::fixture_world!(World, repo);

impl World {
    fn new() -> Self {
        let rt = common::runtime(1);
        let threads_cfg = fake_threads::FakeConfig {
            drop_hang: TOO_LATE,
            // Containers finish at once: a fault-free run reads each status exactly once.
            media_delay: Duration::ZERO,
            ..fake_threads::FakeConfig::default()
        };
        let threads = rt.block_on(fake_threads::FakeThreads::start(threads_cfg));
        let devto_cfg = fake_devto::FakeConfig { drop_hang: TOO_LATE, ..fake_devto::FakeConfig::default() };
        let devto = rt.block_on(fake_devto::FakeDevto::start(devto_cfg));
        let repo = Fixture::new("crier-faults-");
        let threads_token = threads.token();
        let w = Self { threads, devto, _rt: rt, repo, threads_token };
        w.file("crier.yaml", CONFIG);
        w
    }

    /// The text of `rel`, or "" when it is not there.
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_default()
    }

    fn secrets(&self) -> [String; 3] {
        [self.threads_token.clone(), self.threads.token(), self.devto.api_key()]
    }

    /// `crier -C <repo> --color never publish` in a scrubbed environment.
    fn publish(&self) -> Result<Run, String> {
        self.crier(&["publish"])
    }

    /// `crier -C <repo> --color never ARGS…` in a scrubbed environment.
    fn crier(&self, args: &[&str]) -> Result<Run, String> {
        let run = self
            .repo
            .crier()
            .env("CRIER_THREADS_API_URL", self.threads.base_url())
            .env("CRIER_DEVTO_API_URL", self.devto.base_url())
            .env("THREADS_ACCESS_TOKEN", &self.threads_token)
            .env("DEVTO_API_KEY", self.devto.api_key())
            .args(args)
            .timeout(TIMEOUT)
            .try_run()?;
        for secret in self.secrets() {
            if run.all().contains(&secret) {
                return Err(format!("a secret leaked into the output\n{run}"));
            }
        }
        Ok(run)
    }

    /// How many requests `call` received so far.
    fn hits(&self, call: Call) -> usize {
        match call.platform() {
            Platform::Threads => {
                let user = self.threads.user_id();
                self.threads.requests().iter().filter(|(m, p)| threads_call(&user, m, p) == Some(call)).count()
            }
            Platform::Devto => self
                .devto
                .requests()
                .iter()
                .filter(|r| {
                    let segs: Vec<&str> = r.path.trim_matches('/').split('/').collect();
                    let c = match (r.method.as_str(), segs.as_slice()) {
                        ("POST", ["api", "articles"]) => Some(Call::Create),
                        ("PUT", ["api", "articles", _]) => Some(Call::Update),
                        ("GET", ["api", "articles", "me", ..]) => Some(Call::ListMine),
                        _ => None,
                    };
                    c == Some(call)
                })
                .count(),
        }
    }
}

/// The call a Threads request was (the fake's routing, from the path alone).
fn threads_call(user: &str, method: &str, path: &str) -> Option<Call> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        ("GET", ["v1.0", id]) if *id == user || *id == "me" => Some(Call::Me),
        // Container ids come from their own range (see fake_threads.rs).
        ("GET", ["v1.0", id]) if id.starts_with("1792") => Some(Call::ContainerStatus),
        ("GET", ["v1.0", _]) => Some(Call::Permalink),
        ("POST", ["v1.0", _, "threads"]) => Some(Call::CreateContainer),
        ("GET", ["v1.0", _, "threads"]) => Some(Call::ListThreads),
        ("POST", ["v1.0", _, "threads_publish"]) => Some(Call::Publish),
        ("GET", ["v1.0", _, "threads_publishing_limit"]) => Some(Call::PublishingLimit),
        _ => None,
    }
}

/// The front matter of a Markdown post, parsed.
fn front_matter(text: &str) -> Value {
    let Some(rest) = text.strip_prefix("---\n") else { return Value::Null };
    let Some(end) = rest.find("\n---\n") else { return Value::Null };
    serde_saphyr::from_str::<Value>(&rest[..=end]).unwrap_or(Value::Null)
}

fn record(text: &str, platform: &str) -> Option<Value> {
    front_matter(text).get("published").and_then(|p| p.get(platform)).cloned()
}

// ---------------------------------------------------------------- one cell

const POSTS: [&str; 2] = ["content/a.md", "content/b.md"];

fn threads_post(name: &str) -> String {
    format!("---\nplatforms: [threads]\n---\n\nFault matrix post {name}.\n")
}

/// An image post: its container's status is polled (text containers are published at once).
fn image_post(name: &str) -> String {
    format!(
        "---\nplatforms: [threads]\nmedia:\n  - path: media/{name}.png\n    alt: Picture {name}\n---\n\n\
         Fault matrix post {name}.\n"
    )
}

fn article(name: &str) -> String {
    format!("---\ntitle: Fault matrix article {name}\nplatforms: [devto]\n---\n\nBody of article {name}.\n")
}

/// A world with the two due posts a cell of `call`'s row needs (for dev.to updates: both
/// published, then article A edited); `Some(hash)` of article A's record before the edit.
fn setup(call: Call) -> Result<(World, Option<Value>), String> {
    let w = World::new();
    let platform = call.platform();
    let mut old_hash = None;
    match platform {
        Platform::Threads if call == Call::ContainerStatus => {
            w.file("media/A.png", png(640, 480));
            w.file("media/B.png", png(640, 480));
            w.file(POSTS[0], image_post("A"));
            w.file(POSTS[1], image_post("B"));
        }
        Platform::Threads => {
            w.file(POSTS[0], threads_post("A"));
            w.file(POSTS[1], threads_post("B"));
        }
        Platform::Devto => {
            w.file(POSTS[0], article("A"));
            w.file(POSTS[1], article("B"));
            if call == Call::Update {
                // Published cleanly first, then article A is edited: the run updates it.
                let run = w.publish()?;
                if run.code != 0 {
                    return Err(format!("the setup run failed\n{run}"));
                }
                old_hash = record(&w.read(POSTS[0]), "devto").map(|r| r["hash"].clone());
                let edited = w.read(POSTS[0]).replace("Body of article A.", "Body of article A, edited.");
                w.file(POSTS[0], edited);
            }
        }
    }

    Ok((w, old_hash))
}

/// How many times a fault-free run makes `call`.
fn clean_hits(call: Call) -> Result<usize, String> {
    let (w, _) = setup(call)?;
    let before = w.hits(call);
    let run = w.publish()?;
    if run.code != 0 {
        return Err(format!("a fault-free run failed\n{run}"));
    }
    Ok(w.hits(call) - before)
}

/// Runs one cell; `Ok(outcome)` when every assertion held. `clean` is [`clean_hits`].
fn run_cell(call: Call, fault: FaultKind, clean: usize) -> Result<String, String> {
    let (mut w, old_hash) = setup(call)?;
    let platform = call.platform();
    let before = w.hits(call);
    match platform {
        Platform::Threads => w.threads.fail_next(call.threads_route(), fault.threads()),
        Platform::Devto => w.devto.fail_next(call.devto_route(), fault.devto().expect("supported fault")),
    }
    let first = w.publish()?;
    let hits = w.hits(call) - before;
    if hits == 0 {
        return Err(format!("the faulty call was never made\n{first}"));
    }
    let platform_name = match platform {
        Platform::Threads => "threads",
        Platform::Devto => "dev.to",
    };
    match first.code {
        0 => {}
        1 => {
            let all = first.all().to_lowercase();
            if all.trim().is_empty() || !all.contains(platform_name) {
                return Err(format!("the failure does not name {platform_name}\n{first}"));
            }
        }
        _ => return Err(format!("unexpected exit code\n{first}")),
    }

    let mut outcome = match first.code {
        0 if hits > clean => "retried".to_owned(),
        0 => "reconciled".to_owned(),
        _ => "failed cleanly, rerun publishes".to_owned(),
    };

    if fault == FaultKind::TokenExpired {
        if first.code != 1 {
            return Err(format!("a rejected token must fail the run\n{first}"));
        }
        if platform == Platform::Threads {
            if !first.all().contains("crier auth refresh") {
                return Err(format!("the failure does not point at `crier auth refresh`\n{first}"));
            }
            // The token stays expired: the next run fails the same way, without publishing.
            w.threads.expire_token();
            let posts = w.threads.published_posts().len();
            let again = w.publish()?;
            if again.code != 1 || !again.all().contains("crier auth refresh") {
                return Err(format!("a run with the expired token must fail and point at auth refresh\n{again}"));
            }
            if w.threads.published_posts().len() != posts {
                return Err(format!("a run with the expired token published\n{again}"));
            }
            // `crier auth refresh` (played here by the fake) gives a new token.
            w.threads.set_token(REFRESHED_TOKEN);
            w.threads_token = REFRESHED_TOKEN.to_owned();
        }
        outcome = "stops the run, rerun publishes".to_owned();
    }

    let rerun = w.publish()?;
    if rerun.code != 0 {
        return Err(format!("the clean rerun failed\nfirst run:\n{first}\nrerun:\n{rerun}"));
    }

    // No duplicate, no loss.
    match platform {
        Platform::Threads => {
            let posts = w.threads.published_posts();
            for name in ["A", "B"] {
                let text = format!("Fault matrix post {name}.");
                let n = posts.iter().filter(|p| !p.deleted && p.text.as_deref().map(str::trim) == Some(&text)).count();
                if n != 1 {
                    return Err(format!("post {name} exists {n} times on Threads\n{first}\n{rerun}"));
                }
            }
            if posts.len() != 2 {
                return Err(format!("{} posts on Threads, expected 2\n{first}\n{rerun}", posts.len()));
            }
        }
        Platform::Devto => {
            let articles = w.devto.articles();
            for name in ["A", "B"] {
                let title = format!("Fault matrix article {name}");
                let n = articles.iter().filter(|a| a.title == title).count();
                if n != 1 {
                    return Err(format!("article {name} exists {n} times on dev.to\n{first}\n{rerun}"));
                }
            }
            if articles.len() != 2 {
                return Err(format!("{} articles on dev.to, expected 2\n{first}\n{rerun}", articles.len()));
            }
            if call == Call::Update {
                let a = articles.iter().find(|a| a.title.ends_with(" A")).expect("article A");
                if !a.body_markdown.contains("edited") {
                    return Err(format!("the edit never reached dev.to\n{first}\n{rerun}"));
                }
                let new_hash = record(&w.read(POSTS[0]), "devto").map(|r| r["hash"].clone());
                if new_hash == old_hash {
                    return Err(format!("the update's new hash is not recorded\n{first}\n{rerun}"));
                }
            }
        }
    }
    let key = match platform {
        Platform::Threads => "threads",
        Platform::Devto => "devto",
    };
    for post in POSTS {
        if record(&w.read(post), key).is_none() {
            return Err(format!("{post} has no {key} record after the rerun\n{first}\n{rerun}"));
        }
    }
    Ok(outcome)
}

// ---------------------------------------------------------------- the matrix

fn cells() -> Vec<(Call, FaultKind)> {
    let mut out = Vec::new();
    for call in CALLS {
        for fault in FAULTS {
            if call.platform() == Platform::Devto && fault.devto().is_none() {
                continue;
            }
            out.push((call, fault));
        }
    }
    out
}

/// One cell's result: its outcome, or why it failed.
type CellResult = ((Call, FaultKind), Result<String, String>);

fn table(results: &[CellResult]) -> String {
    let mut s = String::from(
        "# Reliability of `crier publish`\n\n\
         <!-- Generated by tests/faults.rs: run `CRIER_UPDATE_RELIABILITY=1 cargo test --test faults`. -->\n\n\
         Each cell injects one fault into one platform call of a `crier publish` run over two due\n\
         posts, then runs `crier publish` again without faults. ✅ means every check held: no\n\
         duplicate (each post exists exactly once on the platform), no loss (after the rerun every\n\
         post is published and recorded), and a clear error (exit code 0 or 1, no panic, a failure\n\
         names the platform, no secret in the output).\n\n\
         - **retried**: the first run made the call again and published everything;\n\
         - **reconciled**: the first run did not repeat the call, yet published everything (it\n  \
           asked the platform what had happened, or did without the lost answer);\n\
         - **failed cleanly, rerun publishes**: the first run stopped the post with exit code 1;\n  \
           the rerun published it, once;\n\
         - **stops the run, rerun publishes**: a rejected token ends the run (Threads: pointing at\n  \
           `crier auth refresh`, and runs keep failing until the token is refreshed); the rerun\n  \
           with a valid token publishes everything, once.\n\n\
         Faults: *timeout* answers after crier's request timeout; *reply lost after acting*\n\
         performs the call, then never answers; *HTTP 503* a plain-text 503; *429 + Retry-After*\n\
         `Retry-After: 1`; *HTML error page* a 502 HTML page; *truncated JSON* performs the call,\n\
         then sends half the JSON reply (the dev.to fake cannot); *malformed JSON* `200 {not json`;\n\
         *token expires* Threads answers code 190/463 from that call on, dev.to answers 401.\n\n",
    );
    let rows: Vec<&str> = CALLS.iter().map(|c| c.label()).collect();
    let columns: Vec<&str> = FAULTS.iter().map(|f| f.label()).collect();
    s.push_str(&fault_table(&rows, &columns, |r, c| {
        cell_text(results.iter().find(|(k, _)| *k == (CALLS[r], FAULTS[c])).map(|(_, r)| r))
    }));
    s
}

/// A `| call | fault… |` table: one row per call, `cell(row, column)` in each.
fn fault_table(rows: &[&str], columns: &[&str], cell: impl Fn(usize, usize) -> String) -> String {
    let mut s = String::from("| call |");
    for c in columns {
        let _ = write!(s, " {c} |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(columns.len()));
    s.push('\n');
    for (r, row) in rows.iter().enumerate() {
        let _ = write!(s, "| {row} |");
        for c in 0..columns.len() {
            let _ = write!(s, " {} |", cell(r, c));
        }
        s.push('\n');
    }
    s
}

/// A cell as the tables show it: its outcome, a failure, or not applicable.
fn cell_text(result: Option<&Result<String, String>>) -> String {
    match result {
        Some(Ok(outcome)) => format!("✅ {outcome}"),
        Some(Err(_)) => "❌ failed".to_owned(),
        None => "n/a".to_owned(),
    }
}

/// Runs `cell` on every key, twelve at a time; a cell whose code panics has failed.
fn run_cells<K: Copy + Send + Sync>(
    keys: &[K],
    cell: impl Fn(K) -> Result<String, String> + Sync,
) -> Vec<(K, Result<String, String>)> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..12 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&key) = keys.get(i) else { break };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cell(key)))
                        .unwrap_or_else(|_| Err("the test itself panicked".to_owned()));
                    results.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((key, result));
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Only one test at a time reads or rewrites the document.
static DOC_LOCK: Mutex<()> = Mutex::new(());

/// Fails unless `section` (a `# …` heading line and what follows, up to the next heading)
/// stands in docs/reliability.md as generated; `CRIER_UPDATE_RELIABILITY=1` writes it there
/// first (in place, or at the end).
#[track_caller]
fn check_doc_section(section: &str) {
    let _lock = DOC_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let heading = section.lines().next().unwrap_or_default();
    let start =
        doc.match_indices(&format!("{heading}\n")).map(|(i, _)| i).find(|&i| i == 0 || doc[..i].ends_with('\n'));
    let end = |start: usize| doc[start..].find("\n\n# ").map_or(doc.len(), |i| start + i + 1);
    let committed = start.map(|i| &doc[i..end(i)]);
    if committed != Some(section) && std::env::var_os("CRIER_UPDATE_RELIABILITY").is_some_and(|v| v == "1") {
        let updated = match start {
            Some(i) => format!("{}{section}{}", &doc[..i], &doc[end(i)..]),
            None if doc.is_empty() => section.to_owned(),
            None => format!("{doc}\n{section}"),
        };
        std::fs::create_dir_all(path.parent().expect("docs/")).expect("mkdir docs");
        std::fs::write(&path, updated).expect("write docs/reliability.md");
        return;
    }
    assert!(
        committed == Some(section),
        "{DOC} is out of date: run `CRIER_UPDATE_RELIABILITY=1 cargo test --test faults` to regenerate it\n\
         --- generated:\n{section}"
    );
}

#[test]
fn fault_matrix() {
    let cells = cells();
    let started = Instant::now();
    let clean: Vec<(Call, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = CALLS.iter().map(|&call| scope.spawn(move || (call, clean_hits(call)))).collect();
        handles
            .into_iter()
            .map(|h| {
                let (call, hits) = h.join().expect("baseline thread");
                (call, hits.unwrap_or_else(|e| panic!("{}: {e}", call.label())))
            })
            .collect()
    });
    let results: Vec<CellResult> = run_cells(&cells, |(call, fault)| {
        let baseline = clean.iter().find(|(c, _)| *c == call).map_or(0, |(_, n)| *n);
        run_cell(call, fault, baseline)
    });
    eprintln!("{} cells in {:.1?}", results.len(), started.elapsed());

    let failures: Vec<String> = results
        .iter()
        .filter_map(|((call, fault), r)| {
            r.as_ref().err().map(|e| format!("=== {} × {}: {e}", call.label(), fault.label()))
        })
        .collect();

    let deletes = delete_results();
    let delete_failures: Vec<String> =
        deletes.iter().filter_map(|(key, r)| r.as_ref().err().map(|e| format!("=== delete {key:?}: {e}"))).collect();
    let failures: Vec<String> = failures.into_iter().chain(delete_failures).collect();

    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n{}",
        failures.len(),
        results.len() + deletes.len(),
        failures.join("\n")
    );
    check_doc_section(&(table(&results) + &hazard_table()));
    check_doc_section(&delete_table(&deletes));
}

// ---------------------------------------------------------------- hazards of a run

/// Situations of a whole run rather than of one call: (situation, what crier does, the test
/// in tests/publish.rs that asserts it).
const HAZARDS: [(&str, &str, &str); 11] = [
    (
        "SIGTERM (or SIGINT) while posts are going out",
        "no new post starts; the calls in flight finish (5 s at most); their records are written, committed and pushed; exit 143 (130); the rerun publishes the rest once",
        "sigterm_mid_run_finishes_the_post_in_flight_records_commits_pushes_and_exits_143",
    ),
    (
        "a second signal",
        "exits at once (130/143); the next run reconciles the post in flight",
        "a_second_signal_exits_at_once",
    ),
    (
        "a run killed outright (its lock file left behind)",
        "the lock was the process's own OS lock: the next run is not blocked (Linux, macOS, Windows)",
        "a_second_publish_in_the_same_checkout_is_refused",
    ),
    ("one file named twice (`--only a.md sub/../a.md`)", "published once", "one_file_named_twice_is_published_once"),
    (
        "a template links the URL of the platform it renders for",
        "`check` and `publish` refuse it (`self-link`, naming the template and the platform); nothing is sent with a placeholder",
        "a_template_linking_its_own_platform_is_refused_naming_it",
    ),
    (
        "a post whose only platform is misspelt",
        "`publish` (and `--dry-run`) refuse it like `check`: exit 1, nothing published",
        "a_post_whose_only_platform_is_misspelt_is_refused_not_skipped",
    ),
    (
        "a post edited during the run (into a draft, an over-long text, another platform list)",
        "read again and checked again before it goes out: not published in this run",
        "edits_made_while_the_run_is_going_are_checked_again",
    ),
    (
        "an option changed after its container was prepared (alt text, topic tag, …)",
        "the prepared container is not used; a new one carries the post as it is",
        "a_prepared_container_is_not_reused_when_an_option_changed",
    ),
    (
        "a post fails after it went out (the permalink read)",
        "its quota stays spent: the posts over the quota wait, none is refused by Threads",
        "a_post_that_went_out_keeps_its_quota_even_if_it_then_fails",
    ),
    (
        "a chain longer than the Threads reply quota left",
        "waits whole for the next run (never stops part-way)",
        "a_chain_that_does_not_fit_the_reply_quota_waits_whole",
    ),
    (
        "more changed posts than `publish.max_edits_per_run`",
        "the first ones are updated; the plan and the summary say which wait for the next run",
        "edits_in_place_are_capped_per_run_and_the_plan_says_what_waits",
    ),
];

/// The hazards, each with the test that holds it (which must exist).
fn hazard_table() -> String {
    let tests = include_str!("publish.rs");
    let mut s = String::from(
        "\n## Hazards of a whole run\n\n\
         Each row is asserted by the named test in `tests/publish.rs` (the real binary against the\n\
         fakes). A record is never written over one that names another id: in the file\n\
         (`publish::run::tests::a_record_naming_another_id_is_never_replaced`), and when a rejected\n\
         push is redone on the remote's version (the remote's record is kept and both ids are\n\
         reported: `git::tests::a_record_another_run_pushed_meanwhile_is_kept_and_both_ids_are_reported`).\n\n\
         | situation | what crier does | test |\n|---|---|---|\n",
    );
    for (situation, result, test) in HAZARDS {
        assert!(tests.contains(&format!("fn {test}(")), "tests/publish.rs has no test `{test}`");
        let _ = writeln!(s, "| {situation} | {result} | `{test}` |");
    }
    s
}

// ---------------------------------------------------------------- crier delete

/// The calls of a Threads `crier delete` run a fault is put into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteCall {
    /// `GET /{user}/threads_publishing_limit` (the delete quota).
    Quota,
    /// The run's first `DELETE /{media}`: the chain's last part.
    First,
    /// The run's second `DELETE /{media}`: the middle of the chain.
    Middle,
}

const DELETE_CALLS: [DeleteCall; 3] = [DeleteCall::Quota, DeleteCall::First, DeleteCall::Middle];

impl DeleteCall {
    fn label(self) -> &'static str {
        match self {
            DeleteCall::Quota => "Threads `GET /{user}/threads_publishing_limit` (delete quota)",
            DeleteCall::First => "Threads `DELETE /{media}` (a chain's last part, deleted first)",
            DeleteCall::Middle => "Threads `DELETE /{media}` (the middle of the chain)",
        }
    }
}

/// Situations of a delete run that are not a fault in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteCase {
    QuotaUsedUp,
    AlreadyGone,
    /// Threads answers "Media Not Found" (code 24 subcode 4279009) for gone posts.
    AlreadyGoneMediaNotFound,
    /// A hard refusal (Graph code 100, no subcode) after the first part went.
    RefusedMidChain,
}

const DELETE_CASES: [DeleteCase; 4] = [
    DeleteCase::QuotaUsedUp,
    DeleteCase::AlreadyGone,
    DeleteCase::AlreadyGoneMediaNotFound,
    DeleteCase::RefusedMidChain,
];

impl DeleteCase {
    fn label(self) -> &'static str {
        match self {
            DeleteCase::QuotaUsedUp => "the delete quota (100 per 24 hours) is used up",
            DeleteCase::AlreadyGone => "parts already deleted in the app (code 100, subcode 33)",
            DeleteCase::AlreadyGoneMediaNotFound => {
                "parts already deleted in the app (code 24, subcode 4279009 \"Media Not Found\")"
            }
            DeleteCase::RefusedMidChain => "Threads refuses the middle part (code 100)",
        }
    }
}

const CHAIN: &str = "---\nplatforms: [threads]\n---\n\nDelete matrix part one.\n\n---\n\nDelete matrix part two.\n\n---\n\nDelete matrix part three.\n";
const DELETED: [&str; 2] = ["content/chain.md", "content/single.md"];

/// A world with a 3-part chain and a single post published on Threads.
fn delete_setup(cfg: Option<fake_threads::FakeConfig>) -> Result<World, String> {
    let w = match cfg {
        Some(cfg) => World::with_threads(cfg),
        None => World::new(),
    };
    w.file(DELETED[0], CHAIN);
    w.file(DELETED[1], threads_post("S"));
    let run = w.publish()?;
    if run.code != 0 || w.threads.published_posts().len() != 4 {
        return Err(format!("the setup run failed\n{run}"));
    }
    Ok(w)
}

impl World {
    fn with_threads(cfg: fake_threads::FakeConfig) -> Self {
        let w = Self::new();
        let threads = w._rt.block_on(fake_threads::FakeThreads::start(cfg));
        let threads_token = threads.token();
        Self { threads, threads_token, ..w }
    }

    fn delete(&self) -> Result<Run, String> {
        self.crier(&["delete", "--yes", DELETED[0], DELETED[1]])
    }

    fn delete_hits(&self, call: DeleteCall) -> usize {
        let user = self.threads.user_id();
        self.threads
            .requests()
            .iter()
            .filter(|(m, p)| match call {
                DeleteCall::Quota => threads_call(&user, m, p) == Some(Call::PublishingLimit),
                DeleteCall::First | DeleteCall::Middle => m == "DELETE",
            })
            .count()
    }

    /// Every post gone on Threads, every record marked deleted, and a publish run after
    /// that publishes nothing again.
    fn all_deleted(&self, runs: &str) -> Result<(), String> {
        let posts = self.threads.published_posts();
        if posts.len() != 4 || posts.iter().any(|p| !p.deleted) {
            return Err(format!("not every part is deleted on Threads: {posts:?}\n{runs}"));
        }
        for post in DELETED {
            let rec = record(&self.read(post), "threads");
            if rec.as_ref().and_then(|r| r.get("deleted_at")).and_then(Value::as_str) != Some(NOW) {
                return Err(format!("{post} is not recorded deleted: {rec:?}\n{runs}"));
            }
        }
        let again = self.publish()?;
        if again.code != 0 || self.threads.published_posts().len() != 4 {
            return Err(format!("a deleted post was published again\n{again}"));
        }
        Ok(())
    }
}

/// Runs a delete cell: `Ok(outcome)` when every assertion held.
fn run_delete_cell(call: DeleteCall, fault: FaultKind, clean: usize) -> Result<String, String> {
    let w = delete_setup(None)?;
    let before = w.delete_hits(call);
    match call {
        DeleteCall::Quota => {
            // The first read of the limits is the publishing quota (connecting); the second
            // is the delete quota.
            w.threads.fail_next(fake_threads::Route::PublishingLimit, fake_threads::Fault::Delay(Duration::ZERO));
            w.threads.fail_next(fake_threads::Route::PublishingLimit, fault.threads());
        }
        DeleteCall::First => w.threads.fail_next(fake_threads::Route::Delete, fault.threads()),
        DeleteCall::Middle => {
            w.threads.fail_next(fake_threads::Route::Delete, fake_threads::Fault::Delay(Duration::ZERO));
            w.threads.fail_next(fake_threads::Route::Delete, fault.threads());
        }
    }
    let first = w.delete()?;
    let hits = w.delete_hits(call) - before;
    let outcome = match first.code {
        0 if hits > clean => "retried",
        0 => "reconciled",
        1 => {
            let all = first.all().to_lowercase();
            if !all.contains("threads") {
                return Err(format!("the failure does not name Threads\n{first}"));
            }
            if fault == FaultKind::TokenExpired {
                if !first.all().contains("crier auth refresh") {
                    return Err(format!("the failure does not point at `crier auth refresh`\n{first}"));
                }
                "stops the run, rerun finishes"
            } else {
                "failed cleanly, rerun finishes"
            }
        }
        _ => return Err(format!("unexpected exit code\n{first}")),
    };
    if fault == FaultKind::TokenExpired && first.code != 1 {
        return Err(format!("a rejected token must fail the run\n{first}"));
    }
    let rerun = w.delete()?;
    if rerun.code != 0 {
        return Err(format!("the clean rerun failed\nfirst run:\n{first}\nrerun:\n{rerun}"));
    }
    w.all_deleted(&format!("{first}\n{rerun}"))?;
    Ok(outcome.to_owned())
}

fn run_delete_case(case: DeleteCase) -> Result<String, String> {
    let cfg = (case == DeleteCase::AlreadyGoneMediaNotFound).then(|| fake_threads::FakeConfig {
        drop_hang: TOO_LATE,
        media_delay: Duration::ZERO,
        gone_as_media_not_found: true,
        ..fake_threads::FakeConfig::default()
    });
    let w = delete_setup(cfg)?;
    let posts = w.threads.published_posts();
    match case {
        DeleteCase::QuotaUsedUp => {
            w.threads.use_deletes(100);
            let files: Vec<String> = DELETED.iter().map(|p| w.read(p)).collect();
            let first = w.delete()?;
            if first.code != 1 || !first.stdout.contains("the Threads delete quota (100 per 24 hours) is used up") {
                return Err(format!("a used-up quota must fail the run and say so\n{first}"));
            }
            if w.threads.requests().iter().any(|(m, _)| m == "DELETE")
                || w.threads.published_posts().iter().any(|p| p.deleted)
            {
                return Err(format!("something was deleted over the quota\n{first}"));
            }
            if DELETED.iter().map(|p| w.read(p)).collect::<Vec<_>>() != files {
                return Err(format!("a record changed though nothing was deleted\n{first}"));
            }
            // The moving window passes the quota's deletes.
            w.threads.advance_clock(Duration::from_secs(24 * 60 * 60 + 1));
            let rerun = w.delete()?;
            if rerun.code != 0 {
                return Err(format!("the rerun after the window failed\n{rerun}"));
            }
            w.all_deleted(&format!("{first}\n{rerun}"))?;
            Ok("nothing deleted, exit 1 naming the quota; the run after the window deletes".to_owned())
        }
        DeleteCase::AlreadyGone | DeleteCase::AlreadyGoneMediaNotFound => {
            // The chain's middle part and the single post were deleted in the app.
            w.threads.delete_in_app(&posts[1].id);
            w.threads.delete_in_app(&posts[3].id);
            let first = w.delete()?;
            if first.code != 0 || !first.stdout.contains("already gone") {
                return Err(format!("a post already gone must be recorded deleted, exit 0\n{first}"));
            }
            w.all_deleted(&first.to_string())?;
            Ok("recorded deleted, exit 0".to_owned())
        }
        DeleteCase::RefusedMidChain => {
            w.threads.fail_next(fake_threads::Route::Delete, fake_threads::Fault::Delay(Duration::ZERO));
            w.threads.fail_next(
                fake_threads::Route::Delete,
                fake_threads::Fault::GraphError { code: 100, subcode: None, transient: false },
            );
            let first = w.delete()?;
            if first.code != 1 || !first.stdout.contains("1 of 3 parts were deleted") {
                return Err(format!("a refusal mid-chain must fail the post and say how far it got\n{first}"));
            }
            if record(&w.read(DELETED[0]), "threads").and_then(|r| r.get("deleted_at").cloned()).is_some() {
                return Err(format!("a half-deleted chain was recorded deleted\n{first}"));
            }
            let rerun = w.delete()?;
            if rerun.code != 0 {
                return Err(format!("the rerun failed\n{rerun}"));
            }
            w.all_deleted(&format!("{first}\n{rerun}"))?;
            Ok("exit 1 saying 1 of 3 parts went; the rerun finishes".to_owned())
        }
    }
}

/// One delete cell or case, and its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteKey {
    Cell(DeleteCall, FaultKind),
    Case(DeleteCase),
}

fn delete_table(results: &[(DeleteKey, Result<String, String>)]) -> String {
    let mut s = String::from(
        "# Reliability of `crier delete`\n\n\
         Each cell publishes a 3-part chain and a single post on Threads, injects one fault into\n\
         one call of `crier delete --yes` on both, then runs the same `crier delete` again\n\
         without faults. ✅ means every check held: after the rerun every part is gone on\n\
         Threads and both records carry `deleted_at`; a `crier publish` afterwards publishes\n\
         nothing again; the first run ended with exit code 0 or 1 (a failure naming Threads, a\n\
         rejected token pointing at `crier auth refresh`), without a panic or a secret in the\n\
         output. **retried**: the first run sent the call again and deleted everything;\n\
         **reconciled**: the first run did not repeat the call, yet deleted everything (after a\n\
         lost reply it read the post back and found it gone); **failed cleanly, rerun\n\
         finishes** / **stops the run, rerun finishes**: the first run failed with exit code 1\n\
         and the rerun finished the job (parts already gone count as deleted).\n\n",
    );
    let cell = |key: DeleteKey| cell_text(results.iter().find(|(k, _)| *k == key).map(|(_, r)| r));
    let rows: Vec<&str> = DELETE_CALLS.iter().map(|c| c.label()).collect();
    let columns: Vec<&str> = FAULTS.iter().map(|f| f.label()).collect();
    s.push_str(&fault_table(&rows, &columns, |r, c| cell(DeleteKey::Cell(DELETE_CALLS[r], FAULTS[c]))));
    s.push_str("\n| situation | result |\n|---|---|\n");
    for case in DELETE_CASES {
        let _ = writeln!(s, "| {} | {} |", case.label(), cell(DeleteKey::Case(case)));
    }
    s
}

/// How many times a fault-free delete run makes `call`.
fn clean_delete_hits(call: DeleteCall) -> Result<usize, String> {
    let w = delete_setup(None)?;
    let before = w.delete_hits(call);
    let run = w.delete()?;
    if run.code != 0 {
        return Err(format!("a fault-free delete run failed\n{run}"));
    }
    Ok(w.delete_hits(call) - before)
}

/// Runs every delete cell and case, a few at a time.
fn delete_results() -> Vec<(DeleteKey, Result<String, String>)> {
    let clean: Vec<(DeleteCall, usize)> = DELETE_CALLS
        .iter()
        .map(|&c| (c, clean_delete_hits(c).unwrap_or_else(|e| panic!("{}: {e}", c.label()))))
        .collect();
    let mut keys: Vec<DeleteKey> =
        DELETE_CALLS.iter().flat_map(|&c| FAULTS.iter().map(move |&f| DeleteKey::Cell(c, f))).collect();
    keys.extend(DELETE_CASES.iter().map(|&c| DeleteKey::Case(c)));
    run_cells(&keys, |key| match key {
        DeleteKey::Cell(call, fault) => {
            let baseline = clean.iter().find(|(c, _)| *c == call).map_or(0, |(_, n)| *n);
            run_delete_cell(call, fault, baseline)
        }
        DeleteKey::Case(case) => run_delete_case(case),
    })
}

// ---------------------------------------------------------------- Bluesky and Mastodon

/// `crier.yaml` of most platforms' matrices: quick retries, a 2 s request timeout.
const FAST: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n";

/// How a platform's fault matrix runs crier: `crier PUBLISH…`, the run of each cell.
trait Matrix: common::Fakes {
    const PUBLISH: &[&str];
}

/// A platform matrix's world: `start`'s fakes on one worker thread, and an empty repository
/// `crier-faults-<name>-…`.
fn platform_world<F, Fut: std::future::Future<Output = F>>(
    name: &str,
    start: impl FnOnce() -> Fut,
) -> common::World<F> {
    common::World::start(1, Fixture::new(&format!("crier-faults-{name}-")), start)
}

impl<F: Matrix> common::World<F> {
    /// The cell's `crier publish` run against the fakes.
    fn cell(&self) -> common::Crier {
        self.command(F::PUBLISH).timeout(TIMEOUT)
    }

    /// Runs [`Self::cell`]; no secret in the output or the files.
    fn publish(&self) -> Result<Run, String> {
        self.try_finish(self.cell())
    }
}

/// A platform whose calls and faults are its own: every call × every fault, each cell a
/// `crier publish` with the fault queued and a clean rerun, reported as one section of
/// docs/reliability.md. A row or a column is one entry of `calls` or `faults`.
fn platform_matrix<R: Copy + Send + Sync, F: Clone + Send + Sync>(
    intro: &str,
    calls: &[(&str, R)],
    faults: &[(&str, F)],
    cell: impl Fn(R, F) -> Result<String, String> + Sync,
) {
    let keys: Vec<(usize, usize)> = (0..calls.len()).flat_map(|r| (0..faults.len()).map(move |c| (r, c))).collect();
    let results = run_cells(&keys, |(r, c)| cell(calls[r].1, faults[c].1.clone()));
    let failures: Vec<String> = results
        .iter()
        .filter_map(|((r, c), res)| res.as_ref().err().map(|e| format!("=== {} × {}: {e}", calls[*r].0, faults[*c].0)))
        .collect();
    assert!(failures.is_empty(), "{} of {} cells failed:\n{}", failures.len(), results.len(), failures.join("\n"));
    let rows: Vec<&str> = calls.iter().map(|(label, _)| *label).collect();
    let columns: Vec<&str> = faults.iter().map(|(label, _)| *label).collect();
    let table =
        fault_table(&rows, &columns, |r, c| cell_text(results.iter().find(|(k, _)| *k == (r, c)).map(|(_, res)| res)));
    check_doc_section(&format!("{intro}\n{table}"));
}

/// What a cell's first run did, for the table: it published, or it failed cleanly (exit 1
/// naming the platform) and the rerun published.
fn first_run_outcome(first: &Run, platform: &str) -> Result<String, String> {
    match first.code {
        0 => Ok("published".to_owned()),
        1 if first.all().to_lowercase().contains(platform) => Ok("failed cleanly, rerun publishes".to_owned()),
        1 => Err(format!("the failure does not name {platform}\n{first}")),
        _ => Err(format!("unexpected exit code\n{first}")),
    }
}

/// A cell's two runs: `crier publish` with the faults in place, then a clean rerun; the
/// first run's outcome (see [`first_run_outcome`]) and both runs.
fn publish_twice<F: Matrix>(w: &common::World<F>, platform: &str) -> Result<(String, Run, Run), String> {
    let first = w.publish()?;
    let outcome = first_run_outcome(&first, platform)?;
    let rerun = w.publish()?;
    Ok((outcome, first, rerun))
}

/// After the rerun, each of a chain's two parts is on the platform once (`counts`, in
/// `what`) and `file` records both on `platform`; else the cell's error.
fn two_parts_once(
    w: &Fixture,
    (file, platform, what): (&str, &str, &str),
    counts: (usize, usize),
    (first, rerun): (&Run, &Run),
) -> Result<(), String> {
    let (ones, twos) = counts;
    let parts = record(&w.read(file), platform).and_then(|r| r["parts"].as_array().map(Vec::len)).unwrap_or(0);
    if rerun.code != 0 || ones != 1 || twos != 1 || parts != 2 {
        return Err(format!(
            "{what} {ones}+{twos}, {parts} parts recorded, rerun exit {}\n{first}\n{rerun}",
            rerun.code
        ));
    }
    Ok(())
}

// The fake PDS and a fixture repository with a two-part Bluesky post (an image in the first).
common::world!(type Bluesky = fake_bluesky::FakeBluesky, |f| [
    plain("CRIER_BLUESKY_URL", f.url()),
    plain("BLUESKY_IDENTIFIER", f.handle()),
    secret("BLUESKY_APP_PASSWORD", f.password()),
    issued("eyJfake"),
]);

impl Matrix for fake_bluesky::FakeBluesky {
    const PUBLISH: &[&str] = &["publish", "--no-commit"];
}

impl Bluesky {
    fn new() -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg = fake_bluesky::FakeConfig { drop_hang: Duration::from_secs(4), ..fake_bluesky::FakeConfig::default() };
        let w = platform_world("bluesky", || fake_bluesky::FakeBluesky::start(cfg));
        w.file("crier.yaml", FAST);
        w.file("media/a.png", common::encoded_png(30, 20));
        w.file(
            "content/hello.md",
            "---\nplatforms: [bluesky]\nbluesky: {langs: [en]}\nmedia:\n  - {path: media/a.png, alt: A square}\n---\n\
             Hello [crier](http://127.0.0.1:9/x) #rust @bob.test 😀\n\n---\n\nSecond part\n",
        );
        w
    }
}

/// Bluesky: every XRPC call × the faults the fake PDS injects; a post of two parts is
/// recorded and on the PDS exactly once after the rerun.
#[test]
fn bluesky_fault_matrix() {
    use fake_bluesky::{Fault, Route};
    let calls = [
        ("Bluesky `com.atproto.server.createSession`", Route::CreateSession),
        ("Bluesky `com.atproto.identity.resolveHandle`", Route::ResolveHandle),
        ("Bluesky `com.atproto.repo.uploadBlob`", Route::UploadBlob),
        ("Bluesky `com.atproto.repo.putRecord`", Route::PutRecord),
    ];
    // (fault, how many times in a row): six 5xx answers outlast the retries.
    let faults = [
        (
            "HTTP 500 ×6",
            (Fault::Status(500, r#"{"error":"InternalServerError","message":"Internal Server Error"}"#.into()), 6),
        ),
        ("HTML 502 ×6", (Fault::Status(502, "<html><title>502 Bad Gateway</title></html>".into()), 6)),
        ("429 + reset", (Fault::RateLimited { reset_in_secs: 1 }, 1)),
        ("reply lost after acting", (Fault::DropAfterAction, 1)),
        ("session expires", (Fault::ExpireToken, 1)),
    ];
    platform_matrix(BLUESKY_INTRO, &calls, &faults, |route, (fault, times)| {
        let w = Bluesky::new();
        for _ in 0..times {
            w.fake.fail_next(route, fault.clone());
        }
        let (outcome, first, rerun) = publish_twice(&w, "bluesky")?;
        if rerun.code != 0 {
            return Err(format!("the clean rerun failed\n{first}\n{rerun}"));
        }
        let records = w.fake.records().len();
        if records != 2 {
            return Err(format!("{records} records on the PDS, expected 2: duplicate or loss\n{first}\n{rerun}"));
        }
        if record(&w.repo.read("content/hello.md"), "bluesky").is_none() {
            return Err(format!("not recorded\n{first}\n{rerun}"));
        }
        Ok(outcome)
    });
}

const BLUESKY_INTRO: &str = "# Reliability of `crier publish` on Bluesky\n\n\
     Each cell injects one fault into one XRPC call of a `crier publish` run over a two-part\n\
     post with an image, then runs `crier publish` again without faults. ✅ means: exactly two\n\
     records on the PDS and the post recorded after the rerun, the first run ended with exit\n\
     code 0 (**published**) or 1 naming Bluesky (**failed cleanly, rerun publishes**), and no\n\
     app password or session token in the output or the files. *×6*: six answers in a row,\n\
     more than the retries; *429 + reset* `RateLimit-Reset` one second ahead; *session\n\
     expires* the session token is refused from that call on (crier signs in again).\n";

// The fake Mastodon server and a fixture repository with a two-part post (an image in the
// first part, processed asynchronously).
common::world!(type Mastodon = fake_mastodon::FakeMastodon, |f| [
    plain("MASTODON_INSTANCE", f.base_url()),
    secret("MASTODON_ACCESS_TOKEN", f.token()),
]);

impl Matrix for fake_mastodon::FakeMastodon {
    const PUBLISH: &[&str] = &["publish"];
}

impl Mastodon {
    fn new(honour_idempotency: bool) -> Self {
        let cfg = fake_mastodon::FakeConfig {
            honour_idempotency,
            async_media: true,
            processing_polls: 1,
            // Dropped replies hang longer than crier's 2 s request timeout.
            drop_hang: Duration::from_secs(5),
            ..fake_mastodon::FakeConfig::default()
        };
        let w = platform_world("mastodon", || fake_mastodon::FakeMastodon::start(cfg));
        w.file(
            "crier.yaml",
            "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n  \
             processing_timeout_secs: 5\n  poll_interval_ms: 20\n",
        );
        w.file("media/a.png", png(8, 8));
        w.file(
            "content/c.md",
            "---\nplatforms: [mastodon]\nthread:\n  - text: Part one.\n    media:\n      - path: media/a.png\n        \
             alt: A dot\n  - Part two.\n---\n\n",
        );
        w
    }

    fn with_text(&self, text: &str) -> usize {
        self.fake.statuses().iter().filter(|s| s.text == text).count()
    }
}

/// Mastodon: every call × the faults the fake injects; each part of the chain is a status
/// exactly once after the rerun, whether or not the server honours `Idempotency-Key`.
#[test]
fn mastodon_fault_matrix() {
    use fake_mastodon::{Fault, Route};
    // (call, whether the server honours Idempotency-Key: it matters only where a create is retried).
    let calls = [
        ("Mastodon `GET /api/v1/instance`", (Route::Instance, true)),
        ("Mastodon `GET /api/v1/accounts/verify_credentials`", (Route::VerifyCredentials, true)),
        ("Mastodon `GET /api/v1/accounts/{id}/statuses`", (Route::AccountStatuses, true)),
        ("Mastodon `POST /api/v2/media`", (Route::Upload, true)),
        ("Mastodon `GET /api/v1/media/{id}`", (Route::MediaStatus, true)),
        ("Mastodon `POST /api/v1/statuses` (Idempotency-Key honoured)", (Route::CreateStatus, true)),
        ("Mastodon `POST /api/v1/statuses` (Idempotency-Key ignored, as GoToSocial)", (Route::CreateStatus, false)),
    ];
    let faults = [
        ("HTML error page", Fault::HtmlPage),
        ("reply lost after acting", Fault::DropAfterAction),
        ("429 + reset", Fault::RateLimited { reset_in: Duration::from_millis(300) }),
        ("slow (2.5 s)", Fault::Delay(Duration::from_millis(2500))),
    ];
    platform_matrix(MASTODON_INTRO, &calls, &faults, |(route, honour), fault| {
        let w = Mastodon::new(honour);
        w.fake.fail_next(route, fault);
        let (outcome, first, rerun) = publish_twice(&w, "mastodon")?;
        let counts = (w.with_text("Part one."), w.with_text("Part two."));
        two_parts_once(&w, ("content/c.md", "mastodon", "statuses"), counts, (&first, &rerun))?;
        Ok(outcome)
    });
}

const MASTODON_INTRO: &str = "# Reliability of `crier publish` on Mastodon\n\n\
     Each cell injects one fault into one call of a `crier publish` run over a two-part post\n\
     with an image (processed asynchronously), then runs `crier publish` again without\n\
     faults. ✅ means: each part is a status exactly once and both are recorded after the\n\
     rerun, the first run ended with exit code 0 (**published**) or 1 naming Mastodon\n\
     (**failed cleanly, rerun publishes**), and the token is in neither the output nor the\n\
     files. *429 + reset* `X-RateLimit-Reset` 0.3 s ahead; *slow* answers after crier's 2 s\n\
     request timeout.\n";

// The fake Discord webhook and a fixture repository with a post sent as two messages
// (`split: auto`), an image on the first.
common::world!(type Discord = fake_discord::FakeDiscord, |f| [
    secret("DISCORD_WEBHOOK_URL", f.webhook_url()),
    issued(f.token()),
]);

impl Matrix for fake_discord::FakeDiscord {
    const PUBLISH: &[&str] = &["publish", "--no-commit"];
}

impl Discord {
    fn new() -> Self {
        let cfg = fake_discord::FakeConfig { drop_hang: Duration::from_secs(5), ..fake_discord::FakeConfig::default() };
        let w = platform_world("discord", || fake_discord::FakeDiscord::start(cfg));
        w.file("crier.yaml", FAST);
        w.file("media/a.png", png(8, 8));
        w.file(
            "content/d.md",
            format!(
                "---\nplatforms: [discord]\ndiscord: {{split: auto}}\nmedia:\n  - {{path: media/a.png, alt: A dot}}\n---\n{}\n\n{}\n",
                "a".repeat(1500),
                "b".repeat(1500)
            ),
        );
        w
    }

    /// Messages in the channel whose text starts with `c` (`a`: the first, `b`: the second).
    fn copies(&self, c: char) -> usize {
        self.fake.all_messages().iter().filter(|m| m.content.starts_with(c)).count()
    }
}

/// A fault of the Discord matrix: one the fake injects, or crier killed while the call's
/// reply is outstanding (the call has acted).
#[derive(Clone)]
enum DiscordFault {
    Inject(fake_discord::Fault),
    Kill,
}

/// Discord: every call × the faults the fake injects and a kill; never two messages for one
/// part, whatever the rerun does.
#[test]
fn discord_fault_matrix() {
    use fake_discord::{Fault, Route};
    let calls = [
        ("Discord `GET {webhook}`", Route::Webhook),
        ("Discord `POST {webhook}?wait=true` (message 1)", Route::Execute),
        ("Discord `POST {webhook}?wait=true` (message 2)", Route::ExecuteLater),
    ];
    let faults = [
        ("HTML 502", DiscordFault::Inject(Fault::HtmlPage)),
        ("429 + retry_after", DiscordFault::Inject(Fault::RateLimited { retry_after: 0.3 })),
        ("reply lost after acting", DiscordFault::Inject(Fault::DropAfterAction)),
        ("slow (2.5 s)", DiscordFault::Inject(Fault::Delay(Duration::from_millis(2500)))),
        ("killed while waiting for the reply", DiscordFault::Kill),
    ];
    platform_matrix(DISCORD_INTRO, &calls, &faults, |route, fault| {
        let w = Discord::new();
        let first = match fault {
            DiscordFault::Inject(f) => {
                w.fake.fail_next(route, f);
                w.publish()?
            }
            DiscordFault::Kill => {
                w.fake.fail_next(route, Fault::DropAfterAction);
                let acted = |w: &Discord| match route {
                    Route::Webhook => w.fake.calls() >= 1,
                    Route::ExecuteLater => w.fake.all_messages().len() >= 2,
                    _ => !w.fake.all_messages().is_empty(),
                };
                let mut child = w.cell().spawn().map_err(|e| e.to_string())?;
                let started = Instant::now();
                while !acted(&w) && started.elapsed() < TIMEOUT {
                    std::thread::sleep(Duration::from_millis(5));
                }
                child.kill().map_err(|e| e.to_string())?;
                let _ = child.wait();
                Run { code: 1, stdout: String::new(), stderr: "killed (discord)".into() }
            }
        };
        let outcome = match first.code {
            0 => "published".to_owned(),
            1 if first.all().contains("reply lost") => "reply lost: reported".to_owned(),
            1 if first.all().contains("killed") => "killed".to_owned(),
            _ => first_run_outcome(&first, "discord")?,
        };
        let rerun = w.publish()?;
        let (a, b) = (w.copies('a'), w.copies('b'));
        if a > 1 || b > 1 {
            return Err(format!("two messages for one part ({a}+{b})\n{first}\n{rerun}"));
        }
        let violations = w.fake.violations();
        if !violations.is_empty() {
            return Err(format!("requests outside Discord's OpenAPI definition: {violations:?}"));
        }
        let entry = record(&w.repo.read("content/d.md"), "discord");
        let held = entry.as_ref().is_some_and(|r| r.get("unconfirmed").is_some());
        let rest = match (a, b, entry.is_some(), held, rerun.code) {
            (1, 1, true, false, 0) => "rerun publishes",
            (_, _, _, true, 0) if rerun.all().contains("reply lost") => {
                "rerun sends nothing: held for `adopt` or `--resend`"
            }
            _ => {
                return Err(format!("messages {a}+{b}, entry {entry:?}, rerun exit {}\n{first}\n{rerun}", rerun.code));
            }
        };
        Ok(if first.code == 0 { outcome } else { format!("{outcome}; {rest}") })
    });
}

const DISCORD_INTRO: &str = "# Reliability of `crier publish` on Discord\n\n\
     Each cell injects one fault into one call of a `crier publish` run over a post sent as two\n\
     messages (`split: auto`, an image on the first), then runs `crier publish` again without\n\
     faults. A webhook message has no idempotency key and the webhook cannot list what it sent, so\n\
     a message whose reply was lost is never sent again: the post is held, reported as \"sent,\n\
     reply lost: check the channel\", until `crier adopt` or `crier publish --resend`. ✅ means: never\n\
     two messages for one part, the post published and recorded after the rerun or held with\n\
     that report, and the webhook URL in neither the output nor the files. *HTML 502* and *slow*\n\
     (an answer after crier's 2 s request timeout) on a message are lost replies too: Discord may\n\
     have posted it.\n";

// The fake LinkedIn and a fixture repository with a post of two images.
common::world!(type Linkedin = fake_linkedin::FakeLinkedin, |f| [
    plain("CRIER_LINKEDIN_API_URL", f.origin()),
    secret("LINKEDIN_ACCESS_TOKEN", f.token()),
]);

impl Matrix for fake_linkedin::FakeLinkedin {
    const PUBLISH: &[&str] = &["publish", "--no-commit"];
}

/// How a LinkedIn cell disturbs its call: a fault so many times in a row, or crier killed
/// once the server acted on the call (its reply held back).
#[derive(Clone)]
enum Disturb {
    Times(fake_linkedin::Fault, usize),
    Kill,
}

impl Linkedin {
    fn new() -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg =
            fake_linkedin::FakeConfig { drop_hang: Duration::from_secs(5), ..fake_linkedin::FakeConfig::default() };
        let w = platform_world("linkedin", || fake_linkedin::FakeLinkedin::start(cfg));
        w.file("crier.yaml", FAST);
        w.file("media/a.png", png(8, 8));
        w.file("media/b.png", png(9, 9));
        w.file(
            "content/l.md",
            "---\nplatforms: [linkedin]\nmedia:\n  - {path: media/a.png, alt: A dot}\n  - {path: media/b.png, alt: Another dot}\n---\n\nTwo dots (small) #rust\n",
        );
        w
    }

    /// `crier publish`, killed once the fake has acted on `route` (whose reply it holds back).
    fn publish_killed(&self, route: fake_linkedin::Route) -> Result<(), String> {
        self.fake.fail_next(route, fake_linkedin::Fault::DropAfterAction);
        let mut child = self.cell().spawn().map_err(|e| format!("spawn crier: {e}"))?;
        let started = Instant::now();
        while self.fake.requests_on(route) == 0 {
            if started.elapsed() > TIMEOUT || child.try_wait().map_err(|e| e.to_string())?.is_some() {
                let _ = child.kill();
                return Err(format!("crier never reached {route:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // The fake acts as soon as the request is in; give it that moment.
        std::thread::sleep(Duration::from_millis(200));
        child.kill().map_err(|e| e.to_string())?;
        child.wait().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// LinkedIn: every call × the faults the fake injects and a kill; the post is on LinkedIn
/// exactly once and recorded after the rerun (LinkedIn has no idempotency key: a lost create
/// is resolved by resending it, which LinkedIn refuses as a duplicate naming the post).
#[test]
fn linkedin_fault_matrix() {
    use fake_linkedin::{Fault, Route};
    let calls = [
        ("LinkedIn `GET /v2/userinfo`", Route::Userinfo),
        ("LinkedIn `POST /rest/images?action=initializeUpload`", Route::InitializeUpload),
        ("LinkedIn `PUT` of the image bytes", Route::Upload),
        ("LinkedIn `POST /rest/posts`", Route::CreatePost),
    ];
    let faults = [
        (
            "HTTP 500",
            Disturb::Times(Fault::Status(500, r#"{"status":500,"message":"Internal Server Error"}"#.into()), 1),
        ),
        ("HTML 502 ×2", Disturb::Times(Fault::HtmlPage, 2)),
        ("429 + Retry-After", Disturb::Times(Fault::RateLimited { retry_after_secs: Some(1) }, 1)),
        ("reply lost after acting", Disturb::Times(Fault::DropAfterAction, 1)),
        ("reply lost twice", Disturb::Times(Fault::DropAfterAction, 2)),
        ("killed after acting", Disturb::Kill),
    ];
    platform_matrix(LINKEDIN_INTRO, &calls, &faults, |route, disturb| {
        let w = Linkedin::new();
        let outcome = match disturb {
            Disturb::Times(fault, times) => {
                for _ in 0..times {
                    w.fake.fail_next(route, fault.clone());
                }
                let first = w.publish()?;
                first_run_outcome(&first, "linkedin")?
            }
            Disturb::Kill => {
                w.publish_killed(route)?;
                "killed, rerun publishes".to_owned()
            }
        };
        let rerun = w.publish()?;
        let live = w.fake.live().len();
        let recorded = record(&w.repo.read("content/l.md"), "linkedin");
        let same = recorded
            .as_ref()
            .and_then(|r| r["id"].as_str())
            .is_some_and(|id| w.fake.live().iter().any(|p| p.urn == id));
        if rerun.code != 0 || live != 1 || !same {
            return Err(format!("{live} posts on LinkedIn, recorded {recorded:?}, rerun exit {}\n{rerun}", rerun.code));
        }
        Ok(outcome)
    });
}

const LINKEDIN_INTRO: &str = "# Reliability of `crier publish` on LinkedIn\n\n\
     Each cell disturbs one call of a `crier publish` run over a post with two images, then\n\
     runs `crier publish` again without faults. ✅ means: the post is on LinkedIn exactly once\n\
     and recorded with its URN after the rerun, the first run ended with exit code 0\n\
     (**published**) or 1 naming LinkedIn (**failed cleanly, rerun publishes**), and the token\n\
     is in neither the output nor the files. *×2*: two answers in a row; *reply lost*: the\n\
     server acted and the reply never came (crier resends the identical post, which LinkedIn\n\
     refuses as a duplicate naming the first); *killed after acting*: crier is killed while\n\
     waiting for the reply (the next run finds the create it wrote down, and resends it inside\n\
     LinkedIn's 10-minute duplicate window).\n";

/// Two fake relays and a fixture repository with a two-part Nostr chain.
struct Relays {
    a: fake_nostr::FakeRelay,
    b: fake_nostr::FakeRelay,
}

/// A Nostr key for the fault matrix (hex; never printed).
const NOSTR_KEY: &str = "3b7c1f0e2d4a59687766554433221100ffeeddccbbaa99887766554433221100";

common::world!(type Nostr = Relays, |f| [
    secret("NOSTR_SECRET_KEY", NOSTR_KEY),
    plain("NOSTR_RELAYS", format!("{},{}", f.a.url(), f.b.url())),
]);

impl Matrix for Relays {
    const PUBLISH: &[&str] = &["publish"];
}

impl Nostr {
    fn new() -> Self {
        let w = platform_world("nostr", || async {
            Relays { a: fake_nostr::FakeRelay::start().await, b: fake_nostr::FakeRelay::start().await }
        });
        w.file("crier.yaml", "publish:\n  request_timeout_secs: 1\n");
        w.file("content/n.md", "---\nplatforms: [nostr]\n---\n\nPart #one.\n\n---\n\nPart two.\n");
        w
    }

    /// Distinct events with `text` across both relays.
    fn with_text(&self, text: &str) -> usize {
        let mut ids: Vec<Value> = [&self.fake.a, &self.fake.b]
            .iter()
            .flat_map(|r| r.events(1))
            .filter(|e| e["content"] == text)
            .map(|e| e["id"].clone())
            .collect();
        ids.sort_by_key(Value::to_string);
        ids.dedup();
        ids.len()
    }
}

/// A fault of the Nostr matrix: one of the fake relay's, or the relay down for the run.
#[derive(Clone)]
enum NostrFault {
    Relay(fake_nostr::Fault),
    Down,
}

/// Nostr: an `EVENT` of either part, on one relay or both, × what relays do; each part is
/// one event (the same id wherever it is stored) after the rerun, and the post recorded.
#[test]
fn nostr_fault_matrix() {
    use fake_nostr::Fault;
    // (which relays, which part: 0 the first EVENT, 1 the second).
    let calls = [
        ("Nostr `EVENT` part 1, relay A", ("a", 0)),
        ("Nostr `EVENT` part 2, relay A", ("a", 1)),
        ("Nostr `EVENT` part 1, both relays", ("ab", 0)),
        ("Nostr `EVENT` part 2, both relays", ("ab", 1)),
    ];
    let faults = [
        ("`OK` lost after storing", NostrFault::Relay(Fault::LoseOk)),
        ("`OK false` rate-limited", NostrFault::Relay(Fault::Refuse("rate-limited: slow down".into()))),
        ("`OK false` error", NostrFault::Relay(Fault::Refuse("error: could not save".into()))),
        ("slow (1.5 s)", NostrFault::Relay(Fault::Delay(Duration::from_millis(1500)))),
        ("relay down for the run", NostrFault::Down),
    ];
    platform_matrix(NOSTR_INTRO, &calls, &faults, |(which, part), fault| {
        let w = Nostr::new();
        let relays: Vec<&fake_nostr::FakeRelay> =
            which.chars().map(|c| if c == 'a' { &w.fake.a } else { &w.fake.b }).collect();
        for r in &relays {
            match &fault {
                NostrFault::Relay(f) => {
                    // The first EVENT passes untouched when the fault is for the second.
                    if part == 1 {
                        r.fail_next(Fault::Delay(Duration::ZERO));
                    }
                    r.fail_next(f.clone());
                }
                NostrFault::Down => r.set_down(true),
            }
        }
        let first = w.publish()?;
        let outcome = first_run_outcome(&first, "nostr")?;
        for r in &relays {
            r.set_down(false);
        }
        let rerun = w.publish()?;
        let counts = (w.with_text("Part #one."), w.with_text("Part two."));
        two_parts_once(&w, ("content/n.md", "nostr", "events"), counts, (&first, &rerun))?;
        Ok(outcome)
    });
}

const NOSTR_INTRO: &str = "# Reliability of `crier publish` on Nostr\n\n\
     Each cell injects one fault into the `EVENT` of one part of a two-part chain, on relay A\n\
     or on both of the two relays, then runs `crier publish` again without faults. ✅ means:\n\
     each part is one event after the rerun (the same id on every relay that has it: no\n\
     second, different event), the chain is recorded, the first run ended with exit code 0\n\
     (**published**, on the relays that stored it) or 1 naming Nostr (**failed cleanly, rerun\n\
     publishes**), and the key is in neither the output nor the files. *slow* answers after\n\
     crier's 1 s timeout; *relay down* refuses the WebSocket for the whole first run.\n";

// The fake Bot API and a fixture repository with a post that makes every kind of send: a
// text longer than a caption, split in two messages, then an album of two images.
common::world!(type Telegram = fake_telegram::FakeTelegram, |f| [
    plain("CRIER_TELEGRAM_API_URL", f.base_url()),
    secret("TELEGRAM_BOT_TOKEN", f.token()),
]);

impl Matrix for fake_telegram::FakeTelegram {
    const PUBLISH: &[&str] = &["publish", "--no-commit"];
}

/// Messages the post makes: two texts and two album items.
const TELEGRAM_MESSAGES: usize = 4;

impl Telegram {
    fn new(request_timeout_secs: u64) -> Self {
        // Dropped replies hang longer than crier's request timeout (a kill comes first).
        let cfg =
            fake_telegram::FakeConfig { drop_hang: Duration::from_secs(30), ..fake_telegram::FakeConfig::default() };
        let w = platform_world("telegram", || fake_telegram::FakeTelegram::start(cfg));
        w.file(
            "crier.yaml",
            format!(
                "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: {request_timeout_secs}\n  \
                 write_interval_ms: 10\ntelegram:\n  chat: \"@crier_news\"\n"
            ),
        );
        w.file("media/a.png", png(8, 8));
        w.file("media/b.png", png(9, 9));
        let words = "word ".repeat(700);
        w.file(
            "content/t.md",
            format!(
                "---\nplatforms: [telegram]\ntelegram: {{split: auto}}\nmedia:\n  - path: media/a.png\n  - path: media/b.png\n---\n\
                 One {words}\n\nTwo {words}\n"
            ),
        );
        w
    }

    /// Each message of the post by what it is (the first word of a text, the file of an
    /// image), counted over every message ever sent.
    fn copies(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for m in self.fake.sent() {
            let key = match (&m.text, &m.media) {
                (Some(t), _) => t.split_whitespace().next().unwrap_or("").to_owned(),
                (None, Some((_, file, _))) => file.clone(),
                _ => "?".to_owned(),
            };
            *out.entry(key).or_insert(0) += 1;
        }
        out
    }
}

/// How a Telegram cell fails its call.
#[derive(Debug, Clone)]
enum TelegramFault {
    /// Queued on the call.
    Fault(fake_telegram::Fault),
    /// crier is killed while the call hangs after acting.
    Killed,
}

/// Telegram: every call × the faults, the kill included. A bot cannot read a channel back,
/// so the promise is "never twice": after the faulty run and a clean rerun no message of
/// the post is in the channel twice, and the post is either recorded whole or held back as
/// unconfirmed (listed by the rerun, nothing sent) for the user to check.
#[test]
fn telegram_fault_matrix() {
    use fake_telegram::{Fault, Route};
    // (route, which request on it: 1 = the first).
    let calls = [
        ("Telegram `getChat`", (Route::GetChat, 1)),
        ("Telegram `sendMessage` (message 1 of 2)", (Route::SendMessage, 1)),
        ("Telegram `sendMessage` (message 2 of 2)", (Route::SendMessage, 2)),
        ("Telegram `sendMediaGroup` (album of 2)", (Route::SendMediaGroup, 1)),
    ];
    let faults = [
        (
            "HTTP 500",
            TelegramFault::Fault(Fault::Status(
                500,
                r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#.into(),
            )),
        ),
        ("429 `retry_after`", TelegramFault::Fault(Fault::TooManyRequests { retry_after: 1 })),
        (
            "403 not a member",
            TelegramFault::Fault(Fault::Status(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the channel chat"}"#
                    .into(),
            )),
        ),
        ("reply lost after acting", TelegramFault::Fault(Fault::DropAfterAction)),
        ("killed after acting", TelegramFault::Killed),
    ];
    platform_matrix(TELEGRAM_INTRO, &calls, &faults, |(route, nth), fault| {
        let killed = matches!(fault, TelegramFault::Killed);
        let w = Telegram::new(if killed { 20 } else { 2 });
        // Earlier requests on the route pass (a zero delay), the nth gets the fault.
        for _ in 1..nth {
            w.fake.fail_next(route, Fault::Delay(Duration::ZERO));
        }
        let first = match fault {
            TelegramFault::Fault(f) => {
                w.fake.fail_next(route, f);
                let first = w.publish()?;
                if first.code != 0 && first.code != 1 {
                    return Err(format!("unexpected exit code\n{first}"));
                }
                Some(first)
            }
            TelegramFault::Killed => {
                w.fake.fail_next(route, Fault::DropAfterAction);
                let method = match route {
                    Route::GetChat => "getChat",
                    Route::SendMessage => "sendMessage",
                    _ => "sendMediaGroup",
                };
                let mut child = w.cell().spawn().map_err(|e| e.to_string())?;
                let started = Instant::now();
                // Killed once the call acted (its messages are in the channel).
                while w.fake.count(method) < nth
                    || (route != Route::GetChat && w.fake.sent().len() < expected_before(route, nth) + 1)
                {
                    if started.elapsed() > TIMEOUT {
                        let _ = child.kill();
                        return Err("the call never came".into());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                child.kill().map_err(|e| e.to_string())?;
                child.wait().map_err(|e| e.to_string())?;
                None
            }
        };
        let rerun = w.publish()?;
        let first_text = first.as_ref().map_or_else(|| "(killed)".to_owned(), ToString::to_string);
        let twice: Vec<String> =
            w.copies().into_iter().filter(|(_, n)| *n > 1).map(|(k, n)| format!("{k} ×{n}")).collect();
        if !twice.is_empty() {
            return Err(format!("sent twice: {}\n{first_text}\n{rerun}", twice.join(", ")));
        }
        let rec = record(&w.repo.read("content/t.md"), "telegram");
        let held = rec.as_ref().is_some_and(|r| r.get("unconfirmed").is_some());
        if rerun.code != 0 {
            return Err(format!("the clean rerun failed\n{first_text}\n{rerun}"));
        }
        if held {
            if !rerun.stdout.contains("held back") {
                return Err(format!("held, but the rerun does not say so\n{rerun}"));
            }
            return Ok("held back: check, then `adopt --id` or `--resend`".to_owned());
        }
        let parts = rec.as_ref().and_then(|r| r["parts"].as_array().map(Vec::len)).unwrap_or(0);
        if parts != TELEGRAM_MESSAGES || w.fake.messages().len() != TELEGRAM_MESSAGES {
            return Err(format!("{parts} parts recorded, {} messages\n{first_text}\n{rerun}", w.fake.messages().len()));
        }
        match first {
            Some(first) => first_run_outcome(&first, "telegram"),
            None => Ok("killed, rerun publishes".to_owned()),
        }
    });
}

/// Messages in the channel before request `nth` on `route` (the post's order: two texts, the album).
fn expected_before(route: fake_telegram::Route, nth: usize) -> usize {
    match route {
        fake_telegram::Route::SendMessage => nth - 1,
        fake_telegram::Route::SendMediaGroup => 2,
        _ => 0,
    }
}

const TELEGRAM_INTRO: &str = "# Reliability of `crier publish` on Telegram\n\n\
     A bot can neither repeat a send safely (no idempotency key) nor read the channel back, so\n\
     on Telegram crier promises *never twice*: each send is written ahead into the post's\n\
     entry as `unconfirmed`, and a send whose outcome is unknown holds the post back until the\n\
     user records it (`crier adopt PATH --platform telegram --id N`) or sends it again\n\
     (`crier publish --resend PATH`). Each cell injects one fault into one call of a run over a\n\
     post of two text messages and an album of two images, then runs `crier publish` again\n\
     without faults. ✅ means: no message is in the channel twice, and the post is either\n\
     recorded whole (**published**, **failed cleanly, rerun publishes**, **killed, rerun\n\
     publishes**) or held back with its entry `unconfirmed` and the rerun says so and sends\n\
     nothing (**held back**); the token is in neither the output nor the files. A 5xx on a\n\
     send is held back too: Telegram may have acted before failing. *killed after acting*:\n\
     crier is killed while the call hangs after Telegram acted.\n";

// The fake X server and a fixture repository with a two-part post, the first with a link.
common::world!(type XWorld = fake_x::FakeX, |f| [
    plain("CRIER_X_API_URL", f.base_url()),
    secret("X_API_KEY", f.api_key()),
    secret("X_API_SECRET", f.api_secret()),
    secret("X_ACCESS_TOKEN", f.access_token()),
    secret("X_ACCESS_TOKEN_SECRET", f.access_token_secret()),
]);

impl Matrix for fake_x::FakeX {
    const PUBLISH: &[&str] = &["publish"];
}

impl XWorld {
    fn new() -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg = fake_x::FakeConfig { drop_hang: Duration::from_secs(5), ..fake_x::FakeConfig::default() };
        let w = platform_world("x", || fake_x::FakeX::start(cfg));
        w.file("crier.yaml", FAST);
        w.file("media/a.png", png(8, 8));
        w.file(
            "content/c.md",
            "---\nplatforms: [x]\nthread:\n  - \"Part one: https://example.com/a\"\n  - text: Part two.\n    media:\n      - path: media/a.png\n        alt: A dot\n---\n\n",
        );
        w
    }
}

/// X: every call × the faults the fake injects; each part is a post exactly once after the
/// rerun (X has no idempotency key: a lost create is found on the account's timeline).
#[test]
fn x_fault_matrix() {
    use fake_x::{Fault, Route};
    let calls = [
        ("X `GET /2/users/me`", Route::Me),
        ("X `GET /2/users/{id}/tweets`", Route::Timeline),
        ("X `POST /2/media/upload`", Route::Upload),
        ("X `POST /2/media/metadata`", Route::Metadata),
        ("X `POST /2/tweets`", Route::Create),
    ];
    let faults = [
        ("HTML 502", (Fault::HtmlPage, 1)),
        ("HTTP 503 once", (Fault::Status(503, r#"{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}"#.into()), 1)),
        ("reply lost after acting", (Fault::DropAfterAction, 1)),
        ("truncated reply", (Fault::TruncatedJson, 1)),
        ("429 + x-rate-limit-reset", (Fault::RateLimited { reset_in_secs: 1 }, 1)),
        ("slow (2.5 s)", (Fault::Delay(Duration::from_millis(2500)), 1)),
    ];
    platform_matrix(X_INTRO, &calls, &faults, |route, (fault, times)| {
        let w = XWorld::new();
        for _ in 0..times {
            w.fake.fail_next(route, fault.clone());
        }
        let (outcome, first, rerun) = publish_twice(&w, "→ x")?;
        let counts = (w.fake.with_text("Part one: https://example.com/a"), w.fake.with_text("Part two."));
        two_parts_once(&w, ("content/c.md", "x", "posts"), counts, (&first, &rerun))?;
        if !w.fake.nonconforming().is_empty() {
            return Err(format!("requests off the OpenAPI definition: {:?}", w.fake.nonconforming()));
        }
        Ok(outcome)
    });
}

const X_INTRO: &str = "# Reliability of `crier publish` on X\n\n\
     Each cell injects one fault into one call of a `crier publish` run over a two-part post\n\
     (the first with a link, the second with an image and its alt text), then runs\n\
     `crier publish` again without faults. ✅ means: each\n\
     part is a post exactly once and both are recorded after the rerun (X has no idempotency\n\
     key: a create whose reply was lost is looked for on the account's own timeline, never\n\
     sent again), the first run ended with exit code 0 (**published**) or 1 naming X\n\
     (**failed cleanly, rerun publishes**), every request conformed to X's OpenAPI\n\
     definition, and none of the four OAuth 1.0a secrets is in the output or the files.\n\
     *429 + x-rate-limit-reset* the reset one second ahead; *slow* answers after crier's 2 s request timeout.\n";
