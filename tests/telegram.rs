//! Telegram end to end: the real binary against the fake Bot API (tests/support/fake_telegram.rs).
//! Text with entities (emoji and CJK), chains, photos and albums uploaded from the repository,
//! records with working links, edits, deletes and their 48 hours, and never twice: a lost
//! reply or a crash between a send and its record holds the post back.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_telegram.rs"]
mod fake_telegram;

use common::png;
use std::time::Duration;

use fake_telegram::{FakeConfig, FakeTelegram, Fault, Route};
use serde_json::Value;

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n  write_interval_ms: 10\n";
const POST: &str = "content/hello.md";

common::world!(FakeTelegram, |f| [
    plain("CRIER_TELEGRAM_API_URL", f.base_url()),
    secret("TELEGRAM_BOT_TOKEN", f.token())
]);

impl World {
    /// A repository with three images and `post`, pushed to its `origin`.
    fn new(cfg: FakeConfig, post: &str) -> Self {
        let config = format!("{CONFIG}telegram:\n  chat: \"@crier_news\"\n");
        let w = Self::configured(1, "crier-telegram-", config, || FakeTelegram::start(cfg));
        w.file("media/a.png", png(8, 8)).file("media/b.png", png(9, 9)).file("media/c.png", png(10, 10));
        w.file(POST, post);
        w.pushed()
    }

    fn record(&self) -> Value {
        front(&self.read(POST))["published"]["telegram"].clone()
    }
}

fn front(text: &str) -> Value {
    let yaml = text.strip_prefix("---\n").and_then(|t| t.split_once("\n---")).map_or("", |(y, _)| y);
    serde_saphyr::from_str(yaml).unwrap_or(Value::Null)
}

fn post(front: &str, body: &str) -> String {
    format!("---\nplatforms: [telegram]\n{front}---\n{body}")
}

#[test]
fn a_text_post_is_sent_once_with_its_formatting_and_recorded_with_its_link() {
    let w = World::new(
        FakeConfig::default(),
        &post(
            "telegram:\n  silent: true\n  link_preview: false\n",
            "🎉 **Release 1.2** of 中文 tools: see [the notes](https://example.org/notes) & `crier`\n\n**Next** line\n",
        ),
    );
    let run = w.run(&["publish"]);
    run.code(0).stdout_has("https://t.me/crier_news/42");
    let msgs = w.fake.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.text.as_deref(), Some("🎉 Release 1.2 of 中文 tools: see the notes & crier\n\nNext line"));
    // Offsets count UTF-16 units: the emoji is two. The bold that opens a paragraph starts
    // at its word, not at the blank line before it.
    let types: Vec<(&str, u64, u64)> = m
        .entities
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            (e["type"].as_str().unwrap_or(""), e["offset"].as_u64().unwrap_or(0), e["length"].as_u64().unwrap_or(0))
        })
        .collect();
    assert_eq!(types, [("bold", 3, 11), ("text_link", 32, 9), ("code", 44, 5), ("bold", 51, 4)]);
    assert!(m.silent && m.link_preview_disabled);
    let rec = w.record();
    assert_eq!((rec["id"].as_str(), rec["url"].as_str()), (Some("42"), Some("https://t.me/crier_news/42")));
    assert!(rec.get("unconfirmed").is_none() && rec["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")));
    assert!(common::git(w.root(), &["show", &format!("HEAD:{POST}")]).contains("https://t.me/crier_news/42"));
    // Recorded: never sent again.
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.count("sendMessage"), 1);
}

#[test]
fn a_long_text_with_split_auto_is_a_chain_and_a_private_channel_gets_member_links() {
    let cfg = FakeConfig { username: None, ..FakeConfig::default() };
    let para = "word ".repeat(500);
    let w = World::new(cfg, &post("telegram:\n  split: auto\n", &format!("{para}\n\n{para}\n\n{para}\n")));
    w.file("crier.yaml", format!("{CONFIG}telegram:\n  chat: \"-1001234567890\"\n"));
    w.run(&["publish", "--no-push"]).code(0);
    let msgs = w.fake.messages();
    // Two paragraphs do not fit one message: cut at the blank lines.
    assert_eq!(msgs.len(), 3);
    assert!(msgs.iter().all(|m| m.text.as_deref() == Some(para.trim())), "cut between paragraphs");
    let rec = w.record();
    let parts: Vec<&str> = rec["parts"].as_array().expect("parts").iter().filter_map(|p| p["url"].as_str()).collect();
    assert_eq!(parts, ["https://t.me/c/1234567890/42", "https://t.me/c/1234567890/43", "https://t.me/c/1234567890/44"]);
}

#[test]
fn one_image_gets_the_caption_an_album_is_one_group_and_a_long_text_goes_first() {
    let w = World::new(FakeConfig::default(), &post("media:\n  - {path: media/a.png, alt: A dot}\n", "A *photo*\n"));
    w.run(&["check"]).code(0).stdout_has("telegram-alt-ignored");
    w.run(&["publish"]).code(0);
    let m = &w.fake.messages()[0];
    assert_eq!(m.media.as_ref().map(|(k, f, _)| (k.as_str(), f.as_str())), Some(("photo", "a.png")));
    assert_eq!(m.caption.as_deref(), Some("A photo"));
    assert_eq!(m.caption_entities[0]["type"], "italic");

    let album =
        post("media:\n  - {path: media/a.png}\n  - {path: media/b.png}\n  - {path: media/c.png}\n", "Three pictures\n");
    w.file("content/album.md", &album);
    let long = post("media:\n  - {path: media/a.png}\n", &"x ".repeat(600));
    w.file("content/long.md", &long);
    w.run(&["publish"]).code(0);
    let msgs = w.fake.messages();
    // album.md (3 messages, one group, the caption on the first), then long.md (text, then the image).
    let shape: Vec<(Option<&str>, bool)> =
        msgs[1..].iter().map(|m| (m.media_group_id.as_deref(), m.caption.is_some())).collect();
    assert_eq!(shape[..3], [(Some("13371"), true), (Some("13371"), false), (Some("13371"), false)]);
    assert!(msgs[4].text.is_some() && msgs[5].media.is_some() && msgs[5].caption.is_none(), "{msgs:?}");
    let rec = front(&w.read("content/album.md"))["published"]["telegram"].clone();
    assert_eq!(rec["parts"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_lost_reply_is_recorded_as_unconfirmed_and_never_sent_again() {
    let w = World::new(FakeConfig::default(), &post("", "Hello channel\n"));
    w.fake.fail_next(Route::SendMessage, Fault::DropAfterAction);
    let run = w.run(&["publish"]);
    run.code(1).stdout_has("sent, reply lost").stdout_has("https://t.me/crier_news").stdout_has("--id ID");
    assert_eq!(w.fake.messages().len(), 1, "the message did go out");
    let rec = w.record();
    assert!(rec["unconfirmed"].as_str().is_some_and(|n| n.contains("“Hello channel”")), "{rec}");
    assert!(common::git(w.root(), &["show", &format!("HEAD:{POST}")]).contains("unconfirmed:"), "committed");
    // Later runs hold it back.
    w.run(&["publish"]).code(0).stdout_has("held back");
    assert_eq!(w.fake.count("sendMessage"), 1);
    // `adopt` cannot search a channel: it says how to record the message the user finds.
    w.run(&["adopt", POST, "--platform", "telegram"])
        .stdout_has(&format!("record it with `crier adopt {POST} --platform telegram --id ID`"));
    // The user finds message 42 in the channel and records it.
    w.run(&["adopt", POST, "--platform", "telegram", "--id", "42"]).code(0).stdout_has("found");
    let rec = w.record();
    assert_eq!((rec["id"].as_str(), rec["url"].as_str()), (Some("42"), Some("https://t.me/crier_news/42")));
    assert!(rec.get("unconfirmed").is_none());
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.count("sendMessage"), 1);
}

#[test]
fn resend_resumes_a_chain_after_the_messages_confirmed() {
    let para = "word ".repeat(700);
    let w = World::new(
        FakeConfig::default(),
        &post("telegram:\n  split: auto\n", &format!("{para}\n\n{para}\n\n{para}\n")),
    );
    // The second message's reply is garbled (it did not go out): the user checks and resends.
    w.fake.fail_next(Route::SendMessage, Fault::Delay(Duration::ZERO));
    w.fake.fail_next(Route::SendMessage, Fault::Status(200, "{}".into()));
    let first = w.run(&["publish"]);
    first.code(1).stdout_has("sent, reply lost").stdout_has("message 2 of 3");
    assert_eq!(w.fake.messages().len(), 1);
    assert_eq!(w.record()["id"].as_str(), Some("42"), "the first message is recorded");
    let run = w.run(&["publish", "--resend", POST]);
    run.code(0);
    assert_eq!(w.fake.messages().len(), 3, "{run}");
    assert_eq!(w.record()["parts"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_crash_between_a_send_and_its_record_holds_the_post_back() {
    let cfg = FakeConfig { drop_hang: Duration::from_secs(30), ..FakeConfig::default() };
    let w = World::new(cfg, &post("", "Crash test\n"));
    w.file(
        "crier.yaml",
        "publish:\n  request_timeout_secs: 20\n  write_interval_ms: 10\ntelegram:\n  chat: \"@crier_news\"\n",
    );
    w.fake.fail_next(Route::SendMessage, Fault::DropAfterAction);
    // Killed once the message is in the channel and before its reply comes back.
    let mut child = w.command(&["publish"]).spawn().expect("spawn");
    while w.fake.messages().is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(w.record()["unconfirmed"].as_str().is_some(), "written ahead: {}", w.read(POST));
    let rerun = w.run(&["publish"]);
    rerun.code(0).stdout_has("held back");
    assert_eq!(w.fake.sent().len(), 1, "never two messages\n{rerun}");
    assert!(
        common::git(w.root(), &["show", &format!("HEAD:{POST}")]).contains("unconfirmed:"),
        "committed by the rerun"
    );
}

#[test]
fn refusals_name_the_fix_and_leave_no_entry() {
    let cfg = FakeConfig { bot_is_admin: false, ..FakeConfig::default() };
    let w = World::new(cfg, &post("", "Hello\n"));
    let before = w.read(POST);
    w.run(&["publish"]).code(1).stdout_has("bot is not a member").stdout_has("administrator");
    assert_eq!(w.read(POST), before, "the entry written ahead is taken out again");
    // A 429 with parameters.retry_after is waited out.
    let w = World::new(FakeConfig::default(), &post("", "Hello\n"));
    w.fake.fail_next(Route::SendMessage, Fault::TooManyRequests { retry_after: 1 });
    w.run(&["publish"]).code(0).stdout_has("https://t.me/crier_news/42");
    assert_eq!(w.fake.messages().len(), 1);
}

#[test]
fn edits_go_in_place_and_deletes_say_the_48_hours() {
    let w = World::new(FakeConfig::default(), &post("media:\n  - {path: media/a.png}\n", "First caption\n"));
    w.file("content/text.md", post("", "First text\n"));
    w.run(&["publish"]).code(0);
    w.edit(POST, "First caption", "Second caption");
    w.edit("content/text.md", "First text", "Second **text**");
    w.run(&["publish"]).code(0).stdout_has("updated");
    let msgs = w.fake.messages();
    assert_eq!(msgs.len(), 2, "edited, not sent again");
    assert_eq!(msgs[0].caption.as_deref(), Some("Second caption"));
    assert_eq!(msgs[0].media.as_ref().map(|m| m.1.as_str()), Some("a.png"));
    assert_eq!(msgs[1].text.as_deref(), Some("Second text"));
    // Another image in its place: the message shows it, with its caption.
    w.edit(POST, "media/a.png", "media/b.png");
    w.run(&["publish"]).code(0).stdout_has("updated");
    let msgs = w.fake.messages();
    assert_eq!(msgs.len(), 2, "edited, not sent again");
    assert_eq!(msgs[0].media.as_ref().map(|m| m.1.as_str()), Some("b.png"));
    assert_eq!(msgs[0].caption.as_deref(), Some("Second caption"));
    let edit = w.fake.requests().into_iter().rfind(|r| r.method == "editMessageMedia").expect("an editMessageMedia");
    assert!(edit.form.iter().any(|(k, v)| k == "message_id" && v == &msgs[0].id.to_string()), "{edit:?}");
    // Nothing is drift-checked or counted: the reasons are said.
    w.run(&["status", "--remote"]).stdout_has("cannot read a channel's messages back");
    w.run(&["stats"]).stdout_has("neither views nor reactions");
    // A message older than 48 hours cannot be deleted by a bot.
    w.fake.age(43, 49);
    w.run(&["delete", "content/text.md", "--yes"]).code(1).stdout_has("within 48 hours").stdout_has("by hand");
    w.run(&["delete", POST, "--yes"]).code(0);
    assert_eq!(w.fake.messages().len(), 1);
    assert!(w.record()["deleted_at"].as_str().is_some());
}

#[test]
fn doctor_checks_the_token_and_the_channel() {
    let w = World::new(FakeConfig::default(), &post("", "Hello\n"));
    w.run(&["doctor"]).stdout_has("bot token accepted: @crier_bot").stdout_has("channel Crier News found (public)");
    let wrong = w.command(&["doctor"]).env("TELEGRAM_BOT_TOKEN", "1:WRONGtokenSECRET").run();
    assert!(wrong.all().contains("rejected the bot token") && !wrong.all().contains("WRONGtoken"), "{wrong}");
    let other = w.command(&["doctor"]).env("TELEGRAM_CHAT_ID", "@elsewhere").run();
    assert!(
        other.all().contains("cannot open the channel @elsewhere") && other.all().contains("administrator"),
        "{other}"
    );
}
