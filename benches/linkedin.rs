//! Benchmark: `crier publish` to the fake LinkedIn with 50 ms of latency on every call: 100
//! text posts and 10 posts of 4 images each, in one run. Reports wall time, the calls made,
//! and the ideal for those calls: one after another, except that the images of a post are
//! uploaded side by side (each image's `initializeUpload` then `PUT`: two calls' time per
//! post). The target is wall ≤ 1.1 × that ideal, and one call per text post after the run's
//! first lookup (`GET /v2/userinfo`).
//! Run with `cargo bench --bench linkedin`.

#[path = "../tests/support/fake_linkedin.rs"]
mod fake_linkedin;
mod support;

use std::time::Duration;

use fake_linkedin::{FakeConfig, FakeLinkedin};

const TEXT_POSTS: usize = 100;
const IMAGE_POSTS: usize = 10;
const IMAGES: usize = 4;

fn main() {
    // `CRIER_BENCH_LATENCY_MS=0` measures crier's own time per post.
    let latency_ms = std::env::var("CRIER_BENCH_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let latency = Duration::from_millis(latency_ms);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let fake = rt.block_on(FakeLinkedin::start(FakeConfig { latency, ..FakeConfig::default() }));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let posts = TEXT_POSTS + IMAGE_POSTS;
    support::text_and_image_posts(root, "linkedin", TEXT_POSTS, IMAGE_POSTS, IMAGES);

    let (wall, out) =
        support::publish(root, &[("CRIER_LINKEDIN_API_URL", fake.origin()), ("LINKEDIN_ACCESS_TOKEN", fake.token())]);
    let made = fake.posts().len();
    if out.code != 0 || made != posts {
        panic!("crier publish failed ({made} of {posts} posts):\n{out}");
    }
    let calls = fake.calls();
    let uploads = (fake.count("POST", "/rest/images") + fake.count("PUT", "/dms-uploads")) as u64;
    let creates = fake.count("POST", "/rest/posts") as u64;
    let first_reads = calls - uploads - creates;
    // The images of one post go side by side: each post's uploads cost two calls' time.
    let sequential_calls = calls - uploads + 2 * IMAGE_POSTS as u64;
    let ideal = latency * u32::try_from(sequential_calls).unwrap_or(u32::MAX);
    println!(
        "crier publish, {TEXT_POSTS} text posts + {IMAGE_POSTS} posts of {IMAGES} images, {} ms per call: wall {:.2} s; \
         {calls} calls ({first_reads} first reads, {creates} creates, {uploads} uploads; {:.2} calls per text post after the first reads); \
         ideal {:.2} s ({sequential_calls} calls one after another, a post's uploads side by side); wall/ideal {:.2}",
        latency.as_millis(),
        wall.as_secs_f64(),
        (creates as f64) / (posts as f64),
        ideal.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
}
