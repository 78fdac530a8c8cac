//! Each case writes a throw-away repository, renders the post for Bluesky and
//! runs the rules; the codes found must be exactly the ones listed.

use std::path::Path;

use super::super::{BlueskyOutput, render};
use super::validate;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::platforms::Output;
use crate::project::Project;

/// A tiny valid PNG header of the given size (the rest zeros: only the header is read).
fn png(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b.resize(len.max(b.len()), 0);
    b
}

fn gif(len: usize) -> Vec<u8> {
    let mut b = b"GIF89a\x0a\0\x0a\0\0\0\0".to_vec();
    b.resize(len.max(b.len()), 0);
    b
}

fn run(post: &str, files: &[(&str, Vec<u8>)], config: &str) -> (Option<BlueskyOutput>, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("content")).expect("mkdir");
    std::fs::write(root.join("crier.yaml"), config).expect("config");
    for (rel, bytes) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
    let abs = root.join("content/post.md");
    std::fs::write(&abs, post).expect("post");
    let project = Project::open(root, None, Env::from_pairs([]), crate::platforms::catalog()).expect("project");
    let post = crate::content::parse_file(root, &abs, project.catalog).expect("parses");
    match render(&project, &post, &[]) {
        Ok(out) => {
            let d = validate(&project.config, &post, &out);
            (Some(out), d)
        }
        Err(d) => (None, d),
    }
}

fn codes(d: &[Diagnostic]) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = d.iter().map(|d| d.code).collect();
    c.sort_unstable();
    c
}

/// (name, post, files, crier.yaml, codes)
type Case = (&'static str, String, Vec<(&'static str, Vec<u8>)>, &'static str, Vec<&'static str>);

#[test]
fn rules_fire_exactly() {
    let long = "word ".repeat(61);
    let cases: Vec<Case> = vec![
        ("clean", "---\nplatforms: [bluesky]\n---\nHello [world](https://x.com) #rust\n".into(), vec![], "", vec![]),
        (
            "301 graphemes",
            format!("---\nplatforms: [bluesky]\n---\n{long}\n"),
            vec![],
            "",
            vec!["bluesky-text-too-long"],
        ),
        (
            "split auto fixes it",
            format!("---\nplatforms: [bluesky]\nbluesky: {{split: auto}}\n---\n{long}\n"),
            vec![],
            "",
            vec![],
        ),
        (
            "3000 bytes under 300 graphemes",
            format!("---\nplatforms: [bluesky]\n---\n{}\n", "👨\u{200d}❤\u{fe0f}\u{200d}👨".repeat(200)),
            vec![],
            "",
            vec!["bluesky-text-too-long"],
        ),
        (
            "a long link label counts, its URL does not",
            format!("---\nplatforms: [bluesky]\n---\n[label](https://x.com/{})\n", "a".repeat(400)),
            vec![],
            "",
            vec![],
        ),
        (
            "five images",
            "---\nplatforms: [bluesky]\nmedia:\n".to_owned()
                + &"  - {path: media/a.png, alt: A}\n".repeat(5)
                + "---\nHi\n",
            vec![("media/a.png", png(10, 10, 100))],
            "",
            vec!["bluesky-too-many-images"],
        ),
        (
            "video",
            "---\nplatforms: [bluesky]\nmedia:\n  - {path: media/v.mp4, alt: V}\n---\nHi\n".into(),
            vec![("media/v.mp4", b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec())],
            "",
            vec!["bluesky-video-unsupported"],
        ),
        (
            "big png is scaled, with a warning",
            "---\nplatforms: [bluesky]\nmedia:\n  - {path: media/a.png, alt: A}\n---\nHi\n".into(),
            vec![("media/a.png", png(10, 10, 3000))],
            "bluesky:\n  max_image_bytes: 2000\n",
            vec!["bluesky-image-scaled"],
        ),
        (
            "big gif is an error",
            "---\nplatforms: [bluesky]\nmedia:\n  - {path: media/a.gif, alt: A}\n---\nHi\n".into(),
            vec![("media/a.gif", gif(3000))],
            "bluesky:\n  max_image_bytes: 2000\n",
            vec!["bluesky-image-too-large"],
        ),
        (
            "missing alt",
            "---\nplatforms: [bluesky]\nmedia:\n  - {path: media/a.png}\n---\nHi\n".into(),
            vec![("media/a.png", png(10, 10, 100))],
            "",
            vec!["bluesky-alt-missing"],
        ),
        (
            "langs",
            "---\nplatforms: [bluesky]\nbluesky: {langs: [en, pt-BR, ja, fr_FR]}\n---\nHi\n".into(),
            vec![],
            "",
            vec!["bluesky-langs", "bluesky-langs"],
        ),
        (
            "inline image",
            "---\nplatforms: [bluesky]\n---\nHi ![x](a.png)\n".into(),
            vec![],
            "",
            vec!["bluesky-inline-image"],
        ),
    ];
    for (name, post, files, config, want) in cases {
        let (_, d) = run(&post, &files, config);
        assert_eq!(codes(&d), want, "{name}: {d:#?}");
        for diag in &d {
            assert!(diag.line >= 1 && diag.hint.is_some(), "{name}: {diag:?}");
        }
    }
}

#[test]
fn too_long_points_at_the_text_with_the_limit() {
    let long = "é".repeat(301);
    let (_, d) = run(&format!("---\nplatforms: [bluesky]\n---\n\n{long}\n"), &[], "");
    assert_eq!(codes(&d), ["bluesky-text-too-long"]);
    assert_eq!((d[0].line, d[0].column), (5, 1));
    assert!(d[0].message.contains("301 graphemes") && d[0].message.contains("300"), "{}", d[0].message);
}

#[test]
fn render_json_has_text_and_facets() {
    let (out, d) = run(
        "---\nplatforms: [bluesky]\nbluesky: {langs: [en]}\n---\nCafé [docs](https://x.com/d) #rust @bob.test\n\n---\n\nPart two https://example.com/a/very/long/path/here\n",
        &[],
        "",
    );
    assert!(d.is_empty(), "{d:?}");
    let json = out.expect("rendered").to_json();
    assert_eq!(json["parts"][0]["text"], "Café docs #rust @bob.test");
    let f = &json["parts"][0]["facets"];
    assert_eq!(f[0]["index"]["byteStart"], 6);
    assert_eq!(f[0]["index"]["byteEnd"], 10);
    assert_eq!(f[0]["features"][0]["uri"], "https://x.com/d");
    assert_eq!(f[1]["features"][0]["tag"], "rust");
    assert_eq!(f[2]["features"][0]["handle"], "bob.test");
    assert_eq!(json["parts"][1]["text"], "Part two example.com/a/very/long/...");
    assert_eq!(json["parts"][1]["facets"][0]["features"][0]["uri"], "https://example.com/a/very/long/path/here");
    assert_eq!(json["langs"][0], "en");
}

#[test]
fn language_tags() {
    // As atproto's `isValidLanguage` (packages/syntax/src/language.ts) decides.
    for ok in [
        "en",
        "pt-BR",
        "zh-Hant-TW",
        "ja",
        "x-private",
        "yue",
        "zh-yue-HK",
        "es-419",
        "de-CH-1901",
        "sl-rozaj-biske",
        "en-US-u-ca-gregory",
        "en-a-bbb-x-a-ccc",
        "i-klingon",
        "en-GB-oed",
        "X-foo",
        "en-x-1",
    ] {
        assert!(super::is_language_tag(ok), "{ok}");
    }
    for bad in [
        "",
        "english",
        "fr_FR",
        "e",
        "en-",
        "en--US",
        "i-foo",
        "en-a",
        "EN",
        "en-US-",
        "x",
        "x-",
        "en-x",
        "en-abcdefghi",
        "en-Latn-abc",
        "en-u",
        "abcd",
        "en-x-abcdefghi",
        "de-1901-CH",
    ] {
        assert!(!super::is_language_tag(bad), "{bad}");
    }
}
