//! Benchmark: `crier publish` of 200 due text posts in one run against the fake Threads
//! server with 50 ms of latency on every call. Reports wall time, the number of API calls,
//! calls per post, and the ideal for those calls made one after another (calls × 50 ms).
//! Run with `cargo bench --bench publish`; `CRIER_BENCH_POSTS` changes the number of posts.

#[path = "../tests/support/fake_threads.rs"]
mod fake_threads;
mod support;

use std::time::Duration;

use fake_threads::{FakeConfig, FakeThreads};

const LATENCY: Duration = Duration::from_millis(50);

fn main() {
    let posts = support::posts(200);
    let w = support::world(|| FakeThreads::start(FakeConfig::default()));
    let (fake, root) = (&w.fake, w.root());
    fake.set_latency(LATENCY);

    let config = format!(
        "publish:\n  max_per_run: {posts}\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 2\n  \
         request_timeout_secs: 5\n  processing_timeout_secs: 5\n  poll_interval_ms: 20\n"
    );
    support::write(root, "crier.yaml", config);
    for i in 0..posts {
        let text = format!("---\nplatforms: [threads]\n---\n\nBenchmark post number {i}: crier publishes from git.\n");
        support::write(root, &format!("content/post-{i:04}.md"), text);
    }

    let (wall, out) =
        support::publish(root, &[("CRIER_THREADS_API_URL", fake.base_url()), ("THREADS_ACCESS_TOKEN", fake.token())]);
    support::check_published(&out, fake.published_posts().len(), posts, "published");
    let calls = fake.calls();
    let ideal = support::one_after_another(LATENCY, calls);
    println!(
        "crier publish, {posts} text posts, {} ms per call: {}; {calls} API calls ({:.2} per post)",
        LATENCY.as_millis(),
        support::against_ideal(wall, ideal, &format!("calls × {} ms, one after another", LATENCY.as_millis())),
        calls as f64 / posts as f64,
    );
}
