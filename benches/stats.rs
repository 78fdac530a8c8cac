//! Benchmark: `crier stats` over 1,000 posts recorded on all four platforms against the
//! fakes with 50 ms of latency on every call. Reports wall time, the calls each platform
//! got (at most what its API's batches need: Bluesky 25 posts a call, Mastodon 20, dev.to
//! one list, Threads one per post), and the slowest platform's calls one after another,
//! which side-by-side platforms and batches in flight should beat.
//! Run with `cargo bench --bench stats`; `CRIER_BENCH_POSTS` changes the number of posts.

#[path = "../tests/support/fake_bluesky.rs"]
mod fake_bluesky;
#[path = "../tests/support/fake_devto.rs"]
mod fake_devto;
#[path = "../tests/support/fake_mastodon.rs"]
mod fake_mastodon;
#[path = "../tests/support/fake_threads.rs"]
mod fake_threads;
mod support;

use std::fmt::Write as _;
use std::time::Duration;

const LATENCY: Duration = Duration::from_millis(50);

fn main() {
    let posts = support::posts(1000);
    let w = support::world(|| async {
        (
            fake_threads::FakeThreads::start(fake_threads::FakeConfig::default()).await,
            fake_bluesky::FakeBluesky::start(fake_bluesky::FakeConfig { latency: LATENCY, ..Default::default() }).await,
            fake_mastodon::FakeMastodon::start(fake_mastodon::FakeConfig { latency: LATENCY, ..Default::default() })
                .await,
            fake_devto::FakeDevto::start(fake_devto::FakeConfig { latency: LATENCY, ..Default::default() }).await,
        )
    });
    let ((threads, bluesky, mastodon, devto), root) = (&w.fake, w.root());
    threads.set_latency(LATENCY);

    // Posts already published everywhere: seeded on the fakes, recorded in the files.
    support::write(root, "crier.yaml", "");
    let user = threads.user_id();
    for i in 0..posts {
        let text = format!("Benchmark post number {i}.");
        let t = threads.seed_foreign_post(&user, "crier_tester", &text);
        threads.set_insights(&t, &[("views", i as u64), ("likes", 1)]);
        let rkey = format!("3l{i:011}");
        let b = bluesky.seed(&rkey, serde_json::json!({"$type": "app.bsky.feed.post", "text": text}));
        let m = mastodon.seed(&text, None);
        let d = devto.seed(&format!("Post {i}"), &text, true, None);
        let mut front = format!("---\ntitle: Post {i}\nplatforms: [threads, bluesky, mastodon, devto]\npublished:\n");
        for (p, id) in [("threads", t), ("bluesky", b.uri), ("mastodon", m), ("devto", d.to_string())] {
            let _ = write!(
                front,
                "  {p}:\n    id: \"{id}\"\n    url: \"https://example.com/{p}/{i}\"\n    published_at: \"2026-11-28T10:00:00Z\"\n    hash: \"sha256:00\"\n"
            );
        }
        front.push_str("---\n\n");
        front.push_str(&text);
        front.push('\n');
        support::write(root, &format!("content/post-{i:04}.md"), front);
    }

    let env = [
        ("CRIER_THREADS_API_URL", threads.base_url()),
        ("THREADS_ACCESS_TOKEN", threads.token()),
        ("CRIER_BLUESKY_URL", bluesky.url()),
        ("BLUESKY_IDENTIFIER", bluesky.handle()),
        ("BLUESKY_APP_PASSWORD", bluesky.password()),
        ("MASTODON_INSTANCE", mastodon.base_url()),
        ("MASTODON_ACCESS_TOKEN", mastodon.token()),
        ("CRIER_DEVTO_API_URL", devto.base_url()),
        ("DEVTO_API_KEY", devto.api_key()),
    ];
    let before = [threads.calls(), bluesky.calls(), mastodon.calls(), devto.calls()];
    let (wall, out) = support::crier(root, &env, &["stats", "--format", "json"]);
    let after = [threads.calls(), bluesky.calls(), mastodon.calls(), devto.calls()];
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("stats prints JSON");
    let read = json["posts"].as_array().map_or(0, Vec::len);
    if out.code != 0 || read != posts * 4 {
        panic!("stats failed: {read} rows, {}\n{out}", json["unavailable"]);
    }
    let names = ["threads", "bluesky", "mastodon", "devto"];
    let calls: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let slowest = calls.iter().copied().max().unwrap_or(0);
    let serial = support::one_after_another(LATENCY, slowest);
    let per: Vec<String> = names.iter().zip(&calls).map(|(n, c)| format!("{n} {c}")).collect();
    println!(
        "crier stats, {posts} posts on 4 platforms, {} ms per call: wall {:.2} s; calls: {}; \
         the slowest platform's calls one after another {:.2} s; wall/that {:.2}",
        LATENCY.as_millis(),
        wall.as_secs_f64(),
        per.join(", "),
        serial.as_secs_f64(),
        wall.as_secs_f64() / serial.as_secs_f64()
    );
}
