//! Benchmark: `crier check --format json` on a generated repository of 100,000 small
//! Markdown posts (1,000 folders of 100), reporting wall time and peak resident memory
//! (VmHWM, sampled from /proc like benches/check.rs). Run with `cargo bench --bench scale`.
//! `CRIER_BENCH_POSTS` changes the number of posts; `CRIER_BENCH_MAX_RSS_MB` fails the run
//! when the peak is above it.

mod support;

use std::path::Path;
use std::time::Instant;

fn main() {
    let posts: usize = std::env::var("CRIER_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::Builder::new().prefix("crier-scale-").tempdir().expect("tempdir");
    let root = dir.path();
    let t = Instant::now();
    generate(root, posts);
    eprintln!("generated {posts} posts in {:.2?}", t.elapsed());

    let (elapsed, peak_kb, run) = support::with_peak_rss(root, &["check", "--format", "json"]);
    assert_eq!(run.code, 0, "crier check failed on the generated repository");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("crier check --format json prints JSON");
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
