//! Benchmark: `crier status --remote` over 200 recorded Threads posts against the fake
//! Threads server with 50 ms of latency on every call. Reports wall time, the lookups made,
//! and the ideal with the lookups four at a time (`drift::IN_FLIGHT`): the connection's
//! calls one after another, then lookups / 4 × 50 ms.
//! Run with `cargo bench --bench drift`; `CRIER_BENCH_POSTS` changes the number of posts.

#[path = "../tests/support/fake_threads.rs"]
mod fake_threads;
mod support;

use std::time::Duration;

use fake_threads::{FakeConfig, FakeThreads};

const LATENCY: Duration = Duration::from_millis(50);
const IN_FLIGHT: u32 = 4;

fn main() {
    let posts = support::posts(200);
    let w = support::world(|| FakeThreads::start(FakeConfig::default()));
    let (fake, root) = (&w.fake, w.root());

    support::write(root, "crier.yaml", format!("publish:\n  max_per_run: {posts}\n"));
    for i in 0..posts {
        let text = format!("---\nplatforms: [threads]\n---\n\nBenchmark post number {i}: still there as sent?\n");
        support::write(root, &format!("content/post-{i:04}.md"), text);
    }
    let env = [("CRIER_THREADS_API_URL", fake.base_url()), ("THREADS_ACCESS_TOKEN", fake.token())];
    let (_, out) = support::publish(root, &env);
    assert_eq!(out.code, 0, "publish failed:\n{out}");

    fake.set_latency(LATENCY);
    let before = fake.calls();
    let (wall, out) = support::crier(root, &env, &["status", "--remote", "--format", "json"]);
    let calls = fake.calls() - before;
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("status prints JSON");
    let checked = json["remote"]["checked"].as_u64().unwrap_or(0);
    if out.code != 0 || checked != posts as u64 || json["remote"]["drift"] != 0 {
        panic!("status --remote failed: {}\n{out}", json["remote"]);
    }
    // `/me` and the quota read to connect come first, one after the other.
    let lookups = u32::try_from(calls).unwrap_or(u32::MAX).saturating_sub(2);
    let ideal = LATENCY * 2 + LATENCY * lookups.div_ceil(IN_FLIGHT);
    println!(
        "crier status --remote, {posts} Threads posts, {} ms per call: {}; {calls} API calls",
        LATENCY.as_millis(),
        support::against_ideal(wall, ideal, &format!("{IN_FLIGHT} lookups in flight")),
    );
}
