//! End-to-end tests: the real `crier` binary on fixture repositories.

#[path = "cli/harness.rs"]
mod harness;

use std::collections::BTreeSet;

use harness::{Crier, Repo, gif, png};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

/// `crier check --format json` on `repo`, which must exit with `code`.
#[track_caller]
fn check_json(repo: &Repo, code: i32) -> Value {
    let run = repo.run(&["check", "--format", "json"]);
    run.code(code);
    run.json()
}

/// The one diagnostic of a `check --format json` result (its shape checked).
#[track_caller]
fn only_diagnostic(v: &Value) -> &Value {
    let diags = check_shape(v);
    assert_eq!(diags.len(), 1, "{v:#}");
    &diags[0]
}

/// Asserts the documented `check --format json` shape and returns the diagnostics.
#[track_caller]
fn check_shape(v: &Value) -> &[Value] {
    let keys: BTreeSet<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["diagnostics", "errors", "warnings", "posts"]), "{v:#}");
    let diags = v["diagnostics"].as_array().expect("diagnostics is an array");
    for d in diags {
        let keys: BTreeSet<&str> = d.as_object().expect("a diagnostic object").keys().map(String::as_str).collect();
        for required in ["severity", "code", "message", "file", "line", "column"] {
            assert!(keys.contains(required), "`{required}` missing in {d}");
        }
        assert!(matches!(d["severity"].as_str(), Some("error" | "warning")), "{d}");
        assert!(d["line"].as_u64().is_some_and(|n| n >= 1), "line is 1-based: {d}");
        assert!(d["column"].as_u64().is_some_and(|n| n >= 1), "column is 1-based: {d}");
        let file = d["file"].as_str().expect("file is a string");
        assert!(!file.starts_with('/') && !file.contains('\\'), "file is repo-relative: {d}");
    }
    let count = |sev: &str| diags.iter().filter(|d| d["severity"] == sev).count() as u64;
    assert_eq!(v["errors"].as_u64(), Some(count("error")), "{v:#}");
    assert_eq!(v["warnings"].as_u64(), Some(count("warning")), "{v:#}");
    diags
}

/// The diagnostics about one file.
fn diags_for<'a>(diags: &'a [Value], file: &str) -> Vec<&'a Value> {
    diags.iter().filter(|d| d["file"] == file).collect()
}

const THREADS_POST: &str = "---\nplatforms: [threads]\n---\n\nHello.\n";

// ---------------------------------------------------------------- 1. check --format json

/// Builds one repository with one problem per file.
fn problem_repo() -> Repo {
    let repo = Repo::new();
    let md = |front: &str, body: &str| format!("---\n{front}---\n\n{body}");
    let media_post = |path: &str| md(&format!("platforms: [threads]\nmedia:\n  - path: {path}\n    alt: x\n"), "Hi.\n");
    // 495 ASCII letters and three curly apostrophes: 498 characters, 504 bytes.
    let long = format!("{}’’’\n", "a".repeat(495));
    let links: String = (1..=6).map(|i| format!("Link https://example.com/{i}\n")).collect();
    let bomb_levels: String = ('b'..='i')
        .map(|c| {
            let prev = char::from(c as u8 - 1);
            format!("  {c}: &{c} [{}]\n", vec![format!("*{prev}"); 9].join(","))
        })
        .collect();
    // Media have a public URL here (as in GitHub Actions): these posts are about other problems.
    repo.file("crier.yaml", "media:\n  base_url: https://cdn.example/\n")
        .file("media/fake.png", gif(10, 10))
        .file("media/wide.png", png(1200, 100))
        .file("media/ok.png", png(100, 100))
        .file("content/typo.md", "---\ntitel: Hello\nplatforms: [threads]\n---\n\nBody.\n")
        .file("content/long.md", md("platforms: [threads]\n", &long))
        .file("content/links.md", md("platforms: [threads]\n", &links))
        .file("content/devto-notitle.md", md("platforms: [devto]\n", "Body.\n"))
        .file("content/devto-tags.md", md("title: T\nplatforms: [devto]\ntags: [a, b, c, d, e]\n", "Body.\n"))
        .file("content/devto-hyphen.md", md("title: T\nplatforms: [devto]\ntags: [rust, open-source]\n", "Body.\n"))
        .file("content/pubat.md", md("platforms: [threads]\npublish_at: tomorrow morning\n", "Body.\n"))
        .file("content/unknown-platform.md", md("platforms: [threads, tiktok]\n", "Body.\n"))
        .file("content/noplat.md", md("title: x\n", "Body.\n"))
        .file("content/malformed.md", md("platforms: [threads\ntitle: x\n", "Body.\n"))
        .file("content/binary.md", b"---\nplatforms: [threads]\n---\n\n\xff\xfe bad\n")
        .file("content/empty.md", "")
        .file("content/unclosed.md", "---\nplatforms: [threads]\ntitle: x\n\nBody.\n")
        .sized_file("content/huge.md", 10 * 1024 * 1024 + 1)
        .file(
            "content/bomb.yaml",
            format!("platforms: [threads]\ntext: hi\nvars:\n  a: &a [{}]\n{bomb_levels}", ["x"; 9].join(",")),
        )
        .file("content/escape.md", media_post("../x.png"))
        .file("content/missing.md", media_post("media/nope.png"))
        .file("content/gif.md", media_post("media/fake.png"))
        .file("content/wide.md", media_post("media/wide.png"))
        .file("content/poll.yaml", "platforms: [threads]\ntext: Which?\nthreads:\n  poll:\n    options: [a, b, c, d, e]\n")
        .file("content/reply.yaml", "platforms: [threads]\ntext: Hi\nthreads:\n  reply_control: nobody_at_all\n")
        .file(
            "content/linkmedia.md",
            md(
                "platforms: [threads]\nmedia:\n  - path: media/ok.png\n    alt: x\nthreads:\n  link_attachment: https://example.com\n",
                "Body.\n",
            ),
        )
        .file("content/ok.md", THREADS_POST);
    repo
}

#[test]
fn check_json_reports_each_problem_at_its_location() {
    let repo = problem_repo();
    let v = check_json(&repo, 1);
    let diags = check_shape(&v);
    assert_eq!(v["posts"], 23, "every post file is counted, broken ones included\n{v:#}");

    // (file, code, line, column, words the message or hint must contain)
    let expected: &[(&str, &str, usize, usize, &str)] = &[
        ("content/typo.md", "unknown-key", 2, 1, "did you mean `title`?"),
        ("content/long.md", "threads-text-too-long", 5, 1, "504 bytes"),
        ("content/links.md", "threads-too-many-links", 10, 6, "6 distinct links"),
        ("content/devto-notitle.md", "devto-title-missing", 1, 1, "title"),
        ("content/devto-tags.md", "devto-too-many-tags", 4, 20, "5 tags"),
        ("content/devto-hyphen.md", "devto-tag-invalid", 4, 14, "open-source"),
        ("content/pubat.md", "publish-at-invalid", 3, 13, "RFC 3339"),
        ("content/unknown-platform.md", "unknown-platform", 2, 22, "tiktok"),
        ("content/noplat.md", "no-platforms", 1, 1, "no platforms"),
        ("content/malformed.md", "yaml-syntax", 3, 6, "YAML"),
        ("content/binary.md", "not-utf8", 5, 1, "UTF-8"),
        ("content/empty.md", "empty-post", 1, 1, "empty"),
        ("content/unclosed.md", "front-matter-unclosed", 1, 1, "never closed"),
        ("content/huge.md", "file-too-large", 1, 1, "10485761 bytes"),
        ("content/escape.md", "media-path-escapes", 4, 11, "../x.png"),
        ("content/missing.md", "media-not-found", 4, 11, "media/nope.png"),
        ("content/gif.md", "threads-media-format", 4, 5, "GIF"),
        ("content/wide.md", "threads-image-aspect-ratio", 4, 5, "1200×100"),
        ("content/poll.yaml", "threads-poll-options", 5, 14, "5 options"),
        ("content/reply.yaml", "threads-reply-control", 4, 18, "nobody_at_all"),
        ("content/linkmedia.md", "threads-link-attachment-with-media", 4, 5, "link_attachment"),
    ];
    for &(file, code, line, column, words) in expected {
        let found = diags_for(diags, file);
        assert_eq!(found.len(), 1, "{file}: expected one diagnostic, got {found:#?}");
        let d = found[0];
        assert_eq!(
            (d["severity"].as_str(), d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
            (Some("error"), Some(code), Some(line as u64), Some(column as u64)),
            "{file}: {d:#}"
        );
        let text = format!("{} {}", d["message"], d["hint"]);
        assert!(text.contains(words), "{file}: `{words}` not in {d:#}");
    }

    // The alias bomb is refused quickly, pointing into the aliased `vars`.
    let bomb = diags_for(diags, "content/bomb.yaml");
    assert_eq!(bomb.len(), 1, "{bomb:#?}");
    assert_eq!(bomb[0]["code"], "yaml-too-complex");
    assert!((4..=12).contains(&bomb[0]["line"].as_u64().unwrap_or(0)), "{:#}", bomb[0]);

    assert!(diags_for(diags, "content/ok.md").is_empty(), "a valid post has no diagnostics");
    assert_eq!(v["errors"], 22);
}

#[test]
fn alias_bomb_message_is_complete() {
    let repo = problem_repo();
    let v = repo.run(&["check", "--format", "json", "content/bomb.yaml"]).json();
    let message = v["diagnostics"][0]["message"].as_str().expect("a message").to_owned();
    assert_eq!(message.matches('(').count(), message.matches(')').count(), "unbalanced: {message}");
    assert!(!message.trim_end().ends_with("(used"), "truncated: {message}");
}

/// YAML mistakes are named for what they are, at the place to fix, with a hint that
/// names only keys valid there (or where the key belongs).
#[test]
fn check_json_names_yaml_mistakes_and_where_keys_belong() {
    let post = |front: &str| format!("---\n{front}---\n\nHi.\n");
    // (file, text, code, line, column, words in message or hint, words in neither)
    type Case = (&'static str, String, &'static str, u64, u64, &'static [&'static str], &'static [&'static str]);
    let cases: &[Case] = &[
        (
            "content/two.yaml",
            "platforms: [threads]\ntext: hi\n---\n".to_owned(),
            "yaml-multiple-documents",
            3,
            1,
            &["one YAML document", "remove"],
            &["too large", "nested"],
        ),
        (
            "content/alias.md",
            post("platforms: [threads]\nvars: {v: &v x}\ntags: *v\n"),
            "yaml-type",
            4,
            7,
            &["expected a list", "anchored at line 3, column 14"],
            &["(defined"],
        ),
        (
            "content/poll.md",
            post("platforms: [x]\nx: {poll: {options: [a, b]}}\n"),
            "missing-key",
            3,
            11,
            &["`duration_minutes`"],
            &["syntax"],
        ),
        (
            "content/poll-block.md",
            post("platforms: [x]\nx:\n  poll:\n    options: [a, b]\n"),
            "missing-key",
            5,
            5,
            &["`duration_minutes`"],
            &["syntax"],
        ),
        (
            "content/split.md",
            post("platforms: [bluesky]\nsplit: auto\n"),
            "unknown-key",
            3,
            1,
            &["`bluesky: {split: …}`", "mastodon", "threads"],
            &["did you mean"],
        ),
        (
            "content/visibility.md",
            post("platforms: [mastodon]\nvisibility: public\n"),
            "unknown-key",
            3,
            1,
            &["`linkedin: {visibility: …}`", "`mastodon`"],
            &["did you mean"],
        ),
        (
            "content/caption.md",
            post("platforms: [bluesky]\nmedia: [{url: https://example.com/a.png, caption: y}]\n"),
            "unknown-key",
            3,
            42,
            &["`alt`, `path`, `url`"],
            &["did you mean", "options"],
        ),
        (
            "content/threads-caption.md",
            post("platforms: [threads]\nthreads: {caption: y}\n"),
            "unknown-key",
            3,
            11,
            &["crier schema post"],
            &["did you mean", "options"],
        ),
        (
            "content/platform-typo.md",
            post("platforms: [bluesky]\nblusky: {split: auto}\n"),
            "unknown-key",
            3,
            1,
            &["did you mean `bluesky`?"],
            &[],
        ),
        (
            "content/nested-typo.md",
            post("platforms: [bluesky]\nbluesky: {splt: auto}\n"),
            "unknown-key",
            3,
            11,
            &["did you mean `split`?"],
            &[],
        ),
        (
            "content/poll-elsewhere.md",
            post("platforms: [x]\nx: {options: [a, b]}\n"),
            "unknown-key",
            3,
            5,
            &["`x: {poll: {options: …}}`"],
            &["did you mean"],
        ),
    ];
    let repo = Repo::new();
    for (file, text, ..) in cases {
        repo.file(file, text);
    }
    let v = check_json(&repo, 1);
    let diags = check_shape(&v);
    for &(file, _, code, line, column, want, unwanted) in cases {
        let found = diags_for(diags, file);
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        let d = found[0];
        assert_eq!(
            (d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
            (Some(code), Some(line), Some(column)),
            "{file}: {d:#}"
        );
        let text = format!("{} {}", d["message"], d["hint"]);
        for w in want {
            assert!(text.contains(w), "{file}: `{w}` not in {d:#}");
        }
        for w in unwanted {
            assert!(!text.contains(w), "{file}: `{w}` in {d:#}");
        }
    }
}

/// crier.yaml's unknown keys get the same hints: a platform's key names its platform.
#[test]
fn config_unknown_key_says_where_it_belongs() {
    let repo = Repo::new();
    repo.file("crier.yaml", "mastodon:\n  instance: https://example.social\nbase_url: https://cdn.example/\n")
        .file("content/a.md", THREADS_POST);
    let run = repo.run(&["check"]);
    run.code(2).stderr_has("unknown key `base_url`").stderr_has("belongs under `media` or `site`");
    assert!(!run.stderr.contains("post schema"), "{run}");
}

#[test]
fn check_json_unknown_template_variable_points_into_the_template() {
    let repo = Repo::new();
    repo.file("templates/threads.hbs", "Hello {{titel}} there\n")
        .file("content/a.md", "---\ntitle: A\nplatforms: [threads]\n---\n\nBody.\n");
    let v = check_json(&repo, 1);
    let d = only_diagnostic(&v);
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("templates/threads.hbs"), Some(1), Some(7))
    );
    assert_eq!(d["severity"], "error");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("titel")), "{d:#}");
}

#[test]
fn check_json_cross_links_in_a_circle_are_an_error() {
    let repo = Repo::new();
    // The Threads teaser links the article, and the article links the teaser.
    repo.file("templates/teaser.hbs", "{{text}}\n{{published.devto.url}}\n")
        .file("templates/article.hbs", "{{text}}\n\nDiscuss: {{published.threads.url}}\n")
        .file(
            "content/a.md",
            "---\ntitle: A\nplatforms: [threads, devto]\nthreads: {template: teaser}\ndevto: {template: article}\n---\n\nBody.\n",
        )
        // One direction alone is fine: the teaser waits for the article during the run.
        .file("content/b.md", "---\ntitle: B\nplatforms: [threads, devto]\nthreads: {template: teaser}\n---\n\nBody.\n");
    let v = check_json(&repo, 1);
    let d = only_diagnostic(&v);
    assert_eq!(
        (d["file"].as_str(), d["code"].as_str(), d["line"].as_u64()),
        (Some("content/a.md"), Some("cross-link-cycle"), Some(1))
    );
    let message = d["message"].as_str().unwrap_or_default();
    assert!(message.contains("threads (template `teaser`)") && message.contains("devto (template `article`)"), "{d:#}");
}

#[test]
fn check_json_warnings_alone_exit_zero() {
    let repo = Repo::new();
    // 497 ASCII letters and one curly apostrophe: exactly 500 bytes, allowed.
    repo.file("content/limit.md", format!("---\nplatforms: [threads]\n---\n\n{}’\n", "a".repeat(497)))
        .file("content/inline.md", "---\nplatforms: [threads]\n---\n\nSee ![x](media/a.png)\n");
    let v = check_json(&repo, 0);
    let diags = check_shape(&v);
    assert_eq!((v["errors"].as_u64(), v["warnings"].as_u64(), v["posts"].as_u64()), (Some(0), Some(1), Some(2)));
    assert_eq!(
        (diags[0]["file"].as_str(), diags[0]["code"].as_str(), diags[0]["line"].as_u64(), diags[0]["column"].as_u64()),
        (Some("content/inline.md"), Some("threads-inline-image"), Some(5), Some(5))
    );
}

// ---------------------------------------------------------------- 2. check, human output

fn human_repo() -> Repo {
    let repo = Repo::new();
    repo.file("content/typo.md", "---\ntitel: Hello\nplatforms: [threads]\n---\n\nBody.\n")
        .file("content/inline.md", "---\nplatforms: [threads]\n---\n\nSee ![x](media/a.png)\n")
        .file("content/ok.md", THREADS_POST);
    repo
}

#[test]
fn check_human_names_location_code_and_hint() {
    let repo = human_repo();
    let run = repo.run(&["check"]);
    run.code(1);
    for needle in [
        "content/typo.md:2:1",
        "unknown-key",
        "did you mean `title`?",
        "content/inline.md:5:5",
        "threads-inline-image",
        "checked 3 posts: 1 error, 1 warning (failed)",
    ] {
        assert!(run.stdout.contains(needle), "`{needle}` missing\n{run}");
    }
    assert!(!run.stdout.contains('\u{1b}'), "--color never prints no escape codes");
    insta::assert_snapshot!("check_human", repo.redact(&run.stdout));
}

#[test]
fn check_quiet_hides_warnings_and_keeps_errors() {
    let repo = human_repo();
    let run = repo.run(&["-q", "check"]);
    run.code(1);
    assert!(run.stdout.contains("content/typo.md:2:1"), "{run}");
    assert!(!run.stdout.contains("threads-inline-image"), "{run}");

    std::fs::remove_file(repo.path().join("content/typo.md")).expect("remove");
    let run = repo.run(&["check", "-q"]);
    run.code(0);
    assert!(!run.stdout.contains("threads-inline-image"), "{run}");
    let loud = repo.run(&["check"]);
    loud.code(0);
    assert!(loud.stdout.contains("threads-inline-image") && loud.stdout.contains("0 errors, 1 warning (ok)"), "{loud}");
}

// ---------------------------------------------------------------- 3. check --format github

#[test]
fn check_github_annotations_and_step_summary() {
    let repo = Repo::new();
    let links: String = (1..=6).map(|i| format!("Link https://example.com/{i}\n")).collect();
    repo.file("content/typo.md", "---\ntitel: Hello\nplatforms: [threads]\n---\n\nBody.\n")
        .file("content/links.md", format!("---\nplatforms: [threads]\n---\n\n{links}"))
        .file("content/ok.md", "---\nplatforms: [threads]\n---\n\nFine & <dandy>.\n")
        .file("content/chain.yaml", "platforms: [threads]\nthread:\n  - First part.\n  - Second part.\n")
        .file("summary.md", "# earlier step\n");
    let summary = repo.path().join("summary.md");
    let run = repo.crier().args(["check", "--format", "github"]);
    let run = run.env("GITHUB_STEP_SUMMARY", &summary).run();
    run.code(1);
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(lines.len(), 2, "{run}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=content/links.md,line=10,col=6::") && l.contains("6 distinct links")),
        "{run}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("::error file=content/typo.md,line=2,col=1::") && l.contains("titel")),
        "{run}"
    );
    assert!(!run.stdout.contains("\n  "), "annotations are single lines (newlines escaped)\n{run}");
    // The contract's form exactly: the message is `check --format json`'s message, nothing added.
    let json: serde_json::Value =
        serde_json::from_str(&repo.crier().args(["check", "--format", "json"]).run().stdout).unwrap();
    for d in json["diagnostics"].as_array().unwrap() {
        let line = format!(
            "::{} file={},line={},col={}::{}",
            d["severity"].as_str().unwrap(),
            d["file"].as_str().unwrap(),
            d["line"],
            d["column"],
            d["message"].as_str().unwrap().replace('%', "%25").replace('\n', "%0A")
        );
        assert!(lines.contains(&line.as_str()), "`{line}` missing from\n{run}");
    }

    let md = repo.read("summary.md");
    assert!(md.starts_with("# earlier step\n"), "the summary is appended to, not replaced:\n{md}");
    for preview in
        ["content/ok.md", "Fine & <dandy>.", "content/chain.yaml", "First part.", "Second part.", "content/links.md"]
    {
        assert!(md.contains(preview), "`{preview}` missing from the step summary:\n{md}");
    }
    assert!(md.contains("content/typo.md:2:1"), "problems are listed too:\n{md}");

    // Without the variable no summary is written anywhere.
    std::fs::remove_file(&summary).expect("remove");
    repo.run(&["check", "--format", "github"]).code(1);
    assert!(!repo.exists("summary.md"));
}

// ---------------------------------------------------------------- 4. render

fn render_repo() -> Repo {
    let repo = Repo::new();
    repo.file("media/a.png", png(100, 100))
        .file("crier.yaml", "media:\n  base_url: https://cdn.example/\nvars:\n  site: https://example.org\n")
        .file(
            "content/md.md",
            "---\ntitle: Rules\nplatforms: [threads]\nmedia:\n  - path: media/a.png\n    alt: A square\n---\n\n\
             Some *emphasis* and **strong** and `code`.\n\
             See [the docs](https://example.com/docs) & <more> it's fine.\n\n\
             Title\n---\n\nNext paragraph.\n\n---\n\nSecond part.\n",
        );
    repo
}

#[test]
fn render_json_turns_markdown_into_threads_text() {
    let repo = render_repo();
    let run = repo.run(&["render", "content/md.md", "--format", "json"]);
    run.code(0);
    assert_eq!(
        run.json(),
        json!({
            "file": "content/md.md",
            "platforms": {
                "threads": {
                    "parts": [
                        {
                            "text": "Some emphasis and strong and code.\n\
                                     See the docs (https://example.com/docs) & <more> it's fine.\n\n\
                                     Title\n\nNext paragraph.",
                            "media": [{
                                "path": "media/a.png",
                                "alt": "A square",
                                "type": "image",
                                "url": "https://cdn.example/media/a.png"
                            }]
                        },
                        { "text": "Second part.", "media": [] }
                    ]
                }
            }
        })
    );
}

#[test]
fn render_json_explicit_thread_list() {
    let repo = render_repo();
    repo.file(
        "content/chain.yaml",
        "platforms: [threads]\nthread:\n  - First part.\n  - text: Second *part*.\n    media:\n      - path: media/a.png\n        alt: square\n",
    );
    let run = repo.run(&["render", "content/chain.yaml", "--format", "json"]);
    run.code(0);
    let v = run.json();
    let parts = v["platforms"]["threads"]["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2, "{v:#}");
    assert_eq!(parts[0], json!({"text": "First part.", "media": []}));
    assert_eq!(parts[1]["text"], "Second part.");
    assert_eq!(parts[1]["media"][0]["path"], "media/a.png");
    assert_eq!(parts[1]["media"][0]["alt"], "square");
}

#[test]
fn render_split_auto_makes_parts_that_fit() {
    let repo = Repo::new();
    let sentences: Vec<String> = (0..60).map(|i| format!("Sentence number {i} is here’s.")).collect();
    repo.file(
        "content/split.md",
        format!("---\nplatforms: [threads]\nthreads:\n  split: auto\n---\n\n{}\n", sentences.join(" ")),
    );
    let run = repo.run(&["render", "content/split.md", "--format", "json"]);
    run.code(0);
    let v = run.json();
    let parts: Vec<&str> = v["platforms"]["threads"]["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["text"].as_str().expect("text"))
        .collect();
    assert!(parts.len() >= 4, "{v:#}");
    for p in &parts {
        assert!(p.len() <= 500, "{} bytes: {p}", p.len());
        assert!(p.starts_with("Sentence") && p.ends_with("here’s."), "split between sentences: {p:?}");
    }
    assert_eq!(parts.join(" "), sentences.join(" "), "nothing lost or duplicated");

    // Without split: auto the same text is one error.
    repo.file("content/split.md", format!("---\nplatforms: [threads]\n---\n\n{}\n", sentences.join(" ")));
    repo.run(&["check"]).code(1);
}

#[test]
fn render_templates_partials_and_published_url_placeholder() {
    let repo = Repo::new();
    repo.file("crier.yaml", "vars:\n  site: https://example.org\n")
        .file("templates/teaser.hbs", "{{title}}: read {{published.devto.url}}\n")
        .file("templates/devto.hbs", "{{text}}\n\n{{> partials/footer}}\n")
        .file("templates/partials/footer.hbs", "Footer for {{config.vars.site}}\n")
        .file(
            "content/both.md",
            "---\ntitle: Big news\nplatforms: [threads, devto]\ntags: [rust, cli]\nthreads:\n  template: teaser\n---\n\nThe article body, with **Markdown** & <html>.\n",
        );
    let run = repo.run(&["render", "content/both.md", "--format", "json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["file"], "content/both.md");
    let platforms: BTreeSet<&str> = v["platforms"].as_object().expect("platforms").keys().map(String::as_str).collect();
    assert_eq!(platforms, BTreeSet::from(["threads", "devto"]));

    let devto = &v["platforms"]["devto"];
    let keys: BTreeSet<&str> = devto.as_object().expect("devto").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["title", "body_markdown", "tags"]), "{devto:#}");
    assert_eq!(devto["title"], "Big news");
    assert_eq!(devto["tags"], json!(["rust", "cli"]));
    let body = devto["body_markdown"].as_str().expect("body");
    assert!(body.contains("The article body, with **Markdown** & <html>."), "Markdown kept verbatim: {body:?}");
    assert!(body.trim_end().ends_with("Footer for https://example.org"), "partial with config vars: {body:?}");

    let parts = v["platforms"]["threads"]["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 1, "{v:#}");
    let teaser = parts[0]["text"].as_str().expect("text");
    let url = teaser.strip_prefix("Big news: read https://dev.to/").unwrap_or_else(|| panic!("{teaser:?}"));
    assert!(
        !url.is_empty() && !url.contains("{{") && !url.contains(char::is_whitespace),
        "placeholder URL: {teaser:?}"
    );

    let only = repo.run(&["render", "content/both.md", "--platform", "devto", "--format", "json"]);
    only.code(0);
    let v = only.json();
    assert_eq!(
        v["platforms"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["devto".to_owned()])
    );
}

#[test]
fn render_human_shows_parts_and_byte_counts() {
    let repo = render_repo();
    let run = repo.run(&["render", "content/md.md"]);
    run.code(0);
    assert!(run.stdout.contains("118/500 bytes") && run.stdout.contains("12/500 bytes"), "{run}");
    insta::assert_snapshot!("render_human", repo.redact(&run.stdout));
}

#[test]
fn render_reports_a_broken_template_it_renders_with() {
    let repo = Repo::new();
    repo.file("templates/threads.hbs", "{{text}}{{#if}}").file("content/a.md", THREADS_POST);
    for format in ["json", "human"] {
        let run = repo.run(&["render", "content/a.md", "--platform", "threads", "--format", format]);
        run.code(1);
        assert!(run.stderr.contains("template-syntax"), "{run}");
        assert!(run.stderr.contains("templates/threads.hbs:1:16"), "file:line:column as `check` gives: {run}");
    }
    // Without --platform too: the post goes to Threads.
    let run = repo.run(&["render", "content/a.md"]);
    run.code(1);
    assert!(run.stderr.contains("templates/threads.hbs:1:16"), "{run}");

    // A broken template the post does not use is `check`'s business, not this rendering's.
    repo.file("templates/threads.hbs", "{{text}}").file("templates/other.hbs", "{{#if}}");
    let run = repo.run(&["render", "content/a.md", "--format", "json"]);
    run.code(0);
    assert!(run.stderr.is_empty(), "{run}");
    assert_eq!(run.json()["platforms"]["threads"]["parts"][0]["text"], "Hello.");
    repo.run(&["check"]).code(1);

    // A broken partial the template includes is one it renders with.
    repo.file("templates/threads.hbs", "{{text}} {{> other}}");
    let run = repo.run(&["render", "content/a.md", "--platform", "threads"]);
    run.code(1);
    assert!(run.stderr.contains("templates/other.hbs:1:"), "{run}");
}

#[test]
fn render_platform_reports_only_that_platform() {
    let repo = Repo::new();
    // 400 characters: fits Threads (500), too long for Bluesky (300) and X (280).
    let text = "word ".repeat(80);
    repo.file("content/a.md", format!("---\nplatforms: [threads, bluesky, x]\n---\n\n{}\n", text.trim_end()));
    let run = repo.run(&["render", "content/a.md", "--platform", "threads", "--format", "json"]);
    run.code(0);
    assert!(run.stderr.is_empty(), "no other platform's problems: {run}");
    assert_eq!(run.json()["platforms"].as_object().map(|m| m.len()), Some(1), "{run}");

    let run = repo.run(&["render", "content/a.md", "--platform", "bluesky"]);
    run.code(1);
    assert!(run.stderr.contains("bluesky-text-too-long"), "{run}");
    assert!(!run.stderr.contains("x-too-long"), "{run}");

    // Without --platform every platform of the post counts.
    let run = repo.run(&["render", "content/a.md"]);
    run.code(1);
    assert!(run.stderr.contains("bluesky-text-too-long") && run.stderr.contains("x-too-long"), "{run}");

    // A post-level problem counts whatever the platform.
    repo.file("content/b.md", "---\nplatforms: [threads]\npublish_at: tomorrow\n---\n\nHi.\n");
    let run = repo.run(&["render", "content/b.md", "--platform", "threads"]);
    run.code(1);
    assert!(run.stderr.contains("publish-at-invalid"), "{run}");

    // A platform the post does not list is a preview, held to that platform's rules.
    repo.file("content/c.md", format!("---\nplatforms: [threads]\n---\n\n{}\n", "word ".repeat(120).trim_end()));
    let run = repo.run(&["render", "content/c.md", "--platform", "mastodon", "--format", "json"]);
    run.code(1);
    assert!(run.stderr.contains("mastodon-text-too-long"), "{run}");
    assert!(run.json()["platforms"]["mastodon"].is_object(), "{run}");
}

#[test]
fn render_code_makes_no_hashtags_or_mentions() {
    let repo = Repo::new();
    repo.file(
        "content/a.md",
        "---\nplatforms: [bluesky, nostr, linkedin, mastodon, x]\n---\n\nRun `make #all` then #ship it, ask `@bob.test`\n\n    #incode\n",
    );
    let run = repo.run(&["render", "content/a.md", "--format", "json"]);
    run.code(0);
    let v = run.json();
    let sent = "Run make #all then #ship it, ask @bob.test\n\n#incode";
    let bluesky = &v["platforms"]["bluesky"]["parts"][0];
    assert_eq!(bluesky["text"], sent, "{v:#}");
    let features: Vec<&Value> =
        bluesky["facets"].as_array().expect("facets").iter().map(|f| &f["features"][0]).collect();
    assert_eq!(features, [&json!({"$type": "app.bsky.richtext.facet#tag", "tag": "ship"})], "{v:#}");
    let nostr = &v["platforms"]["nostr"]["parts"][0];
    assert_eq!((&nostr["text"], &nostr["tags"]), (&json!(sent), &json!([["t", "ship"]])), "{v:#}");
    let linkedin = &v["platforms"]["linkedin"];
    assert_eq!(linkedin["text"], sent);
    assert_eq!(
        linkedin["commentary"], "Run make \\#all then {hashtag|\\#|ship} it, ask \\@bob.test\n\n\\#incode",
        "{v:#}"
    );
    // Platforms that send plain text send the code as written.
    assert_eq!(v["platforms"]["mastodon"]["parts"][0]["text"], sent);
    assert_eq!(v["platforms"]["x"]["parts"][0]["text"], sent);
}

// ---------------------------------------------------------------- 5. configuration and invocation

#[test]
fn config_unknown_key_is_an_invocation_error_with_location() {
    let repo = Repo::new();
    repo.file("crier.yaml", "defaults:\n  platforms: [threads]\n  colour: red\n").file("content/a.md", THREADS_POST);
    let run = repo.run(&["check"]);
    run.code(2);
    assert!(run.stderr.contains("crier.yaml:3:3"), "{run}");
    assert!(run.stderr.contains("colour"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

#[test]
fn config_default_platforms_and_config_flag() {
    let repo = Repo::new();
    repo.file("crier.yaml", "defaults:\n  platforms: [threads]\n")
        .file("other.yaml", "defaults:\n  platforms: [devto]\n")
        .file("content/a.md", "Just a body, no front matter.\n");
    let run = repo.run(&["check", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["errors"], 0);
    let rendered = repo.run(&["render", "content/a.md", "--format", "json"]);
    assert_eq!(
        rendered.json()["platforms"]["threads"]["parts"][0]["text"],
        "Just a body, no front matter.",
        "{rendered}"
    );

    // With --config other.yaml the post goes to dev.to, which needs a title.
    let run = repo.run(&["--config", "other.yaml", "check", "--format", "json"]);
    run.code(1);
    let v = run.json();
    let diags = check_shape(&v);
    assert_eq!(diags.len(), 1, "{v:#}");
    assert_eq!(diags[0]["code"], "devto-title-missing");
}

#[test]
fn invocation_errors_exit_2() {
    let repo = Repo::new();
    repo.file("content/a.md", THREADS_POST);
    let missing = repo.path().join("does-not-exist");
    let run = Crier::new(repo.path()).directory(&missing).args(["check"]).run();
    run.code(2);
    assert!(run.stderr.contains("does-not-exist"), "{run}");

    let run = repo.run(&["check", "--no-such-flag"]);
    run.code(2);
    assert!(run.stderr.contains("--no-such-flag"), "{run}");

    repo.run(&["--config", "nope.yaml", "check"]).code(2);
    repo.run(&["check", "--format", "xml"]).code(2);
    repo.run(&["render", "content/a.md", "--platform", "myspace"]).code(2);
    repo.run(&["render", "content/nope.md"]).code(2);
}

// ---------------------------------------------------------------- 6. discovery

#[test]
fn discovery_skips_underscore_dot_and_gitignored_files() {
    let repo = Repo::new();
    for f in ["one.md", "two.yaml", "sub/three.md", "_draft.md", ".hidden.md", "_private/x.md", "gen/x.md", "notes.txt"]
    {
        let text = if f.ends_with(".yaml") { "platforms: [threads]\ntext: Hi\n" } else { THREADS_POST };
        repo.file(&format!("content/{f}"), text);
    }
    // Ignored files would fail the check if they were read.
    repo.file("content/_broken.md", "---\ntitel: x\n---\n")
        .file("content/gen/broken.md", "---\ntitel: x\n---\n")
        .file(".gitignore", "content/gen/\n");
    let v = check_json(&repo, 0);
    check_shape(&v);
    assert_eq!(v["posts"], 3, "{v:#}");

    let run = repo.run(&["check", "content/one.md", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["posts"], 1);

    repo.file("content/two.yaml", "titel: x\n");
    let run = repo.run(&["check", "content/one.md", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["posts"], 1, "only the named file is checked");
}

// ---------------------------------------------------------------- 7. new and init

#[test]
fn new_scaffolds_a_valid_post_and_never_overwrites() {
    let repo = Repo::new();
    let run = repo.run(&["new", "hello"]);
    run.code(0);
    assert!(run.stdout.contains("content/hello.md"), "{run}");
    assert!(repo.read("content/hello.md").starts_with("---\n"));
    let check = repo.run(&["check", "--format", "json"]);
    check.code(0);
    assert_eq!((check.json()["errors"].as_u64(), check.json()["posts"].as_u64()), (Some(0), Some(1)));

    repo.file("content/hello.md", "---\nplatforms: [threads]\n---\n\nMine.\n");
    let again = repo.run(&["new", "hello"]);
    again.code(2);
    assert!(again.stderr.contains("already exists"), "{again}");
    assert_eq!(repo.read("content/hello.md"), "---\nplatforms: [threads]\n---\n\nMine.\n");

    let run = repo.run(&["new", "x", "--yaml"]);
    run.code(0);
    assert!(!repo.read("content/x.yaml").contains("---"), "a YAML post has no front matter markers");
    let check = repo.run(&["check", "--format", "json"]);
    check.code(0);
    assert_eq!(check.json()["posts"], 2);

    repo.run(&["new", "../escape"]).code(2);
    assert!(!repo.exists("escape.md"));
}

#[test]
fn init_scaffolds_and_keeps_an_existing_config() {
    let repo = Repo::new();
    repo.file("crier.yaml", "# mine\ndefaults:\n  platforms: [threads]\n");
    let run = repo.run(&["init"]);
    run.code(0);
    for f in ["content/hello.md", "templates/threads.hbs", ".github/workflows/crier.yml"] {
        assert!(repo.exists(f), "{f} not created\n{run}");
    }
    assert_eq!(repo.read("crier.yaml"), "# mine\ndefaults:\n  platforms: [threads]\n");
    let check = repo.run(&["check", "--format", "json"]);
    check.code(0);
    assert_eq!(check.json()["posts"], 1);

    // A second init changes nothing.
    repo.file("content/hello.md", "---\nplatforms: [threads]\n---\n\nEdited.\n");
    repo.run(&["init"]).code(0);
    assert_eq!(repo.read("content/hello.md"), "---\nplatforms: [threads]\n---\n\nEdited.\n");
}

#[test]
fn new_refuses_a_slug_taken_in_either_format() {
    let repo = Repo::new();
    repo.file("content/hello.md", THREADS_POST).file("content/old.yml", "platforms: [threads]\ntext: Hi\n");
    // Two files of one slug would be two posts; the one there is named.
    for (args, taken) in [
        (&["new", "hello", "--yaml"][..], "content/hello.md"),
        (&["new", "hello.yaml"][..], "content/hello.md"),
        (&["new", "old"][..], "content/old.yml"),
    ] {
        let run = repo.run(args);
        run.code(2);
        assert!(run.stderr.contains(&format!("`{taken}` already exists")), "{args:?}\n{run}");
    }
    assert!(!repo.exists("content/hello.yaml") && !repo.exists("content/old.md"));

    // The extension a SLUG ends in chooses the format; `.md` with --yaml is a contradiction.
    repo.run(&["new", "x.yaml"]).code(0);
    assert!(repo.exists("content/x.yaml") && !repo.exists("content/x.md"));
    repo.run(&["new", "y.yml"]).code(0);
    assert!(repo.exists("content/y.yml"));
    repo.run(&["new", "z.md"]).code(0);
    assert!(repo.exists("content/z.md"));
    let run = repo.run(&["new", "w.md", "--yaml"]);
    run.code(2);
    assert!(run.stderr.contains("--yaml"), "{run}");
    assert!(!repo.exists("content/w.md") && !repo.exists("content/w.yaml"));
    repo.run(&["check"]).code(0);
}

#[test]
fn init_scaffolds_into_the_folders_an_existing_config_names() {
    let repo = Repo::new();
    repo.file("crier.yaml", "defaults:\n  platforms: [threads]\ncontent_dir: posts\ntemplates_dir: tpl\n");
    let run = repo.run(&["init"]);
    run.code(0);
    for f in ["posts/hello.md", "tpl/threads.hbs"] {
        assert!(repo.exists(f), "{f} not created\n{run}");
    }
    assert!(!repo.exists("content") && !repo.exists("templates"), "{run}");
    assert!(run.stdout.contains("next: edit posts/hello.md"), "{run}");
    assert!(repo.read("posts/hello.md").contains("crier render posts/hello.md"));
    let workflow = repo.read(".github/workflows/crier.yml");
    assert!(workflow.contains(r#"paths: ["posts/**", "tpl/**", "media/**", "crier.yaml"]"#), "{workflow}");
    assert!(!workflow.contains("content/**"), "{workflow}");
    let check = repo.run(&["check", "--format", "json"]);
    check.code(0);
    assert_eq!(check.json()["posts"], 1);

    // A configuration crier cannot read stops init, as it stops every other command.
    let broken = Repo::new();
    broken.file("crier.yaml", "content_dir: [posts\n");
    broken.run(&["init"]).code(2);
    assert!(!broken.exists("content/hello.md") && !broken.exists(".github/workflows/crier.yml"));
}

#[test]
fn init_in_an_empty_folder_passes_check() {
    let repo = Repo::new();
    repo.run(&["init"]).code(0);
    for f in ["crier.yaml", "content/hello.md", "templates/threads.hbs", ".github/workflows/crier.yml"] {
        assert!(repo.exists(f), "{f} not created");
    }
    let check = repo.run(&["check", "--format", "json"]);
    check.code(0);
    assert_eq!(check.json()["posts"], 1);
}

#[test]
fn init_keeps_dotenv_out_of_git_once() {
    let repo = Repo::new();
    repo.run(&["init"]).code(0);
    assert_eq!(repo.read(".gitignore"), ".env\n", "created with the one line");
    repo.run(&["init"]).code(0);
    assert_eq!(repo.read(".gitignore"), ".env\n", "never duplicated");

    // An existing .gitignore is appended to (a missing last newline supplied), or left alone.
    let other = Repo::new();
    other.file(".gitignore", "target/");
    other.run(&["init"]).code(0);
    assert_eq!(other.read(".gitignore"), "target/\n.env\n");
    let ignored = Repo::new();
    ignored.file(".gitignore", "/.env\nnode_modules/\n");
    ignored.run(&["init"]).code(0);
    assert_eq!(ignored.read(".gitignore"), "/.env\nnode_modules/\n");
}

/// The mode a file created the ordinary way gets here (0666 less the umask).
#[cfg(unix)]
fn default_mode(dir: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    let probe = dir.join(".mode-probe");
    std::fs::write(&probe, "x").expect("probe");
    let mode = std::fs::metadata(&probe).expect("probe").permissions().mode() & 0o777;
    std::fs::remove_file(&probe).expect("probe");
    mode
}

#[cfg(unix)]
#[test]
fn files_init_and_new_write_get_the_default_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = Repo::new();
    let expected = default_mode(repo.path());
    repo.run(&["init"]).code(0);
    repo.run(&["new", "second"]).code(0);
    let mode = |rel: &str| std::fs::metadata(repo.path().join(rel)).expect(rel).permissions().mode() & 0o777;
    for rel in ["crier.yaml", "content/hello.md", ".github/workflows/crier.yml", ".gitignore", "content/second.md"] {
        assert_eq!(mode(rel), expected, "{rel}: {:o}, not {expected:o}", mode(rel));
    }
}

// ---------------------------------------------------------------- 8. the repository's own content

#[test]
fn repository_content_passes_check() {
    let home = Repo::new();
    let run = Crier::new(home.path()).directory(harness::manifest_dir()).args(["check", "--format", "json"]).run();
    run.code(0);
    let v = run.json();
    check_shape(&v);
    assert_eq!(v["errors"], 0, "{v:#}");
    assert!(v["posts"].as_u64().is_some_and(|n| n >= 5), "{v:#}");
}

// ---------------------------------------------------------------- 9. delete and deleted records (offline)

/// A post published to Threads as a 2-part chain and to dev.to.
const PUBLISHED_TWICE: &str = "---\ntitle: Gone soon\nplatforms: [threads, devto]\npublished:\n  threads:\n    id: \"101\"\n    url: \"https://www.threads.com/@me/post/A\"\n    published_at: \"2026-11-01T00:00:00Z\"\n    hash: \"sha256:1\"\n    parts:\n      - {id: \"101\", url: \"https://www.threads.com/@me/post/A\"}\n      - {id: \"102\", url: \"https://www.threads.com/@me/post/B\"}\n  devto:\n    id: \"7\"\n    url: \"https://dev.to/me/gone-soon\"\n    published_at: \"2026-11-01T00:00:00Z\"\n    hash: \"sha256:2\"\n---\nFirst part.\n\nSecond part.\n";

#[test]
fn delete_asks_for_paths_and_never_deletes_unconfirmed() {
    let repo = Repo::new();
    repo.file("content/p.md", PUBLISHED_TWICE);
    // Paths are required: deleting "everything" by accident is not possible.
    repo.run(&["delete"]).code(2);
    // No terminal (tests have none) and no --yes: refused before any network, file untouched.
    let run =
        repo.crier().args(["delete", "content/p.md"]).env("THREADS_ACCESS_TOKEN", "t").env("DEVTO_API_KEY", "k").run();
    run.code(2);
    assert!(run.stderr.contains("--yes"), "{run}");
    // In CI too, whatever the terminal.
    let run = repo
        .crier()
        .args(["delete", "content/p.md"])
        .env("CI", "true")
        .env("THREADS_ACCESS_TOKEN", "t")
        .env("DEVTO_API_KEY", "k")
        .run();
    run.code(2);
    assert!(run.stderr.contains("in CI") && run.stderr.contains("--yes"), "{run}");
    // Missing credentials are named before anything is deleted.
    let run = repo.run(&["delete", "content/p.md", "--yes"]);
    run.code(2);
    assert!(run.stderr.contains("THREADS_ACCESS_TOKEN is not set"), "{run}");
    assert_eq!(repo.read("content/p.md"), PUBLISHED_TWICE);
    // An unknown platform is a usage error.
    repo.run(&["delete", "content/p.md", "--platform", "myspace", "--dry-run"]).code(2);
}

#[test]
fn delete_dry_run_lists_every_part_and_changes_nothing() {
    let repo = Repo::new();
    repo.file("content/p.md", PUBLISHED_TWICE);
    repo.file("content/new.md", "---\nplatforms: [threads]\n---\nNot out yet.\n");
    let run = repo.run(&["delete", "content", "--dry-run"]);
    run.code(0);
    assert!(run.stdout.contains("content/p.md → threads  https://www.threads.com/@me/post/A (2 parts)"), "{run}");
    assert!(run.stdout.contains("content/p.md → devto  https://dev.to/me/gone-soon"), "{run}");
    assert!(run.stdout.contains("content/new.md") && run.stdout.contains("nothing to delete"), "{run}");
    // --platform narrows it.
    let run = repo.run(&["delete", "content/p.md", "--dry-run", "--platform", "devto"]);
    run.code(0);
    assert!(run.stdout.contains("→ devto") && !run.stdout.contains("→ threads"), "{run}");
    assert_eq!(repo.read("content/p.md"), PUBLISHED_TWICE);
}

#[test]
fn a_deleted_record_is_shown_and_never_published_again() {
    let repo = Repo::new();
    let deleted = PUBLISHED_TWICE
        .replace("    hash: \"sha256:1\"\n", "    hash: \"sha256:1\"\n    deleted_at: \"2026-12-01T09:00:00Z\"\n");
    repo.file("content/p.md", &deleted);
    let status = repo.run(&["status", "--format", "json"]);
    status.code(0);
    let posts = status.json()["posts"].as_array().expect("posts").clone();
    let threads = posts.iter().find(|p| p["platform"] == "threads").expect("threads entry");
    assert_eq!(threads["state"], "deleted", "{status}");
    assert_eq!(threads["deleted_at"], "2026-12-01T09:00:00Z");
    let human = repo.run(&["status"]);
    assert!(human.stdout.contains("deleted") && human.stdout.contains("(deleted at 2026-12-01T09:00:00Z)"), "{human}");
    // The dry run of publish neither publishes nor updates it, and says how to publish anew.
    let plan = repo.run(&["publish", "--dry-run"]);
    plan.code(0);
    assert!(!plan.stdout.contains("would publish now"), "{plan}");
    assert!(plan.stdout.contains("deleted at 2026-12-01T09:00:00Z"), "{plan}");
    assert!(plan.stdout.contains("remove `published.<platform>`"), "{plan}");
    // Deleting again says so and changes nothing.
    let again = repo.run(&["delete", "content/p.md", "--platform", "threads", "--dry-run"]);
    again.code(0);
    assert!(again.stdout.contains("already deleted at 2026-12-01T09:00:00Z"), "{again}");
    assert_eq!(repo.read("content/p.md"), deleted);
}

#[test]
fn status_shows_a_record_of_a_platform_the_post_no_longer_lists() {
    let repo = Repo::new();
    let dropped = PUBLISHED_TWICE.replace("platforms: [threads, devto]", "platforms: [threads]");
    repo.file("content/p.md", &dropped);
    let status = repo.run(&["status", "--format", "json"]);
    status.code(0);
    let posts = status.json()["posts"].as_array().expect("posts").clone();
    let devto = posts.iter().find(|p| p["platform"] == "devto").unwrap_or_else(|| panic!("no devto row\n{status}"));
    assert_eq!(
        (devto["state"].as_str(), devto["url"].as_str()),
        (Some("published"), Some("https://dev.to/me/gone-soon"))
    );
    assert_eq!(posts.len(), 2, "{status}");
    let human = repo.run(&["status"]);
    human.code(0);
    let line = human.stdout.lines().find(|l| l.contains("devto")).unwrap_or_else(|| panic!("{human}"));
    assert!(
        line.contains("https://dev.to/me/gone-soon") && line.contains("no longer in the post's platforms"),
        "{human}"
    );
    // Publish still leaves it alone: no update, no second article.
    let plan = repo.run(&["publish", "--dry-run"]);
    plan.code(0);
    assert!(!plan.stdout.contains("devto") && !plan.stdout.contains("dev.to"), "{plan}");
}

#[test]
fn status_remote_needs_the_credentials_of_the_platforms_it_asks() {
    let repo = Repo::new();
    repo.file("content/p.md", PUBLISHED_TWICE);
    let run = repo.run(&["status", "--remote"]);
    run.code(2);
    assert!(run.stderr.contains("is not set") && run.stderr.contains("--platform"), "{run}");
    // --platform only makes sense with --remote.
    repo.run(&["status", "--platform", "devto"]).code(2);
    // Nothing recorded on the platform asked: nothing to ask, no credentials needed.
    let none = repo.run(&["status", "--remote", "--platform", "mastodon", "--format", "json"]);
    none.code(0);
    assert_eq!(none.json()["remote"]["checked"], 0, "{none}");
}

#[test]
fn every_missing_credential_is_named_in_one_error() {
    let repo = Repo::new();
    repo.file("content/a.md", "---\ntitle: T\nplatforms: [threads, devto, bluesky, x]\n---\nHello.\n");
    // One run names them all, not one per run.
    let run = repo.run(&["publish", "--no-push"]);
    run.code(2);
    for var in [
        "THREADS_ACCESS_TOKEN",
        "DEVTO_API_KEY",
        "BLUESKY_IDENTIFIER",
        "BLUESKY_APP_PASSWORD",
        "X_API_KEY",
        "X_ACCESS_TOKEN_SECRET",
    ] {
        assert!(run.stderr.contains(&format!("{var} is not set")), "{var} missing from\n{run}");
    }
    // Optional ones are not asked for; one set is not named.
    assert!(!run.stderr.contains("THREADS_USER_ID"), "{run}");
    let run = repo.crier().args(["publish", "--no-push"]).env("DEVTO_API_KEY", "k").run();
    run.code(2);
    assert!(!run.stderr.contains("DEVTO_API_KEY") && run.stderr.contains("X_API_SECRET is not set"), "{run}");

    // The commands that ask the platforms about records do the same.
    repo.file("content/p.md", PUBLISHED_TWICE);
    let run = repo.run(&["delete", "content/p.md", "--yes"]);
    run.code(2);
    assert!(
        run.stderr.contains("THREADS_ACCESS_TOKEN is not set") && run.stderr.contains("DEVTO_API_KEY is not set"),
        "{run}"
    );
}

#[test]
fn a_content_folder_that_does_not_exist_is_an_environment_error() {
    let repo = Repo::new();
    repo.file("crier.yaml", "defaults:\n  platforms: [threads]\ncontent_dir: postz\n");
    repo.file("posts/a.md", THREADS_POST);
    for args in [&["check"][..], &["check", "--format", "json"], &["publish", "--dry-run"], &["status"]] {
        let run = repo.run(args);
        run.code(2);
        assert!(run.stderr.contains("postz") && run.stderr.contains("crier.yaml:3:14"), "{args:?}\n{run}");
    }
    // The default folder missing is a repository with no posts yet (git keeps no empty folder).
    let empty = Repo::new();
    let run = empty.run(&["check", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["posts"], 0);
    // crier.yaml that is a folder is not "no configuration".
    let odd = Repo::new();
    odd.file("crier.yaml/x", "");
    odd.run(&["check"]).code(2).stderr_has("not a file");
}
