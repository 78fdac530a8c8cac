//! Table-driven tests of every diagnostic code: each case builds a throw-away
//! repository, runs the real pipeline (`pipeline::check_post`) on one post and
//! compares the codes found. A case is exact: every code found must be listed
//! in `fires` (so a "passes" case proves the post is clean, not that some
//! other error stopped the rules early), and every code listed must be found.

use std::path::Path;

use crate::diag::Severity;
use crate::env::Env;
use crate::pipeline::check_post;
use crate::project::Project;

/// Codes reported as warnings; every other code must be an error.
const WARNINGS: &[&str] = &[
    "relative-link",
    "threads-one-topic-tag",
    "threads-video-duration-unknown",
    "threads-inline-image",
    "threads-media-kind-unknown",
    "threads-spoiler-in-attachment",
    "media-untracked",
    "media-no-public-url",
    "bluesky-alt-missing",
    "bluesky-inline-image",
    "bluesky-image-scaled",
    "mastodon-alt-missing",
    "mastodon-inline-image",
    "mastodon-spoiler-empty",
    "telegram-alt-ignored",
    "discord-alt-missing",
    "discord-inline-image",
    "linkedin-alt-missing",
    "linkedin-inline-image",
    "nostr-inline-image",
    "x-alt-missing",
    "x-inline-image",
];

const MB: u64 = 1024 * 1024;
const GB: u64 = 1024 * MB;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    code: &'static str,
    severity: Severity,
    line: usize,
    column: usize,
}

#[derive(Default)]
struct Case {
    name: String,
    post_path: &'static str,
    /// Checked instead of `post_path` when set (for a missing file).
    check_path: Option<&'static str>,
    post: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
    /// (path, first bytes, total length): the rest is a hole.
    sparse: Vec<(String, Vec<u8>, u64)>,
    /// Symlinks to a file in another directory.
    links_out: Vec<String>,
    /// Symlinks to a folder in another directory holding `a.png`.
    dir_links_out: Vec<String>,
    /// (link, target relative to the repository root).
    links_in: Vec<(String, String)>,
    /// When set, the repository is a git repository with these files in its index.
    tracked: Option<Vec<&'static str>>,
    /// Checked outside GitHub Actions (no public URL unless crier.yaml sets `media.base_url`).
    outside_actions: bool,
    fires: Vec<&'static str>,
    passes: Vec<&'static str>,
    at: Vec<(&'static str, usize, usize)>,
}

fn md(name: &str, text: impl Into<Vec<u8>>) -> Case {
    Case { name: name.to_owned(), post_path: "content/post.md", post: text.into(), ..Case::default() }
}

fn yml(name: &str, text: impl Into<Vec<u8>>) -> Case {
    Case { post_path: "content/post.yaml", ..md(name, text) }
}

impl Case {
    fn file(mut self, rel: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((rel.to_owned(), bytes.into()));
        self
    }

    fn sparse(mut self, rel: &str, head: Vec<u8>, len: u64) -> Self {
        self.sparse.push((rel.to_owned(), head, len));
        self
    }

    fn link_out(mut self, rel: &str) -> Self {
        self.links_out.push(rel.to_owned());
        self
    }

    fn dir_link_out(mut self, rel: &str) -> Self {
        self.dir_links_out.push(rel.to_owned());
        self
    }

    fn link_in(mut self, rel: &str, target: &str) -> Self {
        self.links_in.push((rel.to_owned(), target.to_owned()));
        self
    }

    fn tracked(mut self, files: &[&'static str]) -> Self {
        self.tracked = Some(files.to_vec());
        self
    }

    fn check_path(mut self, rel: &'static str) -> Self {
        self.check_path = Some(rel);
        self
    }

    fn outside_actions(mut self) -> Self {
        self.outside_actions = true;
        self
    }

    fn fires(mut self, codes: &[&'static str]) -> Self {
        self.fires.extend_from_slice(codes);
        self
    }

    /// The boundary this case sits on (documentation; exactness already
    /// makes the code absent).
    fn passes(mut self, code: &'static str) -> Self {
        self.passes.push(code);
        self
    }

    /// `code` is found at `line:column` (1-based, characters).
    fn at(mut self, code: &'static str, line: usize, column: usize) -> Self {
        self.at.push((code, line, column));
        self
    }
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create dir");
    }
    std::fs::write(&path, bytes).expect("write file");
}

/// Builds the repository of `case`, checks its post, and returns what was
/// found: the post's diagnostics, then the templates' load diagnostics.
fn run(case: &Case) -> Vec<Found> {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, case.post_path, &case.post);
    for (rel, bytes) in &case.files {
        write(root, rel, bytes);
    }
    for (rel, head, len) in &case.sparse {
        write(root, rel, head);
        let f = std::fs::OpenOptions::new().write(true).open(root.join(rel)).expect("open");
        f.set_len(*len).expect("set_len");
    }
    #[cfg(unix)]
    {
        let target = outside.path().join("secret.png");
        std::fs::write(&target, png(10, 10)).expect("write outside");
        for rel in &case.links_out {
            std::fs::create_dir_all(root.join(rel).parent().expect("parent")).expect("dir");
            std::os::unix::fs::symlink(&target, root.join(rel)).expect("symlink");
        }
        let out_dir = outside.path().join("folder");
        std::fs::create_dir_all(&out_dir).expect("dir");
        std::fs::write(out_dir.join("a.png"), png(10, 10)).expect("write outside");
        for rel in &case.dir_links_out {
            std::fs::create_dir_all(root.join(rel).parent().expect("parent")).expect("dir");
            std::os::unix::fs::symlink(&out_dir, root.join(rel)).expect("symlink");
        }
        for (rel, to) in &case.links_in {
            std::fs::create_dir_all(root.join(rel).parent().expect("parent")).expect("dir");
            std::os::unix::fs::symlink(root.join(to), root.join(rel)).expect("symlink");
        }
    }
    if let Some(files) = &case.tracked {
        let repo = git2::Repository::init(root).expect("git init");
        let mut index = repo.index().expect("index");
        for f in files {
            index.add_path(Path::new(f)).expect("git add");
        }
        index.write().expect("write index");
    }
    let env = if case.outside_actions {
        Env::default()
    } else {
        Env::from_pairs([("GITHUB_REPOSITORY", "me/posts"), ("GITHUB_SHA", "0123456789abcdef")])
    };
    let project = Project::open(root, None, env, crate::platforms::catalog()).expect("open project");
    let report = check_post(&project, &root.join(case.check_path.unwrap_or(case.post_path)));
    report
        .diagnostics
        .iter()
        .chain(&project.templates.diagnostics)
        .map(|d| Found { code: d.code, severity: d.severity, line: d.line, column: d.column })
        .collect()
}

/// Problems of one case, empty when it behaves as the table says.
fn verify(case: &Case) -> Vec<String> {
    // A panicking rule is reported as this case's failure; the other cases still run.
    let found = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(case))) {
        Ok(found) => found,
        Err(_) => return vec![format!("[{}] panicked", case.name)],
    };
    let mut problems = Vec::new();
    for f in &found {
        if !case.fires.contains(&f.code) {
            problems.push(format!("unexpected {} at {}:{}", f.code, f.line, f.column));
        }
        let want = if WARNINGS.contains(&f.code) { Severity::Warning } else { Severity::Error };
        if f.severity != want {
            problems.push(format!("{} is {:?}, expected {want:?}", f.code, f.severity));
        }
    }
    for code in &case.fires {
        if !found.iter().any(|f| f.code == *code) {
            problems.push(format!("{code} did not fire"));
        }
    }
    for code in &case.passes {
        if found.iter().any(|f| f.code == *code) {
            problems.push(format!("{code} fired on a post within the limit"));
        }
    }
    for (code, line, column) in &case.at {
        if !found.iter().any(|f| f.code == *code && f.line == *line && f.column == *column) {
            let got: Vec<String> =
                found.iter().filter(|f| f.code == *code).map(|f| format!("{}:{}", f.line, f.column)).collect();
            problems.push(format!("{code} expected at {line}:{column}, found at {got:?}"));
        }
    }
    problems.into_iter().map(|p| format!("[{}] {p}", case.name)).collect()
}

fn run_table(cases: &[Case]) {
    let mut names = std::collections::HashSet::new();
    for c in cases {
        assert!(names.insert(c.name.as_str()), "duplicate case name {}", c.name);
    }
    let failures: Vec<String> = cases.iter().flat_map(verify).collect();
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

// ---------- post and media builders ----------

/// A post for `platform`: `extra` front-matter lines, then the body (on line 4 + lines of `extra`).
fn post_for(platform: &str, extra: &str, body: &str) -> String {
    format!("---\nplatforms: [{platform}]\n{extra}---\n{body}")
}

/// A Threads post (see [`post_for`]).
fn th(extra: &str, body: &str) -> String {
    post_for("threads", extra, body)
}

/// A dev.to post with a title; the body starts on line 5 + lines of `extra`.
fn dv(extra: &str, body: &str) -> String {
    format!("---\nplatforms: [devto]\ntitle: A title\n{extra}---\n{body}")
}

/// A `media:` list of `n` items, item `i` written by `item`.
fn media_list(n: usize, item: impl Fn(usize) -> String) -> String {
    let mut s = String::from("media:\n");
    for i in 1..=n {
        s.push_str(&item(i));
    }
    s
}

/// `n` https media items (`.jpg` URLs: no file needed).
fn url_media(n: usize) -> String {
    media_list(n, |i| format!("  - url: https://example.com/{i}.jpg\n"))
}

use crate::media_probe::test_png as png;

fn gif(w: u16, h: u16) -> Vec<u8> {
    let mut v = b"GIF89a".to_vec();
    v.extend_from_slice(&w.to_le_bytes());
    v.extend_from_slice(&h.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0, 0x3B]);
    v
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut payload = vec![0u8; 4];
    payload.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    payload.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBPVP8X".to_vec();
    body.extend_from_slice(&u32::try_from(payload.len()).expect("len").to_le_bytes());
    body.extend_from_slice(&payload);
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&u32::try_from(body.len()).expect("len").to_le_bytes());
    v.extend_from_slice(&body);
    v
}

fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(8 + payload.len()).expect("len").to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

fn ftyp() -> Vec<u8> {
    mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
}

/// ftyp + moov/mvhd (version 0).
fn mp4(timescale: u32, duration: u32) -> Vec<u8> {
    let mut mvhd = vec![0u8; 12]; // version, flags, creation and modification times
    mvhd.extend_from_slice(&timescale.to_be_bytes());
    mvhd.extend_from_slice(&duration.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    let mut v = ftyp();
    v.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    v
}

/// One https media item with `alt` (on line 5 of a `th` post).
fn alt_media(alt: &str) -> String {
    format!("media:\n  - url: https://e.com/a.jpg\n    alt: {alt}\n")
}

/// A `threads.poll` with the given flow-list options (on line 5 of a `th` post).
fn poll(options: &str) -> String {
    format!("threads:\n  poll:\n    options: [{options}]\n")
}

fn media_path(path: &str) -> String {
    format!("media:\n  - path: {path}\n    alt: A picture\n")
}

const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"; // 18 bytes, one grapheme

fn links(hosts: &[&str]) -> String {
    hosts.iter().map(|h| format!("https://{h}.example/\n")).collect()
}

// ---------- Threads ----------

fn threads_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    vec![
        md("498 chars with 3 straight apostrophes", th("", &format!("{}{}", "it's ".repeat(3), a(483))))
            .passes("threads-text-too-long"),
        md(
            "498 chars with 3 curly apostrophes = 504 bytes",
            th("", &format!("{}{}", "it\u{2019}s ".repeat(3), a(483))),
        )
        .fires(&["threads-text-too-long"]),
        md("166 CJK = 498 bytes", th("", &"漢".repeat(166))).passes("threads-text-too-long"),
        md("167 CJK = 501 bytes", th("", &"漢".repeat(167))).fires(&["threads-text-too-long"]),
        md("27 ZWJ families + 14 = 500 bytes", th("", &format!("{}{}", FAMILY.repeat(27), a(14))))
            .passes("threads-text-too-long"),
        md("27 ZWJ families + 15 = 501 bytes", th("", &format!("{}{}", FAMILY.repeat(27), a(15))))
            .fires(&["threads-text-too-long"]),
        md(
            "too-long second part points at its first line",
            th("", &format!("Short first part.\n\n---\n\nSecond part starts here.\n{}\n", a(490))),
        )
        .fires(&["threads-text-too-long"])
        .at("threads-text-too-long", 8, 1),
        yml(
            "too-long part of a YAML text block points at its first line",
            format!("platforms: [threads]\ntext: |\n  Short.\n\n  ---\n\n  Second part.\n  {}\n", a(495)),
        )
        .fires(&["threads-text-too-long"])
        .at("threads-text-too-long", 7, 3),
        md("each part of a chain has its own 500", th("", &format!("{}\n\n---\n\n{}\n", a(500), a(500))))
            .passes("threads-text-too-long"),
        yml("thread item too long", format!("platforms: [threads]\nthread:\n  - ok\n  - {}\n", a(501)))
            .fires(&["threads-text-too-long"])
            .at("threads-text-too-long", 4, 5),
        // Links.
        md("5 distinct links", th("", &links(&["a", "b", "c", "d", "e"]))).passes("threads-too-many-links"),
        md("6 distinct links", th("", &links(&["a", "b", "c", "d", "e", "f"]))).fires(&["threads-too-many-links"]).at(
            "threads-too-many-links",
            9,
            1,
        ),
        md("6 links, one repeated, count once", th("", &links(&["a", "b", "c", "d", "e", "a"])))
            .passes("threads-too-many-links"),
        md(
            "5 links and a www. host without a scheme",
            th("", &format!("{}and www.f.example\n", links(&["a", "b", "c", "d", "e"]))),
        )
        .fires(&["threads-too-many-links"])
        .at("threads-too-many-links", 9, 5),
        md("4 links and a www. host", th("", &format!("{}and www.e.example/x.\n", links(&["a", "b", "c", "d"]))))
            .passes("threads-too-many-links"),
        md(
            "link_attachment is the 6th link on part 1",
            th("threads:\n  link_attachment: https://f.example/\n", &links(&["a", "b", "c", "d", "e"])),
        )
        .fires(&["threads-too-many-links"]),
        md(
            "link_attachment equal to a text link counts once",
            th("threads:\n  link_attachment: https://a.example/\n", &links(&["a", "b", "c", "d", "e"])),
        )
        .passes("threads-too-many-links"),
        md(
            "link_attachment does not count on part 2",
            th(
                "threads:\n  link_attachment: https://f.example/\n",
                &format!("First.\n\n---\n\n{}", links(&["a", "b", "c", "d", "e"])),
            ),
        )
        .passes("threads-too-many-links"),
        // Topic tags.
        md("one hashtag", th("", "Hello #rust\n")).passes("threads-one-topic-tag"),
        md("same hashtag twice, any case", th("", "Hello #rust and #Rust\n")).passes("threads-one-topic-tag"),
        md("two hashtags warn", th("", "Hello #rust and #cli\n")).fires(&["threads-one-topic-tag"]).at(
            "threads-one-topic-tag",
            4,
            17,
        ),
        md("explicit topic_tag silences the hashtag warning", th("threads:\n  topic_tag: rust\n", "#rust and #cli\n"))
            .passes("threads-one-topic-tag"),
        md("50-char hashtag", th("", &format!("Hi #{}\n", a(50)))).passes("threads-topic-tag"),
        md("51-char hashtag", th("", &format!("Hi #{}\n", a(51)))).fires(&["threads-topic-tag"]),
        md("50-char topic_tag", th(&format!("threads:\n  topic_tag: {}\n", a(50)), "Hi\n")).passes("threads-topic-tag"),
        md("51-char topic_tag", th(&format!("threads:\n  topic_tag: {}\n", a(51)), "Hi\n"))
            .fires(&["threads-topic-tag"])
            .at("threads-topic-tag", 4, 14),
        md("topic_tag with a dot", th("threads:\n  topic_tag: node.js\n", "Hi\n")).fires(&["threads-topic-tag"]),
        md("topic_tag with an ampersand", th("threads:\n  topic_tag: \"R&D\"\n", "Hi\n")).fires(&["threads-topic-tag"]),
        md("empty topic_tag", th("threads:\n  topic_tag: \"\"\n", "Hi\n")).fires(&["threads-topic-tag"]),
        // Carousel size.
        md("20 media items", th(&url_media(20), "Photos\n")).passes("threads-too-many-media"),
        md("21 media items", th(&url_media(21), "Photos\n")).fires(&["threads-too-many-media"]).at(
            "threads-too-many-media",
            24,
            5,
        ),
        // Formats are judged by bytes.
        md("PNG named .png", th(&media_path("media/a.png"), "Hi\n")).file("media/a.png", png(100, 100)),
        md("GIF named .png", th(&media_path("media/a.png"), "Hi\n"))
            .file("media/a.png", gif(100, 100))
            .fires(&["threads-media-format"])
            .at("threads-media-format", 4, 5),
        md("WebP named .png", th(&media_path("media/a.png"), "Hi\n"))
            .file("media/a.png", webp(100, 100))
            .fires(&["threads-media-format"]),
        md("url without an extension", th("media:\n  - url: https://example.com/photo\n", "Hi\n"))
            .fires(&["threads-media-kind-unknown"]),
        // Image size and shape.
        md("image of exactly 8 MB", th(&media_path("media/big.png"), "Hi\n"))
            .sparse("media/big.png", png(100, 100), 8 * MB)
            .passes("threads-image-too-large"),
        md("image of 8 MB + 1 byte", th(&media_path("media/big.png"), "Hi\n"))
            .sparse("media/big.png", png(100, 100), 8 * MB + 1)
            .fires(&["threads-image-too-large"]),
        md("10:1 image", th(&media_path("media/wide.png"), "Hi\n"))
            .file("media/wide.png", png(1000, 100))
            .passes("threads-image-aspect-ratio"),
        md("1:10 image", th(&media_path("media/tall.png"), "Hi\n"))
            .file("media/tall.png", png(100, 1000))
            .passes("threads-image-aspect-ratio"),
        md("11:1 image", th(&media_path("media/wide.png"), "Hi\n"))
            .file("media/wide.png", png(1100, 100))
            .fires(&["threads-image-aspect-ratio"]),
        md("10.01:1 image", th(&media_path("media/wide.png"), "Hi\n"))
            .file("media/wide.png", png(1001, 100))
            .fires(&["threads-image-aspect-ratio"]),
        md("1:11 image", th(&media_path("media/tall.png"), "Hi\n"))
            .file("media/tall.png", png(100, 1100))
            .fires(&["threads-image-aspect-ratio"]),
        // Video size and length.
        md("video of exactly 1 GB", th(&media_path("media/v.mp4"), "Hi\n"))
            .sparse("media/v.mp4", mp4(1000, 10_000), GB)
            .passes("threads-video-too-large"),
        md("video of 1 GB + 1 byte", th(&media_path("media/v.mp4"), "Hi\n"))
            .sparse("media/v.mp4", mp4(1000, 10_000), GB + 1)
            .fires(&["threads-video-too-large"]),
        md("video of 300 s", th(&media_path("media/v.mp4"), "Hi\n"))
            .file("media/v.mp4", mp4(1000, 300_000))
            .passes("threads-video-too-long"),
        md("video of 301 s", th(&media_path("media/v.mp4"), "Hi\n"))
            .file("media/v.mp4", mp4(1000, 301_000))
            .fires(&["threads-video-too-long"]),
        md("video without moov", th(&media_path("media/v.mp4"), "Hi\n"))
            .file("media/v.mp4", ftyp())
            .fires(&["threads-video-duration-unknown"]),
        // Alt text.
        md("alt of 1000 chars", th(&alt_media(&a(1000)), "Hi\n")).passes("threads-alt-too-long"),
        md("alt of 1001 chars", th(&alt_media(&a(1001)), "Hi\n")).fires(&["threads-alt-too-long"]).at(
            "threads-alt-too-long",
            5,
            10,
        ),
        md("alt of 1000 multibyte chars", th(&alt_media(&"é".repeat(1000)), "Hi\n")).passes("threads-alt-too-long"),
        // Polls.
        md("poll with 1 option", th(&poll("yes"), "Vote\n")).fires(&["threads-poll-options"]),
        md("poll with 2 options", th(&poll("yes, no"), "Vote\n")).passes("threads-poll-options"),
        md("poll with 4 options", th(&poll("a, b, c, d"), "Vote\n")).passes("threads-poll-options"),
        md("poll with 5 options", th(&poll("a, b, c, d, e"), "Vote\n")).fires(&["threads-poll-options"]),
        md("poll option of 25 chars", th(&poll(&format!("no, {}", a(25))), "Vote\n"))
            .passes("threads-poll-option-length"),
        md("poll option of 26 chars", th(&poll(&format!("no, {}", a(26))), "Vote\n"))
            .fires(&["threads-poll-option-length"])
            .at("threads-poll-option-length", 5, 19),
        md("empty poll option", th(&poll("no, \"\""), "Vote\n")).fires(&["threads-poll-option-length"]),
        md("poll with media", th(&format!("{}{}", url_media(1), poll("a, b")), "Vote\n"))
            .fires(&["threads-poll-with-media"]),
        md(
            "poll with link_attachment",
            th("threads:\n  link_attachment: https://example.com/\n  poll:\n    options: [a, b]\n", "Vote\n"),
        )
        .fires(&["threads-poll-with-link"]),
        // Options.
        md("reply_control everyone", th("threads:\n  reply_control: everyone\n", "Hi\n"))
            .passes("threads-reply-control"),
        md("reply_control nobody", th("threads:\n  reply_control: nobody\n", "Hi\n"))
            .fires(&["threads-reply-control"])
            .at("threads-reply-control", 4, 18),
        md("link_attachment URL", th("threads:\n  link_attachment: https://example.com/a\n", "Hi\n"))
            .passes("threads-link-attachment"),
        md("link_attachment not a URL", th("threads:\n  link_attachment: example.com/a\n", "Hi\n"))
            .fires(&["threads-link-attachment"]),
        md(
            "link_attachment with media",
            th(&format!("{}threads:\n  link_attachment: https://example.com/a\n", url_media(1)), "Hi\n"),
        )
        .fires(&["threads-link-attachment-with-media"]),
        yml(
            "link_attachment with media on part 2 only",
            "platforms: [threads]\nthreads:\n  link_attachment: https://example.com/a\n\
             thread:\n  - one\n  - text: two\n    media:\n      - url: https://example.com/b.jpg\n",
        )
        .passes("threads-link-attachment-with-media"),
        md("quote_post_id digits", th("threads:\n  quote_post_id: \"17890000000000001\"\n", "Hi\n"))
            .passes("threads-quote-post-id"),
        md("quote_post_id letters", th("threads:\n  quote_post_id: abc\n", "Hi\n")).fires(&["threads-quote-post-id"]),
        md("quote_post_id empty", th("threads:\n  quote_post_id: \"\"\n", "Hi\n")).fires(&["threads-quote-post-id"]),
        // Images in the body, empty parts.
        md("inline image", th("", "Look ![a cat](media/cat.png) here\n")).fires(&["threads-inline-image"]).at(
            "threads-inline-image",
            4,
            6,
        ),
        md("only an inline image", th("", "![a cat](media/cat.png)\n"))
            .fires(&["threads-inline-image", "threads-empty-part"]),
        yml("empty thread item", "platforms: [threads]\nthread:\n  - one\n  - \"\"\n").fires(&["threads-empty-part"]),
        yml(
            "thread item with media only",
            concat!("platforms: [threads]\nthread:\n  - one\n  - media:\n", "      - url: https://example.com/b.jpg\n"),
        )
        .passes("threads-empty-part"),
    ]
    .into_iter()
    // Text length counts UTF-8 bytes.
    .chain(length_cases(th, 500, "ASCII bytes", "threads-text-too-long"))
    .chain(threads_feature_cases())
    .collect()
}

/// Text attachments, spoilers, spoiler media and ghost posts.
fn threads_feature_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    let attach = "threads:\n  split: attachment\n";
    let lead = "threads:\n  split: attachment\n  text: A short lead\n";
    let spoilers = |n: usize| (1..=n).map(|i| format!("||s{i}||")).collect::<Vec<_>>().join(" ");
    vec![
        md(
            "3,000-character essay as an attachment",
            th(attach, &format!("Lead.\n\n{}https://example.com/a\n", "word ".repeat(600))),
        )
        .passes("threads-attachment-too-long"),
        md("attachment of 10,000 characters", th(lead, &"é".repeat(10_000))).passes("threads-attachment-too-long"),
        md("attachment of 10,001 characters", th(lead, &"é".repeat(10_001)))
            .fires(&["threads-attachment-too-long"])
            .at("threads-attachment-too-long", 7, 1),
        md("attachment with two links", th(attach, "Lead\n\nSee https://a.example/x and https://b.example/y\n"))
            .fires(&["threads-attachment-links"])
            .at("threads-attachment-links", 8, 29),
        md("attachment with one link twice", th(attach, "Lead\n\nhttps://a.example/x, again https://a.example/x\n"))
            .passes("threads-attachment-links"),
        md("attachment with a poll", th(&format!("{attach}  poll:\n    options: [a, b]\n"), "Lead\n"))
            .fires(&["threads-attachment-with-poll"])
            .at("threads-attachment-with-poll", 4, 10),
        md(
            "attachment with link_attachment",
            th(&format!("{attach}  link_attachment: https://example.com/\n"), "Lead\n"),
        )
        .fires(&["threads-attachment-with-link-attachment"]),
        md("attachment with media", th(&format!("{}{attach}", url_media(1)), "Lead\n"))
            .fires(&["threads-attachment-with-media"]),
        yml(
            "attachment with a thread",
            "platforms: [threads]\nthreads:\n  split: attachment\nthread:\n  - one\n  - two\n",
        )
        .fires(&["threads-attachment-with-thread"]),
        md("attachment with an empty body", th(lead, "")).fires(&["threads-attachment-empty"]),
        md("attachment lead over 500 bytes", th(attach, &format!("{}\n\nmore\n", a(501))))
            .fires(&["threads-text-too-long"]),
        md("attachment shows the spoilers", th(attach, "Lead\n\nThe end: ||he lives||\n"))
            .fires(&["threads-spoiler-in-attachment"]),
        md("10 spoilers", th("", &spoilers(10))).passes("threads-too-many-spoilers"),
        md("11 spoilers", th("", &spoilers(11))).fires(&["threads-too-many-spoilers"]).at(
            "threads-too-many-spoilers",
            4,
            74,
        ),
        md("spoiler_media with media", th(&format!("{}threads:\n  spoiler_media: true\n", url_media(1)), "Look\n"))
            .passes("threads-spoiler-media-without-media"),
        md("spoiler_media without media", th("threads:\n  spoiler_media: true\n", "Look\n"))
            .fires(&["threads-spoiler-media-without-media"])
            .at("threads-spoiler-media-without-media", 4, 18),
        md("spoiler_media false without media", th("threads:\n  spoiler_media: false\n", "Look\n"))
            .passes("threads-spoiler-media-without-media"),
        md("ghost text post", th("threads:\n  ghost: true\n", "Gone tomorrow\n")).passes("threads-ghost-in-chain"),
        md("ghost with an attachment", th("threads:\n  ghost: true\n  split: attachment\n", "Lead\n\nMore\n"))
            .passes("threads-ghost-with-media")
            .fires(&["threads-ghost-with-option"])
            .at("threads-ghost-with-option", 5, 10),
        md("ghost with a topic tag", th("threads:\n  ghost: true\n  topic_tag: rust\n", "Gone\n"))
            .fires(&["threads-ghost-with-option"])
            .at("threads-ghost-with-option", 5, 14),
        md("ghost with a poll", th("threads:\n  ghost: true\n  poll:\n    options: [a, b]\n", "Gone?\n"))
            .fires(&["threads-ghost-with-option"]),
        md(
            "ghost with a link attachment",
            th("threads:\n  ghost: true\n  link_attachment: https://example.com/\n", "Gone\n"),
        )
        .fires(&["threads-ghost-with-option"]),
        md("ghost quoting a post", th("threads:\n  ghost: true\n  quote_post_id: \"1234\"\n", "Gone\n"))
            .fires(&["threads-ghost-with-option"]),
        md("ghost with reply control", th("threads:\n  ghost: true\n  reply_control: everyone\n", "Gone\n"))
            .fires(&["threads-ghost-with-option"]),
        md("ghost with a text spoiler", th("threads:\n  ghost: true\n", "Gone: ||boo||\n"))
            .passes("threads-ghost-with-option"),
        md("topic tag without ghost", th("threads:\n  ghost: false\n  topic_tag: rust\n", "Here\n"))
            .passes("threads-ghost-with-option"),
        md("ghost with media", th(&format!("{}threads:\n  ghost: true\n", url_media(1)), "Look\n"))
            .fires(&["threads-ghost-with-media"]),
        md("ghost chain", th("threads:\n  ghost: true\n", "one\n\n---\n\ntwo\n"))
            .fires(&["threads-ghost-in-chain"])
            .at("threads-ghost-in-chain", 4, 10),
    ]
}

// ---------- Media references ----------

fn media_cases() -> Vec<Case> {
    vec![
        md("media path climbing out", th(&media_path("../x.png"), "Hi\n")).fires(&["media-path-escapes"]).at(
            "media-path-escapes",
            4,
            11,
        ),
        md("absolute media path", th(&media_path("/etc/hostname"), "Hi\n")).fires(&["media-path-escapes"]),
        md("media path climbing and coming back", th(&media_path("media/../media/a.png"), "Hi\n"))
            .file("media/a.png", png(10, 10))
            .passes("media-path-escapes"),
        md("symlink pointing outside", th(&media_path("media/a.png"), "Hi\n"))
            .link_out("media/a.png")
            .fires(&["media-path-escapes"]),
        md("symlink pointing inside", th(&media_path("media/a.png"), "Hi\n"))
            .file("media/real.png", png(10, 10))
            .link_in("media/a.png", "media/real.png")
            .passes("media-path-escapes"),
        md("missing media file", th(&media_path("media/missing.png"), "Hi\n")).fires(&["media-not-found"]),
        md("media path is a folder", th(&media_path("media"), "Hi\n"))
            .file("media/a.png", png(10, 10))
            .fires(&["media-not-found"]),
        md("tracked and untracked media", th("media:\n  - path: media/in.png\n  - path: media/out.png\n", "Hi\n"))
            .file("media/in.png", png(10, 10))
            .file("media/out.png", png(10, 10))
            .tracked(&["media/in.png"])
            .fires(&["media-untracked"])
            .at("media-untracked", 5, 11),
        md("http media URL", th("media:\n  - url: http://example.com/a.jpg\n", "Hi\n")).fires(&["media-url-invalid"]),
        md("https media URL", th("media:\n  - url: https://example.com/a.jpg\n", "Hi\n")).passes("media-url-invalid"),
        md(
            "media with path and url",
            th("media:\n  - path: media/a.png\n    url: https://example.com/a.png\n", "Hi\n"),
        )
        .file("media/a.png", png(10, 10))
        .fires(&["media-path-and-url"])
        .at("media-path-and-url", 5, 10),
        md("media with only alt", th("media:\n  - alt: nothing\n", "Hi\n")).fires(&["media-missing-source"]),
        md("media-only post", th(&url_media(1), "")).passes("empty-post"),
        md("Threads media outside Actions", th(&media_path("media/a.png"), "Hi\n"))
            .file("media/a.png", png(100, 100))
            .outside_actions()
            .fires(&["media-no-public-url"])
            .at("media-no-public-url", 4, 5),
        md("Threads media outside Actions with media.base_url", th(&media_path("media/a.png"), "Hi\n"))
            .file("media/a.png", png(100, 100))
            .file("crier.yaml", "media:\n  base_url: https://cdn.example/\n")
            .outside_actions()
            .passes("media-no-public-url"),
        md("Threads media by URL outside Actions", th(&alt_media("A picture"), "Hi\n"))
            .outside_actions()
            .passes("media-no-public-url"),
    ]
}

/// Images in a dev.to body, relative to the post (`content/`), on line 5.
fn body_image_cases() -> Vec<Case> {
    let img = |c: Case| c.file("content/img/p.png", png(10, 10));
    vec![
        img(md("body image in Actions", dv("", "![one](img/p.png)\n"))).passes("media-no-public-url"),
        img(md("body image outside Actions", dv("", "See ![one](img/p.png)\n")))
            .outside_actions()
            .fires(&["media-no-public-url"])
            .at("media-no-public-url", 5, 12),
        img(md("body image outside Actions with media.base_url", dv("", "![one](img/p.png)\n")))
            .file("crier.yaml", "media:\n  base_url: https://cdn.example/\n")
            .outside_actions()
            .passes("media-no-public-url"),
        img(md("body image, media.base_url with {sha} outside git", dv("", "![one](img/p.png)\n")))
            .file("crier.yaml", "media:\n  base_url: https://cdn.example/{sha}/\n")
            .outside_actions()
            .fires(&["media-no-public-url"]),
        img(md("body image from the root outside Actions", dv("", "![one](/content/img/p.png)\n")))
            .outside_actions()
            .fires(&["media-no-public-url"]),
        md("missing body image", dv("", "Text\n\n![x](img/nope.png)\n")).fires(&["media-not-found"]).at(
            "media-not-found",
            7,
            6,
        ),
        md("body image climbing out", dv("", "![x](../../x.png)\n")).fires(&["media-path-escapes"]).at(
            "media-path-escapes",
            5,
            6,
        ),
        md("missing body image by reference", dv("", "![x][p]\n\n[p]: img/nope.png\n")).fires(&["media-not-found"]),
        md("missing HTML image", dv("", "<p><img src=\"img/nope.png\" alt=\"x\"></p>\n"))
            .fires(&["media-not-found"])
            .at("media-not-found", 5, 14),
        img(md("HTML image outside Actions", dv("", "A <img alt='x' src='img/p.png'> here\n")))
            .outside_actions()
            .fires(&["media-no-public-url"])
            .at("media-no-public-url", 5, 21),
        md("web image", dv("", "![x](https://example.com/x.png) <img src=\"//cdn.example/y.png\">\n"))
            .outside_actions()
            .passes("media-not-found"),
        md("image in code", dv("", "`![x](nope.png)`\n\n```\n<img src=\"nope.png\">\n```\n")).passes("media-not-found"),
    ]
}

// ---------- dev.to ----------

fn devto_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    vec![
        md("dev.to post without title", "---\nplatforms: [devto]\n---\nBody\n").fires(&["devto-title-missing"]),
        md("dev.to post with empty title", "---\nplatforms: [devto]\ntitle: \"  \"\n---\nBody\n")
            .fires(&["devto-title-missing"]),
        md("dev.to title from devto.title", "---\nplatforms: [devto]\ndevto:\n  title: Hello\n---\nBody\n")
            .passes("devto-title-missing"),
        md("title of 128 chars", format!("---\nplatforms: [devto]\ntitle: {}\n---\nBody\n", a(128)))
            .passes("devto-title-too-long"),
        md("title of 129 chars", format!("---\nplatforms: [devto]\ntitle: {}\n---\nBody\n", a(129)))
            .fires(&["devto-title-too-long"])
            .at("devto-title-too-long", 3, 8),
        md("title of 128 multibyte chars", format!("---\nplatforms: [devto]\ntitle: {}\n---\nBody\n", "é".repeat(128)))
            .passes("devto-title-too-long"),
        md("4 tags", dv("tags: [a, b, c, d]\n", "Body\n")).passes("devto-too-many-tags"),
        md("5 tags", dv("tags: [a, b, c, d, e]\n", "Body\n")).fires(&["devto-too-many-tags"]).at(
            "devto-too-many-tags",
            4,
            20,
        ),
        md("5 top-level tags but 4 devto.tags", dv("tags: [a, b, c, d, e]\ndevto:\n  tags: [a, b, c, d]\n", "Body\n"))
            .passes("devto-too-many-tags"),
        md("tag with a hyphen", dv("tags: [rust, web-dev]\n", "Body\n")).fires(&["devto-tag-invalid"]).at(
            "devto-tag-invalid",
            4,
            14,
        ),
        md("tag of 30 chars", dv(&format!("tags: [{}]\n", a(30)), "Body\n")).passes("devto-tag-invalid"),
        md("tag of 31 chars", dv(&format!("tags: [{}]\n", a(31)), "Body\n")).fires(&["devto-tag-invalid"]),
        md("empty tag", dv("tags: [rust, \"\"]\n", "Body\n")).fires(&["devto-tag-invalid"]),
        md("body of 800 KB", dv("", &a(800 * 1024))).passes("devto-body-too-large"),
        yml("dev.to post with only a thread", "platforms: [devto]\ntitle: T\nthread:\n  - one\n  - two\n")
            .fires(&["devto-empty"])
            .at("devto-empty", 1, 1),
        md("dev.to post with a body", dv("", "Body\n")).passes("devto-empty"),
        md("body of 800 KB + 1", dv("", &a(800 * 1024 + 1))).fires(&["devto-body-too-large"]),
        md(
            "https canonical_url and cover_image",
            dv(
                "devto:\n  canonical_url: https://example.com/post\n  cover_image: http://example.com/c.png\n",
                "Body\n",
            ),
        )
        .passes("devto-url-invalid"),
        md("canonical_url without scheme", dv("devto:\n  canonical_url: example.com/post\n", "Body\n"))
            .fires(&["devto-url-invalid"])
            .at("devto-url-invalid", 5, 18),
        md("cover_image over ftp", dv("devto:\n  cover_image: ftp://example.com/c.png\n", "Body\n"))
            .fires(&["devto-url-invalid"]),
        md("canonical_url scheme only", dv("devto:\n  canonical_url: \"https://\"\n", "Body\n"))
            .fires(&["devto-url-invalid"]),
        md("Liquid variable in prose", dv("", "Intro\n\nThe title is {{ page.title }} here.\n"))
            .fires(&["devto-liquid-variable"])
            .at("devto-liquid-variable", 7, 14),
        md("unknown Liquid tag", dv("", "Use {% include card.html %} like this.\n"))
            .fires(&["devto-liquid-tag"])
            .at("devto-liquid-tag", 5, 5),
        md("unclosed Liquid tag", dv("", "Jinja uses {% for x\n"))
            .fires(&["devto-liquid-tag"]),
        md("Liquid in a code span", dv("", "Write `{{ page.title }}` or `{% if x %}`.\n"))
            .passes("devto-liquid-variable"),
        md("Liquid in a code block", dv("", "Template:\n\n```liquid\n{% for p in posts %}{{ p.title }}{% endfor %}\n```\n"))
            .passes("devto-liquid-tag"),
        md("Liquid inside raw", dv("", "{% raw %}{{ page.title }} and {% foo %}{% endraw %} done\n"))
            .passes("devto-liquid-variable"),
        md("Forem's own tags", dv("", "{% embed https://example.com %}\n\n{% github crier-dev/crier %}\n\n{% details Why %}\nBecause\n{% enddetails %}\n"))
            .passes("devto-liquid-tag"),
        md("single braces", dv("", "A set {a, b} and a map { \"k\": 1 }.\n")).passes("devto-liquid-variable"),
    ]
}

// ---------- General: parsing, platforms, templates ----------

/// A valid post padded with blank lines to exactly 10 MB.
/// A Bluesky post: `extra` front-matter lines, then the body (on line 4 + lines of `extra`).
fn bs(extra: &str, body: &str) -> String {
    post_for("bluesky", extra, body)
}

/// A Mastodon post: `extra` front-matter lines, then the body (on line 4 + lines of `extra`).
fn ms(extra: &str, body: &str) -> String {
    post_for("mastodon", extra, body)
}

/// The alt text rule of a platform that keeps `max` characters: at the limit, one over it,
/// and none at all.
fn alt_cases(post: fn(&str, &str) -> String, max: usize, [too_long, missing]: [&'static str; 2]) -> Vec<Case> {
    let item = |alt: String| format!("media:\n  - path: media/1.png\n{alt}");
    let alt_of = |n: usize| item(format!("    alt: {}\n", "a".repeat(n)));
    vec![
        md(&format!("alt of {max} characters"), post(&alt_of(max), "Look\n")).passes(too_long),
        md(&format!("alt of {} characters", max + 1), post(&alt_of(max + 1), "Look\n")).fires(&[too_long]),
        md("an image without alt", post(&item(String::new()), "Look\n")).fires(&[missing]),
    ]
    .into_iter()
    .map(|case| case.file("media/1.png", png(10, 10)))
    .collect()
}

/// `n` local PNG items with alt text, `media/1.png` … (the files are added by `with_pngs`).
fn png_media(n: usize) -> String {
    media_list(n, |i| format!("  - path: media/{i}.png\n    alt: Picture {i}\n"))
}

fn with_pngs(mut case: Case, n: usize) -> Case {
    for i in 1..=n {
        case = case.file(&format!("media/{i}.png"), png(10, 10));
    }
    case
}

/// The text length limit, both sides: a body of `max` ASCII letters passes `code`, one
/// more fires it at the body's start (line 4, column 1). Cases are named `"{n} {unit}"`.
fn length_cases(post: fn(&str, &str) -> String, max: usize, unit: &str, code: &'static str) -> [Case; 2] {
    let case = |n: usize| md(&format!("{n} {unit}"), post("", &"a".repeat(n)));
    [case(max).passes(code), case(max + 1).fires(&[code]).at(code, 4, 1)]
}

/// The count limit on media, both sides: `max` local PNGs (with alt text) pass `code`,
/// one more fires it. Cases are named `"{n} {noun}"`.
fn count_cases(post: fn(&str, &str) -> String, max: usize, noun: &str, code: &'static str) -> [Case; 2] {
    let case = |n: usize| with_pngs(md(&format!("{n} {noun}"), post(&png_media(n), "Photos\n")), n);
    [case(max).passes(code), case(max + 1).fires(&[code])]
}

/// An HEIF still image (ftyp brand `heic`).
fn heif() -> Vec<u8> {
    mp4_box(b"ftyp", b"heic\0\0\0\0mif1heic")
}

fn bluesky_cases() -> Vec<Case> {
    let mut cases = vec![
        // 167 family emoji: 167 graphemes but 3006 bytes.
        md("3006 bytes in 167 graphemes", bs("", &FAMILY.repeat(167))).fires(&["bluesky-text-too-long"]),
        md("only an inline image", bs("", "![a cat](media/cat.png)\n"))
            .fires(&["bluesky-inline-image", "bluesky-empty-part"]),
        md("a video", bs(&media_path("media/v.mp4"), "Watch\n"))
            .file("media/v.mp4", mp4(1000, 5000))
            .fires(&["bluesky-video-unsupported"]),
        md("an HEIF image", bs(&media_path("media/a.heic"), "Look\n"))
            .file("media/a.heic", heif())
            .fires(&["bluesky-image-format"]),
        md("a PNG over the limit is scaled", bs(&media_path("media/a.png"), "Look\n"))
            .sparse("media/a.png", png(4000, 3000), 2_000_001)
            .fires(&["bluesky-image-scaled"]),
        md("a PNG at the limit", bs(&media_path("media/a.png"), "Look\n"))
            .sparse("media/a.png", png(4000, 3000), 2_000_000)
            .passes("bluesky-image-scaled"),
        md("a GIF over the limit", bs(&media_path("media/a.gif"), "Look\n"))
            .sparse("media/a.gif", gif(400, 300), 2_000_001)
            .fires(&["bluesky-image-too-large"]),
        md("an image without alt", bs("media:\n  - path: media/1.png\n", "Look\n"))
            .file("media/1.png", png(10, 10))
            .fires(&["bluesky-alt-missing"]),
        md("3 languages", bs("bluesky:\n  langs: [en, fr, de]\n", "Hi\n")).passes("bluesky-langs"),
        md("4 languages", bs("bluesky:\n  langs: [en, fr, de, es]\n", "Hi\n")).fires(&["bluesky-langs"]),
        md("a language that is no tag", bs("bluesky:\n  langs: [\"not a tag\"]\n", "Hi\n")).fires(&["bluesky-langs"]),
    ];
    cases.extend(count_cases(bs, 4, "images", "bluesky-too-many-images"));
    cases.extend(length_cases(bs, 300, "graphemes", "bluesky-text-too-long"));
    cases
}

fn mastodon_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    let mut cases = vec![
        md("the content warning counts", ms("mastodon:\n  spoiler_text: Spoilers\n", &a(495)))
            .fires(&["mastodon-text-too-long"]),
        md("visibility unlisted", ms("mastodon:\n  visibility: unlisted\n", "Hi\n")).passes("mastodon-visibility"),
        md("visibility misspelled", ms("mastodon:\n  visibility: publik\n", "Hi\n")).fires(&["mastodon-visibility"]),
        md("language en", ms("mastodon:\n  language: en\n", "Hi\n")).passes("mastodon-language"),
        md("language eng", ms("mastodon:\n  language: eng\n", "Hi\n")).fires(&["mastodon-language"]),
        md("language zh-TW", ms("mastodon:\n  language: zh-TW\n", "Hi\n")).passes("mastodon-language"),
        md("language pt-BR", ms("mastodon:\n  language: pt-BR\n", "Hi\n")).passes("mastodon-language"),
        md("language ISO 639-3 kab", ms("mastodon:\n  language: kab\n", "Hi\n")).passes("mastodon-language"),
        md("language english", ms("mastodon:\n  language: english\n", "Hi\n")).fires(&["mastodon-language"]).at(
            "mastodon-language",
            4,
            13,
        ),
        md("language pt-", ms("mastodon:\n  language: pt-\n", "Hi\n")).fires(&["mastodon-language"]),
        md("only an inline image", ms("", "![a cat](media/cat.png)\n"))
            .fires(&["mastodon-inline-image", "mastodon-empty-part"]),
        md("media by URL", ms(&alt_media("A picture"), "Look\n")).fires(&["mastodon-media-url"]),
        md("a file of no known format", ms(&media_path("media/a.png"), "Look\n"))
            .file("media/a.png", b"not an image at all".to_vec())
            .fires(&["mastodon-media-format"]),
        md("an image over 16 MB", ms(&media_path("media/a.png"), "Look\n"))
            .sparse("media/a.png", png(100, 100), 16 * MB + 1)
            .fires(&["mastodon-image-too-large"]),
        md("an image over the pixel limit", ms(&media_path("media/a.png"), "Look\n"))
            .file("media/a.png", png(8000, 4148))
            .fires(&["mastodon-image-too-large"]),
        md("a video over 99 MB", ms(&media_path("media/v.mp4"), "Watch\n"))
            .sparse("media/v.mp4", mp4(1000, 5000), 103_809_025)
            .fires(&["mastodon-video-too-large"]),
        md("an empty content warning", ms("mastodon:\n  spoiler_text: \"\"\n", "Hi\n"))
            .fires(&["mastodon-spoiler-empty"]),
        md(
            "an image and a video",
            ms("media:\n  - path: media/1.png\n    alt: P\n  - path: media/v.mp4\n    alt: V\n", "Look\n"),
        )
        .file("media/1.png", png(10, 10))
        .file("media/v.mp4", mp4(1000, 5000))
        .fires(&["mastodon-video-with-media"])
        .at("mastodon-video-with-media", 6, 5),
        md("a video alone", ms("media:\n  - path: media/v.mp4\n    alt: V\n", "Watch\n"))
            .file("media/v.mp4", mp4(1000, 5000))
            .passes("mastodon-video-with-media"),
        md(
            "a video in its own status",
            ms("thread:\n  - media:\n      - path: media/v.mp4\n        alt: V\n", "Look\n"),
        )
        .file("media/v.mp4", mp4(1000, 5000))
        .passes("mastodon-video-with-media"),
    ];
    cases.extend(count_cases(ms, 4, "media", "mastodon-too-many-media"));
    cases.extend(alt_cases(ms, 1500, ["mastodon-alt-too-long", "mastodon-alt-missing"]));
    cases.extend(length_cases(ms, 500, "characters", "mastodon-text-too-long"));
    cases
}

/// A Discord post: `extra` front-matter lines, then the body (on line 4 + lines of `extra`).
fn dc(extra: &str, body: &str) -> String {
    post_for("discord", extra, body)
}

fn discord_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    let mut cases = vec![
        // Characters, not bytes: 2000 CJK characters are 6000 bytes.
        md("2000 CJK characters", dc("", &"日".repeat(2000))).passes("discord-too-long"),
        md("2001 characters split", dc("discord:\n  split: auto\n", &format!("{}\n\n{}", a(1500), a(501))))
            .passes("discord-too-long"),
        md("empty text override", dc("discord:\n  text: \"\"\n", "Hi\n")).fires(&["discord-empty"]),
        md("media by URL", dc(&alt_media("A picture"), "Look\n")).fires(&["discord-media-url"]),
        md("a file over 10 MiB", dc(&media_path("media/a.png"), "Look\n"))
            .sparse("media/a.png", png(100, 100), 10 * 1024 * 1024 + 1)
            .fires(&["discord-file-too-large"]),
        md("an inline image with a public URL", dc("", "See ![chart](media/1.png)\n"))
            .file("media/1.png", png(10, 10))
            .passes("discord-inline-image"),
        md("an inline image outside the repository", dc("", "See ![chart](../../outside.png)\n"))
            .fires(&["discord-inline-image"]),
        md("username of 80", dc(&format!("discord:\n  username: {}\n", a(80)), "Hi\n")).passes("discord-username"),
        md("username of 81", dc(&format!("discord:\n  username: {}\n", a(81)), "Hi\n"))
            .fires(&["discord-username"])
            .at("discord-username", 4, 13),
        md("avatar over https", dc("discord:\n  avatar_url: https://e.com/a.png\n", "Hi\n"))
            .passes("discord-avatar-url"),
        md("avatar as a path", dc("discord:\n  avatar_url: media/a.png\n", "Hi\n")).fires(&["discord-avatar-url"]),
        md("thread name of 100", dc(&format!("discord:\n  thread_name: {}\n", a(100)), "Hi\n"))
            .passes("discord-thread-name"),
        md("thread name of 101", dc(&format!("discord:\n  thread_name: {}\n", a(101)), "Hi\n"))
            .fires(&["discord-thread-name"]),
    ];
    cases.extend(count_cases(dc, 10, "files", "discord-too-many-files"));
    cases.extend(alt_cases(dc, 1024, ["discord-alt-too-long", "discord-alt-missing"]));
    cases.extend(length_cases(dc, 2000, "characters", "discord-too-long"));
    cases
}

fn li(extra: &str, body: &str) -> String {
    post_for("linkedin", extra, body)
}

fn linkedin_cases() -> Vec<Case> {
    let mut cases = vec![
        md("escapes do not count", li("", &"(".repeat(2900))).passes("linkedin-too-long"),
        md("emoji count two UTF-16 units", li("", &"\u{1F600}".repeat(1451))).fires(&["linkedin-too-long"]),
        md("nothing at all", li("linkedin:\n  text: \"\"\n", "")).fires(&["linkedin-empty"]),
        md("visibility CONNECTIONS", li("linkedin:\n  visibility: CONNECTIONS\n", "Hi\n"))
            .passes("linkedin-visibility"),
        md("visibility lower case", li("linkedin:\n  visibility: public\n", "Hi\n"))
            .fires(&["linkedin-visibility"])
            .at("linkedin-visibility", 4, 15),
        md("only an inline image", li("", "![a cat](media/cat.png)\n"))
            .fires(&["linkedin-inline-image", "linkedin-empty"]),
        md("a WebP image", li(&media_path("media/a.webp"), "Look\n"))
            .file("media/a.webp", webp(10, 10))
            .fires(&["linkedin-media-format"]),
        md("a video", li(&media_path("media/v.mp4"), "Watch\n"))
            .file("media/v.mp4", mp4(1000, 5000))
            .fires(&["linkedin-media-format"]),
        md("a JPG by URL", li(&alt_media("A picture"), "Look\n")).passes("linkedin-media-format"),
    ];
    cases.extend(count_cases(li, 20, "images", "linkedin-too-many-media"));
    cases.extend(alt_cases(li, 4086, ["linkedin-alt-too-long", "linkedin-alt-missing"]));
    // 2,900 of LinkedIn's 3,000: the rest is the margin.
    cases.extend(length_cases(li, 2900, "characters", "linkedin-too-long"));
    cases
}

#[test]
fn discord_rules() {
    run_table(&discord_cases());
}

#[test]
fn linkedin_rules() {
    run_table(&linkedin_cases());
}

#[test]
fn bluesky_rules() {
    run_table(&bluesky_cases());
}

#[test]
fn mastodon_rules() {
    run_table(&mastodon_cases());
}

fn ns(extra: &str, body: &str) -> String {
    post_for("nostr", extra, body)
}

fn nostr_cases() -> Vec<Case> {
    vec![
        md("an article with a title", ns("title: T\nnostr:\n  kind: article\n", "Body\n"))
            .passes("nostr-article-title"),
        md("an article without a title", ns("nostr:\n  kind: article\n", "Body\n")).fires(&["nostr-article-title"]).at(
            "nostr-article-title",
            4,
            9,
        ),
        md("an inline image", ns("", "Look ![a cat](media/cat.png) here\n")).fires(&["nostr-inline-image"]),
        md("a note with text", ns("", "Hi\n")).passes("nostr-empty-part"),
        md("only an inline image", ns("", "![a cat](media/cat.png)\n"))
            .fires(&["nostr-inline-image", "nostr-empty-part"]),
    ]
}

fn xs(extra: &str, body: &str) -> String {
    post_for("x", extra, body)
}

/// An `x.poll` (line 4 of an `xs` post holds `poll:`).
fn x_poll(options: &str, minutes: u64) -> String {
    format!("x:\n  poll:\n    options: {options}\n    duration_minutes: {minutes}\n")
}

fn x_cases() -> Vec<Case> {
    let a = |n: usize| "a".repeat(n);
    let mut cases = vec![
        md("140 CJK weigh 280", xs("", &"の".repeat(140))).passes("x-too-long"),
        md("141 CJK weigh 282", xs("", &"の".repeat(141))).fires(&["x-too-long"]),
        md("a long link counts 23", xs("", &format!("{} https://example.com/{}", a(256), a(300)))).passes("x-too-long"),
        md("a refused character", xs("", "Hi\u{FEFF}there\n")).fires(&["x-invalid-character"]),
        md("one cashtag", xs("", "Watching $AAPL, costs $10\n")).passes("x-cashtags"),
        md("two cashtags", xs("", "Line one\n$AAPL beats $TSLA\n")).fires(&["x-cashtags"]).at("x-cashtags", 4, 1),
        md("a cashtag in each part", xs("", "$AAPL today\n\n---\n\n$TSLA tomorrow\n")).passes("x-cashtags"),
        md("x.text empty", xs("x:\n  text: \"\"\n", "Hi\n")).fires(&["x-empty-part"]),
        md("only an inline image", xs("", "![a cat](media/cat.png)\n")).fires(&["x-inline-image", "x-empty-part"]),
        md("reply_settings following", xs("x:\n  reply_settings: following\n", "Hi\n")).passes("x-reply-settings"),
        md("reply_settings misspelled", xs("x:\n  reply_settings: folowing\n", "Hi\n"))
            .fires(&["x-reply-settings"])
            .at("x-reply-settings", 4, 19),
        md("a poll of 2", xs(&x_poll("[Tabs, Spaces]", 60), "Which?\n")).passes("x-poll"),
        md("a poll of 1", xs(&x_poll("[Tabs]", 60), "Which?\n")).fires(&["x-poll"]),
        md("a poll option of 26", xs(&x_poll(&format!("[{}, b]", a(26)), 60), "Which?\n")).fires(&["x-poll"]),
        md("a poll of 4 minutes", xs(&x_poll("[a, b]", 4), "Which?\n")).fires(&["x-poll"]),
        with_pngs(md("a poll with media", xs(&format!("{}{}", png_media(1), x_poll("[a, b]", 60)), "Which?\n")), 1)
            .fires(&["x-poll-with-media"]),
        md(
            "a video and an image",
            xs("media:\n  - path: media/v.mp4\n    alt: V\n  - path: media/1.png\n    alt: P\n", "Look\n"),
        )
        .file("media/v.mp4", mp4(1000, 5000))
        .file("media/1.png", png(10, 10))
        .fires(&["x-too-many-media"]),
        md("media by URL", xs(&alt_media("A picture"), "Look\n")).fires(&["x-media-url"]),
        md("a file of no known format", xs(&media_path("media/a.png"), "Look\n"))
            .file("media/a.png", b"not an image at all".to_vec())
            .fires(&["x-media-format"]),
        md("an image over 5 MB", xs(&media_path("media/a.png"), "Look\n"))
            .sparse("media/a.png", png(100, 100), 5 * MB + 1)
            .fires(&["x-image-too-large"]),
        md("a GIF of 10 MB", xs(&media_path("media/a.gif"), "Look\n"))
            .sparse("media/a.gif", gif(10, 10), 10 * MB)
            .passes("x-image-too-large"),
        md("a video over 512 MB", xs(&media_path("media/v.mp4"), "Watch\n"))
            .sparse("media/v.mp4", mp4(1000, 5000), 512 * MB + 1)
            .fires(&["x-video-too-large"]),
    ];
    cases.extend(count_cases(xs, 4, "images", "x-too-many-media"));
    cases.extend(alt_cases(xs, 1000, ["x-alt-too-long", "x-alt-missing"]));
    cases.extend(length_cases(xs, 280, "weighted", "x-too-long"));
    cases
}

#[test]
fn nostr_rules() {
    run_table(&nostr_cases());
}

fn tg(extra: &str, body: &str) -> String {
    post_for("telegram", extra, body)
}

fn telegram_cases() -> Vec<Case> {
    // 4,096 UTF-16 units: an emoji outside the BMP counts two.
    let emoji = "\u{1F389}";
    vec![
        md("4096 units", tg("", &"a".repeat(4096))).passes("telegram-text-too-long"),
        md("4097 units", tg("", &"a".repeat(4097))).fires(&["telegram-text-too-long"]),
        md("2048 emoji are 4096 units", tg("", &emoji.repeat(2048))).passes("telegram-text-too-long"),
        md("2049 emoji", tg("", &emoji.repeat(2049))).fires(&["telegram-text-too-long"]),
        md("split: auto sends a chain", tg("telegram:\n  split: auto\n", &"a ".repeat(3000)))
            .passes("telegram-text-too-long"),
        md("only an inline image", tg("", "![a cat](media/cat.png)\n")).fires(&["telegram-empty"]),
        with_pngs(md("10 media", tg(&png_media(10), "Photos\n")), 10)
            .fires(&["telegram-alt-ignored"])
            .passes("telegram-too-many-media"),
        with_pngs(md("11 media", tg(&png_media(11), "Photos\n")), 11)
            .fires(&["telegram-too-many-media", "telegram-alt-ignored"]),
        md("alt text is a note", tg(&alt_media("A picture"), "Look\n")).fires(&["telegram-alt-ignored"]).at(
            "telegram-alt-ignored",
            5,
            10,
        ),
        md("a GIF", tg("media:\n  - path: media/a.gif\n", "Look\n"))
            .file("media/a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec())
            .fires(&["telegram-media-format"]),
        md("a photo over 10 MB", tg("media:\n  - path: media/a.png\n", "Look\n"))
            .sparse("media/a.png", png(100, 100), 10 * MB + 1)
            .fires(&["telegram-media-too-large"]),
        md("a photo of 5000×5000", tg("media:\n  - path: media/a.png\n", "Look\n"))
            .file("media/a.png", png(5000, 5000))
            .passes("telegram-photo-dimensions"),
        md("a photo of 6000×4001", tg("media:\n  - path: media/a.png\n", "Look\n"))
            .file("media/a.png", png(6000, 4001))
            .fires(&["telegram-photo-dimensions"])
            .at("telegram-photo-dimensions", 4, 5),
        md("a photo of 2000×100", tg("media:\n  - path: media/a.png\n", "Look\n"))
            .file("media/a.png", png(2000, 100))
            .passes("telegram-photo-dimensions"),
        md("a photo of 2001×100", tg("media:\n  - path: media/a.png\n", "Look\n"))
            .file("media/a.png", png(2001, 100))
            .fires(&["telegram-photo-dimensions"]),
        md("a video of 50 MB", tg("media:\n  - path: media/v.mp4\n", "Watch\n"))
            .sparse("media/v.mp4", mp4(1000, 5000), 50 * MB)
            .passes("telegram-media-too-large"),
    ]
}

#[test]
fn telegram_rules() {
    run_table(&telegram_cases());
}

#[test]
fn x_rules() {
    run_table(&x_cases());
}

fn ten_mb_post() -> Vec<u8> {
    let mut v = th("", "Hi\n").into_bytes();
    v.resize(usize::try_from(10 * MB).expect("fits"), b'\n');
    v
}

/// A `published` block as crier writes it (front-matter lines 3 to 8).
const RECORD: &str = "published:\n  threads:\n    id: \"17890000000000001\"\n    url: \"https://www.threads.com/@someone/post/P1\"\n    published_at: \"2026-11-28T10:00:00Z\"\n    hash: \"sha256:1\"\n";

fn general_cases() -> Vec<Case> {
    let nested = format!("vars:\n  deep: {}1{}\n", "[".repeat(100), "]".repeat(100));
    vec![
        md("valid publish_at", th("publish_at: 2026-12-01T10:30:00+01:00\n", "Hi\n")).passes("publish-at-invalid"),
        md("publish_at not a date", th("publish_at: tomorrow\n", "Hi\n")).fires(&["publish-at-invalid"]).at(
            "publish-at-invalid",
            3,
            13,
        ),
        md("publish_at without offset", th("publish_at: 2026-12-01T10:30:00\n", "Hi\n")).fires(&["publish-at-invalid"]),
        md("unknown platform", "---\nplatforms: [threads, twitter]\n---\nHi\n").fires(&["unknown-platform"]).at(
            "unknown-platform",
            2,
            22,
        ),
        md("empty platforms", "---\nplatforms: []\n---\nHi\n").fires(&["no-platforms"]),
        md("a record as crier writes it", th(RECORD, "Hi\n")).passes("published-malformed").passes("unknown-platform"),
        md("unconfirmed entry", th(&RECORD.replace("    hash:", "    unconfirmed: check\n    hash:"), "Hi\n"))
            .passes("published-malformed"),
        md("null published and null entry", th("published:\n  threads: ~\n", "Hi\n")).passes("published-malformed"),
        md("misspelt platform in published", th(&RECORD.replace("  threads:", "  thraeds:"), "Hi\n"))
            .fires(&["unknown-platform"])
            .at("unknown-platform", 4, 3),
        md(
            "published flow mapping, misspelt",
            th("published: {devto: {id: '1', url: u, published_at: t, hash: h}, dicsord: {}}\n", "Hi\n"),
        )
        .fires(&["unknown-platform"])
        .at("unknown-platform", 3, 65),
        md("published not a mapping", th("published: yes\n", "Hi\n")).fires(&["published-malformed"]).at(
            "published-malformed",
            3,
            12,
        ),
        md("entry not a mapping", th("published:\n  discord: [1, 2]\n", "Hi\n")).fires(&["published-malformed"]).at(
            "published-malformed",
            4,
            3,
        ),
        md("entry without its fields", th("published:\n  threads: {url: u}\n", "Hi\n")).fires(&["published-malformed"]),
        md("number id", th(&RECORD.replace("id: \"17890000000000001\"", "id: 17890000000000001"), "Hi\n"))
            .fires(&["published-malformed"])
            .at("published-malformed", 5, 5),
        md("no platforms and no default", "Hi\n").fires(&["no-platforms"]).at("no-platforms", 1, 1),
        md("no platforms but a default", "Hi\n")
            .file("crier.yaml", "defaults:\n  platforms: [threads]\n")
            .passes("no-platforms"),
        md("relative links without a site", th("", "Read [the guide](/docs/start), then [setup](#setup).\n"))
            .fires(&["relative-link", "relative-link"])
            .at("relative-link", 4, 6),
        yml("relative link in a thread item", "platforms: [threads]\nthread:\n  - see [x](/a)\n  - two\n")
            .fires(&["relative-link"])
            .at("relative-link", 3, 5),
        md("relative links with a site", th("", "Read [the guide](/docs/start).\n"))
            .file("crier.yaml", "site:\n  base_url: https://example.com/\n")
            .passes("relative-link"),
        md("absolute link", th("", "Read [the guide](https://example.com/docs).\n")).passes("relative-link"),
        md("front matter but no body", th("", "")).fires(&["empty-post"]),
        yml("YAML post without text", "platforms: [threads]\ntitle: x\n").fires(&["empty-post"]),
        yml("YAML post with text", "platforms: [threads]\ntext: Hi\n").passes("empty-post"),
        md("empty file", "").fires(&["empty-post"]),
        md("blank file", "  \n\n").fires(&["empty-post"]),
        md("text in a Markdown post", th("text: hi\n", "Hi\n")).fires(&["text-in-markdown"]).at(
            "text-in-markdown",
            3,
            7,
        ),
        md("unknown template", th("template: nope\n", "Hi\n")).fires(&["template-not-found"]).at(
            "template-not-found",
            3,
            11,
        ),
        md("unknown devto template", dv("devto:\n  template: nope\n", "Hi\n")).fires(&["template-not-found"]),
        md("custom template", th("template: teaser\nvars:\n  x: 1\n", "Hi\n"))
            .file("templates/teaser.hbs", "{{text}} {{vars.x}}")
            .passes("template-render"),
        md("template with an unknown variable", th("template: teaser\n", "Hi\n"))
            .file("templates/teaser.hbs", "{{text}}\n{{nope}}")
            .fires(&["template-render"])
            .at("template-render", 2, 1),
        md("template that does not parse", th("", "Hi\n"))
            .file("templates/broken.hbs", "{{#if}}")
            .fires(&["template-syntax"]),
        md("template that is not UTF-8", th("", "Hi\n"))
            .file("templates/bin.hbs", b"\xff\xfe{{".to_vec())
            .fires(&["template-unreadable"]),
        md("unknown key", "---\nplatforms: [threads]\ntitel: x\n---\nHi\n").fires(&["unknown-key"]).at(
            "unknown-key",
            3,
            1,
        ),
        md("unknown nested key", th("threads:\n  topic: x\n", "Hi\n")).fires(&["unknown-key"]).at("unknown-key", 4, 3),
        md("wrong type", th("draft: maybe\n", "Hi\n")).fires(&["yaml-type"]).at("yaml-type", 3, 8),
        md("bad YAML", th("title: 'x\n", "Hi\n")).fires(&["yaml-syntax"]),
        md("duplicate key", th("title: a\ntitle: b\n", "Hi\n")).fires(&["duplicate-key"]).at("duplicate-key", 4, 1),
        md("YAML nested too deep", th(&nested, "Hi\n")).fires(&["yaml-too-complex"]),
        yml("YAML post with a second document", "platforms: [threads]\ntext: Hi\n---\n")
            .fires(&["yaml-multiple-documents"])
            .at("yaml-multiple-documents", 3, 1),
        md("required key missing", xs("x:\n  poll:\n    options: [a, b]\n", "Hi\n")).fires(&["missing-key"]).at(
            "missing-key",
            5,
            5,
        ),
        md("unclosed front matter", "---\nplatforms: [threads]\nHi\n").fires(&["front-matter-unclosed"]).at(
            "front-matter-unclosed",
            1,
            1,
        ),
        md("not UTF-8", b"---\nplatforms: [threads]\n---\nH\xffi\n".to_vec()).fires(&["not-utf8"]).at("not-utf8", 4, 2),
        md("BOM is fine", "\u{feff}---\nplatforms: [threads]\n---\nHi\n").passes("not-utf8"),
        md("11 MB file", "").sparse("content/post.md", b"---\n".to_vec(), 11 * MB).fires(&["file-too-large"]),
        md("file of exactly 10 MB", ten_mb_post()).passes("file-too-large"),
        md("missing post file", th("", "Hi\n")).check_path("content/gone.md").fires(&["io-error"]),
    ]
}

// ---------- Bugs: correct expectations the rules do not meet yet ----------

#[test]
fn bug_media_under_symlinked_folder_escapes() {
    run_table(&[md("media under a symlinked folder pointing outside", th(&media_path("media/a.png"), "Hi\n"))
        .dir_link_out("media")
        .fires(&["media-path-escapes"])]);
}

#[test]
fn bug_threads_post_with_no_parts_is_clean() {
    run_table(&[
        md("threads.text override that is empty", th("threads:\n  text: \"\"\n", "Hi\n"))
            .fires(&["threads-empty-part"]),
        md("body of only a thematic break", th("", "***\n")).fires(&["threads-empty-part"]),
    ]);
}

#[test]
fn threads_rules() {
    run_table(&threads_cases());
}

#[test]
fn media_rules() {
    run_table(&media_cases());
}

#[test]
fn devto_rules() {
    run_table(&devto_cases());
}

#[test]
fn body_image_rules() {
    run_table(&body_image_cases());
}

#[test]
fn general_rules() {
    run_table(&general_cases());
}

/// Codes no table can reach, with the reason.
const UNTESTABLE: &[(&str, &str)] =
    &[("media-unreadable", "needs a regular file that cannot be opened; tests run as root, which opens any file")];

/// Every diagnostic code the checking code can emit (string literals that look like codes and are the first argument
/// of a call, outside test modules) is exercised by a "fires" case.
#[test]
fn every_rule_code_has_a_firing_case() {
    let sources = [
        include_str!("mod.rs"),
        include_str!("../platforms/threads/rules.rs"),
        include_str!("../platforms/devto/rules.rs"),
        include_str!("../platforms/bluesky/rules.rs"),
        include_str!("../platforms/mastodon/rules.rs"),
        include_str!("../platforms/telegram/rules.rs"),
        include_str!("../platforms/discord/rules.rs"),
        include_str!("../platforms/linkedin/rules.rs"),
        include_str!("../platforms/nostr/rules.rs"),
        include_str!("../platforms/x/rules.rs"),
        include_str!("media.rs"),
        include_str!("../platforms/threads.rs"),
        include_str!("../platforms/devto.rs"),
        include_str!("../content/post.rs"),
        include_str!("../content/split.rs"),
        include_str!("../yaml.rs"),
        include_str!("../render/templates.rs"),
    ];
    let mut emitted = std::collections::BTreeSet::new();
    for src in sources {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        for (i, _) in code.match_indices('"') {
            let before = code[..i].trim_end();
            if !before.ends_with('(') {
                continue;
            }
            let rest = &code[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let lit = &rest[..end];
            let looks_like_code = lit.contains('-')
                && !lit.starts_with('-')
                && lit.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if looks_like_code {
                emitted.insert(lit);
            }
        }
    }
    assert!(emitted.len() > 40, "the scan found too few codes: {emitted:?}");
    let tables = [
        threads_cases(),
        media_cases(),
        devto_cases(),
        general_cases(),
        bluesky_cases(),
        mastodon_cases(),
        linkedin_cases(),
        telegram_cases(),
        discord_cases(),
        nostr_cases(),
        x_cases(),
    ];
    let fired: std::collections::BTreeSet<&str> = tables.iter().flatten().flat_map(|c| c.fires.clone()).collect();
    let missing: Vec<&&str> =
        emitted.iter().filter(|c| !fired.contains(**c) && !UNTESTABLE.iter().any(|(u, _)| u == *c)).collect();
    assert!(missing.is_empty(), "codes without a firing case: {missing:?}");
}
