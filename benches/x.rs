//! Benchmark: `crier publish` of 100 text posts to the fake X server with 50 ms of latency
//! on every call. Reports wall time, the calls made, and the ideal for those calls (one
//! after another: X has no batch create). The targets: wall ≤ 1.1 × that ideal, and at most
//! one page of the account's own timeline read per 100 posts published (read once, kept).
//! Run with `cargo bench --bench x`.

#[path = "../tests/support/fake_x.rs"]
mod fake_x;
mod support;

use fake_x::{FakeConfig, FakeX};

const POSTS: usize = 100;

fn main() {
    let latency = support::latency(50);
    let w = support::world(|| FakeX::start(FakeConfig { latency, ..FakeConfig::default() }));
    let (fake, root) = (&w.fake, w.root());
    support::text_and_image_posts(root, "x", POSTS, 0, 0);
    let env = [
        ("CRIER_X_API_URL", fake.base_url()),
        ("X_API_KEY", fake.api_key()),
        ("X_API_SECRET", fake.api_secret()),
        ("X_ACCESS_TOKEN", fake.access_token()),
        ("X_ACCESS_TOKEN_SECRET", fake.access_token_secret()),
    ];
    let (wall, out) = support::publish(root, &env);
    support::check_published(&out, fake.tweets().len(), POSTS, "posts");
    let calls = fake.calls();
    let timeline_pages = fake.count("GET", "/2/users/");
    let creates = fake.count("POST", "/2/tweets");
    let ideal = support::one_after_another(latency, calls);
    println!(
        "crier publish, {POSTS} text posts to X, {} ms per call: {}; {calls} calls ({creates} creates, \
         {timeline_pages} reads of the account and its timeline)",
        latency.as_millis(),
        support::against_ideal(wall, ideal, "every call one after another"),
    );
}
