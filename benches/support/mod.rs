//! What the benchmarks share: crier run by the tests' one runner (`tests/support/common.rs`:
//! scrubbed environment, "now" fixed, panics and hangs fail), timed, and the peak memory of
//! a run.
#![allow(dead_code)]

#[path = "../../tests/support/common.rs"]
pub(crate) mod common;

use common::{Crier, Run};
use std::path::Path;
use std::time::{Duration, Instant};

/// The fakes `start` makes, on their own runtime, beside an empty repository (`w.root()`).
pub(crate) fn world<F, Fut: std::future::Future<Output = F>>(start: impl FnOnce() -> Fut) -> common::World<F> {
    common::World::start(2, common::Fixture::new("crier-bench-"), start)
}

/// The latency of every call to the fakes: `CRIER_BENCH_LATENCY_MS` (0 measures crier's own
/// time), else `default_ms`.
pub(crate) fn latency(default_ms: u64) -> Duration {
    Duration::from_millis(
        std::env::var("CRIER_BENCH_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_ms),
    )
}

/// How many posts: `CRIER_BENCH_POSTS`, else `default`.
pub(crate) fn posts(default: usize) -> usize {
    std::env::var("CRIER_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Fails the benchmark unless `crier publish` succeeded and made all `expected` `what`.
pub(crate) fn check_published(out: &Run, made: usize, expected: usize, what: &str) {
    if out.code != 0 || made != expected {
        panic!("crier publish failed ({made} of {expected} {what}):\n{out}");
    }
}

/// `calls` calls of `latency` each, one after another.
pub(crate) fn one_after_another(latency: Duration, calls: u64) -> Duration {
    latency * u32::try_from(calls).unwrap_or(u32::MAX)
}

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

/// The per-platform publish benchmarks' repository: text posts, and posts of images.
pub(crate) const TEXT_POSTS: usize = 100;
pub(crate) const IMAGE_POSTS: usize = 10;
pub(crate) const IMAGES: usize = 4;

/// The calls a fake got in a publish benchmark: all of them, the uploads and the creates.
pub(crate) struct Calls {
    pub(crate) all: u64,
    pub(crate) uploads: u64,
    pub(crate) creates: u64,
}

/// Prints a publish benchmark's line over [`TEXT_POSTS`] and [`IMAGE_POSTS`] (each an `item`,
/// "post" or "status"): the wall time, the calls, and the ideal: every call one after
/// another, except that the uploads of one post go side by side in `upload_slots` calls' time.
pub(crate) fn report_text_and_images(item: &str, latency: Duration, wall: Duration, calls: Calls, upload_slots: u64) {
    let Calls { all, uploads, creates } = calls;
    let first_reads = all - uploads - creates;
    let sequential_calls = all - uploads + upload_slots * IMAGE_POSTS as u64;
    let ideal = one_after_another(latency, sequential_calls);
    let how = format!("{sequential_calls} calls one after another, a {item}'s uploads side by side");
    println!(
        "crier publish, {TEXT_POSTS} text posts + {IMAGE_POSTS} posts of {IMAGES} images, {} ms per call: {}; \
         {all} calls ({first_reads} first reads, {creates} creates, {uploads} uploads; {:.2} calls per text {item} after the first reads)",
        latency.as_millis(),
        against_ideal(wall, ideal, &how),
        (creates as f64) / ((TEXT_POSTS + IMAGE_POSTS) as f64),
    );
}

/// `wall W s; ideal I s (how); wall/ideal R`: how a run compares with the ideal (the
/// benchmarks' target is a ratio of at most 1.1).
pub(crate) fn against_ideal(wall: Duration, ideal: Duration, how: &str) -> String {
    format!(
        "wall {:.2} s; ideal {:.2} s ({how}); wall/ideal {:.2}",
        wall.as_secs_f64(),
        ideal.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    )
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
