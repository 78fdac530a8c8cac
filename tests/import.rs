//! `crier import devto` end to end on a repository shaped like a devto-cli /
//! publish-devto one (`tests/fixtures/devto-cli/blog`): the dry run's diff, the converted
//! files byte for byte, `crier check` passing afterwards, and `crier publish --dry-run`
//! publishing nothing that is already on dev.to.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;

use common::{Fixture, Run};
use fake_devto::FakeDevto;
use std::path::Path;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/devto-cli/blog");

common::world!(FakeDevto, |f| [plain("CRIER_DEVTO_API_URL", f.base_url()), secret("DEVTO_API_KEY", f.api_key())]);

impl World {
    /// The fixture repository, and a dev.to account holding its two pushed articles
    /// (the fake numbers articles from 2345678, the ids the fixture records).
    fn new() -> Self {
        let repo = Fixture::copy_of("crier-import-", Path::new(FIXTURE));
        let w = Self::start(1, repo, || FakeDevto::start(fake_devto::FakeConfig::default()));
        let hello = w.fake.seed("Hello, world: my first post", "(as devto-cli sent it)", true, None);
        let part1 =
            w.fake.seed("Rust CLIs, part 1: arguments", "First", true, Some("https://blog.example.org/rust-clis-1"));
        assert_eq!((hello, part1), (2_345_678, 2_345_679), "the fixture's ids");
        w
    }

    /// `crier … ARGS…`, with or without the API key.
    fn crier(&self, args: &[&str], with_key: bool) -> Run {
        let crier = self.command(args);
        self.finish(if with_key { crier } else { crier.env_remove("DEVTO_API_KEY") })
    }
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURE).join(rel)).expect("fixture file")
}

/// Every line of `before` that the conversion keeps where it was shows up in `after`, in
/// the same order and unchanged; `moved` lines show up indented under `devto:`.
#[track_caller]
fn kept_in_order(before: &str, after: &str, dropped: &[&str], moved: &[&str]) {
    let mut rest = after.lines();
    for line in before.lines() {
        if dropped.iter().any(|d| line.starts_with(d)) || moved.iter().any(|m| line.starts_with(m)) {
            continue;
        }
        assert!(rest.any(|l| l == line), "line {line:?} was lost or moved\n--- after:\n{after}");
    }
    for m in moved {
        let line = before.lines().find(|l| l.starts_with(m)).expect("moved line exists");
        assert!(after.lines().any(|l| l == format!("  {line}")), "{line:?} not under devto:\n{after}");
    }
}

#[test]
fn a_devto_cli_repository_becomes_a_crier_repository() {
    let w = World::new();

    // The dry run shows the diff and writes nothing.
    let dry = w.crier(&["import", "devto", "--dry-run"], true);
    dry.code(0).stdout_has("would convert 4, skipped 1, failed 0");
    assert!(dry.stdout.contains("--- a/posts/hello-world.md\n+++ b/posts/hello-world.md\n"), "{dry}");
    assert!(dry.stdout.contains("+platforms: [devto]\n"), "{dry}");
    assert!(dry.stdout.contains("-published: true\n"), "{dry}");
    assert!(dry.stdout.contains("+content_dir: posts\n"), "{dry}");
    for rel in ["posts/hello-world.md", "posts/draft-idea.md", "posts/series/part-1.md", "posts/not-synced.md"] {
        assert_eq!(w.read(rel), fixture(rel), "{rel} changed in a dry run");
    }
    assert!(!w.root().join("crier.yaml").exists());

    let run = w.crier(&["import", "devto"], true);
    run.code(0)
        .stdout_has("converted 4, skipped 1, failed 0")
        .stdout_has("posts/ideas.md: skipped (no title")
        .stdout_has("rename it to `_ideas.md`")
        .stdout_has("`content_dir: posts`");

    let hello = w.read("posts/hello-world.md");
    let url = w.fake.articles().into_iter().find(|a| a.id == 2_345_678).expect("article").url;
    let head = format!(
        "---\ntitle: 'Hello, world: my first post'\nplatforms: [devto]\ndevto:\n  published: true\n  description: Why I moved my writing into a git repository\n  cover_image: 'https://images.example.org/covers/hello.png'\ntags: [git, productivity, writing]\npublished:\n  devto:\n    id: \"2345678\"\n    url: \"{url}\"\n    published_at: \"2023-04-02T09:15:27Z\"\n    hash: \"sha256:"
    );
    assert!(hello.starts_with(&head), "{hello}");
    // The body, code block included, is byte for byte the same.
    let body_at = |t: &str| t.find("\n---\n").map(|i| i + 5).expect("closed");
    let original = fixture("posts/hello-world.md");
    assert_eq!(&hello[body_at(&hello)..], &original[body_at(&original)..]);

    let part1 = w.read("posts/series/part-1.md");
    kept_in_order(
        &fixture("posts/series/part-1.md"),
        &part1,
        &["published:", "id:", "date:", "---"],
        &["description:", "  Parsing", "  and testing", "series:", "canonical_url:"],
    );
    assert!(part1.contains("\n    published_at: \"2023-09-14T18:02:11Z\"\n"), "{part1}");
    assert!(part1.starts_with("---\n# Part one of the series; part two is still a draft.\n"), "{part1}");
    assert!(
        part1.contains(
            "  description: >-\n    Parsing arguments with clap's derive API,\n    and testing the result.\n"
        )
    );

    assert_eq!(
        w.read("posts/draft-idea.md"),
        "---\ntitle: My article title\nplatforms: [devto]\ndevto:\n  description: My article description\n  published: false\n---\n\nMy article content\n"
    );
    assert_eq!(
        w.read("posts/not-synced.md"),
        "---\ntitle: Notes for a talk\nplatforms: [devto]\ndraft: true\ntags: [speaking]\ndevto:\n  published: false\n---\n\nOnly for me, for now.\n"
    );
    assert_eq!(w.read("crier.yaml"), "# Posts imported from devto-cli stay in posts/.\ncontent_dir: posts\n");

    // A file that is not an article is crier's to read too; the user moves it aside.
    std::fs::rename(w.root().join("posts/ideas.md"), w.root().join("posts/_ideas.md")).expect("rename");
    w.crier(&["check"], false).code(0);
    let plan = w.crier(&["publish", "--dry-run"], false);
    plan.code(0);
    let due =
        plan.stdout.split("would publish now:").nth(1).unwrap_or_default().split("\n\n").next().unwrap_or_default();
    let due: Vec<&str> = due.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(due.len() == 1 && due[0].trim().starts_with("posts/draft-idea.md → devto"), "{plan}");
    assert!(plan.stdout.contains("posts/hello-world.md → devto  https://dev.to/"), "{plan}");
    assert!(plan.stdout.contains("posts/series/part-1.md → devto  https://dev.to/"), "{plan}");
    assert!(!plan.stdout.contains("changed since"), "{plan}");
}

#[test]
fn without_a_key_the_records_wait_for_adopt() {
    let w = World::new();
    w.crier(&["import", "devto"], false).code(0).stdout_has("`crier adopt` fills it in");
    let hello = w.read("posts/hello-world.md");
    assert!(hello.contains("    id: \"2345678\"\n    url: \"\"\n"), "{hello}");
    // Already recorded: publish leaves it alone.
    std::fs::rename(w.root().join("posts/ideas.md"), w.root().join("posts/_ideas.md")).expect("rename");
    let plan = w.crier(&["publish", "--dry-run"], false);
    let due =
        plan.stdout.split("would publish now:").nth(1).unwrap_or_default().split("\n\n").next().unwrap_or_default();
    assert!(!due.contains("hello-world") && !due.contains("part-1"), "{plan}");
    // adopt reads the URLs by id.
    w.crier(&["adopt", "--no-commit"], true).code(0).stdout_has("adopted 2");
    assert!(w.read("posts/hello-world.md").contains("    url: \"https://dev.to/crier_tester/"));
    assert_eq!(w.fake.count("PUT", ""), 0, "nothing was updated");
    assert_eq!(w.fake.count("POST", ""), 0, "nothing was created");
}

#[test]
fn into_moves_the_converted_posts_under_content() {
    let w = World::new();
    w.crier(&["import", "devto", "--into", "content"], true).code(0).stdout_has("moved to content/series/part-1.md");
    assert!(!w.root().join("posts/hello-world.md").exists());
    assert!(w.read("content/hello-world.md").contains("platforms: [devto]"));
    assert!(!w.root().join("crier.yaml").exists(), "content/ is the default content_dir");
    w.crier(&["check"], false).code(0);
}

#[test]
fn posts_left_outside_a_configured_content_dir_are_pointed_out() {
    let w = World::new();
    let config = "# mine\ncontent_dir: articles\n";
    std::fs::write(w.root().join("crier.yaml"), config).expect("write");
    w.crier(&["import", "devto"], false).code(0).stdout_has(
        "warning: crier reads posts from `content_dir: articles` only, and these stay in posts/: use --into articles",
    );
    assert_eq!(w.read("crier.yaml"), config);
}

#[test]
fn a_bom_crlf_file_keeps_its_bytes() {
    let w = World::new();
    let text = "\u{feff}---\r\ntitle: Windows post\r\npublished: false\r\ntags: 'a, b'\r\n---\r\nBody\r\n";
    std::fs::write(w.root().join("posts/win.md"), text).expect("write");
    w.crier(&["import", "devto", "posts/win.md"], false).code(0).stdout_has("converted 1");
    assert_eq!(
        w.read("posts/win.md"),
        "\u{feff}---\r\ntitle: Windows post\r\nplatforms: [devto]\r\ndevto:\r\n  published: false\r\ntags: [a, b]\r\n---\r\nBody\r\n"
    );
}

#[test]
fn a_crier_post_is_left_alone_and_a_glob_matching_nothing_is_an_error() {
    let w = World::new();
    w.crier(&["import", "devto"], false).code(0);
    let again = w.crier(&["import", "devto"], false);
    again.code(0).stdout_has("converted 0, skipped 5").stdout_has("skipped (already a crier post)");
    w.crier(&["import", "devto", "nothing/**/*.md"], false).code(2).stderr_has("no file matches nothing/**/*.md");
}
