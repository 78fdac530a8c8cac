//! Benchmark: `crier publish` of 100 text posts to the fake X server with 50 ms of latency
//! on every call. Reports wall time, the calls made, and the ideal for those calls (one
//! after another: X has no batch create). The targets: wall ≤ 1.1 × that ideal, and at most
//! one page of the account's own timeline read per 100 posts published (read once, kept).
//! Run with `cargo bench --bench x`.

#[path = "../tests/support/fake_x.rs"]
mod fake_x;
mod support;

use std::time::Duration;

use fake_x::{FakeConfig, FakeX};

const POSTS: usize = 100;

fn main() {
    // `CRIER_BENCH_LATENCY_MS=0` measures crier's own time per post.
    let latency_ms = std::env::var("CRIER_BENCH_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let latency = Duration::from_millis(latency_ms);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let fake = rt.block_on(FakeX::start(FakeConfig { latency, ..FakeConfig::default() }));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(
        root.join("crier.yaml"),
        format!("publish:\n  max_per_run: {POSTS}\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  request_timeout_secs: 5\n"),
    )
    .expect("crier.yaml");
    std::fs::create_dir_all(root.join("content")).expect("content");
    for i in 0..POSTS {
        std::fs::write(
            root.join(format!("content/text-{i:03}.md")),
            format!("---\nplatforms: [x]\n---\n\nBenchmark post {i}: crier publishes from git.\n"),
        )
        .expect("post");
    }
    let env = [
        ("CRIER_X_API_URL", fake.base_url()),
        ("X_API_KEY", fake.api_key()),
        ("X_API_SECRET", fake.api_secret()),
        ("X_ACCESS_TOKEN", fake.access_token()),
        ("X_ACCESS_TOKEN_SECRET", fake.access_token_secret()),
    ];
    let (wall, out) = support::publish(root, &env);
    let posted = fake.tweets().len();
    if out.code != 0 || posted != POSTS {
        panic!("crier publish failed ({posted} of {POSTS} posts):\n{out}");
    }
    let calls = fake.calls();
    let timeline_pages = fake.count("GET", "/2/users/");
    let creates = fake.count("POST", "/2/tweets");
    let ideal = latency * u32::try_from(calls).unwrap_or(u32::MAX);
    println!(
        "crier publish, {POSTS} text posts to X, {} ms per call: wall {:.2} s; {calls} calls ({creates} creates, \
         {timeline_pages} reads of the account and its timeline); ideal {:.2} s (every call one after another); wall/ideal {:.2}",
        latency.as_millis(),
        wall.as_secs_f64(),
        ideal.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
}
