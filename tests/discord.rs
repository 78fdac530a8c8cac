//! Discord through a channel webhook: the client against the fake webhook (each call, each
//! error class, a lost reply), then `crier` end to end (check, publish with images, a run
//! of messages, a forum post, edits, drift, reactions, delete), and every request crier
//! sent checked against Discord's official OpenAPI definition. The fault matrix is in
//! tests/faults.rs.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_discord.rs"]
mod fake_discord;

use std::time::Duration;

use common::{NOW, png};
use crier::platforms::discord::api::{
    AllowedMentions, ClientOptions, DiscordClient, DiscordError, MessageBody, parse_webhook_url,
};
use fake_discord::{FakeConfig, FakeDiscord, Fault, Route};
use serde_json::Value;

// Neither the webhook URL nor its token may show anywhere.
common::world!(FakeDiscord, |f| [secret("DISCORD_WEBHOOK_URL", f.webhook_url()), issued(f.token())]);

impl World {
    fn new() -> Self {
        Self::with(FakeConfig::default())
    }

    fn with(cfg: FakeConfig) -> Self {
        let config = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n";
        Self::configured(2, "crier-discord-", config, || FakeDiscord::start(cfg))
    }

    fn client(&self, timeout: Duration) -> DiscordClient {
        let hook = parse_webhook_url(&self.fake.webhook_url()).expect("the fake's URL is a webhook URL");
        let opts = ClientOptions {
            request_timeout: timeout,
            initial_delay: Duration::from_millis(10),
            max_total_wait: Duration::from_secs(3),
            ..ClientOptions::default()
        };
        DiscordClient::new(&hook, opts)
    }

    fn executes(&self) -> usize {
        self.fake.requests().iter().filter(|r| r.method == "POST").count()
    }

    /// Nothing crier sent broke the official definition, and nobody was pinged.
    #[track_caller]
    fn assert_conforms(&self) {
        assert_eq!(self.fake.violations(), Vec::<String>::new(), "requests outside discord-openapi.json");
        assert_eq!(self.fake.pings(), 0, "a message pinged someone");
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

fn record(text: &str) -> Option<Value> {
    let yaml = text.split("---").nth(1)?;
    let v: Value = serde_saphyr::from_str(yaml).ok()?;
    Some(v["published"]["discord"].clone()).filter(|r| !r.is_null())
}

fn ids(w: &World, rel: &str) -> Vec<String> {
    let r = record(&w.read(rel)).expect("recorded");
    match r["parts"].as_array() {
        Some(parts) => parts.iter().map(|p| p["id"].as_str().unwrap_or_default().to_owned()).collect(),
        None => vec![r["id"].as_str().unwrap_or_default().to_owned()],
    }
}

fn text(content: &str) -> MessageBody {
    MessageBody { content: content.into(), allowed_mentions: AllowedMentions::default(), ..MessageBody::default() }
}

// ------------------------------------------------------------------------------- the client

#[test]
fn execute_waits_for_the_message_and_never_pings() {
    let w = World::new();
    let c = w.client(Duration::from_secs(2));
    let msg = w.rt.block_on(c.execute(&text("Hello @everyone, <@42> and @here"), &[], None, &|_| {})).expect("sent");
    let stored = w.fake.messages();
    assert_eq!(stored.len(), 1);
    assert_eq!((msg.id.as_str(), msg.channel_id.as_str()), (stored[0].id.as_str(), w.fake.channel_id().as_str()));
    assert_eq!(w.fake.requests()[0].query.as_deref(), Some("wait=true"));
    assert_eq!(w.fake.requests()[0].path, format!("/api/webhooks/{}/{{token}}", w.fake.webhook_id()));
    w.assert_conforms();
}

#[test]
fn a_rate_limit_is_waited_out_through_the_body_and_headers() {
    let w = World::new();
    w.fake.fail_next(Route::Execute, Fault::RateLimited { retry_after: 0.3 });
    let c = w.client(Duration::from_secs(2));
    w.rt.block_on(c.execute(&text("After the wait"), &[], None, &|_| {})).expect("sent after the wait");
    assert_eq!((w.executes(), w.fake.messages().len()), (2, 1), "refused once, then sent once");
}

#[test]
fn a_lost_reply_or_a_gateway_error_is_never_sent_again() {
    for fault in [Fault::DropAfterAction, Fault::Status(502, "<html>502 Bad Gateway</html>".into())] {
        let w = World::new();
        w.fake.fail_next(Route::Execute, fault.clone());
        let c = w.client(Duration::from_secs(1));
        let e = w.rt.block_on(c.execute(&text("Once"), &[], None, &|_| {})).expect_err("no reply");
        assert!(e.is_ambiguous(), "{fault:?}: {e}");
        assert_eq!(w.executes(), 1, "{fault:?}: sent once, not again");
        assert!(!e.to_string().contains(&w.fake.token()), "{e}");
    }
}

#[test]
fn errors_are_sorted_and_keep_the_webhook_secret() {
    let w = World::new();
    let c = w.client(Duration::from_secs(2));
    let long = "a".repeat(2001);
    match w.rt.block_on(c.execute(&text(&long), &[], None, &|_| {})) {
        Err(DiscordError::Rejected { status: 400, message }) => {
            assert_eq!(message, "Invalid Form Body (code 50035): content: Must be 2000 or fewer in length.");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    match w.rt.block_on(c.message("1182000000000000999", None, &|_| {})) {
        Err(DiscordError::Rejected { status: 404, message }) => assert!(message.contains("10008"), "{message}"),
        other => panic!("expected Unknown Message, got {other:?}"),
    }
    let wrong = format!("{}x", w.fake.webhook_url());
    let hook = parse_webhook_url(&wrong).expect("still a webhook URL");
    let c = DiscordClient::new(&hook, ClientOptions::default());
    let e = w.rt.block_on(c.webhook(&|_| {})).expect_err("a wrong token");
    assert!(e.is_fatal(), "{e}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(shown.contains("Invalid Webhook Token") && !shown.contains(&w.fake.token()), "{shown}");
}

#[test]
fn the_definition_check_refuses_what_discord_would() {
    let w = World::new();
    let path = format!("/webhooks/{}/tok", w.fake.webhook_id());
    let ok = serde_json::json!({"content": "hi", "allowed_mentions": {"parse": []}});
    assert_eq!(w.fake.check("POST", &path, &[("wait", "true")], Some(ok.clone())), Vec::<String>::new());
    let too_long = serde_json::json!({"content": "a".repeat(2001)});
    assert!(!w.fake.check("POST", &path, &[("wait", "true")], Some(too_long)).is_empty());
    assert!(!w.fake.check("POST", &path, &[("wait", "yes")], Some(ok.clone())).is_empty());
    assert!(!w.fake.check("POST", &path, &[("nonce", "1")], Some(ok.clone())).is_empty());
    let bad_mention = serde_json::json!({"content": "hi", "allowed_mentions": {"parse": ["nobody"]}});
    assert!(!w.fake.check("POST", &path, &[], Some(bad_mention)).is_empty());
    assert!(!w.fake.check("PUT", &format!("{path}/messages/1"), &[], Some(ok)).is_empty());
}

// ------------------------------------------------------------------------------ end to end

#[test]
fn check_counts_characters_and_points_at_the_text() {
    let w = World::new();
    w.file("content/long.md", md("platforms: [discord]\n", &"日本".repeat(1001)));
    let d = w.run(&["check", "--format", "json"]).code(1).first_diagnostic("discord-too-long");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(5), Some(1)));
    assert!(d["message"].as_str().unwrap_or("").contains("2002 characters"), "{d}");
}

#[test]
fn references_are_sent_inline_and_entities_decoded_the_rest_as_written() {
    let w = World::new();
    let body = "See [docs][d], [the API][] and [home].\n\n\
                [d]: /docs/x\n[the API]: https://example.com/api \"API\"\n[home]: /\n\n\
                Tom &amp; Jerry &lt;3 &#42;literally&#42; **bold** ~~gone~~ ||spoiler||\n\n\
                `a &amp; b`\n\n```sh\nx &amp;&amp; y [d]\n```\n\n> quoted [ref][d]\n";
    w.file("content/a.md", md("platforms: [discord]\n", body));
    let text = |run: &common::Run| run.json()["platforms"]["discord"]["parts"][0]["text"].as_str().map(str::to_owned);
    let tail = "Tom & Jerry \\<3 \\*literally\\* **bold** ~~gone~~ ||spoiler||\n\n\
                `a &amp; b`\n\n```sh\nx &amp;&amp; y [d]\n```\n\n> quoted";

    // Without a site a relative link is its label, with the relative-link warning.
    let run = w.run(&["render", "content/a.md", "--format", "json"]);
    run.code(0).stderr_has("relative-link");
    let want = format!("See docs, [the API](https://example.com/api \"API\") and home.\n\n{tail} ref");
    assert_eq!(text(&run).as_deref(), Some(want.as_str()), "{run}");

    // With one it is made absolute, as an inline link is.
    w.file("crier.yaml", "site:\n  base_url: https://example.org/blog/\n");
    let run = w.run(&["render", "content/a.md", "--format", "json"]);
    run.code(0);
    let want = format!(
        "See [docs](https://example.org/docs/x), [the API](https://example.com/api \"API\") and [home](https://example.org/).\n\n\
         {tail} [ref](https://example.org/docs/x)"
    );
    assert_eq!(text(&run).as_deref(), Some(want.as_str()), "{run}");
}

#[test]
fn missing_webhook_url_is_an_environment_error() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [discord]\n", "Hello\n"));
    let run = w.repo.crier().env_remove("DISCORD_WEBHOOK_URL").args(["publish", "--no-commit"]).run();
    run.code(2).stderr_has("DISCORD_WEBHOOK_URL");
    let run = w
        .repo
        .crier()
        .env("DISCORD_WEBHOOK_URL", "https://discord.com/channels/1/2?secretTOKEN")
        .args(["publish", "--no-commit"])
        .run();
    // The environment is wrong: exit 2 before anything is sent, like a missing variable.
    run.code(2);
    assert!(run.all().contains("not a Discord webhook URL"), "{run}");
    assert!(!run.all().contains("secretTOKEN"), "{run}");
    assert_eq!(w.fake.calls(), 0);
}

#[test]
fn publish_sends_markdown_and_images_once_and_records_the_message_url() {
    let w = World::new();
    w.file("media/a.png", png(8, 8));
    w.file("media/b.png", png(9, 9));
    w.file(
        "content/release.md",
        md(
            "platforms: [discord]\ndiscord:\n  username: Release bot\n  suppress_embeds: true\nmedia:\n  - {path: media/a.png, alt: The first chart}\n  - {path: media/b.png, alt: The second chart}\n",
            "**crier 1.0** is out, @everyone: see [the notes](https://example.com/notes).\n\n```sh\ncargo install crier-cli\n```\n",
        ),
    );
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    let m = w.fake.messages();
    assert_eq!(m.len(), 1, "{run}");
    assert_eq!(
        m[0].content,
        "**crier 1.0** is out, @everyone: see [the notes](https://example.com/notes).\n\n```sh\ncargo install crier-cli\n```"
    );
    assert_eq!(m[0].username.as_deref(), Some("Release bot"));
    assert_eq!(m[0].flags, 1 << 2, "no link previews");
    let files: Vec<(&str, Option<&str>)> =
        m[0].attachments.iter().map(|(_, n, _, d)| (n.as_str(), d.as_deref())).collect();
    assert_eq!(files, [("a.png", Some("The first chart")), ("b.png", Some("The second chart"))]);
    let rec = record(&w.read("content/release.md")).expect("recorded");
    assert_eq!(rec["id"].as_str(), Some(m[0].id.as_str()));
    let url = format!("https://discord.com/channels/{}/{}/{}", w.fake.guild_id(), w.fake.channel_id(), m[0].id);
    assert_eq!(rec["url"].as_str(), Some(url.as_str()));
    assert_eq!(rec["published_at"].as_str(), Some(NOW));
    assert!(rec.get("parts").is_none());

    let calls = w.fake.calls();
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!((w.fake.calls(), w.fake.messages().len()), (calls, 1), "a rerun sends nothing");
    w.assert_conforms();
}

#[test]
fn split_auto_sends_a_run_of_messages_and_edits_them_in_place() {
    let w = World::new();
    let para = |c: char| format!("{} end.", c.to_string().repeat(1200));
    let body = format!("{}\n\n{}\n\n{}\n", para('a'), para('b'), para('c'));
    w.file("content/long.md", md("platforms: [discord]\ndiscord:\n  split: auto\n", &body));
    w.run(&["publish", "--no-commit"]).code(0);
    let parts = ids(&w, "content/long.md");
    assert_eq!(parts.len(), 3);
    let m = w.fake.messages();
    assert_eq!(m.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), parts, "in order");
    assert!(m.iter().all(|m| m.content.chars().count() <= 2000));

    w.edit("content/long.md", "c end.", "c, edited.");
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    let after = w.fake.messages();
    assert_eq!(after.len(), 3, "edited, not sent again: {run}");
    assert!(after[2].content.ends_with("c, edited.") && after[2].edited, "{:?}", after[2]);
    assert!(!after[0].edited && !after[1].edited, "unchanged messages are left alone");
    w.assert_conforms();
}

#[test]
fn a_forum_post_starts_a_thread_and_later_calls_name_it() {
    let w = World::with(FakeConfig { forum: true, ..FakeConfig::default() });
    let body = format!("{}\n\n{}\n", "x".repeat(1500), "y".repeat(1500));
    let front = "platforms: [discord]\ndiscord:\n  thread_name: crier 1.0\n  split: auto\n";
    w.file("content/forum.md", md(front, &body));
    w.run(&["publish", "--no-commit"]).code(0);
    let m = w.fake.messages();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].thread_name.as_deref(), Some("crier 1.0"));
    assert!(m.iter().all(|x| x.channel_id == m[0].id), "both in the new post's thread: {m:?}");
    let rec = record(&w.read("content/forum.md")).expect("recorded");
    let url = format!("https://discord.com/channels/{}/{}/{}", w.fake.guild_id(), m[0].id, m[0].id);
    assert_eq!(rec["url"].as_str(), Some(url.as_str()));

    w.edit("content/forum.md", "yyy\n", "yyy, edited\n");
    w.run(&["publish", "--no-commit"]).code(0);
    assert!(w.fake.messages()[1].content.ends_with("edited"));
    let run = w.run(&["status", "--remote"]);
    run.code(0);
    assert!(!run.stdout.contains("gone"), "{run}");
    w.run(&["delete", "content/forum.md", "--yes", "--no-commit"]).code(0);
    assert!(w.fake.messages().is_empty());
    w.assert_conforms();
}

#[test]
fn status_remote_stats_and_delete_read_what_the_webhook_sees() {
    let w = World::new();
    for name in ["same", "gone", "edited"] {
        w.file(&format!("content/{name}.md"), md("platforms: [discord]\n", &format!("The {name} post\n")));
    }
    w.run(&["publish", "--no-commit"]).code(0);
    w.fake.delete_in_app(&ids(&w, "content/gone.md")[0]);
    w.fake.edit_in_app(&ids(&w, "content/edited.md")[0], "The edited post, changed in the app");
    let run = w.run(&["status", "--remote"]);
    let line = |file: &str| {
        run.stdout.lines().find(|l| l.contains(&format!("content/{file}.md → discord"))).unwrap_or("").to_owned()
    };
    assert!(line("gone").contains("the message is no longer in the channel"), "{run}");
    assert!(line("edited").contains("the channel shows"), "{run}");
    assert_eq!(line("same"), "", "no drift: {run}");

    let same = ids(&w, "content/same.md")[0].clone();
    w.fake.react(&same, "🎉", 3);
    w.fake.react(&same, "👍", 2);
    let stats = w.run(&["stats", "--format", "json", "content/same.md"]);
    stats.code(0);
    let v = stats.json();
    assert_eq!(v["posts"][0]["metrics"], serde_json::json!({"likes": 5}), "{stats}");

    let run = w.run(&["delete", "content/same.md", "content/gone.md", "--yes", "--no-commit"]);
    run.code(0);
    assert!(w.fake.messages().iter().all(|m| m.id != same), "{run}");
    assert!(
        record(&w.read("content/gone.md")).is_some_and(|r| r["deleted_at"] == NOW),
        "a message already gone counts as deleted"
    );
    w.assert_conforms();
}

#[test]
fn a_lost_reply_is_held_until_adopted_and_never_sent_twice() {
    let w = World::new();
    w.fake.fail_next(Route::Execute, Fault::DropAfterAction);
    w.file("content/a.md", md("platforms: [discord]\n", "Only once, please.\n"));
    let run = w.run(&["publish", "--no-commit"]);
    run.code(1);
    assert!(run.all().contains("sent, reply lost"), "{run}");
    assert!(run.all().contains("starting “Only once, please.”"), "says what to look for: {run}");
    let rec = record(&w.read("content/a.md")).expect("recorded as unconfirmed at once");
    assert!(rec["unconfirmed"].as_str().is_some_and(|n| n.contains("Only once")), "{rec}");

    let rerun = w.run(&["publish", "--no-commit"]);
    rerun.code(0);
    assert_eq!((w.executes(), w.fake.all_messages().len()), (1, 1), "never sent again on its own: {rerun}");

    let id = w.fake.messages()[0].id.clone();
    let adopt = w.run(&["adopt", "content/a.md", "--platform", "discord", "--id", &id, "--no-commit"]);
    adopt.code(0);
    let rec = record(&w.read("content/a.md")).expect("recorded");
    let url = format!("https://discord.com/channels/{}/{}/{id}", w.fake.guild_id(), w.fake.channel_id());
    assert_eq!((rec["id"].as_str(), rec["url"].as_str()), (Some(id.as_str()), Some(url.as_str())), "{adopt}");
    assert!(rec.get("unconfirmed").is_none(), "{rec}");
    w.assert_conforms();
}

#[test]
fn a_run_of_messages_that_lost_a_reply_resends_only_what_the_user_asks() {
    let w = World::new();
    let body = format!("{}\n\n{}\n\n{}\n", "a".repeat(1500), "b".repeat(1500), "c".repeat(1500));
    w.file("content/run.md", md("platforms: [discord]\ndiscord:\n  split: auto\n", &body));
    w.fake.fail_next(Route::ExecuteLater, Fault::DropAfterAction);
    w.run(&["publish", "--no-commit"]).code(1);
    let rec = record(&w.read("content/run.md")).expect("unconfirmed");
    assert_eq!(rec["parts"].as_array().map(Vec::len), Some(1), "the first message is confirmed: {rec}");
    // The user looked, did not find the second message (removed here), and sends the rest:
    // `--resend` goes on after the confirmed message.
    w.fake.delete_in_app(&w.fake.all_messages()[1].id);
    let run = w.run(&["publish", "--no-commit", "--resend", "content/run.md"]);
    run.code(0);
    let texts: Vec<char> = w.fake.messages().iter().filter_map(|m| m.content.chars().next()).collect();
    assert_eq!(texts, ['a', 'b', 'c'], "the first message is not sent again: {run}");
    assert_eq!(ids(&w, "content/run.md").len(), 3);
}

#[test]
fn a_crash_while_the_message_is_sent_never_sends_it_twice() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [discord]\n", "Crash while sending.\n"));
    w.fake.fail_next(Route::Execute, Fault::DropAfterAction);
    let mut child = w.command(&["publish", "--no-commit"]).spawn().expect("spawn");
    let started = std::time::Instant::now();
    while w.fake.messages().is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill crier");
    let _ = child.wait();
    let rec = record(&w.read("content/a.md")).expect("written ahead before the send");
    assert!(rec["unconfirmed"].is_string(), "{rec}");
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    assert_eq!(w.fake.all_messages().len(), 1, "{run}");
}

#[test]
fn doctor_checks_the_webhook_without_sending_anything() {
    let w = World::new();
    let run = w.run(&["doctor"]);
    assert!(
        run.all().contains(&format!("webhook “crier” accepted: it posts to channel {}", w.fake.channel_id())),
        "{run}"
    );
    let wrong = format!("{}x", w.fake.webhook_url());
    let run = w.repo.crier().env("DISCORD_WEBHOOK_URL", &wrong).args(["doctor"]).run();
    w.assert_kept_secret(&run, &w.fake.token());
    assert!(run.all().contains("Invalid Webhook Token") && run.all().contains("create a new webhook"), "{run}");
    assert_eq!(w.executes(), 0, "doctor sends nothing");
}

/// How long a message is in the channel before its record is in the file: the window in
/// which a crash leaves the post held as unconfirmed (never sent twice). Measured, not
/// asserted (printed with `--nocapture`).
#[test]
fn the_window_between_a_message_and_its_record_is_measured() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [discord]\n", "Measured.\n"));
    let mut child = w.command(&["publish", "--no-commit"]).spawn().expect("spawn");
    let recorded = loop {
        let text = w.read("content/a.md");
        if record(&text).is_some_and(|r| r.get("unconfirmed").is_none()) {
            break std::time::Instant::now();
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.wait();
    let stored = w.fake.messages()[0].stored_at;
    eprintln!("message stored → record in the file: {:?}", recorded.saturating_duration_since(stored));
    assert!(recorded >= stored, "the record follows the message");
}

/// A send still in flight when SIGTERM's grace runs out: its entry, written before sending
/// (a webhook's messages cannot be looked up), is committed and pushed, so neither this
/// checkout nor a fresh clone sends the message again.
#[cfg(unix)]
#[test]
fn a_send_cut_off_by_sigterm_is_held_back_in_the_commit_and_never_sent_again() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [discord]\n", "Once only.\n"));
    // The reply takes longer than the grace after a signal, and the client waits for it.
    w.file("crier.yaml", "publish:\n  request_timeout_secs: 30\n");
    let origin = common::push_to_new_origin(w.root());
    w.fake.fail_next(Route::Execute, Fault::Delay(Duration::from_secs(9)));
    let run = w.command(&["publish"]).run_steered(|child| {
        common::wait_for(child, "the send", || w.executes() > 0);
        common::signal(child, "TERM");
    });
    run.code(143);
    assert!(run.all().contains("its entry is marked unconfirmed, so it is held back"), "{run}");
    assert_eq!(common::git(w.root(), &["status", "--porcelain"]), "", "the entry is committed\n{run}");
    let pushed = common::git(origin.path(), &["show", "main:content/a.md"]);
    assert!(record(&pushed).is_some_and(|r| r["unconfirmed"].is_string()), "{pushed}");

    let clone = tempfile::tempdir().expect("tempdir");
    common::git(clone.path(), &["clone", "-q", &origin.path().display().to_string(), "."]);
    let again = w.finish(w.command(&["publish", "--no-push"]).directory(clone.path()));
    again.code(0);
    assert!(again.stdout.contains("held back"), "{again}");
    assert_eq!(w.executes(), 1, "sent once, whatever the runs");
}
