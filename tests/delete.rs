//! `crier delete` and `crier status --remote` end to end: the real binary against the fake
//! Threads and dev.to servers, in a scrubbed environment, with a local bare `origin`.

#[path = "support/common.rs"]
mod common;

#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_threads.rs"]
mod fake_threads;
#[path = "support/threads_devto.rs"]
mod threads_devto;

use common::{NOW, Run, git};
use std::time::Duration;

use fake_threads::FakeConfig;
use serde_json::Value;
use threads_devto::ThreadsAndDevto;

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 2\n  \
     processing_timeout_secs: 5\n  poll_interval_ms: 20\n  write_interval_ms: 10\n";

const CHAIN: &str =
    "---\nplatforms: [threads]\n---\n\nChain part one.\n\n---\n\nChain part two.\n\n---\n\nChain part three.\n";

type World = common::World<ThreadsAndDevto>;

impl World {
    fn new() -> Self {
        Self::with(FakeConfig::default())
    }

    fn with(cfg: FakeConfig) -> Self {
        let threads = FakeConfig { drop_hang: Duration::from_secs(5), ..cfg };
        let devto = fake_devto::FakeConfig { drop_hang: Duration::from_secs(5), ..fake_devto::FakeConfig::default() };
        Self::configured(2, "crier-delete-", CONFIG, || ThreadsAndDevto::start(threads, devto))
    }

    /// `crier … ARGS…` on a terminal, typing `answer`: what a person at a prompt sees and does.
    fn crier_on_terminal(&self, args: &[&str], answer: &str) -> Run {
        self.command(args).timeout(Duration::from_secs(60)).run_on_terminal(answer)
    }

    fn article(&self, title: &str) -> fake_devto::FakeArticle {
        self.fake
            .devto
            .articles()
            .into_iter()
            .find(|a| a.title == title)
            .unwrap_or_else(|| panic!("no article {title}"))
    }
}

/// The world's repository as a clone of a bare `origin`, everything committed and pushed.
fn with_origin(w: &World) -> tempfile::TempDir {
    common::push_to_new_origin(w.root())
}

fn front_matter(text: &str) -> Value {
    let rest = text.strip_prefix("---\n").expect("front matter opens the file");
    let end = rest.find("\n---\n").expect("front matter closes");
    serde_saphyr::from_str::<Value>(&rest[..=end]).expect("front matter parses")
}

fn record(text: &str, platform: &str) -> Value {
    front_matter(text).get("published").and_then(|p| p.get(platform)).cloned().unwrap_or(Value::Null)
}

fn article_post(title: &str) -> String {
    format!("---\ntitle: {title}\nplatforms: [devto]\n---\n\nThe body of {title}.\n")
}

#[test]
fn a_threads_chain_is_deleted_last_part_first_recorded_committed_and_never_republished() {
    let w = World::new();
    w.file("content/chain.md", CHAIN);
    let origin = with_origin(&w);
    w.run(&["publish"]).code(0);
    let ids: Vec<String> = w.fake.threads.published_posts().iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), 3);

    let run = w.run(&["delete", "content/chain.md", "--yes"]);
    run.code(0).stdout_has("deleted, 3 parts").stdout_has("deleted 1, failed 0");
    assert!(w.fake.threads.published_posts().iter().all(|p| p.deleted), "every part is gone\n{run}");
    let deletes: Vec<String> = w
        .fake
        .threads
        .requests()
        .into_iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, p)| p.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(deletes, reversed, "the last part goes first, each once");

    let rec = record(&w.read("content/chain.md"), "threads");
    assert_eq!(rec["deleted_at"], NOW, "{rec}");
    assert_eq!(rec["id"], ids[0].as_str(), "the record stays, marked deleted");
    let log = git(origin.path(), &["log", "--format=%s", "main"]);
    assert_eq!(log.lines().next(), Some("crier: record deleted posts [skip ci]"), "{log}");
    let on_origin = git(origin.path(), &["show", "main:content/chain.md"]);
    assert_eq!(record(&on_origin, "threads")["deleted_at"], NOW, "pushed");

    // Deleted means deleted: publish leaves it alone, and deleting again does nothing.
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.threads.published_posts().len(), 3, "nothing republished");
    w.run(&["delete", "content/chain.md", "--yes"]).code(0).stdout_has("already deleted at");
    assert_eq!(w.fake.threads.requests().iter().filter(|(m, _)| m == "DELETE").count(), 3);
}

#[test]
fn a_devto_article_is_unpublished_and_the_note_says_so() {
    let w = World::new();
    w.file("content/article.md", article_post("Article to take down"));
    w.run(&["publish"]).code(0);
    assert!(w.article("Article to take down").published);

    let run = w.run(&["delete", "content/article.md", "--yes", "--no-commit"]);
    run.code(0).stdout_has("unpublished: dev.to has no delete");
    assert!(!w.article("Article to take down").published, "the article is a draft now\n{run}");
    assert_eq!(w.fake.devto.articles().len(), 1, "dev.to articles are not deleted");
    assert_eq!(record(&w.read("content/article.md"), "devto")["deleted_at"], NOW);

    // An article deleted in the dashboard since is already gone, not an error.
    let w2 = World::new();
    w2.file("content/article.md", article_post("Gone article"));
    w2.run(&["publish"]).code(0);
    w2.fake.devto.delete_in_dashboard(w2.article("Gone article").id);
    let run = w2.run(&["delete", "content/article.md", "--yes", "--no-commit"]);
    run.code(0).stdout_has("already gone");
    assert_eq!(record(&w2.read("content/article.md"), "devto")["deleted_at"], NOW);
}

#[test]
fn platform_limits_what_is_deleted() {
    let w = World::new();
    w.file("content/both.md", "---\ntitle: On both\nplatforms: [threads, devto]\n---\n\nPosted on both.\n");
    w.run(&["publish"]).code(0);
    let run = w.run(&["delete", "content/both.md", "--platform", "devto", "--yes", "--no-commit"]);
    run.code(0);
    assert!(!w.article("On both").published, "{run}");
    assert!(w.fake.threads.published_posts().iter().all(|p| !p.deleted), "Threads is left alone\n{run}");
    let text = w.read("content/both.md");
    assert_eq!(record(&text, "devto")["deleted_at"], NOW);
    assert!(record(&text, "threads").get("deleted_at").is_none(), "{text}");
    assert!(!w.fake.threads.requests().iter().any(|(m, _)| m == "DELETE"));
}

#[test]
fn dry_run_deletes_nothing() {
    let w = World::new();
    w.file("content/chain.md", CHAIN);
    w.file("content/article.md", article_post("Dry article"));
    w.run(&["publish"]).code(0);
    let before = (w.read("content/chain.md"), w.read("content/article.md"));
    let run = w.run(&["delete", "content", "--dry-run"]);
    run.code(0).stdout_has("would delete").stdout_has("content/chain.md → threads").stdout_has("(3 parts)");
    assert!(run.stdout.contains("content/article.md → devto"), "{run}");
    assert!(w.fake.threads.published_posts().iter().all(|p| !p.deleted));
    assert!(w.article("Dry article").published);
    assert!(!w.fake.threads.requests().iter().any(|(m, _)| m == "DELETE"));
    assert_eq!(w.fake.devto.count("PUT", ""), 0);
    assert_eq!((w.read("content/chain.md"), w.read("content/article.md")), before);
}

/// `delete` takes posts: a named file that is not one is exit 2; a folder gives its posts
/// (`.` is the repository: crier.yaml is not a post).
#[test]
fn delete_takes_posts_only() {
    let w = World::new();
    w.file("content/chain.md", CHAIN);
    w.file("media/a.png", common::png(8, 8));
    w.run(&["publish"]).code(0);
    for not_a_post in ["crier.yaml", "media/a.png"] {
        let run = w.run(&["delete", not_a_post, "--yes"]);
        run.code(2);
        assert!(run.stderr.contains(&format!("`{not_a_post}` is not a post")), "{run}");
    }
    let run = w.run(&["delete", ".", "--dry-run"]);
    run.code(0).stdout_has("content/chain.md → threads");
    assert!(!run.stdout.contains("crier.yaml"), "{run}");
    assert!(w.fake.threads.published_posts().iter().all(|p| !p.deleted));
}

#[test]
fn a_missing_delete_permission_names_the_scope_and_changes_nothing() {
    let w = World::new();
    w.file("content/chain.md", CHAIN);
    w.run(&["publish"]).code(0);
    w.fake.threads.set_scope("threads_delete", false);
    let before = w.read("content/chain.md");
    let run = w.run(&["delete", "content/chain.md", "--yes", "--no-commit"]);
    run.code(1);
    assert!(run.stdout.contains("threads_delete") && run.stdout.contains("crier auth threads"), "{run}");
    assert_eq!(w.read("content/chain.md"), before, "the record is unchanged");
    assert!(w.fake.threads.published_posts().iter().all(|p| !p.deleted));
}

#[test]
fn another_accounts_post_is_not_deleted_nor_recorded_as_gone() {
    let w = World::new();
    w.file("content/a.md", "---\nplatforms: [threads]\n---\n\nMine.\n");
    w.run(&["publish"]).code(0);
    let mine = w.fake.threads.published_posts()[0].id.clone();
    let theirs = w.fake.threads.seed_foreign_post("17841400000000999", "someone_else", "Theirs.");
    w.edit("content/a.md", &mine, &theirs);
    let before = w.read("content/a.md");
    let run = w.run(&["delete", "content/a.md", "--yes", "--no-commit"]);
    run.code(1).stdout_has("@someone_else");
    assert_eq!(w.read("content/a.md"), before);
}

/// The state `status --remote --format json` gives a post on a platform.
fn remote_state(json: &Value, path: &str, platform: &str) -> Value {
    let posts = json["posts"].as_array().expect("posts");
    posts
        .iter()
        .find(|p| p["file"] == path && p["platform"] == platform)
        .and_then(|p| p.get("remote").cloned())
        .unwrap_or_else(|| panic!("no remote entry for {path} on {platform} in {json}"))
}

#[test]
fn status_remote_reports_gone_edited_and_other_account_posts() {
    let w = World::new();
    w.file("content/t-same.md", "---\nplatforms: [threads]\n---\n\nStill there as sent.\n");
    w.file("content/t-gone.md", "---\nplatforms: [threads]\n---\n\nDeleted in the app.\n");
    w.file("content/t-edited.md", CHAIN);
    w.file("content/t-other.md", "---\nplatforms: [threads]\n---\n\nPointing elsewhere.\n");
    w.file("content/d-same.md", article_post("Same article"));
    w.file("content/d-edited.md", article_post("Edited article"));
    w.file("content/d-unpublished.md", article_post("Unpublished article"));
    w.file("content/d-gone.md", article_post("Gone article"));
    w.file("content/d-other.md", article_post("Other article"));
    w.run(&["publish"]).code(0);

    let id_of = |text: &str| {
        w.fake.threads.published_posts().into_iter().find(|p| p.text.as_deref() == Some(text)).expect(text).id
    };
    w.fake.threads.delete_in_app(&id_of("Deleted in the app."));
    w.fake.threads.edit_in_app(&id_of("Chain part two."), "Chain part two, edited in the app.");
    let foreign = w.fake.threads.seed_foreign_post("17841400000000999", "someone_else", "Theirs.");
    let own = id_of("Pointing elsewhere.");
    w.edit("content/t-other.md", &own, &foreign);

    let edited = w.article("Edited article").id;
    w.fake.devto.edit_in_dashboard(edited, Some("The body, rewritten in the dashboard.\n"), None);
    w.fake.devto.edit_in_dashboard(w.article("Unpublished article").id, None, Some(false));
    w.fake.devto.delete_in_dashboard(w.article("Gone article").id);
    let theirs = w.fake.devto.seed_foreign("someone_else", "Their article", "Their body.\n");
    let ours = w.article("Other article").id.to_string();
    let text = w.read("content/d-other.md").replace(&format!("id: '{ours}'"), &format!("id: '{theirs}'"));
    let text = text.replace(&format!("id: \"{ours}\""), &format!("id: \"{theirs}\""));
    assert!(text.contains(&theirs.to_string()), "the dev.to record was repointed:\n{text}");
    w.file("content/d-other.md", &text);

    let lists_before = w.fake.devto.count("GET", "/articles/me/all");
    let human = w.run(&["status", "--remote"]);
    for expected in [
        "no longer on Threads",
        "part 2",
        "edited in the app",
        "@someone_else",
        "draft",
        "no longer on dev.to",
        "rewritten in the dashboard",
    ] {
        assert!(human.stdout.contains(expected), "human output lacks {expected:?}\n{human}");
    }

    let run = w.run(&["status", "--remote", "--format", "json"]);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{run}"));
    let state = |path: &str, platform: &str| remote_state(&json, path, platform)["state"].clone();
    assert_eq!(state("content/t-same.md", "threads"), "same", "{json}");
    assert_eq!(state("content/t-gone.md", "threads"), "gone");
    assert_eq!(state("content/t-edited.md", "threads"), "edited");
    assert_eq!(state("content/t-other.md", "threads"), "other-account");
    assert_eq!(state("content/d-same.md", "devto"), "same");
    assert_eq!(state("content/d-edited.md", "devto"), "edited");
    assert_eq!(state("content/d-unpublished.md", "devto"), "gone");
    assert_eq!(state("content/d-gone.md", "devto"), "gone");
    assert_eq!(state("content/d-other.md", "devto"), "other-account");
    assert_eq!(json["remote"]["drift"], 7, "{}", json["remote"]);

    // The account's articles are listed once, not once per article.
    assert_eq!(w.fake.devto.count("GET", "/articles/me/all"), lists_before + 2, "one listing per status run");
}

#[test]
fn doctor_mentions_drift_and_how_to_see_all_of_it() {
    let w = World::new();
    w.file("content/a-kept.md", "---\nplatforms: [threads]\n---\n\nStill there.\n");
    w.file("content/b-gone.md", "---\nplatforms: [threads]\n---\n\nRemoved in the app.\n");
    w.file("content/c-article.md", article_post("Kept article"));
    let _origin = with_origin(&w);
    w.run(&["publish"]).code(0);

    // Nothing drifted yet: doctor says so for both platforms and publishing would work.
    let clean = w.run(&["doctor"]);
    clean.code(0);
    assert_eq!(clean.stdout.matches("no drift:").count(), 2, "{clean}");

    let gone = w
        .fake
        .threads
        .published_posts()
        .into_iter()
        .find(|p| p.text.as_deref() == Some("Removed in the app."))
        .expect("post");
    w.fake.threads.delete_in_app(&gone.id);
    let run = w.run(&["doctor"]);
    // Drift is a warning: publishing would still work.
    run.code(0);
    assert!(run.stdout.contains("content/b-gone.md is gone"), "{run}");
    assert!(run.stdout.contains("crier status --remote --platform threads"), "{run}");
    assert!(run.stdout.contains("crier delete PATH --platform threads"), "{run}");
    assert!(!run.stdout.contains("content/a-kept.md is gone"), "{run}");
    assert_eq!(run.stdout.matches("no drift:").count(), 1, "dev.to still has none\n{run}");
}

#[test]
fn on_a_terminal_delete_asks_and_only_yes_deletes() {
    let w = World::new();
    w.file("content/chain.md", CHAIN);
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.threads.published_posts().len(), 3);

    // Anything but yes deletes nothing, and says so.
    let no = w.crier_on_terminal(&["delete", "content/chain.md"], "n\n");
    no.code(1);
    assert!(no.stdout.contains("content/chain.md → threads") && no.stdout.contains("(3 parts)"), "{no}");
    assert!(no.stdout.contains("Delete 1 post? This cannot be undone. [y/N]"), "{no}");
    assert!(no.stdout.contains("nothing deleted: not confirmed"), "{no}");
    assert!(w.fake.threads.published_posts().iter().all(|p| !p.deleted), "nothing is deleted");
    assert!(record(&w.read("content/chain.md"), "threads").get("deleted_at").is_none());

    let yes = w.crier_on_terminal(&["delete", "content/chain.md"], "y\n");
    yes.code(0);
    assert!(yes.stdout.contains("deleted, 3 parts"), "{yes}");
    assert!(w.fake.threads.published_posts().iter().all(|p| p.deleted), "every part is gone\n{yes}");
    assert_eq!(record(&w.read("content/chain.md"), "threads")["deleted_at"], NOW);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_between_posts_and_records_commits_and_pushes_what_is_deleted() {
    let w = World::new();
    let names: Vec<String> = (1..=6).map(|n| format!("content/p{n}.md")).collect();
    for (i, name) in names.iter().enumerate() {
        w.file(name, format!("---\nplatforms: [threads]\n---\n\nPost {}.\n", i + 1));
    }
    let origin = with_origin(&w);
    w.run(&["publish"]).code(0);
    // Every request takes a while: the signal arrives while posts are still being deleted.
    w.fake.threads.set_latency(Duration::from_millis(150));
    let deletes = || w.fake.threads.requests().iter().filter(|(m, _)| m == "DELETE").count();
    let run = w.command(&["delete", "content", "--yes"]).run_steered(|child| {
        common::wait_for(child, "the first delete", || deletes() > 0);
        common::signal(child, "TERM");
    });
    run.code(143);
    let gone = w.fake.threads.published_posts().iter().filter(|p| p.deleted).count();
    assert!(gone > 0 && gone < names.len(), "stopped between posts ({gone} deleted)\n{run}");
    assert!(run.stdout.contains("cancelled by SIGTERM") && run.stdout.contains("not deleted: cancelled"), "{run}");
    // Every post taken down is recorded, committed and pushed; the others are left as they were.
    let on_origin: Vec<String> = names.iter().map(|n| git(origin.path(), &["show", &format!("main:{n}")])).collect();
    let marked = on_origin.iter().filter(|t| record(t, "threads").get("deleted_at").is_some()).count();
    assert_eq!(marked, gone, "{run}");

    // The next run finishes the job.
    w.fake.threads.set_latency(Duration::ZERO);
    w.run(&["delete", "content", "--yes"]).code(0);
    assert!(w.fake.threads.published_posts().iter().all(|p| p.deleted));
}
