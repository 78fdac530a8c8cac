//! `crier stats` end to end: the real binary against the four fake platforms (which serve
//! engagement counts and change them between runs), in a scrubbed environment, with a
//! local bare `origin` for `--record`.

#[path = "support/common.rs"]
mod common;

#[path = "support/fake_bluesky.rs"]
mod fake_bluesky;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_mastodon.rs"]
mod fake_mastodon;
#[path = "support/fake_threads.rs"]
mod fake_threads;

use std::time::Duration;

use common::{Run, git};
use serde_json::Value;

const NOW: &str = common::NOW;
const WEEK_LATER: &str = "2026-12-05T10:00:00Z";
const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 2\n  \
     processing_timeout_secs: 5\n  poll_interval_ms: 20\n  write_interval_ms: 10\n";

const HELLO: &str = "---\nplatforms: [threads, bluesky, mastodon]\n---\n\nHello from crier.\n";
const CHAIN: &str = "---\nplatforms: [threads]\n---\n\nChain part one.\n\n---\n\nChain part two.\n";
const ARTICLE: &str = "---\ntitle: An article\nplatforms: [devto]\n---\n\nThe body of the article.\n";

/// The four platforms that serve engagement.
struct Fakes {
    threads: fake_threads::FakeThreads,
    devto: fake_devto::FakeDevto,
    bluesky: fake_bluesky::FakeBluesky,
    mastodon: fake_mastodon::FakeMastodon,
}

common::world!(Fakes, |f| [
    plain("CRIER_THREADS_API_URL", f.threads.base_url()),
    secret("THREADS_ACCESS_TOKEN", f.threads.token()),
    plain("CRIER_DEVTO_API_URL", f.devto.base_url()),
    secret("DEVTO_API_KEY", f.devto.api_key()),
    plain("CRIER_BLUESKY_URL", f.bluesky.url()),
    plain("BLUESKY_IDENTIFIER", f.bluesky.handle()),
    secret("BLUESKY_APP_PASSWORD", f.bluesky.password()),
    plain("MASTODON_INSTANCE", f.mastodon.base_url()),
    secret("MASTODON_ACCESS_TOKEN", f.mastodon.token()),
]);

impl World {
    fn new() -> Self {
        Self::with(fake_mastodon::FakeConfig::default())
    }

    fn with(mastodon: fake_mastodon::FakeConfig) -> Self {
        let hang = Duration::from_secs(5);
        Self::configured(2, "crier-stats-", CONFIG, || async move {
            Fakes {
                threads: fake_threads::FakeThreads::start(fake_threads::FakeConfig {
                    drop_hang: hang,
                    ..fake_threads::FakeConfig::default()
                })
                .await,
                devto: fake_devto::FakeDevto::start(fake_devto::FakeConfig {
                    drop_hang: hang,
                    ..fake_devto::FakeConfig::default()
                })
                .await,
                bluesky: fake_bluesky::FakeBluesky::start(fake_bluesky::FakeConfig {
                    drop_hang: hang,
                    ..fake_bluesky::FakeConfig::default()
                })
                .await,
                mastodon: fake_mastodon::FakeMastodon::start(fake_mastodon::FakeConfig { drop_hang: hang, ..mastodon })
                    .await,
            }
        })
    }

    /// `crier -C <repo> --color never ARGS…` at `now` against the fakes.
    fn crier_at(&self, now: &str, args: &[&str]) -> Run {
        self.finish(self.command(args).env("CRIER_NOW", now))
    }

    /// Publishes the three posts (through the fakes) and pushes them to a new `origin`.
    fn published(&self) -> tempfile::TempDir {
        self.file("content/hello.md", HELLO);
        self.file("content/chain.md", CHAIN);
        self.file("content/article.md", ARTICLE);
        let origin = common::push_to_new_origin(self.root());
        self.run(&["publish"]).code(0);
        origin
    }

    fn threads_id(&self, text: &str) -> String {
        let posts = self.fake.threads.published_posts();
        posts.into_iter().find(|p| p.text.as_deref() == Some(text)).unwrap_or_else(|| panic!("no {text}")).id
    }

    /// What people did since: the same numbers every test starts from.
    fn engage(&self) {
        let views = [("views", 120), ("likes", 7), ("replies", 1), ("reposts", 2), ("quotes", 0), ("shares", 3)];
        self.fake.threads.set_insights(&self.threads_id("Hello from crier."), &views);
        self.fake.threads.set_insights(&self.threads_id("Chain part one."), &[("views", 50), ("likes", 4)]);
        self.fake.threads.set_insights(&self.threads_id("Chain part two."), &[("views", 20), ("likes", 1)]);
        let uri = self.fake.bluesky.records()[0].uri.clone();
        self.fake.bluesky.set_counts(&uri, &[("likeCount", 9), ("repostCount", 2), ("replyCount", 1)]);
        let status = self.fake.mastodon.statuses()[0].id.clone();
        self.fake.mastodon.set_counts(&status, 0, 1, 5);
        let article = self.fake.devto.articles()[0].id;
        self.fake.devto.set_counts(article, 300, 12, 4);
    }

    fn json(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        run.code(0);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{run}"))
    }
}

fn post<'a>(json: &'a Value, file: &str, platform: &str) -> &'a Value {
    json["posts"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["file"] == file && p["platform"] == platform))
        .unwrap_or_else(|| panic!("no {file} on {platform} in {json}"))
}

#[test]
fn json_has_every_platforms_numbers_and_leaves_unreported_metrics_out() {
    let w = World::new();
    let _origin = w.published();
    w.engage();
    let before = (
        w.fake.bluesky.count("app.bsky.feed.getPosts"),
        w.fake.devto.count("GET", "/articles/me/all"),
        w.fake.mastodon.count("GET", "/api/v1/statuses"),
    );
    let json = w.json(&["stats", "--format", "json"]);

    let m = |file: &str, platform: &str| post(&json, file, platform)["metrics"].clone();
    assert_eq!(
        m("content/hello.md", "threads"),
        serde_json::json!({"views": 120, "likes": 7, "replies": 1, "reposts": 2, "quotes": 0, "shares": 3})
    );
    // Bluesky reports no views and no shares: absent, not 0.
    assert_eq!(
        m("content/hello.md", "bluesky"),
        serde_json::json!({"likes": 9, "reposts": 2, "replies": 1, "quotes": 0, "bookmarks": 0})
    );
    assert_eq!(m("content/hello.md", "mastodon"), serde_json::json!({"likes": 5, "reposts": 1, "replies": 0}));
    assert_eq!(m("content/article.md", "devto"), serde_json::json!({"views": 300, "likes": 12, "replies": 4}));
    // A chain: its parts summed, the first part beside.
    let chain = post(&json, "content/chain.md", "threads");
    assert_eq!(chain["metrics"]["views"], 70);
    assert_eq!(chain["metrics"]["likes"], 5);
    assert_eq!(chain["first_part"]["views"], 50);
    assert!(chain["url"].as_str().is_some_and(|u| u.starts_with("https://")), "{chain}");
    assert!(chain["published_at"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(json["unavailable"], serde_json::json!([]));

    // Batches: one getPosts for Bluesky, one list for dev.to, one batch for Mastodon.
    let after = (
        w.fake.bluesky.count("app.bsky.feed.getPosts"),
        w.fake.devto.count("GET", "/articles/me/all"),
        w.fake.mastodon.count("GET", "/api/v1/statuses"),
    );
    assert_eq!(after, (before.0 + 1, before.1 + 1, before.2 + 1));
}

#[test]
fn csv_and_the_table_show_the_numbers_sorted_with_totals() {
    let w = World::new();
    let _origin = w.published();
    w.engage();

    let csv = w.run(&["stats", "--format", "csv", "--sort", "views"]);
    csv.code(0);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "file,platform,url,published_at,views,likes,replies,reposts,quotes,shares,bookmarks");
    assert!(lines[1].starts_with("content/article.md,devto,"), "most views first:\n{csv}");
    assert!(lines[1].ends_with(",300,12,4,,,,"), "absent metrics are empty:\n{csv}");
    assert_eq!(lines.len(), 6, "a header and five posts\n{csv}");

    let table = w.run(&["stats", "--sort", "likes"]);
    table.code(0);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.bind(|| insta::assert_snapshot!("stats_table", table.stdout));
}

#[test]
fn record_appends_every_post_on_every_run_and_shows_the_change() {
    let w = World::new();
    let origin = w.published();
    w.engage();

    let first = w.run(&["stats", "--record"]);
    first.code(0).stderr_has("recorded 5 row(s) in .crier/stats.jsonl").stderr_has("pushed");
    assert!(first.stdout.contains("new"), "nothing was recorded before:\n{first}");
    let history = w.read(".crier/stats.jsonl");
    assert_eq!(history.lines().count(), 5, "{history}");
    #[cfg(unix)]
    {
        // The history is an ordinary file of the repository, not a private temp file.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("mode").permissions().mode() & 0o777;
        std::fs::write(w.root().join("probe"), "x").expect("probe");
        assert_eq!(mode(&w.root().join(".crier/stats.jsonl")), mode(&w.root().join("probe")));
        std::fs::remove_file(w.root().join("probe")).expect("probe");
    }
    let row: Value = serde_json::from_str(history.lines().next().expect("a row")).expect("JSON line");
    assert_eq!(row["at"], NOW);
    for key in ["file", "platform", "id", "metrics"] {
        assert!(row.get(key).is_some(), "row lacks {key}: {row}");
    }
    let subject = git(origin.path(), &["log", "-1", "--format=%s", "main"]);
    assert_eq!(subject.trim(), "crier: record engagement [skip ci]");

    // A week later only the Bluesky post moved.
    let uri = w.fake.bluesky.records()[0].uri.clone();
    w.fake.bluesky.set_counts(&uri, &[("likeCount", 11), ("repostCount", 3)]);
    let second = w.crier_at(WEEK_LATER, &["stats", "--record"]);
    second.code(0).stderr_has("recorded 5 row(s)");
    let bluesky_line = second.stdout.lines().find(|l| l.contains("bluesky")).expect("a bluesky row");
    assert!(bluesky_line.ends_with("+2 likes +1 reposts"), "{second}");
    let history = w.read(".crier/stats.jsonl");
    assert_eq!(history.lines().count(), 10, "a row per post and platform on every run:\n{history}");
    let origin_history = git(origin.path(), &["show", "main:.crier/stats.jsonl"]);
    assert_eq!(origin_history, history, "the pushed history is the working one");
    assert_eq!(git(w.root(), &["status", "--porcelain"]).trim(), "", "nothing left uncommitted");

    // Nothing changed: the contract still wants a line per post and platform, committed.
    let head = git(w.root(), &["rev-parse", "HEAD"]);
    w.crier_at(WEEK_LATER, &["stats", "--record"]).code(0).stderr_has("recorded 5 row(s)");
    assert_ne!(git(w.root(), &["rev-parse", "HEAD"]), head, "the unchanged numbers are committed too");
    let history = w.read(".crier/stats.jsonl");
    assert_eq!(history.lines().count(), 15, "{history}");
    assert_eq!(git(origin.path(), &["log", "-1", "--format=%s", "main"]).trim(), "crier: record engagement [skip ci]");

    // The chart page draws both runs.
    w.crier_at(WEEK_LATER, &["stats", "--html", "stats.html"]).code(0);
    let page = w.read("stats.html");
    assert!(page.contains("<svg") && !page.contains("<script"), "self-contained SVG");
    assert!(page.contains("content/hello.md · bluesky"));
    assert!(page.contains("data-metric=\"likes\""));
}

#[test]
fn a_push_race_rebases_the_history_onto_the_remote() {
    let w = World::new();
    let origin = w.published();
    w.engage();
    w.run(&["stats", "--record"]).code(0);

    // Meanwhile another checkout records too and pushes first.
    let other = tempfile::tempdir().expect("tempdir");
    git(other.path(), &["clone", "-q", &origin.path().display().to_string(), "."]);
    let theirs = "{\"at\":\"2026-12-01T00:00:00Z\",\"file\":\"content/other.md\",\"platform\":\"devto\",\"id\":\"9\",\"metrics\":{\"likes\":1}}\n";
    let path = other.path().join(".crier/stats.jsonl");
    let mut text = std::fs::read_to_string(&path).expect("their history");
    text.push_str(theirs);
    std::fs::write(&path, text).expect("write");
    git(other.path(), &["commit", "-qam", "their stats"]);
    git(other.path(), &["push", "-q", "origin", "main"]);

    let uri = w.fake.bluesky.records()[0].uri.clone();
    w.fake.bluesky.set_counts(&uri, &[("likeCount", 20)]);
    w.crier_at(WEEK_LATER, &["stats", "--record"]).code(0).stderr_has("pushed");
    let pushed = git(origin.path(), &["show", "main:.crier/stats.jsonl"]);
    assert_eq!(pushed.lines().count(), 11, "theirs and ours:\n{pushed}");
    assert!(pushed.contains(theirs.trim()));
    let ours: Vec<&str> = pushed.lines().skip(6).collect();
    assert_eq!(ours.len(), 5, "ours come after theirs:\n{pushed}");
    assert!(ours.iter().any(|l| l.contains("\"bluesky\"") && l.contains("\"likes\":20")), "{pushed}");
    let log = git(origin.path(), &["log", "--format=%s", "main"]);
    assert!(log.starts_with("crier: record engagement [skip ci]\ntheir stats\n"), "{log}");
}

#[test]
fn a_platform_without_permission_is_unavailable_and_the_others_still_report() {
    let w = World::new();
    let _origin = w.published();
    w.engage();
    w.fake.threads.set_scope("threads_manage_insights", false);

    let run = w.run(&["stats", "--format", "json"]);
    run.code(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let unavailable = json["unavailable"].as_array().expect("a list");
    assert_eq!(unavailable.len(), 1, "{json}");
    assert_eq!(unavailable[0]["platform"], "threads");
    let reason = unavailable[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("threads_manage_insights") && reason.contains("crier auth threads"), "{reason}");
    assert!(json["posts"].as_array().is_some_and(|p| p.len() == 3 && p.iter().all(|p| p["platform"] != "threads")));

    let human = w.run(&["stats", "--platform", "threads"]);
    human.code(1).stdout_has(
        "nothing could be read:\nunavailable: threads: the token lacks the `threads_manage_insights` permission",
    );
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let w = World::new();
    let _origin = w.published();
    w.engage();
    let bar = "reading engagement [";
    // A terminal as people have them (indicatif draws nothing without TERM, or with `dumb`).
    let terminal = |args: &[&str]| w.command(args).env("TERM", "xterm-256color");
    let term = terminal(&["stats"]).run_on_terminal("");
    term.code(0).stdout_has(bar).stdout_has("content/hello.md");
    // The bar is gone before the table is printed: no bar nor escape code inside the table.
    let table = &term.stdout[term.stdout.rfind("post  ").expect("the table's header")..];
    assert!(!table.contains(bar) && !table.contains('\x1b'), "{term}");

    let piped = w.run(&["stats"]);
    piped.code(0);
    assert!(!piped.all().contains(bar), "not on a pipe\n{piped}");
    let under_ci = terminal(&["stats"]).env("CI", "true").run_on_terminal("");
    under_ci.code(0).stdout_has("content/hello.md");
    assert!(!under_ci.stdout.contains(bar), "not in CI\n{under_ci}");
    for quiet in [&["stats", "--format", "json"][..], &["stats", "-q"]] {
        let run = terminal(quiet).run_on_terminal("");
        run.code(0);
        assert!(!run.stdout.contains(bar), "not with {quiet:?}\n{run}");
    }
}

#[test]
fn nothing_published_yet_is_said_plainly_and_is_not_a_failure() {
    let w = World::new();
    w.file("content/hello.md", HELLO);
    let _origin = common::push_to_new_origin(w.root());
    let run = w.run(&["stats", "--record"]);
    run.code(0).stdout_has("nothing published yet: no post has a `published` record");
    assert!(!run.all().contains("could be read"), "{run}");
    assert!(!w.root().join(".crier/stats.jsonl").exists(), "nothing to record\n{run}");
    assert_eq!(git(w.root(), &["log", "--format=%s"]).trim(), "posts", "no commit");
    let json = w.json(&["stats", "--format", "json"]);
    assert_eq!(json, serde_json::json!({"posts": [], "unavailable": []}));

    // Published elsewhere only: nothing on the platform asked for.
    w.run(&["publish", "--no-push"]).code(0);
    w.run(&["stats", "--platform", "devto"]).code(0).stdout_has("nothing published on dev.to yet");
}

#[test]
fn a_server_without_the_batch_read_is_asked_status_by_status() {
    let w = World::with(fake_mastodon::FakeConfig { batch_statuses: false, ..fake_mastodon::FakeConfig::default() });
    let _origin = w.published();
    w.engage();
    let status = w.fake.mastodon.statuses()[0].id.clone();
    let single = format!("/api/v1/statuses/{status}");
    let before = w.fake.mastodon.count("GET", &single);
    let json = w.json(&["stats", "--format", "json", "--platform", "mastodon"]);
    assert_eq!(post(&json, "content/hello.md", "mastodon")["metrics"]["likes"], 5);
    assert_eq!(w.fake.mastodon.count("GET", &single), before + 1, "read once, on its own");
}

#[test]
fn record_without_a_remote_commits_locally() {
    let w = World::new();
    w.file("content/hello.md", HELLO);
    common::commit_all(w.root());
    w.run(&["publish", "--no-push"]).code(0);
    w.run(&["stats", "--record"]).code(0).stderr_has("not pushed (the branch has no remote)");
    let subject = git(w.root(), &["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "crier: record engagement [skip ci]");
    assert_eq!(w.read(".crier/stats.jsonl").lines().count(), 3, "threads, bluesky and mastodon");
}
