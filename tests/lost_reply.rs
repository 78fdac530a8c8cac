//! A post whose reply was lost on a platform that cannot say what it did (issue 26 item 7):
//! its entry says `unconfirmed: "…"`, and crier never sends it again on its own. The
//! engine's side, end to end through the binary on the fake dev.to server: the entry is
//! held back by `publish` (listed on every run, nothing sent), shown by `status`, refused
//! by `delete`, recorded by `adopt --id`, and sent again by `publish --resend` only. The
//! platforms that produce such entries (Telegram, Discord) test the write in their own files.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;

use common::git;
use std::time::Duration;

use fake_devto::{FakeConfig, FakeDevto};

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 1\n  request_timeout_secs: 2\n  \
     write_interval_ms: 10\n";

const POST: &str = "content/hello.md";

/// What the engine wrote when the reply of the send was lost.
const NOTE: &str = "the article “Hello” may be on dev.to";

common::world!(FakeDevto, |f| [plain("CRIER_DEVTO_API_URL", f.base_url()), secret("DEVTO_API_KEY", f.api_key())]);

impl World {
    /// A committed repository with one dev.to post whose reply was lost.
    fn new() -> Self {
        let cfg = FakeConfig { drop_hang: Duration::from_secs(5), ..FakeConfig::default() };
        let w = Self::configured(1, "crier-lost-", CONFIG, || FakeDevto::start(cfg));
        w.file(
            POST,
            format!(
                "---\ntitle: Hello\nplatforms: [devto]\npublished:\n  devto:\n    id: \"\"\n    url: \"\"\n    \
                 published_at: \"2026-11-28T09:00:00Z\"\n    hash: \"sha256:0\"\n    unconfirmed: \"{NOTE}\"\n---\nHello, world.\n"
            ),
        );
        w.pushed()
    }

    fn creates(&self) -> usize {
        self.fake.count("POST", "/articles")
    }
}

#[test]
fn an_unconfirmed_post_is_never_sent_again_on_its_own() {
    let w = World::new();
    let before = w.read(POST);
    for _ in 0..2 {
        // Listed on every run with what to check and the two ways out; not a failure.
        let run = w.run(&["publish"]);
        run.code(0).stdout_has("held back (sent, reply lost").stdout_has(NOTE);
        run.stdout_has(&format!("`crier adopt {POST} --platform devto --id ID`"))
            .stdout_has(&format!("`crier publish --resend {POST}`"));
        assert_eq!(w.creates(), 0, "nothing was sent\n{run}");
        assert_eq!(w.read(POST), before, "the entry is kept as it is");
    }
    w.run(&["publish", "--dry-run"]).code(0).stdout_has("held back (sent, reply lost").stdout_has(NOTE);
    let status = w.run(&["status"]);
    status.code(0).stdout_has("unconfirmed").stdout_has(&format!("sent, reply lost: {NOTE}"));
    let json = w.run(&["status", "--format", "json"]).json();
    let entry = &json["posts"].as_array().expect("posts")[0];
    assert_eq!((entry["state"].as_str(), entry["unconfirmed"].as_str()), (Some("unconfirmed"), Some(NOTE)), "{json}");
    // Nothing to delete until the user says which post it is.
    w.run(&["delete", POST, "--yes"]).code(1).stdout_has("sent, reply lost").stdout_has("--id ID");
    assert_eq!(w.read(POST), before);
}

#[test]
fn resend_sends_it_once_and_replaces_the_entry() {
    let w = World::new();
    // Only a post that is held back can be resent.
    w.file("content/other.md", "---\ntitle: Other\nplatforms: [devto]\ndraft: true\n---\nx\n");
    w.run(&["publish", "--resend", "content/other.md"]).code(2).stderr_has("nothing to send again");
    assert_eq!(w.creates(), 0);

    let run = w.run(&["publish", "--resend", POST]);
    run.code(0).stdout_has("published 1");
    assert_eq!(w.creates(), 1, "{run}");
    let text = w.read(POST);
    assert!(!text.contains("unconfirmed"), "the marker is gone:\n{text}");
    let article = &w.fake.articles()[0];
    assert!(text.contains(&format!("id: \"{}\"", article.id)), "recorded:\n{text}");
    assert!(
        git(w.root(), &["show", "HEAD:content/hello.md"]).contains(&format!("id: \"{}\"", article.id)),
        "committed"
    );
    // Recorded now: a plain run and another resend send nothing.
    w.run(&["publish"]).code(0);
    w.run(&["publish", "--resend", POST]).code(2);
    assert_eq!(w.creates(), 1);
}

#[test]
fn adopt_with_an_id_records_the_post_the_user_found() {
    let w = World::new();
    let id = w.fake.seed("Hello", "Hello, world.", true, None);
    // `--id` names one post on one platform.
    w.run(&["adopt", "--id", "1"]).code(2).stderr_has("one PATH and one --platform");
    let run = w.run(&["adopt", POST, "--platform", "devto", "--id", &id.to_string()]);
    run.code(0).stdout_has("found");
    let text = w.read(POST);
    assert!(!text.contains("unconfirmed") && text.contains(&format!("id: \"{id}\"")), "recorded:\n{text}");
    assert!(git(w.root(), &["show", "HEAD:content/hello.md"]).contains(&format!("id: \"{id}\"")), "committed");
    w.run(&["publish"]).code(0);
    assert_eq!(w.creates(), 0, "a recorded post is never sent");
}

#[test]
fn an_uncommitted_unconfirmed_entry_is_committed_with_its_marker() {
    let w = World::new();
    // An earlier run wrote the entry and died before committing: the next run commits it
    // as it is, marker included.
    git(w.root(), &["rm", "-q", "--cached", POST]);
    git(w.root(), &["commit", "-qm", "drop"]);
    w.file("content/new.md", "---\ntitle: New\nplatforms: [devto]\n---\nNew.\n");
    w.run(&["publish"]).code(0).stdout_has("published 1");
    let committed = git(w.root(), &["show", &format!("HEAD:{POST}")]);
    assert!(committed.contains(&format!("unconfirmed: \"{NOTE}\"")), "committed with the marker:\n{committed}");
}
