//! Resource limits: oversized posts, symlink loops, very deep trees and symlinks pointing
//! outside the repository are handled quickly, without hanging or crashing.
//! (`benches/scale.rs` measures memory on a 100,000-post repository.)

#[path = "support/common.rs"]
mod common;

use common::{Crier, Fixture, Run};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Each command must finish well within this.
const LIMIT: Duration = Duration::from_secs(20);

/// `crier -C <root> --color never ARGS…`, killed (and failed) after [`LIMIT`].
fn crier(root: &Path, args: &[&str]) -> Run {
    Crier::new(root).timeout(LIMIT).args(args).run()
}

fn repo() -> Fixture {
    let dir = Fixture::new("crier-limits-");
    dir.file("crier.yaml", "defaults:\n  platforms: [threads]\n");
    dir.file("content/a.md", "---\ntitle: A\n---\n\nA small post.\n");
    dir
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        d["file"].as_str().unwrap_or_default().to_owned(),
                        d["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_oversized_post_is_rejected_without_being_read() {
    let dir = repo();
    let root = dir.root();
    // A sparse 64 GiB file: reading it (or allocating its size) could not finish in time.
    let big = std::fs::File::create(root.join("content/big.md")).expect("create");
    big.set_len(64 << 30).or_else(|_| big.set_len(11 << 20)).expect("sparse file");
    drop(big);
    // Just over the limit, with a front matter start.
    let over = std::fs::File::create(root.join("content/over.md")).expect("create");
    std::io::Write::write_all(&mut &over, b"---\ntitle: Over\n---\n\n").expect("write");
    over.set_len(10 * 1024 * 1024 + 1).expect("sparse file");
    drop(over);

    let out = crier(root, &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{out}");
    let report = out.json();
    assert_eq!(report["posts"], 3, "{out}");
    assert_eq!(
        codes(&report),
        [("content/big.md".into(), "file-too-large".into()), ("content/over.md".into(), "file-too-large".into())],
        "{out}"
    );
    // The other commands refuse it the same way.
    let status = crier(root, &["status", "--format", "json"]);
    assert_eq!(status.code, 0, "{status}");
    let states: Vec<String> = status.json()["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| format!("{} {}", p["file"].as_str().unwrap_or_default(), p["state"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(states, ["content/a.md due", "content/big.md invalid", "content/over.md invalid"], "{status}");
    let render = crier(root, &["render", "content/big.md"]);
    assert!(render.code == 1 || render.code == 2, "{render}");
    assert!(format!("{}{}", render.stdout, render.stderr).contains("file-too-large"), "{render}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_not_followed() {
    let dir = repo();
    let root = dir.root();
    std::os::unix::fs::symlink(".", root.join("content/loop")).expect("symlink");
    write(root, "content/sub/b.md", "---\ntitle: B\n---\n\nAnother post.\n");
    std::os::unix::fs::symlink("..", root.join("content/sub/up")).expect("symlink");
    std::os::unix::fs::symlink(root.join("content"), root.join("content/sub/abs")).expect("symlink");

    let out = crier(root, &["check", "--format", "json"]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.json()["posts"], 2, "each post once, through no link\n{out}");
    let status = crier(root, &["status"]);
    assert_eq!(status.code, 0, "{status}");
    assert_eq!(status.stdout.matches(".md").count(), 2, "{status}");
    let plan = crier(root, &["publish", "--dry-run"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(!plan.stdout.contains("loop") && !plan.stdout.contains("up/"), "{plan}");
}

#[test]
fn a_very_deep_tree_is_checked() {
    let dir = repo();
    let root = dir.root();
    let mut rel = String::from("content");
    for i in 0..200 {
        rel.push_str(&format!("/d{i:03}"));
    }
    write(root, &format!("{rel}/deep.md"), "---\ntitle: Deep\n---\n\nAt the bottom of 200 folders.\n");
    write(root, &format!("{rel}/bad.md"), "---\ntitle: [unclosed\n---\n\nBroken front matter.\n");

    let out = crier(root, &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "the broken post is reported\n{out}");
    let report = out.json();
    assert_eq!(report["posts"], 3, "{out}");
    let diags = codes(&report);
    assert!(!diags.is_empty() && diags.iter().all(|(f, _)| f == &format!("{rel}/bad.md")), "{out}");
    let human = crier(root, &["check"]);
    assert_eq!(human.code, 1, "{human}");
    assert!(human.stdout.contains("d199/bad.md") || human.stderr.contains("d199/bad.md"), "{human}");
    let status = crier(root, &["status"]);
    assert_eq!(status.code, 0, "{status}");
    assert!(status.stdout.contains("d199/deep.md"), "{status}");
}

#[cfg(unix)]
#[test]
fn symlinks_pointing_outside_the_repository_are_not_followed() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "secret.md", "---\ntitle: Outside\n---\n\nOUTSIDE-THE-REPO text.\n");
    write(outside.path(), "folder/other.md", "---\ntitle: Outside too\n---\n\nOUTSIDE-THE-REPO again.\n");
    let dir = repo();
    let root = dir.root();
    std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("content/linked.md")).expect("symlink");
    std::os::unix::fs::symlink(outside.path().join("folder"), root.join("content/linked")).expect("symlink");

    let out = crier(root, &["check", "--format", "json"]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.json()["posts"], 1, "only content/a.md\n{out}");
    for args in [&["status"][..], &["publish", "--dry-run"], &["render", "content/a.md"]] {
        let run = crier(root, args);
        assert_eq!(run.code, 0, "{run}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("linked") && !all.contains("OUTSIDE-THE-REPO"), "{args:?}\n{run}");
    }
}
