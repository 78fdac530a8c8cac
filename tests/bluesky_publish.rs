//! `crier publish` (and check, render, doctor, delete, status) for Bluesky end to end: the
//! real binary against the fake PDS, crashes and lost replies included, and no secret in
//! any output. The fault matrix (every call × every fault) is in tests/faults.rs.

#[path = "support/common.rs"]
mod common;

#[path = "support/fake_bluesky.rs"]
mod fake_bluesky;
#[path = "support/fake_threads.rs"]
mod fake_threads;

use std::time::{Duration, Instant};

use common::{NOW, Run, git};
use fake_bluesky::{FakeBluesky, FakeConfig, Fault, Route};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);
const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n";

/// The PDS, and Threads beside it (a post on both goes on where Bluesky stops).
struct Fakes {
    pds: FakeBluesky,
    threads: fake_threads::FakeThreads,
}

common::world!(Fakes, |f| [
    plain("CRIER_BLUESKY_URL", f.pds.url()),
    plain("BLUESKY_IDENTIFIER", f.pds.handle()),
    secret("BLUESKY_APP_PASSWORD", f.pds.password()),
    issued("eyJfake"),
    plain("CRIER_THREADS_API_URL", f.threads.base_url()),
    secret("THREADS_ACCESS_TOKEN", f.threads.token()),
]);

impl World {
    fn new() -> Self {
        Self::with(FakeConfig { drop_hang: Duration::from_secs(4), ..FakeConfig::default() })
    }

    fn with(cfg: FakeConfig) -> Self {
        Self::configured(2, "crier-bluesky-", CONFIG, || async {
            let pds = FakeBluesky::start(cfg).await;
            Fakes { pds, threads: fake_threads::FakeThreads::start(fake_threads::FakeConfig::default()).await }
        })
    }

    fn record(&self, rel: &str) -> Option<Value> {
        let text = self.read(rel);
        let yaml = text.split("---").nth(1)?;
        let v: Value = serde_saphyr::from_str(yaml).ok()?;
        v.get("published")?.get("bluesky").cloned()
    }

    /// `crier delete TARGET --yes --no-commit`.
    fn delete(&self, target: &str) -> Run {
        self.run(&["delete", target, "--yes", "--no-commit"])
    }

    /// `crier delete REL` takes every record down, says `said`, and dates the entry now.
    #[track_caller]
    fn assert_deletes(&self, rel: &str, said: &str) {
        let run = self.delete(rel);
        run.code(0).stdout_has(said);
        assert!(self.fake.pds.records().is_empty(), "{run}");
        assert_eq!(self.deleted_at(rel), NOW);
    }

    /// When the record of `rel` says it was deleted (`null` when it does not).
    fn deleted_at(&self, rel: &str) -> Value {
        self.record(rel).expect("entry").get("deleted_at").cloned().unwrap_or(Value::Null)
    }
}

const POST: &str = "---\nplatforms: [bluesky]\nbluesky: {langs: [en]}\nmedia:\n  - {path: media/a.png, alt: A square}\n---\nHello [crier](http://127.0.0.1:9/x) #rust @bob.test 😀\n\n---\n\nSecond part\n";

fn world_with_post() -> World {
    let w = World::new();
    w.file("media/a.png", common::encoded_png(30, 20));
    w.file("content/hello.md", POST);
    w
}

#[test]
fn publishes_a_chain_with_facets_and_an_image_once() {
    let w = world_with_post();
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    let records = w.fake.pds.records();
    assert_eq!(records.len(), 2, "{run}");
    let first = &records.iter().find(|r| r.value.get("reply").is_none()).expect("root").value;
    assert_eq!(first["text"], "Hello crier #rust @bob.test 😀");
    assert_eq!(first["facets"].as_array().map(Vec::len), Some(3));
    assert_eq!(first["facets"][2]["features"][0]["did"], "did:plc:bobbobbobbobbobbobbobbob1");
    assert_eq!(first["embed"]["images"][0]["alt"], "A square");
    assert_eq!(first["embed"]["images"][0]["aspectRatio"]["width"], 30);
    let rec = w.record("content/hello.md").expect("recorded");
    assert!(
        rec["id"].as_str().is_some_and(|id| id.starts_with(&format!("at://{}/app.bsky.feed.post/", w.fake.pds.did())))
    );
    assert!(
        rec["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("https://bsky.app/profile/{}/post/", w.fake.pds.did())))
    );
    assert!(rec["cid"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(rec["parts"].as_array().map(Vec::len), Some(2));
    assert!(rec["parts"][1]["cid"].is_string());
    assert_eq!(w.fake.pds.sessions(), 1);

    // Recorded: the next run does nothing, not even sign in.
    let calls = w.fake.pds.calls();
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.fake.pds.calls(), calls);
}

#[test]
fn a_lost_write_back_is_found_again_not_posted_twice() {
    // The state a crash between publishing and writing the record leaves: posts on
    // Bluesky, nothing in the file. The rerun (any clone) lands on the same keys.
    let w = world_with_post();
    // Outside git, a post without `publish_at` takes its record keys from the file's
    // modification time, which a crash before the write-back leaves as it was.
    let path = w.root().join("content/hello.md");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
    w.run(&["publish", "--no-commit"]).code(0);
    let recorded = w.record("content/hello.md").expect("recorded");
    w.file("content/hello.md", POST);
    std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(modified)).expect("set mtime");
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.fake.pds.records().len(), 2);
    let again = w.record("content/hello.md").expect("recorded again");
    assert_eq!(again["id"], recorded["id"]);
    assert_eq!(again["cid"], recorded["cid"]);
}

#[test]
fn killed_while_the_reply_hangs_then_rerun_publishes_once() {
    let w = World::with(FakeConfig { drop_hang: Duration::from_secs(30), ..FakeConfig::default() });
    w.file("content/solo.md", "---\nplatforms: [bluesky]\n---\nkilled mid-flight\n");
    w.fake.pds.fail_next(Route::PutRecord, Fault::DropAfterAction);
    let mut child = w.command(&["publish", "--no-commit"]).spawn().expect("spawn");
    let started = Instant::now();
    while w.fake.pds.records().is_empty() && started.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(w.fake.pds.records().len(), 1, "the write landed");
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(w.record("content/solo.md").is_none(), "killed before recording");
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.fake.pds.records().len(), 1);
    assert_eq!(w.record("content/solo.md").expect("recorded")["id"], w.fake.pds.records()[0].uri.as_str());
}

#[test]
fn a_bad_password_stops_bluesky_only() {
    let w = World::new();
    w.file("content/b.md", "---\nplatforms: [bluesky]\n---\nto bluesky\n");
    w.file("content/t.md", "---\nplatforms: [threads]\n---\nto threads\n");
    let run = w.finish(w.command(&["publish", "--no-commit"]).env("BLUESKY_APP_PASSWORD", "wrong-pass-word-0000"));
    run.code(1);
    assert!(!run.all().contains("wrong-pass-word-0000"));
    assert!(run.all().contains("BLUESKY_APP_PASSWORD"), "{run}");
    assert!(w.fake.pds.records().is_empty());
    assert_eq!(w.fake.threads.published_posts().len(), 1, "Threads went on: {run}");
}

#[test]
fn check_render_and_doctor_speak_bluesky() {
    let w = world_with_post();
    w.file("content/long.md", format!("---\nplatforms: [bluesky]\n---\n{}\n", "mot ".repeat(80)));
    let run = w.run(&["check", "--format", "json"]);
    run.code(1);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    let d = v["diagnostics"].as_array().expect("diagnostics");
    assert!(
        d.iter().any(|d| d["code"] == "bluesky-text-too-long" && d["file"] == "content/long.md" && d["line"] == 4),
        "{run}"
    );

    let run = w.run(&["render", "content/hello.md", "--platform", "bluesky", "--format", "json"]);
    run.code(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    let parts = &v["platforms"]["bluesky"]["parts"];
    assert_eq!(parts[0]["text"], "Hello crier #rust @bob.test 😀");
    assert_eq!(parts[0]["facets"][0]["index"], serde_json::json!({"byteStart": 6, "byteEnd": 11}));
    assert_eq!(parts[0]["facets"][2]["features"][0]["handle"], "bob.test");
    assert_eq!(parts[1]["text"], "Second part");

    let run = w.run(&["doctor"]);
    assert!(run.all().contains(&format!("signed in as @{}", w.fake.pds.handle())), "{run}");
    let bad = w.finish(w.command(&["doctor"]).env("BLUESKY_APP_PASSWORD", "wrong-pass-word-0000"));
    assert!(bad.all().contains("Bluesky refused the sign-in"), "{bad}");
}

#[test]
fn dry_run_plans_without_writing() {
    let w = world_with_post();
    let run = w.run(&["publish", "--dry-run"]);
    run.code(0);
    assert!(run.all().to_lowercase().contains("bluesky"), "{run}");
    assert_eq!(w.fake.pds.calls(), 0);
    assert!(w.record("content/hello.md").is_none());
}

// ---------------------------------------------------------------- delete and status --remote

fn rkey_of(uri: &str) -> String {
    uri.rsplit('/').next().unwrap_or_default().to_owned()
}

/// The record keys of the post's parts, first part first.
fn part_keys(w: &World, rel: &str) -> Vec<String> {
    let rec = w.record(rel).expect("recorded");
    match rec["parts"].as_array() {
        Some(parts) => parts.iter().map(|p| rkey_of(p["id"].as_str().unwrap_or_default())).collect(),
        None => vec![rkey_of(rec["id"].as_str().unwrap_or_default())],
    }
}

fn delete_calls(w: &World) -> Vec<String> {
    w.fake
        .pds
        .requests()
        .iter()
        .filter(|r| r.nsid() == "com.atproto.repo.deleteRecord")
        .map(|r| r.body.as_ref().and_then(|b| b["rkey"].as_str()).unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn delete_takes_the_chain_down_records_and_commits_it_and_publish_leaves_it() {
    let w = world_with_post();
    common::commit_all(w.root());
    w.run(&["publish", "--no-push"]).code(0);
    let keys = part_keys(&w, "content/hello.md");
    assert_eq!(keys.len(), 2);

    w.assert_delete_needs_yes("content/hello.md");
    assert_eq!(w.fake.pds.records().len(), 2);

    let run = w.run(&["delete", "content/hello.md", "--yes", "--no-push"]);
    run.code(0).stdout_has("deleted, 2 parts").stdout_has("deleted 1, failed 0");
    assert!(w.fake.pds.records().is_empty(), "every part is gone: {run}");
    assert_eq!(delete_calls(&w), vec![keys[1].clone(), keys[0].clone()], "the last part first");
    let rec = w.record("content/hello.md").expect("the entry stays");
    assert_eq!(rec["deleted_at"], NOW);
    assert_eq!(rkey_of(rec["id"].as_str().unwrap_or_default()), keys[0], "the ids stay");
    assert_eq!(git(w.root(), &["log", "-1", "--format=%s"]).trim(), "crier: record deleted posts [skip ci]");
    assert_eq!(git(w.root(), &["status", "--porcelain"]).trim(), "");

    // Deleted means never published again, and a second delete has nothing to do.
    let puts = w.fake.pds.count("com.atproto.repo.putRecord");
    w.run(&["publish", "--no-push"]).code(0);
    assert!(w.fake.pds.records().is_empty());
    assert_eq!(w.fake.pds.count("com.atproto.repo.putRecord"), puts);
    let again = w.run(&["delete", "content/hello.md", "--yes", "--no-push"]);
    again.code(0).stdout_has("already deleted at");
    assert_eq!(delete_calls(&w).len(), 2);
}

#[test]
fn status_remote_reports_gone_edited_and_another_account() {
    let w = World::new();
    for name in ["same", "gone", "edited", "chain"] {
        w.file(&format!("content/{name}.md"), format!("---\nplatforms: [bluesky]\n---\nThe {name} post\n"));
    }
    w.file("content/chain.md", "---\nplatforms: [bluesky]\n---\nChain one\n\n---\n\nChain two\n\n---\n\nChain three\n");
    w.run(&["publish", "--no-commit"]).code(0);
    assert!(w.fake.pds.remove_in_app(&part_keys(&w, "content/gone.md")[0]));
    w.fake
        .pds
        .rewrite_in_app(&part_keys(&w, "content/edited.md")[0], "The edited post, changed elsewhere")
        .expect("there");
    assert!(w.fake.pds.remove_in_app(&part_keys(&w, "content/chain.md")[1]));
    let (other, uri) = claim_theirs(&w);

    let run = w.run(&["status", "--remote"]);
    run.code(0);
    let line = |file: &str| run.status_line(file, "bluesky");
    assert!(line("gone").contains("gone: the post is no longer on Bluesky"), "{run}");
    assert!(line("chain").contains("gone: part 2 of 3 is no longer on Bluesky"), "{run}");
    assert!(
        line("edited").contains("edited: Bluesky shows “…dited post, changed elsewhere”, crier sent “…dited post”"),
        "{run}"
    );
    assert!(line("theirs").contains(&format!("other account: {uri} belongs to another account ({other})")), "{run}");
    assert!(line("same").is_empty(), "a post as recorded is not listed: {run}");
    assert!(run.stdout.contains("4 drifted, 0 not checked"), "{run}");

    let json = w.run(&["status", "--remote", "--format", "json"]);
    json.code(0);
    let state = |file: &str| json.remote_state(file, "bluesky");
    let v = json.json();
    assert_eq!(
        ["same", "gone", "edited", "chain", "theirs"].map(state),
        ["same", "gone", "edited", "gone", "other-account"],
        "{json}"
    );
    assert_eq!(v["remote"]["drift"], 4);
    assert_eq!(w.fake.pds.count("com.atproto.repo.deleteRecord"), 0, "read-only");
}

#[test]
fn status_remote_notices_a_rewritten_record_even_when_the_file_changed() {
    let w = World::new();
    w.file("content/a.md", "---\nplatforms: [bluesky]\n---\nOriginal words\n");
    w.run(&["publish", "--no-commit"]).code(0);
    w.fake.pds.rewrite_in_app(&part_keys(&w, "content/a.md")[0], "Other words").expect("there");
    // The file no longer renders to what was sent: the content id still tells.
    let text = w.read("content/a.md").replace("Original words", "Reworded locally");
    w.file("content/a.md", text);
    let run = w.run(&["status", "--remote"]);
    run.code(0);
    assert!(run.stdout.contains("edited: the record was rewritten"), "{run}");
}

/// A world whose `content/a.md`, saying `text`, is published.
fn published(text: &str) -> World {
    let w = World::new();
    w.file("content/a.md", format!("---\nplatforms: [bluesky]\n---\n{text}\n"));
    w.run(&["publish", "--no-commit"]).code(0);
    w
}

#[test]
fn delete_after_a_lost_reply_is_recorded_on_the_same_run() {
    let w = published("to be deleted");
    // The PDS deletes, the reply never comes; the retry finds the key empty.
    w.fake.pds.fail_next(Route::DeleteRecord, Fault::DropAfterAction);
    w.assert_deletes("content/a.md", "deleted");
}

#[test]
fn delete_of_a_post_already_gone_is_recorded() {
    let w = published("gone in the app");
    assert!(w.fake.pds.remove_in_app(&part_keys(&w, "content/a.md")[0]));
    w.assert_deletes("content/a.md", "deleted (it was already gone)");
}

#[test]
fn delete_failing_in_the_middle_of_a_chain_is_finished_by_the_rerun() {
    let w = world_with_post();
    w.run(&["publish", "--no-commit"]).code(0);
    // The last part goes; the first is refused.
    w.fake.pds.fail_next(Route::DeleteRecord, Fault::Delay(Duration::ZERO));
    w.fake.pds.fail_next(
        Route::DeleteRecord,
        Fault::Status(400, r#"{"error":"InvalidRequest","message":"something refused"}"#.into()),
    );
    let first = w.delete("content/hello.md");
    first.code(1).stdout_has("1 of 2 parts were deleted; run again to finish");
    assert_eq!(w.fake.pds.records().len(), 1);
    assert!(w.deleted_at("content/hello.md").is_null(), "not recorded yet");
    w.assert_deletes("content/hello.md", "deleted, 2 parts (1 already gone)");
}

#[test]
fn a_rate_limit_stops_deleting_on_bluesky_and_the_rerun_finishes() {
    let w = World::new();
    w.file("content/a.md", "---\nplatforms: [bluesky]\n---\nfirst\n");
    w.file("content/b.md", "---\nplatforms: [bluesky]\n---\nsecond\n");
    w.run(&["publish", "--no-commit"]).code(0);
    w.fake.pds.fail_next(Route::DeleteRecord, Fault::RateLimited { reset_in_secs: 3600 });
    let first = w.delete("content");
    first.code(1);
    assert!(first.stdout.contains("rate limit"), "{first}");
    assert!(first.stdout.contains("not deleted: Bluesky's rate limit is reached"), "the other post waits: {first}");
    assert_eq!(w.fake.pds.count("com.atproto.repo.deleteRecord"), 1, "no call after the limit");
    assert_eq!(w.fake.pds.records().len(), 2);
    let rerun = w.delete("content");
    rerun.code(0).stdout_has("deleted 2, failed 0");
    assert!(w.fake.pds.records().is_empty());
}

/// Another account's post on the PDS, which `content/theirs.md` records as this one's: that
/// account's DID and the post's URI.
fn claim_theirs(w: &World) -> (&'static str, String) {
    let other = "did:plc:someoneelse00000000000001";
    let foreign = w.fake.pds.seed_foreign(other, "3lbbbbbbbbbb2", serde_json::json!({"text": "theirs"}));
    w.file(
        "content/theirs.md",
        format!(
            "---\nplatforms: [bluesky]\npublished:\n  bluesky:\n    id: {}\n    url: https://bsky.app/profile/{other}/post/3lbbbbbbbbbb2\n    published_at: \"{NOW}\"\n    hash: sha256:0\n---\nTheirs\n",
            foreign.uri
        ),
    );
    (other, foreign.uri)
}

#[test]
fn delete_refuses_a_record_of_another_account() {
    let w = World::new();
    claim_theirs(&w);
    let run = w.delete("content/theirs.md");
    run.code(1);
    assert!(run.stdout.contains("belongs to another account"), "{run}");
    assert_eq!(w.fake.pds.count("com.atproto.repo.deleteRecord"), 0);
    assert_eq!(w.fake.pds.foreign().len(), 1);
    assert!(w.record("content/theirs.md").expect("entry").get("deleted_at").is_none());
}
