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

use fake_linkedin::{FakeConfig, FakeLinkedin};

use support::{IMAGE_POSTS, IMAGES, TEXT_POSTS};

fn main() {
    let latency = support::latency(50);
    let w = support::world(|| FakeLinkedin::start(FakeConfig { latency, ..FakeConfig::default() }));
    let (fake, root) = (&w.fake, w.root());
    support::text_and_image_posts(root, "linkedin", TEXT_POSTS, IMAGE_POSTS, IMAGES);

    let (wall, out) =
        support::publish(root, &[("CRIER_LINKEDIN_API_URL", fake.origin()), ("LINKEDIN_ACCESS_TOKEN", fake.token())]);
    support::check_published(&out, fake.posts().len(), TEXT_POSTS + IMAGE_POSTS, "posts");
    let uploads = (fake.count("POST", "/rest/images") + fake.count("PUT", "/dms-uploads")) as u64;
    let creates = fake.count("POST", "/rest/posts") as u64;
    // The images of one post go side by side: each post's uploads cost two calls' time.
    support::report_text_and_images("post", latency, wall, support::Calls { all: fake.calls(), uploads, creates }, 2);
}
