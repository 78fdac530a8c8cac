//! `crier` end to end for X: the real binary against the fake X server (which checks every
//! request's OAuth 1.0a signature and its conformance to the official OpenAPI definition):
//! the dry run's cost, publishing posts, chains and polls once, records, reruns, a lost
//! reply, duplicate content, the reply rules stopping a chain, the spending cap, a rejected
//! token, delete, status --remote and doctor.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_x.rs"]
mod fake_x;

use std::time::Duration;

use common::{Run, Var, png};
use fake_x::{FakeConfig, FakeX, Fault, Route};
use serde_json::Value;

type World = common::World<FakeX>;

impl common::Fakes for FakeX {
    fn env(&self) -> Vec<Var> {
        vec![
            Var::plain("CRIER_X_API_URL", self.base_url()),
            Var::secret("X_API_KEY", self.api_key()),
            Var::secret("X_API_SECRET", self.api_secret()),
            Var::secret("X_ACCESS_TOKEN", self.access_token()),
            Var::secret("X_ACCESS_TOKEN_SECRET", self.access_token_secret()),
        ]
    }

    /// Every request conformed to the OpenAPI definition.
    #[track_caller]
    fn check(&self, run: &Run) {
        assert_eq!(self.nonconforming(), Vec::<String>::new(), "requests off the OpenAPI definition\n{run}");
    }
}

impl World {
    fn new() -> Self {
        Self::with(FakeConfig::default(), "")
    }

    fn with(cfg: FakeConfig, extra_config: &str) -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg = FakeConfig { drop_hang: Duration::from_secs(5), ..cfg };
        Self::configured(2, "crier-x-", common::fast_config(extra_config), || FakeX::start(cfg))
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

fn record(text: &str) -> Option<Value> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let v: Value = serde_saphyr::from_str(&rest[..=end]).ok()?;
    v.get("published")?.get("x").cloned()
}

fn ids(w: &World, file: &str) -> Vec<String> {
    let rec = record(&w.read(file)).unwrap_or_else(|| panic!("{file} has no X record"));
    match rec["parts"].as_array() {
        Some(parts) => parts.iter().map(|p| p["id"].as_str().unwrap_or("").to_owned()).collect(),
        None => vec![rec["id"].as_str().unwrap_or("").to_owned()],
    }
}

#[test]
fn the_dry_run_says_what_the_run_would_cost_and_sends_nothing() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "A release: https://example.com/releases/v2\n"));
    w.file("content/b.md", md("platforms: [x]\n", "No link in this one.\n"));
    let run = w.run(&["publish", "--dry-run"]);
    run.code(0);
    assert!(run.stdout.contains("X: about $0.215 for 2 posts (1 with a URL)"), "{run}");
    assert!(run.stdout.contains("content/a.md → x  (1 part 34/280 $0.20)"), "{run}");
    assert_eq!(w.fake.calls(), 0, "a dry run asks nothing of X");
    // `x.prices` overrides the pricing page.
    w.file("crier.yaml", common::fast_config("x:\n  prices:\n    post_with_url: 0.25\n"));
    let run = w.run(&["publish", "--dry-run"]);
    assert!(run.stdout.contains("X: about $0.265 for 2 posts"), "{run}");
}

#[test]
fn publishes_a_post_a_chain_and_a_poll_once_and_records_them() {
    let w = World::new();
    w.file(
        "content/a.md",
        md("platforms: [x]\nx:\n  reply_settings: following\n", "Hello **X** & [crier](https://example.com/crier)!\n"),
    );
    w.file("content/chain.md", md("platforms: [x]\n", "First part.\n\n---\n\nSecond part.\n\n---\n\nThird part.\n"));
    w.file(
        "content/poll.md",
        md("platforms: [x]\nx:\n  poll:\n    options: [Tabs, Spaces]\n    duration_minutes: 1440\n", "Which one?\n"),
    );
    let run = w.run(&["publish"]);
    run.code(0);
    let tweets = w.fake.tweets();
    assert_eq!(tweets.len(), 5, "{run}");
    let a = tweets.iter().find(|t| t.text.starts_with("Hello")).expect("a");
    assert_eq!(a.text, "Hello X & crier (https://example.com/crier)!");
    assert_eq!(a.reply_settings.as_deref(), Some("following"));
    let rec = record(&w.read("content/a.md")).expect("a recorded");
    assert_eq!(rec["url"], Value::String(format!("https://x.com/crier_tester/status/{}", a.id)));
    let chain = ids(&w, "content/chain.md");
    assert_eq!(chain.len(), 3);
    let third = tweets.iter().find(|t| t.text == "Third part.").expect("third");
    assert_eq!(third.reply_to.as_deref(), Some(chain[1].as_str()));
    let poll = tweets.iter().find(|t| t.text == "Which one?").expect("poll");
    assert_eq!(poll.poll.as_ref().map(|p| p["options"].clone()), Some(serde_json::json!(["Tabs", "Spaces"])));
    // The summary says what the run spent: 5 posts, one with a URL, the account and its timeline.
    assert!(run.stdout.contains("X: spent about $0.27 (5 posts, 0 posts read"), "{run}");
    // One timeline page for the whole run, read once.
    assert_eq!(w.fake.count("GET", "/2/users/1234567890/tweets"), 1, "{run}");
    let creates = w.fake.count("POST", "/2/tweets");
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.tweets().len(), 5);
    assert_eq!(w.fake.count("POST", "/2/tweets"), creates, "a rerun sends no create");
}

#[test]
fn a_lost_reply_is_found_on_the_account_and_recorded_once() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "Lost in the mail: https://example.com/x\n"));
    w.fake.fail_next(Route::Create, Fault::DropAfterAction);
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.tweets().len(), 1, "{run}");
    assert_eq!(w.fake.count("POST", "/2/tweets"), 1, "never sent twice: {run}");
    assert_eq!(ids(&w, "content/a.md"), vec![w.fake.tweets()[0].id.clone()]);
}

#[test]
fn a_crash_after_the_create_is_reconciled_by_the_next_run() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "Posted before the crash\n"));
    // As if an interrupted run had posted it without recording it.
    let id = w.fake.seed("Posted before the crash", None);
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(ids(&w, "content/a.md"), vec![id]);
    assert_eq!(w.fake.count("POST", "/2/tweets"), 0, "{run}");
}

#[test]
fn duplicate_content_is_never_a_success_and_another_files_post_is_never_adopted() {
    let w = World::new();
    let theirs = w.fake.seed("Same words", None);
    w.file(
        "content/first.md",
        format!("---\nplatforms: [x]\npublished:\n  x:\n    id: \"{theirs}\"\n    url: https://x.com/crier_tester/status/{theirs}\n    published_at: \"2026-11-01T00:00:00Z\"\n    hash: \"sha256:0\"\n---\n\nSame words\n"),
    );
    w.file("content/second.md", md("platforms: [x]\n", "Same words\n"));
    let run = w.run(&["publish"]);
    run.code(1);
    assert!(run.all().contains("already exists"), "{run}");
    assert!(run.all().contains("did not send it again"), "{run}");
    assert_eq!(w.fake.tweets().len(), 1);
    assert!(record(&w.read("content/second.md")).is_none(), "not recorded with another file's post");
}

#[test]
fn a_chain_the_reply_rules_stop_fails_at_that_part_and_resumes_there() {
    let w = World::with(FakeConfig { refuse_replies_after: Some(1), ..FakeConfig::default() }, "");
    w.file("content/chain.md", md("platforms: [x]\n", "One.\n\n---\n\nTwo.\n\n---\n\nThree.\n"));
    let run = w.run(&["publish"]);
    run.code(1);
    assert!(run.all().contains("X refused part 3 of 3 as a reply"), "{run}");
    assert!(run.all().contains("the chain stopped at part 2; the next run resumes at part 3"), "{run}");
    assert_eq!(w.fake.tweets().len(), 2);
    assert!(record(&w.read("content/chain.md")).is_none());
    // The next run finds the two parts on the account and posts the third.
    w.fake.allow_replies();
    let run = w.run(&["publish"]);
    run.code(0);
    let tweets = w.fake.tweets();
    assert_eq!(tweets.len(), 3, "{run}");
    assert_eq!(ids(&w, "content/chain.md"), tweets.iter().map(|t| t.id.clone()).collect::<Vec<_>>());
    assert_eq!(tweets[2].reply_to.as_deref(), Some(tweets[1].id.as_str()));
}

#[test]
fn the_fake_refuses_requests_off_the_definition() {
    let w = World::new();
    let base = w.fake.base_url();
    w.rt.block_on(async {
        let client = reqwest::Client::new();
        let tweets = format!("{base}/2/tweets");
        let _ = client.post(&tweets).json(&serde_json::json!({"text": "hi", "bogus": true})).send().await;
        let _ = client.get(format!("{base}/2/users/me?colour=blue")).send().await;
        let _ = client.post(&tweets).json(&serde_json::json!({"text": "hi", "reply": {}})).send().await;
    });
    let found = w.fake.nonconforming();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("bogus"), "{found:?}");
    assert!(found[1].contains("undeclared query parameter `colour`"), "{found:?}");
    assert!(found[2].contains("in_reply_to_tweet_id"), "{found:?}");
}

#[test]
fn the_spending_cap_defers_what_would_pass_it() {
    let w = World::with(FakeConfig::default(), "  x_max_cost_per_run: 0.40\n");
    for name in ["a", "b", "c"] {
        w.file(
            &format!("content/{name}.md"),
            md("platforms: [x]\n", &format!("Post {name}: https://example.com/{name}\n")),
        );
    }
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.tweets().len(), 1, "{run}");
    assert!(run.stdout.contains("publish.x_max_cost_per_run ($0.40): next run"), "{run}");
    assert!(run.stdout.contains("deferred 2"), "{run}");
}

#[test]
fn a_rejected_token_stops_x_with_the_hint_to_run_crier_auth_x() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "Hello\n"));
    w.file("content/b.md", md("platforms: [x]\n", "Hello again\n"));
    let run = w.finish(w.command(&["publish"]).env("X_ACCESS_TOKEN_SECRET", "wrong-secret-value"));
    run.code(1);
    assert!(run.all().contains("crier auth x"), "{run}");
    assert!(w.fake.tweets().is_empty());
    assert_eq!(w.fake.count("GET", "/2/users/me"), 1, "X is stopped after the first refusal: {run}");
}

#[test]
fn a_rate_limit_waits_for_the_reset_and_goes_on() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "After the wait\n"));
    w.fake.fail_next(Route::Create, Fault::RateLimited { reset_in_secs: 1 });
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.with_text("After the wait"), 1, "{run}");
}

#[test]
fn delete_status_and_doctor() {
    let w = World::new();
    w.file("content/chain.md", md("platforms: [x]\n", "Chain one\n\n---\n\nChain two\n"));
    w.file("content/gone.md", md("platforms: [x]\n", "Soon gone\n"));
    w.file("media/a.png", png(8, 8));
    w.file("content/pic.md", md("platforms: [x]\nmedia:\n  - path: media/a.png\n    alt: A dot\n", "A picture\n"));
    w.run(&["publish", "--no-commit"]).code(0);
    let gone = ids(&w, "content/gone.md");
    w.fake.lock().tweets_remove(&gone[0]);
    let run = w.run(&["status", "--remote"]);
    run.code(0);
    let line = |file: &str| {
        run.stdout.lines().find(|l| l.contains(&format!("content/{file}.md → x"))).unwrap_or("").to_owned()
    };
    assert!(line("gone").contains("the post is no longer on X"), "{run}");
    assert!(line("chain").is_empty(), "{run}");
    assert!(line("pic").is_empty(), "X's media link at the end is not an edit: {run}");

    let chain = ids(&w, "content/chain.md");
    let run = w.run(&["delete", "content/chain.md", "--yes", "--no-commit"]);
    run.code(0);
    assert_eq!(w.fake.tweets().iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), ["A picture"], "{run}");
    assert_eq!(w.fake.count("DELETE", "/2/tweets/"), 2);
    assert_eq!(
        w.fake.requests().iter().filter(|r| r.method == "DELETE").map(|r| r.path.clone()).collect::<Vec<_>>(),
        vec![format!("/2/tweets/{}", chain[1]), format!("/2/tweets/{}", chain[0])],
        "the last part first"
    );

    let run = w.run(&["doctor"]);
    assert!(run.all().contains("X credentials accepted: @crier_tester"), "{run}");
}

#[test]
fn check_counts_as_x_counts() {
    let w = World::new();
    // 130 CJK characters weigh 260, a space 1, the link 23: 284 > 280.
    let long = format!("{} https://example.com/{}\n", "故".repeat(130), "x".repeat(100));
    w.file("content/long.md", md("platforms: [x]\n", &long));
    let d = w.run(&["check", "--format", "json"]).code(1).first_diagnostic("x-too-long");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(5), Some(1)));
    assert!(d["message"].as_str().is_some_and(|m| m.contains("284 weighted characters")), "{d}");
    w.file("content/long.md", md("platforms: [x]\nx:\n  split: auto\n", &long));
    let run = w.run(&["render", "content/long.md", "--format", "json"]);
    run.code(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["platforms"]["x"]["parts"].as_array().map(Vec::len), Some(2), "{run}");
}

#[test]
fn images_with_alt_text_and_a_video_are_uploaded_and_found_again_after_a_lost_reply() {
    let w = World::new();
    w.file("media/a.png", png(64, 32));
    w.file("media/b.png", png(16, 16));
    w.file("media/v.mp4", b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".repeat(1000));
    w.file(
        "content/pics.md",
        md(
            "platforms: [x]\nmedia:\n  - path: media/a.png\n    alt: A bell above the words \"posts in git\"\n  - path: media/b.png\n    alt: A dot\n",
            "Two pictures.\n",
        ),
    );
    w.file(
        "content/film.md",
        md("platforms: [x]\nmedia:\n  - path: media/v.mp4\n    alt: A short film\n", "A film.\n"),
    );
    // The reply to the post with pictures is lost: it is found on the account (its text
    // ends in the media's link there), not posted twice.
    w.fake.fail_next(Route::Create, Fault::DropAfterAction);
    let run = w.run(&["publish"]);
    run.code(0);
    let tweets = w.fake.tweets();
    assert_eq!(tweets.len(), 2, "{run}");
    let media = w.fake.media();
    let pics = tweets.iter().find(|t| t.text == "Two pictures.").expect("pictures");
    assert_eq!(pics.media_ids.len(), 2);
    let alts: Vec<Option<String>> =
        pics.media_ids.iter().map(|id| media.iter().find(|m| &m.id == id).and_then(|m| m.alt.clone())).collect();
    assert_eq!(alts, [Some("A bell above the words \"posts in git\"".to_owned()), Some("A dot".to_owned())]);
    let film = tweets.iter().find(|t| t.text == "A film.").expect("film");
    let video = media.iter().find(|m| m.id == film.media_ids[0]).expect("video");
    assert_eq!((video.category.as_str(), video.state.as_str()), ("tweet_video", "succeeded"));
    assert!(w.fake.count("POST", "/2/media/upload/") >= 3, "initialize, append, finalize");
    assert!(ids(&w, "content/pics.md") == [pics.id.clone()]);
}

#[test]
fn stats_read_x_only_when_asked_and_say_what_it_cost() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "Count me\n"));
    w.file("content/chain.md", md("platforms: [x]\n", "One\n\n---\n\nTwo\n"));
    w.run(&["publish", "--no-commit"]).code(0);
    let [a] = ids(&w, "content/a.md").try_into().expect("one part");
    let chain = ids(&w, "content/chain.md");
    w.fake.set_likes(&a, 7);
    w.fake.set_likes(&chain[0], 2);
    w.fake.set_likes(&chain[1], 3);
    // Without `stats.x`, X is not read (it costs money) and the output says how to ask.
    let lookups = w.fake.count("GET", "/2/tweets");
    let run = w.run(&["stats", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    assert!(v["unavailable"].to_string().contains("stats: {x: true}"), "{run}");
    assert_eq!(w.fake.count("GET", "/2/tweets"), lookups, "nothing read");

    w.file("crier.yaml", common::fast_config("stats:\n  x: true\n"));
    let run = w.run(&["stats", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    let metrics = |file: &str| {
        v["posts"]
            .as_array()
            .and_then(|l| l.iter().find(|p| p["file"] == file && p["platform"] == "x"))
            .map(|p| p["metrics"].clone())
            .unwrap_or_default()
    };
    assert_eq!(metrics("content/a.md")["likes"], 7, "{run}");
    assert_eq!(metrics("content/a.md")["views"], 70, "{run}");
    assert_eq!(metrics("content/chain.md")["likes"], 5, "the parts summed: {run}");
    assert_eq!(w.fake.count("GET", "/2/tweets") - lookups, 1, "three posts, one lookup");
    // What the reads cost is said among the steps (`-v`), and as a note on stderr anyway.
    let run = w.run(&["stats", "-v"]);
    assert!(run.stderr.contains("X: spent about $0.015 (0 posts, 3 posts read"), "{run}");
    let run = w.run(&["stats"]);
    assert!(run.stderr.contains("spent: X: spent about $0.015 (0 posts, 3 posts read"), "{run}");
    assert!(!run.stdout.contains("spent"), "stdout stays the table: {run}");
}

#[test]
fn a_hundred_posts_read_the_timeline_once() {
    let w = World::with(FakeConfig::default(), "  max_per_run: 100\n");
    for i in 0..100 {
        w.file(&format!("content/p{i:03}.md"), md("platforms: [x]\n", &format!("Post number {i}\n")));
    }
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    assert_eq!(w.fake.tweets().len(), 100, "{run}");
    assert_eq!(w.fake.count("POST", "/2/tweets"), 100);
    assert_eq!(w.fake.count("GET", "/2/users/1234567890/tweets"), 1, "read once, kept for the run");
    assert_eq!(w.fake.count("GET", "/2/users/me"), 1);
}

#[test]
fn crier_auth_x_gets_the_tokens_with_the_pin_and_writes_them_to_env() {
    use std::io::Write as _;
    let w = World::new();
    let crier = w
        .repo
        .crier()
        .env("CRIER_X_API_URL", w.fake.base_url())
        .env("X_API_KEY", w.fake.api_key())
        .env("X_API_SECRET", w.fake.api_secret())
        .args(["auth", "x", "--no-browser", "--write-env", ".env"]);
    let mut child = crier.spawn_with(std::process::Stdio::piped()).expect("spawn crier");
    writeln!(child.stdin.take().expect("stdin"), "7654321").expect("paste the PIN");
    let out = child.wait_with_output().expect("crier ends");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("/oauth/authorize?oauth_token=req-token-4711"), "{stderr}");
    let env = w.read(".env");
    for (k, v) in [
        ("X_API_KEY", w.fake.api_key()),
        ("X_API_SECRET", w.fake.api_secret()),
        ("X_ACCESS_TOKEN", w.fake.access_token()),
        ("X_ACCESS_TOKEN_SECRET", w.fake.access_token_secret()),
    ] {
        assert!(env.lines().any(|l| l == format!("{k}={v}")), "{k} in .env:\n{env}");
        assert!(!stdout.contains(&v) && !stderr.contains(&v), "{k} leaked:\n{stdout}\n{stderr}");
    }
    assert!(format!("{stdout}{stderr}").contains("@crier_tester"), "{stdout}\n{stderr}");
    // The tokens work: a post goes out with them.
    w.file("content/a.md", md("platforms: [x]\n", "Signed in\n"));
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.fake.with_text("Signed in"), 1);
}

#[test]
fn adopt_records_a_post_made_in_the_app_and_refuses_to_guess() {
    let w = World::new();
    let one = w.fake.seed("Made in the app", None);
    let two = w.fake.seed("Made in the app, then continued", Some(&one));
    w.file("content/a.md", md("platforms: [x]\n", "Made in the app\n\n---\n\nMade in the app, then continued\n"));
    let run = w.run(&["adopt", "--no-commit"]);
    run.code(0);
    assert_eq!(ids(&w, "content/a.md"), [one, two], "{run}");
    assert_eq!(w.fake.count("POST", "/2/tweets"), 0, "adopt posts nothing");
    // Two posts with the same text: none is taken.
    w.fake.seed("Twice", None);
    w.fake.seed("Twice", None);
    w.file("content/b.md", md("platforms: [x]\n", "Twice\n"));
    let run = w.run(&["adopt", "content/b.md", "--no-commit"]);
    assert!(run.all().contains("2 posts have this text"), "{run}");
    assert!(record(&w.read("content/b.md")).is_none());
}

#[test]
fn the_cap_counts_the_first_reads_too() {
    // $0.20 for the post, $0.01 for the account and up to $0.10 for a page of its posts.
    let w = World::with(FakeConfig::default(), "  x_max_cost_per_run: 0.25\n");
    w.file("content/a.md", md("platforms: [x]\n", "Post a: https://example.com/a\n"));
    let run = w.run(&["publish"]);
    run.code(0);
    assert!(w.fake.tweets().is_empty(), "{run}");
    assert!(run.stdout.contains("it would cost $0.31 on X"), "{run}");
    assert_eq!(w.fake.calls(), 0, "{run}");
}

#[test]
fn a_lookup_reply_crier_cannot_read_never_reports_posts_gone() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [x]\n", "Still on X\n"));
    w.run(&["publish", "--no-commit"]).code(0);
    w.fake.fail_next(Route::Lookup, Fault::Status(200, r#"{"data":{"id":"1"}}"#.into()));
    let run = w.run(&["status", "--remote"]);
    assert!(!run.all().contains("no longer on X"), "{run}");
    assert!(run.all().contains("unexpected shape"), "the reply is reported as what it is: {run}");
}
