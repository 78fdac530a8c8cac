//! Benchmark: `crier check --format json` on a generated repository of 100,000 small
//! Markdown posts (1,000 folders of 100), reporting wall time and peak resident memory
//! (VmHWM, sampled from /proc like benches/check.rs). Run with `cargo bench --bench scale`.
//! `CRIER_BENCH_POSTS` changes the number of posts; `CRIER_BENCH_MAX_RSS_MB` fails the run
//! when the peak is above it.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let posts: usize = std::env::var("CRIER_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::Builder::new().prefix("crier-scale-").tempdir().expect("tempdir");
    let root = dir.path();
    let t = Instant::now();
    generate(root, posts);
    eprintln!("generated {posts} posts in {:.2?}", t.elapsed());

    let bin = env!("CARGO_BIN_EXE_crier");
    let (elapsed, peak_kb, output) = run(bin, root);
    let report: serde_json::Value = serde_json::from_slice(&output).expect("crier check --format json prints JSON");
    assert_eq!(report["posts"], posts, "every post was checked");
    assert_eq!(report["errors"], 0, "the generated posts are valid");
    let mb = peak_kb as f64 / 1024.0;
    println!(
        "crier check --format json, {posts} posts: {:.2} s, peak RSS {mb:.1} MB ({:.1} KB per post; {} cores)",
        elapsed.as_secs_f64(),
        peak_kb as f64 / posts as f64,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Some(max) = std::env::var("CRIER_BENCH_MAX_RSS_MB").ok().and_then(|v| v.parse::<f64>().ok()) {
        assert!(mb <= max, "peak RSS {mb:.1} MB is above CRIER_BENCH_MAX_RSS_MB={max}");
    }
}

/// Runs `crier check --format json`, sampling the child's high-water RSS until it exits.
fn run(bin: &str, root: &Path) -> (Duration, u64, Vec<u8>) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["--color", "never", "check", "--format", "json"])
        .current_dir(root)
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crier");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kb) = support::peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let elapsed = start.elapsed();
            assert!(status.success(), "crier check failed on the generated repository ({status})");
            return (elapsed, peak, reader.join().expect("join").expect("read stdout"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn generate(root: &Path, posts: usize) {
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    w("crier.yaml", "defaults:\n  platforms: [threads]\n");
    for i in 0..posts {
        w(
            &format!("content/{:04}/post{i}.md", i / 100),
            &format!("---\ntitle: Post {i}\n---\n\nSmall post number {i}, with a #tag and https://example.com/{i}.\n"),
        );
    }
}
