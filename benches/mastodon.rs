//! Benchmark: `crier publish` to the fake Mastodon server with 50 ms of latency on every
//! call: 100 text posts and 10 posts of 4 images each, in one run. Reports wall time, the
//! calls made, and the ideal for those calls: one after another, except that the 4 uploads
//! of a status go side by side (so they cost one call's time). The target is wall ≤ 1.1 ×
//! that ideal, and one call per text status after the run's first reads (instance,
//! account, one page of its statuses).
//! Run with `cargo bench --bench mastodon`.

#[path = "../tests/support/fake_mastodon.rs"]
mod fake_mastodon;
mod support;

use std::time::Duration;

use fake_mastodon::{FakeConfig, FakeMastodon};

const TEXT_POSTS: usize = 100;
const IMAGE_POSTS: usize = 10;
const IMAGES: usize = 4;

fn main() {
    // `CRIER_BENCH_LATENCY_MS=0` measures crier's own time per post.
    let latency_ms = std::env::var("CRIER_BENCH_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let latency = Duration::from_millis(latency_ms);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let fake = rt.block_on(FakeMastodon::start(FakeConfig { latency, rate_limit: 10_000, ..FakeConfig::default() }));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let posts = TEXT_POSTS + IMAGE_POSTS;
    support::text_and_image_posts(root, "mastodon", TEXT_POSTS, IMAGE_POSTS, IMAGES);

    let (wall, out) =
        support::publish(root, &[("MASTODON_INSTANCE", fake.base_url()), ("MASTODON_ACCESS_TOKEN", fake.token())]);
    let statuses = fake.statuses().len();
    if out.code != 0 || statuses != posts {
        panic!("crier publish failed ({statuses} of {posts} statuses):\n{out}");
    }
    let calls = fake.calls();
    let uploads = fake.count("POST", "/api/v2/media") as u64;
    let creates = fake.count("POST", "/api/v1/statuses") as u64;
    let first_reads = calls - uploads - creates;
    // Uploads of one status run side by side: each status's uploads cost one call's time
    // (uploads made ahead, beside publishing, are not counted at all).
    let sequential_calls = calls - uploads + IMAGE_POSTS as u64;
    let ideal = latency * u32::try_from(sequential_calls).unwrap_or(u32::MAX);
    println!(
        "crier publish, {TEXT_POSTS} text posts + {IMAGE_POSTS} posts of {IMAGES} images, {} ms per call: wall {:.2} s; \
         {calls} calls ({first_reads} first reads, {creates} creates, {uploads} uploads; {:.2} calls per text status after the first reads); \
         ideal {:.2} s ({sequential_calls} calls one after another, a status's uploads side by side); wall/ideal {:.2}",
        latency.as_millis(),
        wall.as_secs_f64(),
        (creates as f64) / (posts as f64),
        ideal.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
}
