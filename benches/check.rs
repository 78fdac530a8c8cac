//! Benchmark: `crier check` end to end on a generated repository of 10,000
//! posts (mixed Markdown and YAML, about 1 KB each, some with media, chains
//! and template overrides). Reports wall time (min and median of 5 runs) and
//! peak resident memory. Run with `cargo bench --bench check`.
//! `CRIER_BENCH_POSTS` changes the number of posts; `CRIER_BENCH_DIR=path`
//! generates into (and keeps) that folder.

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

fn main() {
    let posts: usize = std::env::var("CRIER_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // CRIER_BENCH_DIR keeps the generated repository (for profiling).
    let dir = tempfile::tempdir().expect("tempdir");
    let kept = std::env::var_os("CRIER_BENCH_DIR").map(std::path::PathBuf::from);
    let root = kept.as_deref().unwrap_or(dir.path());
    let t = Instant::now();
    generate(root, posts);
    eprintln!("generated {posts} posts in {:.2?}", t.elapsed());

    let mut times = Vec::new();
    let mut peak_kb = 0;
    for _ in 0..5 {
        let (elapsed, kb, run) = support::with_peak_rss(root, &["-q", "check", "--format", "json"]);
        if run.code != 0 {
            let (_, human) = support::crier(root, &[], &["check"]);
            let text = &human.stdout;
            panic!("crier check reported errors on the generated repository:\n{}", &text[..text.len().min(3000)]);
        }
        times.push(elapsed);
        peak_kb = peak_kb.max(kb);
    }
    times.sort();
    println!(
        "crier check, {posts} posts: min {:.3} s, median {:.3} s, peak RSS {:.1} MB (2 cores: {})",
        times[0].as_secs_f64(),
        times[times.len() / 2].as_secs_f64(),
        peak_kb as f64 / 1024.0,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

fn generate(root: &Path, posts: usize) {
    let w = |rel: &str, text: &[u8]| support::write(root, rel, text);
    w("crier.yaml", b"defaults:\n  platforms: [threads]\nvars:\n  site: https://example.com\n");
    w("templates/teaser.hbs", b"{{title}}\n\n{{truncate text 200}}\n\n{{published.devto.url}} {{hashtags tags}}\n");
    w("templates/partials/sig.hbs", b"-- {{config.vars.site}}");
    w("templates/devto.hbs", b"{{text}}\n\n{{> partials/sig}}\n");
    // A 1200x630 PNG header is all the media probe reads.
    let png = support::common::png(1200, 630);
    for i in 0..20 {
        w(&format!("media/img{i}.png"), &png);
    }
    let para = "Shipping small tools is a habit: write the post next to the code, review it, merge it. \
                Links like https://example.com/docs and #rust tags work as usual.";
    for i in 0..posts {
        let dir = format!("content/{:03}", i / 100);
        let mut body = String::new();
        for p in 0..4 {
            let _ = write!(body, "Post {i}, paragraph {p}. {para}\n\n");
        }
        match i % 5 {
            0 => w(
                &format!("{dir}/post{i}.md"),
                format!("---\ntitle: Post number {i}\ntags: [rust, cli]\nmedia:\n  - path: media/img{}.png\n    alt: Picture {i}\n---\n\n{}", i % 20, &body[..body.len().min(400)]).as_bytes(),
            ),
            1 => w(
                &format!("{dir}/post{i}.md"),
                format!("---\ntitle: Chain {i}\n---\n\n{}\n\n---\n\n{}", &body[..250], &body[250..500]).as_bytes(),
            ),
            2 => w(
                &format!("{dir}/post{i}.yaml"),
                format!("title: YAML post {i}\ntags: [devops]\nthread:\n  - First part of {i}.\n  - text: Second part with a picture.\n    media:\n      - path: media/img{}.png\n        alt: Picture\n  - 'Third part: {}'\n", i % 20, &para[..120]).as_bytes(),
            ),
            3 => w(
                &format!("{dir}/post{i}.md"),
                format!("---\ntitle: Article {i}\nplatforms: [devto, threads]\ntags: [rust, programming]\nthreads:\n  template: teaser\n---\n\n## Heading\n\n{body}").as_bytes(),
            ),
            _ => w(
                &format!("{dir}/post{i}.md"),
                format!("---\ntitle: Long {i}\nthreads:\n  split: auto\n---\n\n{body}").as_bytes(),
            ),
        }
    }
}
