//! `crier adopt` end to end: the real binary against the fake Threads and dev.to servers,
//! whose accounts already hold posts (made through their APIs, as another tool or the
//! apps would have). Found, not found, ambiguous, chains, posts recorded elsewhere, the
//! dry run, the commit, and failed reads.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_threads.rs"]
mod fake_threads;
#[path = "support/threads_devto.rs"]
mod threads_devto;

use common::{Run, git};
use std::time::Duration;

use fake_threads::{FakeConfig, Fault, Route};
use serde_json::Value;
use threads_devto::ThreadsAndDevto;

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 1\n  request_timeout_secs: 2\n  \
     write_interval_ms: 10\n";

type World = common::World<ThreadsAndDevto>;

impl World {
    fn new() -> Self {
        let threads = FakeConfig { drop_hang: Duration::from_secs(5), ..FakeConfig::default() };
        let devto = fake_devto::FakeConfig::default();
        Self::configured(2, "crier-adopt-", CONFIG, || ThreadsAndDevto::start(threads, devto))
    }

    /// Publishes a text post on the fake Threads account (a reply when `reply_to`), as the
    /// app would: create a container, publish it. Returns the media id.
    fn thread(&self, text: &str, reply_to: Option<&str>) -> String {
        let base = format!("{}/v1.0/{}", self.fake.threads.base_url(), self.fake.threads.user_id());
        let token = self.fake.threads.token();
        let (text, reply_to) = (text.to_owned(), reply_to.map(str::to_owned));
        self.rt.block_on(async move {
            let http = reqwest::Client::new();
            let post = |path: &'static str, form: Vec<(&'static str, String)>| {
                let request = http.post(format!("{base}/{path}")).form(&form).send();
                async move { request.await.expect(path).json::<Value>().await.expect("json") }
            };
            let mut form = vec![("media_type", "TEXT".to_owned()), ("text", text), ("access_token", token.clone())];
            if let Some(r) = reply_to {
                form.push(("reply_to_id", r));
            }
            let c = post("threads", form).await;
            let creation = c["id"].as_str().expect("container id").to_owned();
            let p = post("threads_publish", vec![("creation_id", creation), ("access_token", token)]).await;
            p["id"].as_str().expect("media id").to_owned()
        })
    }

    fn threads_posts(&self) -> usize {
        self.fake.threads.published_posts().len()
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n{body}")
}

fn front(text: &str) -> Value {
    let rest = text.strip_prefix("---\n").expect("front matter");
    let end = rest.find("\n---\n").expect("closed");
    serde_saphyr::from_str(&rest[..=end]).expect("parses")
}

#[test]
fn found_posts_are_recorded_without_publishing_and_the_next_publish_sends_nothing() {
    let w = World::new();
    let first = w.thread("An old post from last spring", None);
    let article = w.fake.devto.seed("Old article", "The article body\n", true, None);
    let post = md("platforms: [threads]\n# kept\n", "An old post from last spring\n");
    w.file("content/old.md", &post);
    w.file("content/article.md", md("title: Old article\nplatforms: [devto]\n", "The article body\n"));
    w.file("content/new.md", md("platforms: [threads, devto]\ntitle: Never posted\n", "Brand new\n"));
    let (posts, articles) = (w.threads_posts(), w.fake.devto.articles().len());

    let run = w.run(&["adopt", "--no-commit"]);
    run.code(0).stdout_has("adopted 2, not found 2, ambiguous 0, failed 0");
    assert!(
        run.stdout.contains("content/old.md      threads   found https://www.threads.com/@crier_tester/post/"),
        "{run}"
    );
    assert!(run.stdout.contains("content/article.md  devto     found https://dev.to/crier_tester/"), "{run}");
    assert!(run.stdout.contains("content/new.md      threads   not found"), "{run}");

    let old = w.read("content/old.md");
    let rec = &front(&old)["published"]["threads"];
    assert_eq!(rec["id"], first.as_str());
    // Every other byte stays: the record is appended to the front matter.
    assert!(old.starts_with("---\nplatforms: [threads]\n# kept\npublished:\n  threads:\n"), "{old}");
    assert!(old.ends_with("---\nAn old post from last spring\n"), "{old}");
    assert_eq!(front(&w.read("content/article.md"))["published"]["devto"]["id"], article.to_string().as_str());
    // Nothing was created or changed on either account.
    assert_eq!((w.threads_posts(), w.fake.devto.articles().len()), (posts, articles));
    assert_eq!(w.fake.devto.count("PUT", ""), 0);

    // The adopted posts are done; only the new one is due.
    let plan = w.run(&["publish", "--dry-run"]);
    plan.code(0);
    let due = plan.stdout.split("would publish now:").nth(1).unwrap_or_default();
    let due = due.split("\n\n").next().unwrap_or_default();
    assert!(!due.contains("old.md") && !due.contains("article.md"), "{plan}");
    assert!(due.contains("content/new.md → threads"), "{plan}");
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.threads_posts(), posts + 1, "only the new post went out");
    assert_eq!(w.fake.devto.articles().len(), articles + 1);
}

#[test]
fn dry_run_prints_the_table_and_writes_nothing() {
    let w = World::new();
    w.thread("Already there", None);
    let post = md("platforms: [threads]\n", "Already there\n");
    w.file("content/a.md", &post);
    w.run(&["adopt", "--dry-run"])
        .code(0)
        .stdout_has("dry run")
        .stdout_has("content/a.md  threads   found https://")
        .stdout_has("would adopt 1, not found 0");
    assert_eq!(w.read("content/a.md"), post);
}

#[test]
fn two_candidates_adopt_nothing_and_say_which() {
    let w = World::new();
    w.thread("Posted twice by mistake", None);
    w.thread("Posted twice by mistake", None);
    w.fake.devto.seed("Same title", "one\n", true, None);
    w.fake.devto.seed("Same title", "two\n", true, None);
    let a = md("platforms: [threads]\n", "Posted twice by mistake\n");
    let b = md("title: Same title\nplatforms: [devto]\n", "three\n");
    w.file("content/a.md", &a).file("content/b.md", &b);
    let run = w.run(&["adopt", "--no-commit"]);
    run.code(0).stdout_has("adopted 0, not found 0, ambiguous 2");
    assert!(
        run.stdout.contains("ambiguous, nothing adopted: 2 posts on the account have this text: https://"),
        "{run}"
    );
    assert!(run.stdout.contains("ambiguous, nothing adopted: 2 articles have this title: https://dev.to/"), "{run}");
    assert_eq!((w.read("content/a.md"), w.read("content/b.md")), (a, b));
}

#[test]
fn an_identical_body_settles_a_shared_title() {
    let w = World::new();
    w.fake.devto.seed("Same title", "one\n", true, None);
    let two = w.fake.devto.seed("Same title", "two\n", true, None);
    w.file("content/b.md", md("title: Same title\nplatforms: [devto]\n", "two\n"));
    w.run(&["adopt", "--no-commit"]).code(0).stdout_has("adopted 1");
    assert_eq!(front(&w.read("content/b.md"))["published"]["devto"]["id"], two.to_string().as_str());
}

#[test]
fn a_chain_adopts_every_part_in_order() {
    let w = World::new();
    let one = w.thread("Part one of the story", None);
    let two = w.thread("Part two", Some(&one));
    let three = w.thread("Part three", Some(&two));
    w.file(
        "content/chain.md",
        md("platforms: [threads]\n", "Part one of the story\n\n---\n\nPart two\n\n---\n\nPart three\n"),
    );
    w.run(&["adopt", "--no-commit"]).code(0).stdout_has("adopted 1");
    let rec = front(&w.read("content/chain.md"))["published"]["threads"].clone();
    assert_eq!(rec["id"], one.as_str());
    let ids: Vec<&str> =
        rec["parts"].as_array().expect("parts").iter().map(|p| p["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [one.as_str(), two.as_str(), three.as_str()]);
}

#[test]
fn a_chain_only_partly_there_is_not_adopted() {
    let w = World::new();
    let one = w.thread("Part one again", None);
    w.thread("Part two again", Some(&one));
    let post =
        md("platforms: [threads]\n", "Part one again\n\n---\n\nPart two again\n\n---\n\nPart three, never sent\n");
    w.file("content/chain.md", &post);
    let run = w.run(&["adopt", "--no-commit"]);
    run.code(0).stdout_has("partly there, nothing adopted: only parts 1–2 of 3");
    assert_eq!(w.read("content/chain.md"), post);
    // publish picks the chain up where it stopped: only the third part goes out.
    let before = w.threads_posts();
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.threads_posts(), before + 1);
}

#[test]
fn a_post_recorded_by_another_file_is_never_adopted_twice() {
    let w = World::new();
    let id = w.thread("Same words", None);
    let recorded = md(
        &format!(
            "platforms: [threads]\npublished:\n  threads:\n    id: \"{id}\"\n    url: \"https://www.threads.com/@crier_tester/post/X\"\n    published_at: \"2026-01-01T00:00:00Z\"\n    hash: \"sha256:x\"\n"
        ),
        "Same words\n",
    );
    w.file("content/first.md", &recorded);
    let copy = md("platforms: [threads]\n", "Same words\n");
    w.file("content/second.md", &copy);
    // Limited to the second file, the first one's record still counts.
    w.run(&["adopt", "--no-commit", "content/second.md"]).code(0).stdout_has("content/second.md  threads   not found");
    assert_eq!(w.read("content/second.md"), copy);
    // Two new files with one post between them: the first adopts it, the second does not.
    w.file("content/first.md", &copy);
    w.run(&["adopt", "--no-commit"]).code(0).stdout_has("adopted 1, not found 1");
    assert!(w.read("content/first.md").contains(&id));
    assert_eq!(w.read("content/second.md"), copy);
}

#[test]
fn a_teaser_linking_the_article_is_matched_with_the_real_url() {
    let w = World::new();
    let article = w.fake.devto.seed("The long read", "Body\n", true, None);
    let url = w.fake.devto.articles().into_iter().find(|a| a.id == article).expect("seeded").url;
    w.thread(&format!("New article: {url}"), None);
    w.file("templates/teaser.hbs", "New article: {{published.devto.url}}");
    w.file(
        "content/long.md",
        md("title: The long read\nplatforms: [threads, devto]\nthreads:\n  template: teaser\n", "Body\n"),
    );
    w.run(&["adopt", "--no-commit"]).code(0).stdout_has("adopted 2");
    let f = front(&w.read("content/long.md"));
    assert_eq!(f["published"]["devto"]["url"], url.as_str());
    assert!(f["published"]["threads"]["id"].is_string());
}

#[test]
fn adopted_records_are_committed_like_publish_records() {
    let w = World::new();
    w.thread("Committed adoption", None);
    w.file("content/a.md", md("platforms: [threads]\n", "Committed adoption\n"));
    let git = |args: &[&str]| git(w.root(), args);
    common::commit_all(w.root());
    w.run(&["adopt", "--no-push"]).code(0).stdout_has("committed the records as");
    assert_eq!(git(&["log", "-1", "--format=%s"]).trim(), "crier: record published posts [skip ci]");
    assert_eq!(git(&["show", "--name-only", "--format=", "HEAD"]).trim(), "content/a.md");
    assert_eq!(git(&["status", "--porcelain"]).trim(), "");
}

#[test]
fn an_id_without_url_is_looked_up() {
    let w = World::new();
    let id = w.fake.devto.seed("Imported", "Body\n", true, None);
    w.file(
        "content/i.md",
        md(
            &format!(
                "title: Imported\nplatforms: [devto]\npublished:\n  devto:\n    id: \"{id}\"\n    url: \"\"\n    published_at: \"2024-01-01T00:00:00Z\"\n    hash: \"sha256:x\"\n"
            ),
            "Body\n",
        ),
    );
    w.run(&["adopt", "--no-commit"]).code(0).stdout_has("adopted 1");
    let rec = front(&w.read("content/i.md"))["published"]["devto"].clone();
    assert_eq!(rec["id"], id.to_string().as_str());
    assert!(rec["url"].as_str().is_some_and(|u| u.starts_with("https://dev.to/crier_tester/")), "{rec}");
    assert_eq!(rec["published_at"], "2024-01-01T00:00:00Z");
}

/// The fault matrix of adopt's reads: each read adopt makes × each fault the fakes can
/// inject, once. Every cell checks: exit 0 or 1 (1 only for a rejected credential, which
/// the table names), no wrong record (a record written holds the right ids), nothing
/// published or changed, no secret in the output (`World::crier`), and a clean rerun
/// adopts everything.
#[test]
fn fault_matrix_of_adopts_reads() {
    #[derive(Clone, Copy, Debug)]
    enum Read {
        Me,
        PublishingLimit,
        ListThreads,
        Conversation,
        ListMine,
    }
    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Timeout,
        ServerError,
        RateLimited,
        Html,
        Truncated,
        Malformed,
        Rejected,
    }
    let reads = [Read::Me, Read::PublishingLimit, Read::ListThreads, Read::Conversation, Read::ListMine];
    let kinds = [
        Kind::Timeout,
        Kind::ServerError,
        Kind::RateLimited,
        Kind::Html,
        Kind::Truncated,
        Kind::Malformed,
        Kind::Rejected,
    ];
    let cells: Vec<(Read, Kind)> = reads
        .iter()
        .flat_map(|r| kinds.iter().map(move |k| (*r, *k)))
        // The dev.to fake cannot truncate a reply.
        .filter(|(r, k)| !matches!((r, k), (Read::ListMine, Kind::Truncated)))
        .collect();
    let next = std::sync::Mutex::new(cells.into_iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                loop {
                    let Some((read, kind)) = next.lock().expect("lock").next() else { break };
                    if let Err(e) = std::panic::catch_unwind(|| cell(read, kind)) {
                        let why = e.downcast_ref::<String>().cloned().unwrap_or_default();
                        failures.lock().expect("lock").push(format!("{read:?} × {kind:?}: {why}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "{} cells failed:\n{}", failures.len(), failures.join("\n\n"));

    fn cell(read: Read, kind: Kind) {
        let w = World::new();
        let one = w.thread("Chain start", None);
        let two = w.thread("Chain end", Some(&one));
        let article = w.fake.devto.seed("An article", "Text\n", true, None);
        let chain = md("platforms: [threads]\n", "Chain start\n\n---\n\nChain end\n");
        let text = md("title: An article\nplatforms: [devto]\n", "Text\n");
        w.file("content/chain.md", &chain).file("content/article.md", &text);
        let too_late = Duration::from_secs(3);
        match read {
            Read::ListMine => w.fake.devto.fail_next(
                fake_devto::Route::ListMine,
                match kind {
                    Kind::Timeout => fake_devto::Fault::Delay(too_late),
                    Kind::ServerError => fake_devto::Fault::Status(503, "Service Unavailable".into()),
                    Kind::RateLimited => fake_devto::Fault::RateLimited { retry_after_secs: Some(1) },
                    Kind::Html => fake_devto::Fault::HtmlPage,
                    Kind::Malformed => fake_devto::Fault::Status(200, "{not json".into()),
                    Kind::Rejected | Kind::Truncated => {
                        fake_devto::Fault::Status(401, "{\"error\":\"unauthorized\",\"status\":401}".into())
                    }
                },
            ),
            _ => w.fake.threads.fail_next(
                match read {
                    Read::Me => Route::Me,
                    Read::PublishingLimit => Route::PublishingLimit,
                    Read::ListThreads => Route::ListThreads,
                    _ => Route::Conversation,
                },
                match kind {
                    Kind::Timeout => Fault::Delay(too_late),
                    Kind::ServerError => Fault::Status(503, "Service Unavailable".into()),
                    Kind::RateLimited => Fault::RateLimited { retry_after_secs: Some(1) },
                    Kind::Html => Fault::HtmlPage,
                    Kind::Truncated => Fault::TruncatedJson,
                    Kind::Malformed => Fault::Status(200, "{not json".into()),
                    Kind::Rejected => Fault::GraphError { code: 190, subcode: Some(463), transient: false },
                },
            ),
        }
        let (posts, articles) = (w.threads_posts(), w.fake.devto.articles());
        let run = w.run(&["adopt", "--no-commit"]);
        assert_eq!(run.code, i32::from(matches!(kind, Kind::Rejected)), "only a rejected credential fails\n{run}");
        if run.code == 1 {
            assert!(matches!(kind, Kind::Rejected), "only a rejected credential fails adopt's reads\n{run}");
            let platform = if matches!(read, Read::ListMine) { "devto" } else { "threads" };
            assert!(run.stdout.contains(&format!("{platform}  ")) && run.stdout.contains("failed"), "{run}");
        }
        let check = |run: &Run| {
            if let Some(rec) = front(&w.read("content/chain.md"))["published"].get("threads") {
                let ids: Vec<&str> =
                    rec["parts"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str()).collect();
                assert_eq!(ids, [one.as_str(), two.as_str()], "wrong chain record\n{run}");
            }
            if let Some(rec) = front(&w.read("content/article.md"))["published"].get("devto") {
                assert_eq!(rec["id"], article.to_string().as_str(), "wrong article record\n{run}");
            }
            assert_eq!(w.threads_posts(), posts, "adopt published on Threads\n{run}");
            assert_eq!(w.fake.devto.articles(), articles, "adopt changed dev.to\n{run}");
        };
        check(&run);
        let rerun = w.run(&["adopt", "--no-commit"]);
        rerun.code(0);
        check(&rerun);
        assert!(front(&w.read("content/chain.md"))["published"]["threads"].is_object(), "{rerun}");
        assert!(front(&w.read("content/article.md"))["published"]["devto"].is_object(), "{rerun}");
    }
}

#[test]
fn an_unreadable_post_is_a_failure_and_the_others_go_on() {
    let w = World::new();
    w.thread("Fine post", None);
    w.file("content/a.md", md("platforms: [threads]\n", "Fine post\n"));
    w.file("content/b.md", "---\nplatforms: [threads\n---\nbroken\n");
    let run = w.run(&["adopt", "--no-commit"]);
    run.code(1)
        .stdout_has("content/b.md  -         failed: cannot read it")
        .stdout_has("adopted 1, not found 0, ambiguous 0, failed 1");
    assert!(w.read("content/a.md").contains("published:"));
}

#[test]
fn a_missing_credential_is_named_before_anything_is_read() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [threads]\n", "Text\n"));
    let run = w.repo.crier().env("CRIER_THREADS_API_URL", w.fake.threads.base_url()).args(["adopt"]).run();
    run.code(2).stderr_has("THREADS_ACCESS_TOKEN is not set");
    assert_eq!(w.fake.threads.calls(), 0);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_between_posts_and_records_commits_and_pushes_what_was_found() {
    let w = World::new();
    let names: Vec<String> = (1..=6).map(|n| format!("content/p{n}.md")).collect();
    for (i, name) in names.iter().enumerate() {
        let text = format!("Already out, number {}", i + 1);
        w.thread(&text, None);
        w.file(name, md("platforms: [threads]\n", &format!("{text}\n")));
    }
    let origin = common::push_to_new_origin(w.root());
    // Every request takes a while: the signal arrives while posts are still looked for.
    w.fake.threads.set_latency(Duration::from_millis(150));
    let reads = || w.fake.threads.requests().iter().filter(|(m, _)| m == "GET").count();
    let run = w.command(&["adopt"]).run_steered(|child| {
        common::wait_for(child, "the first read", || reads() > 0);
        common::signal(child, "TERM");
    });
    run.code(143);
    assert!(run.stdout.contains("cancelled by SIGTERM") && run.stdout.contains("not checked: cancelled"), "{run}");
    // What was found is recorded, committed and pushed; nothing was published.
    let on_origin: Vec<String> = names.iter().map(|n| git(origin.path(), &["show", &format!("main:{n}")])).collect();
    let found = on_origin.iter().filter(|t| !front(t)["published"]["threads"].is_null()).count();
    assert!(found < names.len(), "stopped between posts ({found} found)\n{run}");
    assert_eq!(w.threads_posts(), names.len());

    // The next run finds the rest.
    w.fake.threads.set_latency(Duration::ZERO);
    w.run(&["adopt"]).code(0).stdout_has(&format!("adopted {}, not found 0", names.len() - found));
}
