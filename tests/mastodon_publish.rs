//! `crier` end to end for Mastodon: the real binary against the fake Mastodon server —
//! check, dry run, publish (text, chain, image with alt text), records, reruns, edits,
//! doctor, a crash, delete and status. The fault matrix (every call × every fault, then a
//! rerun: each post ends up published exactly once) is in tests/faults.rs.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_mastodon.rs"]
mod fake_mastodon;

use std::time::{Duration, Instant};

use common::{NOW, git, png};
use fake_mastodon::{FakeConfig, FakeMastodon, Fault, Route};
use serde_json::Value;

common::world!(FakeMastodon, |f| [
    plain("MASTODON_INSTANCE", f.base_url()),
    secret("MASTODON_ACCESS_TOKEN", f.token())
]);

impl World {
    fn new() -> Self {
        Self::with(FakeConfig::default(), "")
    }

    fn with(cfg: FakeConfig, extra_config: &str) -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg = FakeConfig { drop_hang: Duration::from_secs(5), ..cfg };
        Self::configured(2, "crier-mastodon-", common::fast_config(extra_config), || FakeMastodon::start(cfg))
    }

    /// Statuses whose text is `text`.
    fn with_text(&self, text: &str) -> usize {
        self.fake.statuses().iter().filter(|s| s.text == text).count()
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

fn record(text: &str) -> Option<Value> {
    common::record(text, "mastodon")
}

#[test]
fn publishes_text_chain_and_image_once_and_records_them() {
    let w = World::new();
    w.file(
        "content/a.md",
        md(
            "platforms: [mastodon]\nmastodon:\n  visibility: unlisted\n  language: en\n",
            "Hello **Mastodon** & [crier](https://example.com/crier)!\n",
        ),
    );
    w.file(
        "content/chain.md",
        md("platforms: [mastodon]\n", "First part.\n\n---\n\nSecond part.\n\n---\n\nThird part.\n"),
    );
    w.file("media/bell.png", png(64, 32));
    w.file(
        "content/img.md",
        md("platforms: [mastodon]\nmedia:\n  - path: media/bell.png\n    alt: A bell above the words \"posts in git\"\nmastodon:\n  spoiler_text: bells\n  sensitive: true\n", "A picture.\n"),
    );
    let run = w.run(&["publish"]);
    run.code(0);
    let st = w.fake.statuses();
    assert_eq!(st.len(), 5, "{run}");
    let a = st.iter().find(|s| s.text.starts_with("Hello")).expect("a");
    assert_eq!(a.text, "Hello Mastodon & crier (https://example.com/crier)!");
    assert_eq!((a.visibility.as_str(), a.language.as_deref()), ("unlisted", Some("en")));
    let rec = record(&w.read("content/a.md")).expect("a recorded");
    assert_eq!(rec["id"], Value::String(a.id.clone()));
    assert_eq!(rec["url"], Value::String(format!("https://mastodon.example/@crier_tester/{}", a.id)));
    assert!(rec["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")));
    let chain = record(&w.read("content/chain.md")).expect("chain recorded");
    let parts = chain["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 3);
    let third = st.iter().find(|s| s.text == "Third part.").expect("third");
    assert_eq!(third.in_reply_to_id.as_deref(), parts[1]["id"].as_str());
    let img = st.iter().find(|s| s.text == "A picture.").expect("img");
    assert_eq!((img.spoiler_text.as_str(), img.sensitive), ("bells", true));
    assert_eq!(w.fake.media()[0].description.as_deref(), Some("A bell above the words \"posts in git\""));
    // A rerun publishes nothing more and sends no create.
    let creates = w.fake.count("POST", "/api/v1/statuses");
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.statuses().len(), 5);
    assert_eq!(w.fake.count("POST", "/api/v1/statuses"), creates);
}

#[test]
fn an_edited_post_updates_its_status_in_place_and_the_hash_follows() {
    let w = World::new();
    let before =
        w.publish_and_record("content/chain.md", md("platforms: [mastodon]\n", "One.\n\n---\n\nTwo.\n"), "mastodon");
    w.edit("content/chain.md", "Two.", "Two, edited.");
    let dry = w.run(&["publish", "--dry-run"]);
    dry.code(0);
    assert!(dry.all().contains("chain.md"), "{dry}");
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.count("PUT", ""), 1, "{run}");
    let st = w.fake.statuses();
    assert_eq!(st.len(), 2);
    assert_eq!(st[1].text, "Two, edited.");
    let after = record(&w.read("content/chain.md")).expect("recorded");
    assert_ne!(after["hash"], before["hash"]);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["parts"], before["parts"]);
    // A new part cannot be added to a published chain: said, and left alone.
    w.edit("content/chain.md", "Two, edited.", "Two, edited.\n\n---\n\nThree.");
    let run = w.run(&["publish"]);
    assert!(run.all().contains("3 statuses but 2 were published"), "{run}");
    assert_eq!(w.fake.statuses().len(), 2);
}

#[test]
fn check_counts_like_mastodon_and_crier_yaml_changes_the_limits() {
    let w = World::new();
    let long = format!("{} https://example.com/{}\n", "word ".repeat(96), "x".repeat(300));
    w.file("content/long.md", md("platforms: [mastodon]\n", &long));
    // 96 × "word " = 480 characters, a space, and the 324-character link counts 23: 504 > 500.
    let d = w.run(&["check", "--format", "json"]).code(1).first_diagnostic("mastodon-text-too-long");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("content/long.md"), Some(5), Some(1))
    );
    assert!(d["message"].as_str().is_some_and(|m| m.contains("504 characters")), "{d}");
    w.file("crier.yaml", common::fast_config("mastodon:\n  max_characters: 1000\n"));
    w.run(&["check"]).code(0);
    // `split: auto` makes a chain instead.
    w.file("crier.yaml", common::fast_config(""));
    w.file("content/long.md", md("platforms: [mastodon]\nmastodon:\n  split: auto\n", &long));
    let run = w.run(&["render", "content/long.md", "--format", "json"]);
    run.code(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["platforms"]["mastodon"]["parts"].as_array().map(Vec::len), Some(2), "{run}");
}

#[test]
fn a_post_the_instance_refuses_fails_with_a_diagnostic_before_sending() {
    let w = World::with(FakeConfig { max_characters: 100, ..FakeConfig::default() }, "");
    w.file("content/long.md", md("platforms: [mastodon]\n", &format!("{}\n", "word ".repeat(30))));
    w.file("content/ok.md", md("platforms: [mastodon]\n", "Short.\n"));
    let run = w.run(&["publish"]);
    run.code(1);
    assert!(run.all().contains("content/long.md:5:1"), "{run}");
    assert!(run.all().contains("at most 100"), "{run}");
    assert_eq!(w.with_text("Short."), 1, "the other post goes out");
    assert_eq!(w.fake.statuses().len(), 1);
}

#[test]
fn a_rejected_token_stops_mastodon_and_says_what_to_do() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [mastodon]\n", "One.\n"));
    w.file("content/b.md", md("platforms: [mastodon]\n", "Two.\n"));
    let run = w.finish(w.command(&["publish"]).env("MASTODON_ACCESS_TOKEN", "not-the-right-token"));
    run.code(1);
    assert!(run.all().contains("MASTODON_ACCESS_TOKEN"), "{run}");
    assert!(!run.all().contains("not-the-right-token"), "{run}");
    assert_eq!(w.fake.count("GET", "/verify_credentials"), 1, "the second post is not attempted");
    assert!(w.fake.statuses().is_empty());
}

#[test]
fn without_an_instance_crier_says_how_to_set_one() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [mastodon]\n", "One.\n"));
    let run = w.finish(w.command(&["publish"]).env_remove("MASTODON_INSTANCE"));
    assert_ne!(run.code, 0);
    assert!(run.all().contains("MASTODON_INSTANCE"), "{run}");
    // One that is not an address is a wrong environment: exit 2, nothing sent.
    let run = w.finish(w.command(&["publish"]).env("MASTODON_INSTANCE", "not a url"));
    run.code(2);
    assert!(run.all().contains("MASTODON_INSTANCE is `not a url`, not an http(s) URL"), "{run}");
    assert!(w.fake.statuses().is_empty());
    // crier.yaml `mastodon.instance` works too.
    w.file("crier.yaml", common::fast_config(&format!("mastodon:\n  instance: {}\n", w.fake.base_url())));
    w.finish(w.command(&["publish"]).env_remove("MASTODON_INSTANCE")).code(0);
    assert_eq!(w.with_text("One."), 1);
}

#[test]
fn doctor_names_the_account_and_the_instance() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [mastodon]\n", "One.\n"));
    let run = w.run(&["doctor"]);
    assert!(run.all().contains("@crier_tester on 127.0.0.1:"), "{run}");
    assert!(run.all().contains("500 characters"), "{run}");
    let run = w.finish(w.command(&["doctor"]).env("MASTODON_ACCESS_TOKEN", "not-the-right-token"));
    run.code(1);
    assert!(run.all().contains("Preferences → Development"), "{run}");
}

#[test]
fn a_crash_right_after_the_create_is_recorded_by_the_next_run_without_a_second_status() {
    // GoToSocial-like: the key is ignored, so only reconciliation can help.
    let w = World::with(FakeConfig { honour_idempotency: false, ..FakeConfig::default() }, "");
    w.file("content/a.md", md("platforms: [mastodon]\n", "Crash after create.\n"));
    w.fake.fail_next(Route::CreateStatus, Fault::DropAfterAction);
    let mut child = w.command(&["publish"]).spawn().expect("spawn");
    let started = Instant::now();
    while w.fake.statuses().is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill crier");
    let _ = child.wait();
    assert_eq!(w.fake.statuses().len(), 1);
    assert!(record(&w.read("content/a.md")).is_none(), "killed before the record");
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.statuses().len(), 1, "{run}");
    assert_eq!(
        record(&w.read("content/a.md")).expect("recorded")["id"],
        Value::String(w.fake.statuses()[0].id.clone())
    );
}

// ---------------------------------------------------------------- delete and status --remote

/// The recorded status ids of the post, first part first.
fn ids(w: &World, rel: &str) -> Vec<String> {
    let rec = record(&w.read(rel)).expect("recorded");
    match rec["parts"].as_array() {
        Some(parts) => parts.iter().map(|p| p["id"].as_str().unwrap_or_default().to_owned()).collect(),
        None => vec![rec["id"].as_str().unwrap_or_default().to_owned()],
    }
}

fn deletes(w: &World) -> Vec<String> {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect()
}

/// A post whose record points at `id` (a status crier did not publish).
fn handwritten(w: &World, rel: &str, id: &str) {
    w.file(
        rel,
        format!(
            "---\nplatforms: [mastodon]\npublished:\n  mastodon:\n    id: \"{id}\"\n    url: https://mastodon.example/@bob/{id}\n    published_at: \"{NOW}\"\n    hash: sha256:0\n---\nTheirs\n"
        ),
    );
}

#[test]
fn delete_takes_the_chain_down_records_and_commits_it_and_publish_leaves_it() {
    let w = World::new();
    w.file(
        "content/chain.md",
        md("platforms: [mastodon]\n", "First part.\n\n---\n\nSecond part.\n\n---\n\nThird part.\n"),
    );
    common::commit_all(w.root());
    w.run(&["publish", "--no-push"]).code(0);
    let parts = ids(&w, "content/chain.md");
    assert_eq!(parts.len(), 3);

    w.assert_delete_needs_yes("content/chain.md");
    assert_eq!(w.fake.statuses().len(), 3);

    let run = w.run(&["delete", "content/chain.md", "--yes", "--no-push"]);
    run.code(0).stdout_has("deleted, 3 parts").stdout_has("deleted 1, failed 0");
    assert!(w.fake.statuses().is_empty(), "every status is gone: {run}");
    assert_eq!(deletes(&w), vec![parts[2].clone(), parts[1].clone(), parts[0].clone()], "the last first");
    let rec = record(&w.read("content/chain.md")).expect("the entry stays");
    assert_eq!(rec["deleted_at"], NOW);
    assert_eq!(git(w.root(), &["log", "-1", "--format=%s"]).trim(), "crier: record deleted posts [skip ci]");
    assert_eq!(git(w.root(), &["status", "--porcelain"]).trim(), "");

    // Never published again, not even when the file changes (Mastodon edits in place).
    let text = w.read("content/chain.md").replace("Third part.", "Third part, reworded.");
    w.file("content/chain.md", text);
    let calls = w.fake.calls();
    w.run(&["publish", "--no-commit"]).code(0);
    assert!(w.fake.statuses().is_empty());
    assert_eq!(w.fake.calls(), calls, "nothing asked of the instance");
}

#[test]
fn status_remote_reports_gone_edited_and_another_account() {
    let w = World::new();
    for name in ["same", "gone", "edited"] {
        w.file(&format!("content/{name}.md"), md("platforms: [mastodon]\n", &format!("The {name} post\n")));
    }
    w.file("content/chain.md", md("platforms: [mastodon]\n", "Chain one\n\n---\n\nChain two\n\n---\n\nChain three\n"));
    w.run(&["publish"]).code(0);
    assert!(w.fake.delete_in_app(&ids(&w, "content/gone.md")[0]));
    assert!(w.fake.edit_in_app(&ids(&w, "content/edited.md")[0], "The edited post, changed in the app"));
    let chain = ids(&w, "content/chain.md");
    assert!(w.fake.delete_in_app(&chain[1]) && w.fake.delete_in_app(&chain[2]));
    let theirs = w.fake.seed_other("Not ours", "109000000000000777", "bob");
    handwritten(&w, "content/theirs.md", &theirs);

    let run = w.run(&["status", "--remote"]);
    run.code(0);
    let line = |file: &str| run.status_line(file, "mastodon");
    assert!(line("gone").contains("gone: the status is no longer on the instance"), "{run}");
    assert!(line("chain").contains("gone: statuses 2, 3 of 3 are no longer on the instance"), "{run}");
    assert!(
        line("edited")
            .contains("edited: the instance shows “…dited post, changed in the app”, crier sent “…dited post”"),
        "{run}"
    );
    assert!(
        line("theirs").contains(&format!("other account: status {theirs} belongs to another account (@bob)")),
        "{run}"
    );
    assert!(line("same").is_empty(), "{run}");
    assert!(run.stdout.contains("4 drifted, 0 not checked"), "{run}");

    let json = w.run(&["status", "--remote", "--format", "json"]);
    json.code(0);
    let state = |file: &str| json.remote_state(file, "mastodon");
    assert_eq!(
        ["same", "gone", "edited", "chain", "theirs"].map(state),
        ["same", "gone", "edited", "gone", "other-account"],
        "{json}"
    );
    assert_eq!(w.fake.count("DELETE", ""), 0, "read-only");
    assert_eq!(w.fake.count("PUT", ""), 0, "read-only");
}

#[test]
fn delete_after_a_lost_reply_is_recorded_on_the_same_run() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [mastodon]\n", "to be deleted\n"));
    w.run(&["publish"]).code(0);
    w.fake.fail_next(Route::DeleteStatus, Fault::DropAfterAction);
    let run = w.run(&["delete", "content/a.md", "--yes"]);
    run.code(0).stdout_has("deleted");
    assert!(w.fake.statuses().is_empty());
    assert_eq!(record(&w.read("content/a.md")).expect("entry")["deleted_at"], NOW);
}

#[test]
fn delete_of_a_status_already_gone_is_recorded() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [mastodon]\n", "gone in the app\n"));
    w.run(&["publish"]).code(0);
    assert!(w.fake.delete_in_app(&ids(&w, "content/a.md")[0]));
    let run = w.run(&["delete", "content/a.md", "--yes"]);
    run.code(0).stdout_has("deleted (it was already gone)");
    assert_eq!(record(&w.read("content/a.md")).expect("entry")["deleted_at"], NOW);
}

#[test]
fn the_delete_rate_limit_in_the_middle_of_a_chain_is_finished_by_the_rerun() {
    // Mastodon allows 30 deletions per 30 minutes; here 2.
    let w = World::with(FakeConfig { delete_limit: 2, ..FakeConfig::default() }, "");
    w.file("content/a.md", md("platforms: [mastodon]\n", "single\n"));
    w.file("content/b.md", md("platforms: [mastodon]\n", "Chain one\n\n---\n\nChain two\n"));
    w.file("content/c.md", md("platforms: [mastodon]\n", "another\n"));
    w.run(&["publish"]).code(0);
    let first = w.run(&["delete", "content", "--yes"]);
    first.code(1);
    assert!(first.stdout.contains("1 of 2 parts were deleted; run again to finish"), "{first}");
    assert!(first.stdout.contains("Mastodon rate limit reached"), "{first}");
    assert!(
        first.stdout.contains("not deleted: Mastodon's rate limit is reached (it allows 30 deletions per 30 minutes)"),
        "c waits: {first}"
    );
    assert_eq!(deletes(&w).len(), 3, "nothing sent after the limit");
    assert_eq!(record(&w.read("content/a.md")).expect("a")["deleted_at"], NOW);
    assert!(record(&w.read("content/b.md")).expect("b").get("deleted_at").is_none());
    assert_eq!(w.fake.statuses().len(), 2);

    // Half an hour later the rerun finishes: the status already gone costs no deletion.
    w.fake.pass_delete_window();
    let rerun = w.run(&["delete", "content", "--yes"]);
    rerun.code(0).stdout_has("already deleted at").stdout_has("deleted, 2 parts (1 already gone)");
    assert!(w.fake.statuses().is_empty(), "{rerun}");
    assert_eq!(record(&w.read("content/b.md")).expect("b")["deleted_at"], NOW);
    assert_eq!(record(&w.read("content/c.md")).expect("c")["deleted_at"], NOW);
}

#[test]
fn delete_refuses_a_status_of_another_account() {
    for (server, code) in [("Mastodon", 404), ("GoToSocial", 403)] {
        let w = World::with(FakeConfig { foreign_delete_status: code, ..FakeConfig::default() }, "");
        let theirs = w.fake.seed_other("Not ours", "109000000000000777", "bob");
        handwritten(&w, "content/theirs.md", &theirs);
        let run = w.run(&["delete", "content/theirs.md", "--yes"]);
        run.code(1);
        assert!(run.stdout.contains("belongs to another account (@bob)"), "{server}: {run}");
        assert_eq!(w.fake.statuses().len(), 1, "{server}");
        assert!(record(&w.read("content/theirs.md")).expect("entry").get("deleted_at").is_none(), "{server}");
    }
}

#[test]
fn adopt_by_id_records_when_the_status_was_posted_not_when_it_was_adopted() {
    let w = World::new();
    let id = w.fake.seed("Posted in the app.", None);
    let posted = w.fake.statuses().into_iter().find(|s| s.id == id).expect("seeded").created_at;
    w.file("content/a.md", md("platforms: [mastodon]\n", "Posted in the app.\n"));
    let run = w.finish(
        w.command(&["adopt", "content/a.md", "--platform", "mastodon", "--id", &id, "--no-commit"])
            .env("CRIER_NOW", "2031-05-05T05:05:05Z"),
    );
    run.code(0);
    let rec = common::record(&w.read("content/a.md"), "mastodon").expect("recorded");
    assert_eq!((rec["id"].as_str(), rec["published_at"].as_str()), (Some(id.as_str()), Some(posted.as_str())), "{run}");
}
