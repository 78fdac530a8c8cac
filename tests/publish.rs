//! `crier publish` end to end: the real binary against the fake Threads server.
//!
//! Each test owns a [`World`]: a temporary content repository, a multi-thread tokio runtime
//! running the fake server, and a helper that runs `crier -C <repo> --color never publish`
//! in a scrubbed environment. Every run is checked for leaking the access token.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_threads.rs"]
mod fake_threads;

#[cfg(unix)]
use common::signal;
use common::{Crier, Fixture, NOW, Run, git, png, wait_for};
use std::time::{Duration, Instant};

use fake_threads::{FakeConfig, FakePost, FakeThreads, Fault, Route};
use serde_json::Value;

/// The fast tunables every test uses (`extra` lines go under `publish:`).
fn config(extra: &str) -> String {
    format!(
        "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 2\n  \
         processing_timeout_secs: 5\n  poll_interval_ms: 20\n  \
         write_interval_ms: 10\n{extra}media:\n  base_url: \"https://cdn.example/\"\n"
    )
}

/// A fake config whose dropped replies hang longer than crier's 2 s request timeout.
fn fake_config() -> FakeConfig {
    FakeConfig { drop_hang: Duration::from_secs(5), ..FakeConfig::default() }
}

struct World {
    // Field order matters: the fake (its server task) goes before the runtime.
    fake: FakeThreads,
    devto: fake_devto::FakeDevto,
    rt: tokio::runtime::Runtime,
    repo: Fixture,
    token: String,
}

common::fixture_world!(World, repo);

impl World {
    /// `crier publish` succeeds, and `content/a.md` ([`TEXT_POST`]) is on Threads exactly
    /// once and recorded.
    #[track_caller]
    fn assert_published_once(&self) {
        let (_, posts) = self.publish_ok(1);
        assert_recorded(TEXT_POST, &self.read("content/a.md"), &[&posts[0]]);
    }

    fn new() -> Self {
        Self::with(fake_config(), "")
    }

    /// A world whose crier.yaml has `publish_extra` (indented lines) under `publish:`.
    fn with(cfg: FakeConfig, publish_extra: &str) -> Self {
        let rt = common::runtime(2);
        let fake = rt.block_on(FakeThreads::start(cfg));
        let devto_cfg =
            fake_devto::FakeConfig { drop_hang: Duration::from_secs(5), ..fake_devto::FakeConfig::default() };
        let devto = rt.block_on(fake_devto::FakeDevto::start(devto_cfg));
        let repo = Fixture::new("crier-publish-");
        let token = fake.token();
        let w = Self { fake, devto, rt, repo, token };
        w.file("crier.yaml", config(publish_extra));
        w
    }

    /// `crier publish` succeeds with `n` posts on Threads: the run and the posts.
    #[track_caller]
    fn publish_ok(&self, n: usize) -> (Run, Vec<FakePost>) {
        let run = self.publish(&[]);
        run.code(0);
        let posts = self.posts();
        assert_eq!(posts.len(), n, "{run}");
        (run, posts)
    }

    fn posts(&self) -> Vec<FakePost> {
        self.fake.published_posts()
    }

    /// `crier -C <repo> --color never ARGS…` against the fakes, with or without the tokens.
    fn crier(&self, args: &[&str], without_token: bool) -> Crier {
        let crier = self
            .repo
            .crier()
            .env("CRIER_THREADS_API_URL", self.fake.base_url())
            .env("CRIER_DEVTO_API_URL", self.devto.base_url())
            .args(args);
        if without_token {
            return crier;
        }
        crier.env("THREADS_ACCESS_TOKEN", &self.token).env("DEVTO_API_KEY", self.devto.api_key())
    }

    /// `crier … publish ARGS…` (with or without the tokens).
    fn command(&self, args: &[&str], without_token: bool) -> Crier {
        self.crier(&["publish"], without_token).args(args)
    }

    /// `crier -C <repo> --color never publish ARGS…` with the token set.
    fn publish(&self, args: &[&str]) -> Run {
        self.finish(self.command(args, false))
    }

    /// Publishes `text` (`parts` posts) at `rel`, loses the record (killed before writing
    /// it, a fresh clone without the commit, …) and publishes again, which must find the
    /// posts instead of publishing them twice. Returns the file as the first run left it.
    #[track_caller]
    fn publish_and_lose_the_record(&self, rel: &str, text: &str, parts: usize) -> String {
        self.file(rel, text);
        self.publish(&[]).code(0);
        let first = self.read(rel);
        assert_eq!(self.posts().len(), parts);
        self.file(rel, text);
        let run = self.publish(&[]);
        run.code(0);
        assert_eq!(self.posts().len(), parts, "still exactly {parts} posts\n{run}");
        first
    }

    fn publish_without_token(&self, args: &[&str]) -> Run {
        self.finish(self.command(args, true))
    }

    /// Runs it like [`Self::finish`], steering the running process with `steer`.
    #[track_caller]
    fn finish_steered(&self, crier: Crier, steer: impl FnOnce(&mut std::process::Child)) -> Run {
        let run = crier.run_steered(steer);
        self.assert_kept_secret(&run, &self.token);
        run
    }

    /// Runs it and checks that no secret leaked.
    #[track_caller]
    fn finish(&self, crier: Crier) -> Run {
        let run = crier.run();
        self.assert_kept_secret(&run, &self.token);
        run
    }

    /// `GET /v1.0/{id}?fields=…` on the fake, as a test-side check.
    fn graph_get(&self, id: &str, fields: &str) -> Value {
        let url = format!("{}/v1.0/{id}", self.fake.base_url());
        let token = self.token.clone();
        let fields = fields.to_owned();
        self.rt.block_on(async move {
            let resp = reqwest::Client::new()
                .get(url)
                .query(&[("fields", fields.as_str()), ("access_token", token.as_str())])
                .send()
                .await
                .expect("GET on the fake");
            resp.json::<Value>().await.expect("JSON from the fake")
        })
    }
}

/// A Markdown post.
fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

/// The front matter of a Markdown post, parsed.
fn front_matter(text: &str) -> Value {
    let rest = text.strip_prefix("---\n").expect("front matter opens the file");
    let end = rest.find("\n---\n").expect("front matter closes");
    serde_saphyr::from_str::<Value>(&rest[..=end]).expect("front matter parses")
}

/// `published.threads` of a Markdown post, if any.
fn record(text: &str) -> Option<Value> {
    front_matter(text).get("published").and_then(|p| p.get("threads")).cloned()
}

/// The file with crier's `published:` block (the key line and every indented line under it)
/// cut out.
fn without_published(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("published:") {
            inside = true;
            continue;
        }
        if inside && (line.starts_with(' ') || line.starts_with('\t')) {
            continue;
        }
        inside = false;
        out.push_str(line);
    }
    out
}

/// Asserts a complete record for `post` (a single post) or `parts` (a chain), and that the
/// file is the original plus the record.
#[track_caller]
fn assert_recorded(original: &str, now: &str, parts: &[&FakePost]) {
    let rec = record(now).unwrap_or_else(|| panic!("no published.threads record in:\n{now}"));
    let root = parts[0];
    assert_eq!(rec["id"], Value::from(root.id.clone()), "{rec}");
    assert!(now.contains(&format!("id: \"{}\"", root.id)), "the id is written as a quoted string:\n{now}");
    assert_eq!(rec["url"], Value::from(root.permalink.clone()), "{rec}");
    assert_eq!(rec["published_at"], NOW, "{rec}");
    let hash = rec["hash"].as_str().expect("hash is a string");
    let hex = hash.strip_prefix("sha256:").expect("hash is sha256:…");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    if parts.len() > 1 {
        let recorded = rec["parts"].as_array().unwrap_or_else(|| panic!("a chain records its parts: {rec}"));
        let got: Vec<(&str, &str)> =
            recorded.iter().map(|p| (p["id"].as_str().expect("id"), p["url"].as_str().expect("url"))).collect();
        let want: Vec<(&str, &str)> = parts.iter().map(|p| (p.id.as_str(), p.permalink.as_str())).collect();
        assert_eq!(got, want, "parts in order, the first included");
    } else {
        assert!(rec.get("parts").is_none(), "a single post has no parts: {rec}");
    }
    assert_eq!(without_published(now), original, "every byte outside the record is unchanged");
    // The record sits in the front matter, not the body.
    let close = now[4..].find("\n---\n").expect("front matter closes") + 4;
    assert!(now.find("published:").is_some_and(|i| i < close), "the record is inside the front matter:\n{now}");
}

const TEXT_POST: &str = "---\n# A hand-written comment that must survive.\nplatforms: [threads]\ntitle: 'Launch day'\n\
                         vars: {mood: \"happy\"}\n---\n\nWe launched **crier** today.\n\nIt publishes posts from git: \
                         [docs](https://example.org/docs) & more.\n";

// ---------------------------------------------------------------- 1. a text post

#[test]
fn text_post_is_published_once_and_recorded_without_touching_other_bytes() {
    let w = World::new();
    w.file("content/launch.md", TEXT_POST);
    let (run, posts) = w.publish_ok(1);
    let p = &posts[0];
    assert_eq!(p.media_type, "TEXT");
    assert_eq!(
        p.text.as_deref(),
        Some("We launched crier today.\n\nIt publishes posts from git: docs (https://example.org/docs) & more.")
    );
    assert!(p.reply_to.is_none());
    let now = w.read("content/launch.md");
    assert_recorded(TEXT_POST, &now, &[p]);
    assert!(run.stdout.contains(&p.permalink), "the summary shows the URL\n{run}");

    // A second run: nothing new, nothing sent twice, the file stays as it is.
    let calls = w.fake.calls();
    let again = w.publish(&[]);
    again.code(0);
    assert_eq!(w.posts().len(), 1, "{again}");
    assert_eq!(w.read("content/launch.md"), now);
    assert!(w.fake.containers_created() == 1, "no new container on the second run");
    assert!(w.fake.calls() == calls, "nothing due: the second run needs no API call\n{again}");
}

#[test]
fn yaml_post_is_recorded_in_its_top_level_mapping() {
    let w = World::new();
    let original = "# a YAML post\nplatforms: [threads]\ntext: |\n  Hello from a YAML post.\n";
    w.file("content/hello.yaml", original);
    w.publish(&[]).code(0);
    let posts = w.posts();
    assert_eq!(posts.len(), 1);
    let now = w.read("content/hello.yaml");
    let v: Value = serde_saphyr::from_str(&now).expect("still YAML");
    assert_eq!(v["published"]["threads"]["id"], Value::from(posts[0].id.clone()));
    assert_eq!(v["published"]["threads"]["url"], Value::from(posts[0].permalink.clone()));
    assert_eq!(without_published(&now), original);
}

// ---------------------------------------------------------------- 2. a chain

const CHAIN_POST: &str = "---\nplatforms: [threads]\n---\n\nFirst part of the chain.\n\n---\n\nSecond part, \
                          with a [link](https://example.org).\n\n---\n\nThird and last part.\n";

#[test]
fn chain_from_thematic_breaks_is_published_as_replies_and_recorded_in_order() {
    let w = World::new();
    w.file("content/chain.md", CHAIN_POST);
    let (_, posts) = w.publish_ok(3);
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_deref().unwrap_or("")).collect();
    assert_eq!(
        texts,
        ["First part of the chain.", "Second part, with a link (https://example.org).", "Third and last part."]
    );
    assert_eq!(posts[0].reply_to, None);
    assert_eq!(posts[1].reply_to.as_deref(), Some(posts[0].id.as_str()), "part 2 replies to part 1");
    assert_eq!(posts[2].reply_to.as_deref(), Some(posts[1].id.as_str()), "part 3 replies to part 2");
    let refs: Vec<&FakePost> = posts.iter().collect();
    assert_recorded(CHAIN_POST, &w.read("content/chain.md"), &refs);

    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 3, "a recorded chain is never published again");
}

// ---------------------------------------------------------------- 3. media

#[test]
fn image_post_and_carousel_send_public_urls_and_alt_text_and_wait_for_processing() {
    let w = World::with(FakeConfig { media_delay: Duration::from_millis(300), ..fake_config() }, "");
    w.file("media/a.png", png(640, 480)).file("media/b.png", png(800, 600));
    let image = md("platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: A square\n", "One picture.\n");
    let carousel = md(
        "platforms: [threads]\npublish_at: 2026-11-01T00:00:00Z\nmedia:\n  - path: media/a.png\n    alt: First image\n  \
         - path: media/b.png\n    alt: Second image\n",
        "Two pictures.\n",
    );
    w.file("content/image.md", &image).file("content/carousel.md", &carousel);
    let (run, posts) = w.publish_ok(2);
    let img = posts.iter().find(|p| p.media_type == "IMAGE").unwrap_or_else(|| panic!("an IMAGE post\n{run}"));
    assert_eq!(img.param("image_url"), Some("https://cdn.example/media/a.png"));
    assert_eq!(img.param("alt_text"), Some("A square"));
    assert_eq!(img.text.as_deref(), Some("One picture."));
    assert_recorded(&image, &w.read("content/image.md"), &[img]);

    let car = posts.iter().find(|p| p.media_type == "CAROUSEL").unwrap_or_else(|| panic!("a CAROUSEL post\n{run}"));
    assert_eq!(car.text.as_deref(), Some("Two pictures."));
    assert_eq!(car.children.len(), 2);
    let children = w.graph_get(&car.id, "children");
    let ids: Vec<&str> = children["children"]["data"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    let items: Vec<(String, String)> = ids
        .iter()
        .map(|id| {
            let m = w.graph_get(id, "media_url,alt_text");
            (m["media_url"].as_str().unwrap_or("").to_owned(), m["alt_text"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(
        items,
        [
            ("https://cdn.example/media/a.png".to_owned(), "First image".to_owned()),
            ("https://cdn.example/media/b.png".to_owned(), "Second image".to_owned())
        ]
    );
    assert_recorded(&carousel, &w.read("content/carousel.md"), &[car]);
}

// ---------------------------------------------------------------- 4. what is due

#[test]
fn drafts_and_future_posts_are_not_published_and_past_schedules_are() {
    let w = World::new();
    let draft = md("platforms: [threads]\ndraft: true\n", "Not yet.\n");
    let later = md("platforms: [threads]\npublish_at: 2026-12-01T09:00:00Z\n", "Next month.\n");
    let past = md("platforms: [threads]\npublish_at: 2026-11-28T09:59:00Z\n", "A minute ago.\n");
    w.file("content/draft.md", &draft).file("content/later.md", &later).file("content/past.md", &past);
    let run = w.publish(&[]);
    run.code(0);
    let posts = w.posts();
    assert_eq!(posts.iter().map(|p| p.text.as_deref().unwrap_or("")).collect::<Vec<_>>(), ["A minute ago."], "{run}");
    assert_eq!(w.read("content/draft.md"), draft);
    assert_eq!(w.read("content/later.md"), later);
    assert!(record(&w.read("content/past.md")).is_some());
    assert!(run.stdout.contains("published 1,"), "{run}");
    assert!(run.stdout.contains("scheduled later 1"), "the future post is reported as scheduled\n{run}");
    assert!(!run.stdout.contains("content/later.md → threads: http"), "{run}");

    // Once its time has come (a later CRIER_NOW), the scheduled post goes out.
    w.finish(w.command(&[], false).env("CRIER_NOW", "2026-12-01T09:00:00Z")).code(0);
    assert_eq!(w.posts().len(), 2);
    assert!(record(&w.read("content/later.md")).is_some());
    assert_eq!(w.read("content/draft.md"), draft);
}

#[test]
fn dry_run_sends_nothing_writes_nothing_and_lists_the_plan() {
    let w = World::new();
    let a = md("platforms: [threads]\n", "Due now.\n");
    let later = md("platforms: [threads]\npublish_at: 2026-12-01T09:00:00Z\n", "Next month.\n");
    w.file("content/a.md", &a).file("content/later.md", &later);
    let run = w.publish(&["--dry-run"]);
    run.code(0);
    assert_eq!(w.fake.calls(), 0, "no request reaches Threads\n{run}");
    assert_eq!(w.read("content/a.md"), a);
    assert_eq!(w.read("content/later.md"), later);
    assert!(run.stdout.contains("content/a.md → threads"), "the plan lists the due post\n{run}");
    assert!(run.stdout.contains("content/later.md → threads at 2026-12-01T09:00:00Z"), "{run}");

    // No token is needed to look at the plan.
    let run = w.publish_without_token(&["--dry-run"]);
    run.code(0);
    assert_eq!(w.fake.calls(), 0);
    assert!(run.stdout.contains("content/a.md → threads"), "{run}");
}

/// `--only` names posts; it cannot make a post of a file publish would never find.
#[test]
fn only_refuses_files_that_are_not_posts() {
    let w = World::new();
    let post = md("platforms: [threads]\n", "Not a post.\n");
    w.file(".gitignore", "content/private.md\n");
    for f in ["content/private.md", "content/_draft.md", "notes/n.md"] {
        w.file(f, &post);
    }
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("o.md"), &post).expect("write");
    let far = outside.path().join("o.md").display().to_string();
    for f in ["content/private.md", "content/_draft.md", "notes/n.md", far.as_str()] {
        let run = w.publish(&["--only", f]);
        run.code(2);
        assert!(
            run.stderr.contains("is not a post crier publishes") || run.stderr.contains("is outside the repository"),
            "{f}\n{run}"
        );
    }
    assert!(w.posts().is_empty(), "nothing was published");
    assert_eq!(std::fs::read_to_string(outside.path().join("o.md")).expect("read"), post, "nothing was written");
}

#[test]
fn only_publishes_just_the_named_files() {
    let w = World::new();
    let a = md("platforms: [threads]\n", "Post A.\n");
    let b = md("platforms: [threads]\n", "Post B.\n");
    w.file("content/a.md", &a).file("content/b.md", &b);
    let run = w.publish(&["--only", "content/b.md"]);
    run.code(0);
    let texts: Vec<String> = w.posts().iter().filter_map(|p| p.text.clone()).collect();
    assert_eq!(texts, ["Post B."], "{run}");
    assert_eq!(w.read("content/a.md"), a, "the other post is untouched");
    assert!(record(&w.read("content/b.md")).is_some());
}

#[test]
fn platform_filter_limits_the_run_to_that_platform() {
    let w = World::new();
    let both = md("platforms: [threads, devto]\ntitle: Both\n", "For both platforms.\n");
    let threads = md("platforms: [threads]\n", "Threads only.\n");
    w.file("content/both.md", &both).file("content/threads.md", &threads);

    // --platform devto: nothing goes to Threads.
    let run = w.publish(&["--platform", "devto"]);
    assert_eq!(w.fake.calls(), 0, "--platform devto sends nothing to Threads\n{run}");
    assert!(w.posts().is_empty());
    assert_eq!(w.read("content/threads.md"), threads);

    let run = w.publish(&["--platform", "threads"]);
    run.code(0);
    assert_eq!(w.posts().len(), 2, "{run}");
    assert!(!run.all().contains("devto"), "a threads-only run does not talk about dev.to\n{run}");
    assert!(record(&w.read("content/both.md")).is_some());

    let run = w.publish(&["--platform", "tiktok"]);
    run.code(2);
    assert!(run.all().contains("tiktok"), "{run}");
}

#[test]
fn max_per_run_defers_the_rest_to_the_next_run() {
    let w = World::with(fake_config(), "  max_per_run: 2\n");
    for name in ["a", "b", "c"] {
        w.file(&format!("content/{name}.md"), md("platforms: [threads]\n", &format!("Post {name}.\n")));
    }
    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.posts().len(), 2, "{run}");
    assert!(run.stdout.contains("published 2, deferred 1"), "{run}");
    assert!(run.stdout.contains("max_per_run"), "the reason is given\n{run}");
    let recorded = ["a", "b", "c"].iter().filter(|n| record(&w.read(&format!("content/{n}.md"))).is_some()).count();
    assert_eq!(recorded, 2);

    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.posts().len(), 3, "the deferred post goes out on the next run\n{run}");
    let texts: std::collections::BTreeSet<String> = w.posts().iter().filter_map(|p| p.text.clone()).collect();
    assert_eq!(texts.len(), 3, "three distinct posts, none twice");
}

// ---------------------------------------------------------------- 5. validation

#[test]
fn an_invalid_due_post_blocks_the_whole_run() {
    let w = World::new();
    let valid = md("platforms: [threads]\n", "A fine post.\n");
    let long = md("platforms: [threads]\n", &format!("{}\n", "word ".repeat(120).trim_end()));
    w.file("content/fine.md", &valid).file("content/long.md", &long);
    let run = w.publish(&[]);
    run.code(1);
    assert!(w.posts().is_empty(), "nothing is published, not even the valid post\n{run}");
    assert_eq!(w.fake.calls(), 0, "no request is sent\n{run}");
    assert_eq!(w.read("content/fine.md"), valid);
    assert_eq!(w.read("content/long.md"), long);
    assert!(run.all().contains("content/long.md"), "the error names the file\n{run}");
    assert!(run.all().contains("nothing was published"), "{run}");
}

// ---------------------------------------------------------------- 6. faults

#[test]
fn server_errors_before_acting_are_retried() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    w.fake.fail_next(Route::CreateContainer, Fault::Status(503, "<html>Service Unavailable</html>".into()));
    w.fake.fail_next(Route::CreateContainer, Fault::GraphError { code: 2, subcode: None, transient: true });
    w.fake.fail_next(Route::Publish, Fault::HtmlPage);
    w.fake.fail_next(Route::Media, Fault::Status(500, "oops".into()));
    w.assert_published_once();
}

#[test]
fn rate_limit_with_retry_after_is_waited_out() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    w.fake.fail_next(Route::CreateContainer, Fault::RateLimited { retry_after_secs: Some(1) });
    let started = Instant::now();
    let run = w.publish(&[]);
    run.code(0);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After is honoured");
    assert_eq!(w.posts().len(), 1, "{run}");
    assert!(record(&w.read("content/a.md")).is_some());
}

#[test]
fn rejected_token_stops_the_run_and_points_at_auth_refresh() {
    // Rejected on the very first call.
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    w.fake.fail_next(Route::Any, Fault::GraphError { code: 190, subcode: None, transient: false });
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.all().contains("crier auth refresh"), "{run}");
    assert!(w.posts().is_empty());
    assert!(record(&w.read("content/a.md")).is_none());

    // Rejected in the middle of the run (expired between calls): the run stops at once.
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    w.fake.fail_next(Route::CreateContainer, Fault::GraphError { code: 190, subcode: Some(463), transient: false });
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.all().contains("crier auth refresh"), "{run}");
    assert!(w.posts().is_empty(), "{run}");
    assert_eq!(w.fake.containers_created(), 0, "the second post is not attempted\n{run}");

    // An expired token.
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.fake.expire_token();
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.all().contains("crier auth refresh"), "{run}");
    assert!(w.posts().is_empty());
}

#[test]
fn an_invalid_parameter_fails_that_post_only_and_the_run_goes_on() {
    // Meta's `(#100) Invalid parameter` is an OAuthException, but the token is fine.
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    let body =
        r#"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"t"}}"#;
    w.fake.fail_next(Route::CreateContainer, Fault::Status(400, body.into()));
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.all().contains("Invalid parameter"), "{run}");
    assert!(!run.all().contains("crier auth refresh"), "not a token problem\n{run}");
    assert_eq!(w.posts().len(), 1, "the other post still went out\n{run}");
    let recorded: Vec<bool> = ["content/a.md", "content/b.md"].iter().map(|f| record(&w.read(f)).is_some()).collect();
    assert_eq!(recorded.iter().filter(|r| **r).count(), 1, "{run}");

    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 2);
    assert!(record(&w.read("content/a.md")).is_some() && record(&w.read("content/b.md")).is_some());
}

#[test]
fn lost_publish_reply_still_publishes_exactly_once_and_records_it() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    w.fake.fail_next(Route::Publish, Fault::DropAfterAction);
    w.assert_published_once();
}

#[test]
fn lost_publish_reply_on_a_reply_part_still_publishes_the_chain_once() {
    let w = World::new();
    w.file("content/chain.md", CHAIN_POST);
    w.fake.fail_next(Route::Publish, Fault::Delay(Duration::ZERO));
    w.fake.fail_next(Route::Publish, Fault::DropAfterAction);
    let (_, posts) = w.publish_ok(3);
    let refs: Vec<&FakePost> = posts.iter().collect();
    assert_recorded(CHAIN_POST, &w.read("content/chain.md"), &refs);
}

#[test]
fn chain_failing_at_part_two_resumes_there_on_the_next_run() {
    let w = World::new();
    w.file("content/chain.md", CHAIN_POST);
    // Part 1's container goes through; part 2's is throttled for longer than crier will wait.
    w.fake.fail_next(Route::CreateContainer, Fault::Delay(Duration::ZERO));
    w.fake.fail_next(Route::CreateContainer, Fault::RateLimited { retry_after_secs: Some(60) });
    let run = w.publish(&[]);
    run.code(1);
    assert_eq!(w.posts().len(), 1, "only part 1 went out\n{run}");
    assert!(run.all().contains("content/chain.md"), "the failure names the post\n{run}");
    assert!(record(&w.read("content/chain.md")).is_none(), "an incomplete chain is not recorded as done");
    assert_eq!(w.read("content/chain.md"), CHAIN_POST);

    let run = w.publish(&[]);
    run.code(0);
    let posts = w.posts();
    assert_eq!(posts.len(), 3, "the chain is completed without a second root\n{run}");
    assert_eq!(posts.iter().filter(|p| p.reply_to.is_none()).count(), 1, "one root");
    assert_eq!(posts[1].reply_to.as_deref(), Some(posts[0].id.as_str()), "part 2 replies to the first run's root");
    assert_eq!(posts[2].reply_to.as_deref(), Some(posts[1].id.as_str()));
    let refs: Vec<&FakePost> = posts.iter().collect();
    assert_recorded(CHAIN_POST, &w.read("content/chain.md"), &refs);
}

// ---------------------------------------------------------------- 7. lost records

#[test]
fn lost_record_is_found_again_instead_of_publishing_twice() {
    let w = World::new();
    let first = w.publish_and_lose_the_record("content/a.md", TEXT_POST, 1);
    let posts = w.posts();
    assert_recorded(TEXT_POST, &w.read("content/a.md"), &[&posts[0]]);
    let (a, b) = (record(&first).expect("first record"), record(&w.read("content/a.md")).expect("second record"));
    assert_eq!((&a["id"], &a["url"], &a["hash"]), (&b["id"], &b["url"], &b["hash"]));
}

#[test]
fn lost_chain_record_is_found_again_instead_of_publishing_twice() {
    let w = World::new();
    let first = w.publish_and_lose_the_record("content/chain.md", CHAIN_POST, 3);
    let posts = w.posts();
    let refs: Vec<&FakePost> = posts.iter().collect();
    assert_recorded(CHAIN_POST, &w.read("content/chain.md"), &refs);
    assert_eq!(record(&first), record(&w.read("content/chain.md")));
}

#[test]
fn lost_record_of_a_chain_with_a_picture_only_part_is_found_again() {
    // Reply endpoints give no `alt_text` (the fake refuses the field, as Threads may):
    // the picture-only part is recognised by the alt text read from the post itself.
    let w = World::new();
    w.file("media/a.png", png(640, 480));
    let post = md(
        "platforms: [threads]\nthread:\n  - Look at this.\n  - media:\n      - path: media/a.png\n        alt: A bar chart\n",
        "",
    );
    w.publish_and_lose_the_record("content/pic.md", &post, 2);
}

#[test]
fn process_killed_after_publishing_does_not_publish_twice() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    // Hold the first read after publishing (the permalink) so the process can be killed
    // after the post went out and before the record is written.
    w.fake.fail_next(Route::Media, Fault::Delay(Duration::from_secs(20)));
    let mut child = w.command(&[], false).spawn().expect("spawn crier");
    let started = Instant::now();
    while w.posts().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the post never went out");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("kill crier");
    let _ = child.wait();
    assert_eq!(w.read("content/a.md"), TEXT_POST, "killed before writing the record");

    w.assert_published_once();
}

#[test]
fn process_killed_with_containers_in_flight_publishes_each_post_once() {
    // Media takes 2 s to process, so the run creates the containers of several posts
    // (and the carousel's items) ahead and is killed while they are still processing.
    let w = World::with(FakeConfig { media_delay: Duration::from_secs(2), ..fake_config() }, "");
    w.file("media/a.png", png(640, 480)).file("media/b.png", png(800, 600));
    let post = |n: u32, media: &str| {
        md(
            &format!("platforms: [threads]\npublish_at: 2026-11-0{n}T00:00:00Z\nmedia:\n{media}"),
            &format!("Picture {n}.\n"),
        )
    };
    let one = "  - path: media/a.png\n    alt: A\n";
    let two = "  - path: media/a.png\n    alt: A\n  - path: media/b.png\n    alt: B\n";
    let files = [("content/p1.md", post(1, one)), ("content/p2.md", post(2, two)), ("content/p3.md", post(3, one))];
    for (path, text) in &files {
        w.file(path, text);
    }
    let mut child = w.command(&[], false).spawn().expect("spawn crier");
    let started = Instant::now();
    while w.fake.containers_created() < 4 {
        assert!(started.elapsed() < Duration::from_secs(30), "the containers were never created");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill crier");
    let _ = child.wait();
    assert!(w.posts().is_empty(), "killed while the media was processing: nothing published yet");
    for (path, text) in &files {
        assert_eq!(&w.read(path), text, "{path} is untouched");
    }

    let run = w.publish(&[]);
    run.code(0);
    let posts = w.posts();
    assert_eq!(posts.len(), 3, "each post exactly once\n{run}");
    for (i, (path, text)) in files.iter().enumerate() {
        let want = format!("Picture {}.", i + 1);
        let p = posts.iter().find(|p| p.text.as_deref() == Some(want.as_str()));
        let p = p.unwrap_or_else(|| panic!("{path} was published\n{run}"));
        assert_recorded(text, &w.read(path), &[p]);
    }
    assert_eq!(posts[0].text.as_deref(), Some("Picture 1."), "published in plan order");
    assert_eq!(posts[2].text.as_deref(), Some("Picture 3."), "published in plan order");
}

#[test]
fn the_published_urls_go_to_the_workflow_step_outputs() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    let outputs = w.root().join("github-output.txt");
    std::fs::write(&outputs, "earlier=1\n").expect("write");
    let run = w.finish(w.command(&[], false).env("GITHUB_OUTPUT", &outputs));
    run.code(0);
    let text = std::fs::read_to_string(&outputs).expect("read outputs");
    let line = text.lines().find_map(|l| l.strip_prefix("published=")).unwrap_or_else(|| panic!("{text}"));
    let list: Value = serde_json::from_str(line).expect("JSON on one line");
    let url = w.posts()[0].permalink.clone();
    assert_eq!(list, serde_json::json!([{"file": "content/a.md", "platform": "threads", "url": url}]));
    assert!(text.starts_with("earlier=1\n"), "appended, not overwritten: {text}");
}

// ---------------------------------------------------------------- 8. credentials

#[test]
fn missing_token_is_an_environment_error_naming_the_variable() {
    let w = World::new();
    let a = md("platforms: [threads]\n", "Post A.\n");
    w.file("content/a.md", &a);
    let run = w.publish_without_token(&[]);
    run.code(2);
    assert!(run.stderr.contains("THREADS_ACCESS_TOKEN"), "{run}");
    assert_eq!(w.fake.calls(), 0);
    assert_eq!(w.read("content/a.md"), a);

    // Nothing due: no token needed.
    let w = World::new();
    w.file("content/d.md", md("platforms: [threads]\ndraft: true\n", "Draft.\n"));
    w.publish_without_token(&[]).code(0);
}

#[test]
fn token_from_dotenv_is_used_and_never_printed() {
    let w = World::new();
    w.file(".env", format!("THREADS_ACCESS_TOKEN={}\n", w.token));
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let run = w.finish(w.command(&["-v"], true));
    run.code(0);
    assert!(!run.all().contains(&w.token));
    assert_eq!(w.posts().len(), 1, "{run}");
}

// ---------------------------------------------------------------- 9. quota

#[test]
fn used_up_quota_defers_the_rest() {
    let w = World::with(FakeConfig { publish_limit: 1, ..fake_config() }, "");
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.posts().len(), 1, "{run}");
    assert!(run.stdout.contains("published 1, deferred 1"), "{run}");
    assert!(run.stdout.contains("quota"), "the reason is given\n{run}");
    let recorded = ["a", "b"].iter().filter(|n| record(&w.read(&format!("content/{n}.md"))).is_some()).count();
    assert_eq!(recorded, 1);
}

// ---------------------------------------------------------------- more exactly-once and error cases

#[test]
fn lost_record_of_a_media_only_post_is_found_again() {
    let w = World::new();
    w.file("media/a.png", png(640, 480));
    let post = md("platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: Only a picture\n", "");
    w.file("content/pic.md", &post);
    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 1);
    assert!(record(&w.read("content/pic.md")).is_some());

    w.file("content/pic.md", &post);
    let run = w.publish(&[]);
    assert_eq!(w.posts().len(), 1, "an image post without text must not be published twice\n{run}");
}

#[test]
fn a_new_post_repeating_an_old_posts_text_is_published_not_adopted() {
    let w = World::new();
    let old = md("platforms: [threads]\n", "Good morning!\n");
    w.file("content/2026/old.md", &old);
    w.publish(&[]).code(0);
    let old_rec = record(&w.read("content/2026/old.md")).expect("old record");

    // Weeks later the same greeting is posted again, as a new file.
    w.file("content/2026/new.md", &old);
    let run = w.publish(&[]);
    run.code(0);
    let new_rec = record(&w.read("content/2026/new.md")).expect("new record");
    assert_ne!(old_rec["id"], new_rec["id"], "the new post must not be recorded as the old one\n{run}");
    assert_eq!(w.posts().len(), 2, "{run}");
}

#[test]
fn token_echoed_by_the_server_is_redacted() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let t = w.token.clone();
    w.fake.fail_next(
        Route::CreateContainer,
        Fault::Status(
            400,
            format!("{{\"error\":{{\"message\":\"Bad token {t}\",\"type\":\"THApiException\",\"code\":100}}}}"),
        ),
    );
    let run = w.publish(&["-v"]);
    run.code(1);
    assert!(!run.all().contains(&t), "the token leaked\n{run}");
    assert!(run.all().contains("[REDACTED]") || run.all().contains("Bad token"), "{run}");

    w.fake.fail_next(Route::CreateContainer, Fault::Status(502, format!("<html><body>gateway {t}</body></html>")));
    let run = w.publish(&[]);
    assert!(!run.all().contains(&t), "the token leaked\n{run}");
}

#[test]
fn a_container_that_fails_processing_fails_the_post_and_the_rerun_publishes_it() {
    let w = World::new();
    w.file("media/a.png", png(640, 480));
    w.file(
        "content/pic.md",
        md("platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: A picture\n", "Look.\n"),
    );
    w.fake.fail_next_container("INVALID_ASPEC_RATIO");
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.all().contains("aspect ratio"), "the error code is explained\n{run}");
    assert!(w.posts().is_empty());
    assert!(record(&w.read("content/pic.md")).is_none());

    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 1);
    assert!(record(&w.read("content/pic.md")).is_some());
}

#[test]
fn a_post_edited_after_publishing_is_reported_and_left_alone() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Original text.\n"));
    w.publish(&[]).code(0);
    let edited = w.read("content/a.md").replace("Original text.", "Edited text.");
    w.file("content/a.md", &edited);
    let plan = w.publish(&["--dry-run"]);
    plan.code(0);
    assert!(plan.stdout.contains("changed since it was published"), "{plan}");
    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.posts().len(), 1, "Threads posts cannot be edited: nothing new is posted");
    // The run says so too (the contract: "left alone with a warning"), not only the plan.
    assert!(
        run.stdout.contains("warning: left alone:\n  content/a.md → threads  https://www.threads.com/")
            && run
                .stdout
                .contains("changed since it was published; Threads posts cannot be edited, so it is left alone"),
        "{run}"
    );
}

// ---------------------------------------------------------------- git: commit and push the records

/// The world's repository as a clone of a bare `origin`, everything committed and pushed.
fn with_origin(w: &World) -> tempfile::TempDir {
    common::push_to_new_origin(w.root())
}

#[test]
fn records_are_committed_and_pushed_and_a_concurrent_push_is_survived() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("notes.txt", "scratch\n");
    let origin = with_origin(&w);
    // An unrelated uncommitted edit: never swept into crier's commit.
    w.file("notes.txt", "scratch, edited\n");

    let run = w.publish(&[]);
    run.code(0);
    assert!(run.stdout.contains("pushed"), "{run}");
    let log = git(origin.path(), &["log", "--format=%s", "main"]);
    assert_eq!(log.lines().next(), Some("crier: record published posts [skip ci]"), "{log}");
    let on_origin = git(origin.path(), &["show", "main:content/a.md"]);
    assert!(record(&on_origin).is_some(), "the record is on origin:\n{on_origin}");
    let committed = git(origin.path(), &["show", "--name-only", "--format=", "main"]);
    assert_eq!(committed.trim(), "content/a.md", "only the record's file is committed");
    assert_eq!(git(w.root(), &["status", "--porcelain"]).trim(), "M notes.txt");

    // A new post is merged (pushed), then someone else pushes meanwhile, before crier's run.
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    git(w.root(), &["add", "content/b.md"]);
    git(w.root(), &["commit", "-q", "-m", "post b"]);
    git(w.root(), &["push", "-q", "origin", "main"]);
    let other = tempfile::tempdir().expect("tempdir");
    git(other.path(), &["clone", "-q", &origin.path().display().to_string(), "."]);
    std::fs::write(other.path().join("README.md"), "hello\n").expect("write");
    git(other.path(), &["add", "README.md"]);
    git(other.path(), &["commit", "-q", "-m", "someone else"]);
    git(other.path(), &["push", "-q", "origin", "main"]);

    let run = w.publish(&[]);
    run.code(0);
    let log = git(origin.path(), &["log", "--format=%s", "main"]);
    assert!(log.contains("someone else") && log.matches("crier: record published posts").count() == 2, "{log}");
    assert!(record(&git(origin.path(), &["show", "main:content/b.md"])).is_some());
    assert_eq!(w.posts().len(), 2, "nothing published twice");
}

#[test]
fn no_commit_and_no_push_are_honoured() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let origin = with_origin(&w);
    w.publish(&["--no-commit"]).code(0);
    assert_eq!(git(w.root(), &["status", "--porcelain"]).trim(), "M content/a.md");

    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    let run = w.publish(&["--no-push"]);
    run.code(0);
    // The earlier uncommitted record is committed too.
    let files = git(w.root(), &["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.contains("content/a.md") && files.contains("content/b.md"), "{files}\n{run}");
    assert_eq!(git(origin.path(), &["log", "--format=%s", "main"]).lines().count(), 1, "nothing pushed");
}

#[test]
fn a_second_publish_in_the_same_checkout_is_refused() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let _origin = with_origin(&w);
    // A live process holds the lock as crier does (an exclusive lock on the file): this test.
    let path = w.root().join(".git/crier-publish.lock");
    std::fs::write(&path, format!("pid: {}\nhost: {}\n", std::process::id(), hostname())).expect("write");
    let held = std::fs::OpenOptions::new().read(true).write(true).open(&path).expect("open");
    held.try_lock().expect("lock");
    let run = w.publish(&[]);
    run.code(2);
    assert!(run.stderr.contains("another `crier publish` is running"), "{run}");
    assert!(run.stderr.contains(&format!("pid {}", std::process::id())), "the holder is named\n{run}");
    assert!(w.posts().is_empty());
    // Once the holder is gone (its lock ends with it), the file left behind blocks nothing.
    drop(held);
    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 1);
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

// ---------------------------------------------------------------- dev.to and cross-links

fn devto_record(text: &str) -> Option<Value> {
    front_matter(text).get("published").and_then(|p| p.get("devto")).cloned()
}

const ARTICLE: &str = "---\ntitle: Launching crier\nplatforms: [devto, threads]\ntags: [rust, git]\n\
    threads:\n  template: teaser\ndevto:\n  canonical_url: https://example.com/launch\n---\n\nThe article body.\n";

#[test]
fn article_and_teaser_go_out_in_order_exactly_once_and_edits_update_the_article() {
    let w = World::new();
    w.file("templates/teaser.hbs", "{{title}}: {{published.devto.url}}\n");
    w.file("content/launch.md", ARTICLE);
    let run = w.publish(&[]);
    run.code(0);
    let articles = w.devto.articles();
    assert_eq!(articles.len(), 1, "{run}");
    let posts = w.posts();
    assert_eq!(posts.len(), 1, "{run}");
    let text = posts[0].text.clone().unwrap_or_default();
    assert_eq!(text, format!("Launching crier: {}", articles[0].url), "the teaser links the real article");
    let file = w.read("content/launch.md");
    let dev = devto_record(&file).expect("dev.to record");
    assert_eq!(dev["url"], articles[0].url.as_str());
    assert_eq!(dev["id"], articles[0].id.to_string().as_str(), "ids are strings");
    assert!(record(&file).is_some());

    // Nothing twice.
    w.publish(&[]).code(0);
    assert_eq!((w.devto.articles().len(), w.posts().len()), (1, 1));

    // An edit to the article updates it in place; the Threads post is left alone.
    w.edit("content/launch.md", "The article body.", "The article body, edited.");
    let plan = w.publish(&["--dry-run"]);
    assert!(plan.stdout.contains("would update it in place"), "{plan}");
    let run = w.publish(&[]);
    run.code(0);
    let articles = w.devto.articles();
    assert_eq!(articles.len(), 1, "{run}");
    assert!(articles[0].body_markdown.contains("edited"), "{run}");
    assert_eq!(w.devto.count("PUT", ""), 1, "one update\n{run}");
    assert_eq!(w.posts().len(), 1);
    let new_hash = devto_record(&w.read("content/launch.md")).expect("record")["hash"].clone();
    assert_ne!(new_hash, dev["hash"], "the new hash is recorded");
}

#[test]
fn when_the_article_fails_the_teaser_waits_for_the_next_run() {
    let w = World::new();
    w.file("templates/teaser.hbs", "{{title}}: {{published.devto.url}}\n");
    w.file("content/launch.md", ARTICLE);
    w.devto.fail_next(
        fake_devto::Route::Create,
        fake_devto::Fault::Status(422, "{\"error\":\"Title has already been used\",\"status\":422}".into()),
    );
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.stdout.contains("Title has already been used"), "the server's message is shown\n{run}");
    assert!(run.stdout.contains("waits for its dev.to article"), "{run}");
    assert!(w.posts().is_empty(), "no teaser with a broken link\n{run}");

    w.publish(&[]).code(0);
    assert_eq!((w.devto.articles().len(), w.posts().len()), (1, 1));
}

#[test]
fn a_lost_create_reply_never_makes_a_second_article() {
    let w = World::new();
    w.file("content/a.md", "---\ntitle: Only once\nplatforms: [devto]\n---\n\nBody.\n");
    w.devto.fail_next(fake_devto::Route::Create, fake_devto::Fault::DropAfterAction);
    let _ = w.publish(&[]);
    w.publish(&[]).code(0);
    assert_eq!(w.devto.articles().len(), 1);
    assert!(devto_record(&w.read("content/a.md")).is_some());
}

// ---------------------------------------------------------------- text attachments, spoilers, ghost posts

/// A 3,000-character essay: a lead with a spoiler, then the long text with one link.
fn essay() -> String {
    md(
        "platforms: [threads]\nthreads:\n  split: attachment\n",
        &format!(
            "The twist: ||the butler|| did it — 🎉.\n\n{}\n\nSources: https://example.org/essay\n",
            "A long sentence about the mystery. ".repeat(85).trim_end()
        ),
    )
}

impl World {
    /// `crier -C <repo> --color never render ARGS…` (no token needed).
    fn render(&self, args: &[&str]) -> Run {
        self.finish(self.crier(&["render"], true).args(args))
    }
}

#[test]
fn an_essay_goes_out_as_one_post_with_a_text_attachment_and_a_spoiler() {
    let w = World::new();
    let original = essay();
    w.file("content/essay.md", &original);

    // The dry view first: the visible text, its spoiler in UTF-16 units, the attachment.
    let run = w.render(&["content/essay.md", "--format", "json"]);
    run.code(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("render JSON");
    let th = &json["platforms"]["threads"];
    let lead = "The twist: the butler did it — 🎉.";
    assert_eq!(th["parts"][0]["text"], lead, "{th}");
    assert_eq!(
        th["parts"][0]["text_entities"],
        serde_json::json!([{"entity_type": "SPOILER", "offset": 11, "length": 10}])
    );
    let plaintext = th["text_attachment"]["plaintext"].as_str().expect("attachment");
    assert!(plaintext.starts_with(lead) && plaintext.ends_with("Sources: https://example.org/essay"), "{plaintext}");
    assert!(plaintext.chars().count() > 3000 && !plaintext.contains("||"), "{}", plaintext.chars().count());
    assert_eq!(th["text_attachment"]["link_attachment_url"], "https://example.org/essay");

    let run = w.publish(&[]);
    run.code(0);
    let posts = w.posts();
    assert_eq!(posts.len(), 1, "one post, not a chain\n{run}");
    let p = &posts[0];
    assert_eq!(p.text.as_deref(), Some(lead));
    let sent: Value = serde_json::from_str(p.param("text_attachment").expect("text_attachment sent")).unwrap();
    assert_eq!(sent["plaintext"], plaintext);
    let entities: Value = serde_json::from_str(p.param("text_entities").expect("text_entities sent")).unwrap();
    assert_eq!(entities, th["parts"][0]["text_entities"]);
    assert!(!p.ghost && !p.spoiler_media);
    assert_recorded(&original, &w.read("content/essay.md"), &[p]);

    // The record is lost: the post is found again by its visible text, not sent twice.
    w.file("content/essay.md", &original);
    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), 1);
    assert_recorded(&original, &w.read("content/essay.md"), &[&w.posts()[0]]);
}

#[test]
fn ghost_posts_and_spoiler_media_are_sent_and_spoilers_are_plain_elsewhere() {
    let w = World::new();
    w.file(
        "content/ghost.md",
        md("platforms: [threads, devto]\ntitle: Ghost\nthreads:\n  ghost: true\n", "Gone in a day: ||boo||!\n"),
    );
    w.file("media/a.png", png(64, 64));
    w.file(
        "content/pic.md",
        md(
            "platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: A square\nthreads:\n  spoiler_media: true\n",
            "Look\n",
        ),
    );
    let (run, posts) = w.publish_ok(2);
    let ghost = posts.iter().find(|p| p.media_type == "TEXT").expect("ghost post");
    assert!(ghost.ghost && !ghost.spoiler_media);
    assert_eq!(ghost.text.as_deref(), Some("Gone in a day: boo!"));
    let e: Value = serde_json::from_str(ghost.param("text_entities").unwrap()).unwrap();
    assert_eq!(e, serde_json::json!([{"entity_type": "SPOILER", "offset": 15, "length": 3}]));
    let pic = posts.iter().find(|p| p.media_type == "IMAGE").expect("image post");
    assert!(pic.spoiler_media && !pic.ghost && pic.param("text_entities").is_none());
    assert_eq!(w.graph_get(&ghost.id, "ghost_post_status")["ghost_post_status"], "ACTIVE");
    assert_eq!(w.graph_get(&pic.id, "is_spoiler_media")["is_spoiler_media"], true);
    // dev.to has no inline spoiler: it gets the Markdown as written, bars included.
    let articles = w.devto.articles();
    assert_eq!(articles.len(), 1, "{run}");
    assert_eq!(articles[0].body_markdown.trim(), "Gone in a day: ||boo||!");
}

/// Outside GitHub Actions and without `media.base_url`, a repository image has no public
/// URL: `check` warns at the image in the body and at the Threads media item, and
/// `publish` sends neither the article (its image would be broken) nor the Threads post.
#[test]
fn images_without_a_public_url_are_not_sent() {
    let w = World::new();
    w.file("crier.yaml", config("").replace("media:\n  base_url: \"https://cdn.example/\"\n", ""));
    w.file("content/img/p.png", png(64, 64));
    w.file("content/art.md", md("platforms: [devto]\ntitle: Art\n", "Look: ![one](img/p.png)\n"));
    w.file(
        "content/pic.md",
        md("platforms: [threads]\nmedia:\n  - path: content/img/p.png\n    alt: A square\n", "Look\n"),
    );
    let check = w.finish(w.crier(&["check", "--format", "json"], true));
    check.code(0);
    let found: Vec<(String, String, u64, u64)> = check.json()["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (
                s("file"),
                format!("{} {}", s("code"), s("severity")),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let warning = "media-no-public-url warning".to_owned();
    assert_eq!(
        found,
        [("content/art.md".to_owned(), warning.clone(), 6, 14), ("content/pic.md".to_owned(), warning, 4, 5)],
        "{check}"
    );

    let run = w.publish(&[]);
    assert_ne!(run.code, 0, "{run}");
    assert!(run.all().matches("no public URL for content/img/p.png").count() >= 2, "{run}");
    assert!(w.devto.articles().is_empty(), "no article with a broken image\n{run}");
    assert!(w.posts().is_empty(), "{run}");
    assert!(!w.read("content/art.md").contains("published:"), "{run}");
}

#[test]
fn a_refused_combination_blocks_the_run_with_its_code() {
    let w = World::new();
    let post = md(
        "platforms: [threads]\nthreads:\n  split: attachment\n  ghost: true\n  poll:\n    options: [yes, no]\n",
        "Lead\n\nMore text.\n\n---\n\nStill the attachment.\n",
    );
    w.file("content/bad.md", &post);
    let run = w.publish(&[]);
    run.code(1);
    assert!(w.posts().is_empty(), "{run}");
    assert_eq!(w.fake.calls(), 0, "{run}");
    assert!(run.all().contains("threads-attachment-with-poll"), "{run}");
    assert!(run.all().contains("content/bad.md:4:10"), "file:line:column of `split`\n{run}");
    assert!(!run.all().contains("threads-ghost-in-chain"), "an attachment post is one part\n{run}");
}

#[test]
fn a_spoiler_cut_by_split_auto_stays_hidden_in_both_parts_and_in_thread_items() {
    let w = World::new();
    let long = "A sentence that keeps the secret going. ".repeat(15);
    w.file(
        "content/long.md",
        md("platforms: [threads]\nthreads:\n  split: auto\n", &format!("Open: ||{}||\n", long.trim_end())),
    );
    let run = w.render(&["content/long.md", "--format", "json"]);
    run.code(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("render JSON");
    let parts = json["platforms"]["threads"]["parts"].as_array().expect("parts").clone();
    assert_eq!(parts.len(), 2, "{json}");
    let units = |v: &Value| v.as_str().expect("text").encode_utf16().count();
    // Part 1: from after "Open: " to its end; part 2: all of it.
    let (t1, t2) = (&parts[0]["text"], &parts[1]["text"]);
    assert!(t1.as_str().unwrap().starts_with("Open: A sentence") && !t1.as_str().unwrap().contains("||"), "{t1}");
    assert_eq!(
        parts[0]["text_entities"],
        serde_json::json!([{"entity_type": "SPOILER", "offset": 6, "length": units(t1) - 6}])
    );
    assert_eq!(
        parts[1]["text_entities"],
        serde_json::json!([{"entity_type": "SPOILER", "offset": 0, "length": units(t2)}])
    );

    w.file(
        "content/items.yaml",
        "platforms: [threads]\nthread:\n  - \"Who did it?\"\n  - \"It was ||the butler||.\"\n",
    );
    w.publish(&["--only", "content/items.yaml"]).code(0);
    let posts = w.posts();
    assert_eq!(posts.len(), 2);
    assert!(posts[0].param("text_entities").is_none());
    assert_eq!(posts[1].text.as_deref(), Some("It was the butler."));
    let e: Value = serde_json::from_str(posts[1].param("text_entities").expect("entities on part 2")).unwrap();
    assert_eq!(e, serde_json::json!([{"entity_type": "SPOILER", "offset": 7, "length": 10}]));
}

// ---------------------------------------------------------------- engine hazards (issue 28, 21)

#[test]
fn one_file_named_twice_is_published_once() {
    let w = World::new();
    let a = md("platforms: [threads]\n", "Post A.\n");
    w.file("content/a.md", &a).file("content/sub/b.md", md("platforms: [threads]\ndraft: true\n", "B.\n"));
    let run = w.publish(&["--only", "content/a.md", "content/sub/../a.md", "./content/a.md"]);
    run.code(0);
    assert_eq!(w.posts().len(), 1, "one post, however the file is named\n{run}");
    assert!(run.stdout.contains("published 1,"), "{run}");
    assert!(record(&w.read("content/a.md")).is_some());
}

#[test]
fn a_template_linking_its_own_platform_is_refused_naming_it() {
    let w = World::new();
    // One template for every platform, linking the dev.to article: on dev.to that is the
    // article itself, whose URL does not exist before it is published.
    w.file("templates/shared.hbs", "{{title}}. Discuss: {{published.devto.url}}\n");
    let post = "---\ntitle: Launch\nplatforms: [threads, devto]\ntemplate: shared\n---\n\nBody.\n";
    w.file("content/launch.md", post);
    let run = w.publish(&[]);
    run.code(1);
    assert!(run.stderr.contains("self-link"), "{run}");
    assert!(run.stderr.contains("template `shared`") && run.stderr.contains("published.devto.url"), "{run}");
    assert!(w.posts().is_empty() && w.devto.articles().is_empty(), "nothing sent with a placeholder\n{run}");
    assert_eq!(w.read("content/launch.md"), post);
}

#[test]
fn a_post_whose_only_platform_is_misspelt_is_refused_not_skipped() {
    let w = World::new();
    let typo = md("platforms: [mastdon]\n", "Never silently skipped.\n");
    w.file("content/typo.md", &typo);
    for args in [&["--dry-run"][..], &[]] {
        let run = w.publish(args);
        run.code(1);
        assert!(run.stderr.contains("unknown-platform") && run.stderr.contains("content/typo.md"), "{run}");
        assert!(run.stderr.contains("nothing was published"), "{run}");
        assert!(!run.stdout.contains("no posts"), "{run}");
    }
    assert_eq!(w.read("content/typo.md"), typo);
}

#[cfg(unix)]
#[test]
fn sigterm_mid_run_finishes_the_post_in_flight_records_commits_pushes_and_exits_143() {
    // Every request takes 150 ms: the signal arrives while posts are still going out.
    let w = World::new();
    w.fake.set_latency(Duration::from_millis(150));
    let names: Vec<String> = (1..=6).map(|n| format!("content/p{n}.md")).collect();
    for (i, name) in names.iter().enumerate() {
        w.file(name, md("platforms: [threads]\n", &format!("Post {}.\n", i + 1)));
    }
    let origin = with_origin(&w);
    let run = w.finish_steered(w.command(&[], false), |child| {
        wait_for(child, "the first post", || !w.posts().is_empty());
        signal(child, "TERM");
    });
    run.code(143);
    let posts = w.posts();
    assert!(!posts.is_empty() && posts.len() < names.len(), "stopped starting posts\n{run}");
    assert!(run.stdout.contains("cancelled by SIGTERM") && run.stdout.contains("not started"), "{run}");
    // Every post that went out is recorded, committed and pushed: none depends on the next run.
    let on_origin: Vec<String> = names.iter().map(|n| git(origin.path(), &["show", &format!("main:{n}")])).collect();
    let recorded = on_origin.iter().filter(|t| record(t).is_some()).count();
    assert_eq!(recorded, posts.len(), "{run}");
    assert!(w.root().join(".git/crier-publish.lock").exists(), "the lock file stays, released");

    // The next run is not blocked, and publishes the rest exactly once.
    w.fake.set_latency(Duration::ZERO);
    w.publish(&[]).code(0);
    assert_eq!(w.posts().len(), names.len());
}

#[cfg(unix)]
#[test]
fn a_second_signal_exits_at_once() {
    let w = World::new();
    // The first post's publish call hangs: the first signal waits for it, the second does not.
    w.fake.fail_next(Route::Publish, Fault::Delay(Duration::from_secs(20)));
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let run = w.finish_steered(w.command(&[], false), |child| {
        wait_for(child, "the publish call", || w.fake.requests().iter().any(|(_, p)| p.ends_with("threads_publish")));
        signal(child, "INT");
        // The first signal is taken before the second one comes.
        std::thread::sleep(Duration::from_millis(200));
        signal(child, "INT");
    });
    run.code(130);
    assert!(run.stderr.contains("second signal"), "{run}");
    assert!(!run.stdout.contains("published 0"), "gone before the call in flight ended and the summary\n{run}");
}

#[test]
fn edits_made_while_the_run_is_going_are_checked_again() {
    let w = World::new();
    // The first post's reconciliation read hangs for a while: meanwhile the others are edited.
    w.fake.fail_next(Route::ListThreads, Fault::Delay(Duration::from_secs(2)));
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    w.file("content/b.md", md("platforms: [threads]\n", "Post B.\n"));
    w.file("content/c.md", md("platforms: [threads]\n", "Post C.\n"));
    w.file("content/d.md", md("platforms: [threads]\n", "Post D.\n"));
    let run = w.finish_steered(w.command(&[], false), |child| {
        wait_for(child, "the first read", || {
            w.fake.requests().iter().any(|(m, p)| m == "GET" && p.ends_with("/threads"))
        });
        w.file("content/b.md", md("platforms: [threads]\ndraft: true\n", "Post B.\n"));
        w.file("content/c.md", md("platforms: [threads]\n", &format!("{}\n", "word ".repeat(120).trim_end())));
        w.file("content/d.md", md("platforms: [devto]\ntitle: D\n", "Post D.\n"));
    });
    run.code(1);
    let texts: Vec<String> = w.posts().iter().filter_map(|p| p.text.clone()).collect();
    assert_eq!(texts, ["Post A."], "only the post that is still as checked\n{run}");
    assert!(run.stdout.contains("draft"), "{run}");
    assert!(run.stdout.contains("`crier check` now refuses it"), "{run}");
    assert!(run.stdout.contains("taken out of `platforms`"), "{run}");
    for f in ["b", "c", "d"] {
        assert!(record(&w.read(&format!("content/{f}.md"))).is_none(), "{f}");
    }
}

#[test]
fn a_prepared_container_is_not_reused_when_an_option_changed() {
    let w = World::with(FakeConfig { media_delay: Duration::from_millis(300), ..fake_config() }, "");
    w.file("media/a.png", png(640, 480));
    w.fake.fail_next(Route::ListThreads, Fault::Delay(Duration::from_secs(2)));
    w.file("content/a.md", md("platforms: [threads]\n", "Post A.\n"));
    let pic =
        |alt: &str| md(&format!("platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: {alt}\n"), "Pic.\n");
    w.file("content/b.md", pic("Old words"));
    let run = w.finish_steered(w.command(&[], false), |child| {
        wait_for(child, "the prepared container", || w.fake.containers_created() >= 1);
        w.file("content/b.md", pic("New words"));
    });
    run.code(0);
    let img = w.posts().into_iter().find(|p| p.media_type == "IMAGE").expect("the picture");
    assert_eq!(img.param("alt_text"), Some("New words"), "{run}");
}

#[test]
fn a_post_that_went_out_keeps_its_quota_even_if_it_then_fails() {
    let w = World::with(FakeConfig { publish_limit: 2, ..fake_config() }, "");
    for n in ["a", "b", "c"] {
        w.file(&format!("content/{n}.md"), md("platforms: [threads]\n", &format!("Post {n}.\n")));
    }
    // The permalink read after a's publish fails: a is out, and counts.
    w.fake.fail_next(Route::Media, Fault::GraphError { code: 10, subcode: None, transient: false });
    let run = w.publish(&[]);
    run.code(1);
    assert_eq!(w.posts().len(), 2, "{run}");
    assert!(run.stdout.contains("content/c.md → threads: the Threads publishing quota"), "c waits\n{run}");
    assert!(!run.stdout.contains("publishing limit of"), "nothing over the quota is attempted\n{run}");
}

#[test]
fn a_chain_that_does_not_fit_the_reply_quota_waits_whole() {
    let w = World::with(FakeConfig { reply_limit: 1, ..fake_config() }, "");
    w.file("content/chain.md", CHAIN_POST);
    let run = w.publish(&[]);
    run.code(0);
    assert!(w.posts().is_empty(), "no part-way chain\n{run}");
    assert!(run.stdout.contains("the whole chain waits"), "{run}");
    assert!(record(&w.read("content/chain.md")).is_none());
}

#[test]
fn containers_are_prepared_only_for_posts_within_the_quota() {
    let w = World::with(FakeConfig { publish_limit: 1, ..fake_config() }, "");
    w.file("media/a.png", png(640, 480));
    for n in 1..=4 {
        let front = format!("platforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: Picture {n}\n");
        w.file(&format!("content/p{n}.md"), md(&front, &format!("Picture {n}.\n")));
    }
    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.posts().len(), 1, "{run}");
    assert_eq!(w.fake.containers_created(), 1, "no container for a post the quota defers\n{run}");
}

#[test]
fn edits_in_place_are_capped_per_run_and_the_plan_says_what_waits() {
    let w = World::with(fake_config(), "  max_edits_per_run: 2\n");
    w.file("templates/devto.hbs", "{{text}}");
    for n in 1..=3 {
        w.file(&format!("content/a{n}.md"), md(&format!("title: Article {n}\nplatforms: [devto]\n"), "Body.\n"));
    }
    w.publish(&[]).code(0);
    assert_eq!(w.devto.articles().len(), 3);
    // A shared template changes: every article is changed.
    w.file("templates/devto.hbs", "{{text}}\n\nThanks for reading.\n");
    let plan = w.publish(&["--dry-run"]);
    assert_eq!(plan.stdout.matches("would update it in place").count(), 2, "{plan}");
    assert!(plan.stdout.contains("waits for a later run (publish.max_edits_per_run is 2)"), "{plan}");
    let run = w.publish(&[]);
    run.code(0);
    assert_eq!(w.devto.count("PUT", ""), 2, "{run}");
    assert!(run.stdout.contains("publish.max_edits_per_run"), "{run}");
    w.publish(&[]).code(0);
    assert_eq!(w.devto.count("PUT", ""), 3, "the rest goes next run");
}
