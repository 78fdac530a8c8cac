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

use fake_mastodon::{FakeConfig, FakeMastodon};

use support::{IMAGE_POSTS, IMAGES, TEXT_POSTS};

fn main() {
    let latency = support::latency(50);
    let w = support::world(|| FakeMastodon::start(FakeConfig { latency, rate_limit: 10_000, ..FakeConfig::default() }));
    let (fake, root) = (&w.fake, w.root());
    support::text_and_image_posts(root, "mastodon", TEXT_POSTS, IMAGE_POSTS, IMAGES);

    let (wall, out) =
        support::publish(root, &[("MASTODON_INSTANCE", fake.base_url()), ("MASTODON_ACCESS_TOKEN", fake.token())]);
    support::check_published(&out, fake.statuses().len(), TEXT_POSTS + IMAGE_POSTS, "statuses");
    let uploads = fake.count("POST", "/api/v2/media") as u64;
    let creates = fake.count("POST", "/api/v1/statuses") as u64;
    // Uploads of one status run side by side: each status's uploads cost one call's time
    // (uploads made ahead, beside publishing, are not counted at all).
    support::report_text_and_images("status", latency, wall, support::Calls { all: fake.calls(), uploads, creates }, 1);
}
