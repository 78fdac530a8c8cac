//! What the benchmarks share: crier run by the tests' one runner (`tests/support/common.rs`:
//! scrubbed environment, "now" fixed, panics and hangs fail), timed, and the peak memory of
//! a run.
#![allow(dead_code)]

#[path = "../../tests/support/common.rs"]
pub(crate) mod common;

use common::{Crier, Run};
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes `text` to `root/rel`, making its folders.
pub(crate) fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// `crier -C ROOT --color never -q ARGS…` with `env` set, and how long it took.
pub(crate) fn crier(root: &Path, env: &[(&str, String)], args: &[&str]) -> (Duration, Run) {
    let mut crier = Crier::new(root).timeout(Duration::from_secs(3600)).args(["-q"]).args(args);
    for (k, v) in env {
        crier = crier.env(k, v);
    }
    let start = Instant::now();
    let run = crier.run();
    (start.elapsed(), run)
}

/// Writes the repository of the per-platform publish benchmarks into `root`: crier.yaml
/// (every post in one run), `text_posts` text posts and `image_posts` posts of `images`
/// PNG images each, all for `platform`.
pub(crate) fn text_and_image_posts(root: &Path, platform: &str, text_posts: usize, image_posts: usize, images: usize) {
    let posts = text_posts + image_posts;
    let config = format!(
        "publish:\n  max_per_run: {posts}\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 5\n"
    );
    write(root, "crier.yaml", config);
    for i in 0..images {
        write(root, &format!("media/{i}.png"), common::png(640, 480));
    }
    for i in 0..text_posts {
        let text = format!("---\nplatforms: [{platform}]\n---\n\nBenchmark post {i}: crier publishes from git.\n");
        write(root, &format!("content/text-{i:03}.md"), text);
    }
    let media: String = (0..images).map(|i| format!("  - path: media/{i}.png\n    alt: Picture {i}\n")).collect();
    for i in 0..image_posts {
        let text = format!("---\nplatforms: [{platform}]\nmedia:\n{media}---\n\nFour pictures, number {i}.\n");
        write(root, &format!("content/image-{i:03}.md"), text);
    }
}

/// `crier -C ROOT --color never -q publish` with `env` set, and how long it took.
pub(crate) fn publish(root: &Path, env: &[(&str, String)]) -> (Duration, Run) {
    crier(root, env, &["publish"])
}

/// Runs `crier -C ROOT --color never ARGS…`, sampling its high-water resident set size
/// until it exits: the wall time, the peak in KiB and what it printed.
pub(crate) fn with_peak_rss(root: &Path, args: &[&str]) -> (Duration, u64, Run) {
    let start = Instant::now();
    let mut child = Crier::new(root).args(args).spawn().expect("spawn crier");
    let (stdout, stderr) = common::drain(&mut child);
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let elapsed = start.elapsed();
            let run = Run {
                code: status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
                stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
            };
            return (elapsed, peak, run);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The high-water resident set size (VmHWM, in KiB) of a running process, read
/// from `/proc`; `None` once it has exited or where `/proc` does not exist.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
