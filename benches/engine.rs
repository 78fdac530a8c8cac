//! Benchmark of the publish engine (`cargo bench --bench engine`), against the fake
//! servers with 50 ms on every call:
//!
//! 1. **Media in parallel**: 20 image posts and 5 carousels of 5 images to Threads, each
//!    image container taking 1 s to process. Reported against the critical path: the
//!    calls that must follow one another (everything but container creation and status
//!    polls, which overlap) plus one processing time. Target: at most 1.3 ×.
//! 2. **Platforms side by side**: 100 text posts to Threads and 20 articles to dev.to
//!    (dev.to writes spaced 1 s apart), run for each platform alone and then together.
//!    Target: together at most 1.1 × the slower platform alone.

#[path = "../tests/support/fake_devto.rs"]
mod fake_devto;
#[path = "../tests/support/fake_threads.rs"]
mod fake_threads;
mod support;

use std::path::Path;
use std::time::Duration;

use fake_threads::{FakeConfig, FakeThreads};
use support::common::png;

const LATENCY: Duration = Duration::from_millis(50);
const PROCESSING: Duration = Duration::from_secs(1);

fn main() {
    let rt = support::common::runtime(2);
    media(&rt);
    side_by_side(&rt);
}

fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
}

fn config(root: &Path, posts: usize) {
    write(
        root,
        "crier.yaml",
        format!(
            "publish:\n  max_per_run: {posts}\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 5\n  \
             request_timeout_secs: 10\n  processing_timeout_secs: 30\n  poll_interval_ms: 50\n  write_interval_ms: 1000\n\
             media:\n  base_url: \"https://cdn.example/\"\n"
        ),
    );
}

/// Runs `crier publish ARGS…` and returns its wall time.
fn publish(root: &Path, env: &[(&str, String)], args: &[&str]) -> Duration {
    let mut all = vec!["publish", "--no-commit"];
    all.extend_from_slice(args);
    let (wall, out) = support::crier(root, env, &all);
    assert_eq!(out.code, 0, "crier publish failed:\n{out}");
    wall
}

fn media(rt: &tokio::runtime::Runtime) {
    let fake = rt.block_on(FakeThreads::start(FakeConfig {
        media_delay: PROCESSING,
        latency: LATENCY,
        ..FakeConfig::default()
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    config(root, 100);
    for i in 0..5 {
        write(root, &format!("media/{i}.png"), png(800 + i, 600));
    }
    for i in 0..20 {
        write(
            root,
            &format!("content/image-{i:02}.md"),
            format!(
                "---\nplatforms: [threads]\nmedia:\n  - path: media/0.png\n    alt: Image {i}\n---\n\nImage post {i}.\n"
            ),
        );
    }
    for i in 0..5 {
        let items: String = (0..5).map(|k| format!("  - path: media/{k}.png\n    alt: Item {k}\n")).collect();
        write(
            root,
            &format!("content/carousel-{i}.md"),
            format!("---\nplatforms: [threads]\nmedia:\n{items}---\n\nCarousel {i}.\n"),
        );
    }
    let env = [("CRIER_THREADS_API_URL", fake.base_url()), ("THREADS_ACCESS_TOKEN", fake.token())];
    let wall = publish(root, &env, &[]);
    assert_eq!(fake.published_posts().len(), 25, "every post published once");
    let requests = fake.requests();
    // Container creations, and status polls (the fake's container ids start with 1792).
    let overlapping = requests
        .iter()
        .filter(|(method, path)| {
            (method == "POST" && path.ends_with("/threads")) || (method == "GET" && path.starts_with("/v1.0/1792"))
        })
        .count();
    let sequential = requests.len() - overlapping;
    let critical = LATENCY * u32::try_from(sequential).unwrap_or(u32::MAX) + PROCESSING;
    println!(
        "media: 20 image posts + 5 carousels of 5, {} ms per call, {} s processing: wall {:.2} s, {} calls \
         ({} container creations and status polls overlap), critical path {:.2} s, wall/critical {:.2} (target ≤ 1.3)",
        LATENCY.as_millis(),
        PROCESSING.as_secs(),
        wall.as_secs_f64(),
        requests.len(),
        overlapping,
        critical.as_secs_f64(),
        wall.as_secs_f64() / critical.as_secs_f64()
    );
}

fn side_by_side(rt: &tokio::runtime::Runtime) {
    let run = |platforms: &[&str]| -> Duration {
        let threads = rt.block_on(FakeThreads::start(FakeConfig { latency: LATENCY, ..FakeConfig::default() }));
        let devto = rt.block_on(fake_devto::FakeDevto::start(fake_devto::FakeConfig {
            latency: LATENCY,
            create_limit: 1000,
            ..fake_devto::FakeConfig::default()
        }));
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        config(root, 200);
        for i in 0..100 {
            write(
                root,
                &format!("content/note-{i:03}.md"),
                format!("---\nplatforms: [threads]\n---\n\nShort note number {i} from the benchmark.\n"),
            );
        }
        for i in 0..20 {
            write(
                root,
                &format!("content/article-{i:02}.md"),
                format!("---\ntitle: Benchmark article {i}\nplatforms: [devto]\n---\n\nArticle body {i}.\n"),
            );
        }
        let env = [
            ("CRIER_THREADS_API_URL", threads.base_url()),
            ("THREADS_ACCESS_TOKEN", threads.token()),
            ("CRIER_DEVTO_API_URL", devto.base_url()),
            ("DEVTO_API_KEY", devto.api_key()),
        ];
        let mut args = Vec::new();
        for p in platforms {
            args.extend(["--platform", p]);
        }
        publish(root, &env, &args)
    };
    let threads = run(&["threads"]);
    let devto = run(&["devto"]);
    let both = run(&[]);
    let slower = threads.max(devto);
    println!(
        "side by side: 100 Threads posts alone {:.2} s, 20 dev.to articles alone {:.2} s, both in one run {:.2} s: \
         {:.2} × the slower alone (target ≤ 1.1)",
        threads.as_secs_f64(),
        devto.as_secs_f64(),
        both.as_secs_f64(),
        both.as_secs_f64() / slower.as_secs_f64()
    );
}
