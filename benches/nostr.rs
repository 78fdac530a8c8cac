//! Benchmark: `crier publish` of 100 notes to 3 fake relays that each take 50 ms to answer
//! every message. The ideal is one send per note to all relays side by side (100 × 50 ms),
//! plus the run's one look for earlier events; the target is wall ≤ 1.1 × that ideal.
//! Then a rerun, which finds nothing to do, must send no event.
//! Run with `cargo bench --bench nostr`.

#[path = "../tests/support/fake_nostr.rs"]
mod fake_nostr;
mod support;

use fake_nostr::FakeRelay;

const NOTES: usize = 100;
const KEY: &str = "4f3e2d1c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";

fn main() {
    let latency = support::latency(50);
    let w = support::world(|| async {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(FakeRelay::with_latency(latency).await);
        }
        v
    });
    let (relays, root) = (&w.fake, w.root());
    support::write(root, "crier.yaml", format!("publish:\n  max_per_run: {NOTES}\n  request_timeout_secs: 5\n"));
    for i in 0..NOTES {
        let text = format!("---\nplatforms: [nostr]\n---\n\nBenchmark note {i}: crier publishes from #git.\n");
        support::write(root, &format!("content/note-{i:03}.md"), text);
    }
    let urls: Vec<String> = relays.iter().map(FakeRelay::url).collect();
    let env = [("NOSTR_SECRET_KEY", KEY.to_owned()), ("NOSTR_RELAYS", urls.join(","))];
    let (wall, out) = support::publish(root, &env);
    let stored: Vec<usize> = relays.iter().map(|r| r.events(1).len()).collect();
    if out.code != 0 || stored.iter().any(|n| *n != NOTES) {
        panic!("crier publish failed ({stored:?} of {NOTES} notes per relay):\n{out}");
    }
    let ideal = support::one_after_another(latency, NOTES as u64 + 1);
    let sent: usize = relays.iter().map(|r| r.sent_events().len()).sum();
    let (rerun_wall, rerun) = support::publish(root, &env);
    let resent = relays.iter().map(|r| r.sent_events().len()).sum::<usize>() - sent;
    if rerun.code != 0 {
        panic!("the rerun failed:\n{rerun}");
    }
    let how = "one send per note to all relays side by side, plus one look for earlier events";
    println!(
        "crier publish, {NOTES} notes to 3 relays, {} ms per answer: {}; {sent} EVENT messages; \
         rerun {:.2} s, {resent} EVENT messages",
        latency.as_millis(),
        support::against_ideal(wall, ideal, how),
        rerun_wall.as_secs_f64(),
    );
}
