//! Benchmark: `crier publish` of 100 text posts and 10 posts of 4 images each in one run
//! against the fake PDS with 50 ms of latency on every call. Reports wall time, the calls
//! made (and per text post after the session), and the ideal for those calls: one after
//! another, except the 4 uploads of a post, which go side by side (one 50 ms slot).
//! Run with `cargo bench --bench bluesky`.

#[path = "../tests/support/fake_bluesky.rs"]
mod fake_bluesky;
mod support;

use fake_bluesky::{FakeBluesky, FakeConfig};

const LATENCY_MS: u64 = 50;
const TEXT_POSTS: usize = 100;
const IMAGE_POSTS: usize = 10;

fn png(seed: u8) -> Vec<u8> {
    support::common::encode_png(image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, seed])))
}

fn main() {
    let latency = support::latency(LATENCY_MS);
    let w = support::world(|| FakeBluesky::start(FakeConfig { latency, ..FakeConfig::default() }));
    let (fake, root) = (&w.fake, w.root());
    let total = TEXT_POSTS + IMAGE_POSTS;
    let config = format!("publish:\n  max_per_run: {total}\n  retry_initial_delay_ms: 10\n  request_timeout_secs: 5\n");
    support::write(root, "crier.yaml", config);
    for i in 0..TEXT_POSTS {
        let text = format!("---\nplatforms: [bluesky]\n---\nBenchmark post {i}: crier publishes from git #crier\n");
        support::write(root, &format!("content/text-{i:04}.md"), text);
    }
    for i in 0..IMAGE_POSTS {
        let mut media = String::new();
        for j in 0..4 {
            let name = format!("media/img-{i}-{j}.png");
            support::write(root, &name, png((i * 4 + j) as u8));
            media.push_str(&format!("  - {{path: {name}, alt: picture {j}}}\n"));
        }
        let text = format!("---\nplatforms: [bluesky]\nmedia:\n{media}---\nFour pictures, post {i}\n");
        support::write(root, &format!("content/images-{i:04}.md"), text);
    }

    let (wall, out) = support::publish(
        root,
        &[
            ("CRIER_BLUESKY_URL", fake.url()),
            ("BLUESKY_IDENTIFIER", fake.handle()),
            ("BLUESKY_APP_PASSWORD", fake.password()),
        ],
    );
    support::check_published(&out, fake.records().len(), total, "published");
    let calls = fake.calls();
    let uploads = fake.count("com.atproto.repo.uploadBlob") as u64;
    let sessions = fake.count("com.atproto.server.createSession") as u64;
    // The uploads of one post share one slot.
    let slots = calls - uploads + IMAGE_POSTS as u64;
    let ideal = support::one_after_another(latency, slots);
    let text_calls = calls - sessions - uploads - IMAGE_POSTS as u64;
    let how = format!("{slots} slots × {} ms", latency.as_millis());
    println!(
        "crier publish to Bluesky, {TEXT_POSTS} text posts + {IMAGE_POSTS} posts of 4 images, {} ms per call: {}; \
         {calls} calls ({sessions} session, {uploads} uploads), {:.2} calls per text post after the session",
        latency.as_millis(),
        support::against_ideal(wall, ideal, &how),
        text_calls as f64 / TEXT_POSTS as f64,
    );
}
