//! Benchmark: `crier watch` latency from a file write to the printed block for
//! one changed post, in a generated repository of 10,000 posts, without the
//! debounce (which only adds its fixed wait): write the file, classify the
//! event, check the post, render its block and the summary. Reports median
//! and p95 over 200 edits; the target is ≤ 20 ms. Also times a template
//! change that re-checks the 2,000 posts using it. Run with
//! `cargo bench --bench watch`; `CRIER_BENCH_POSTS` changes the number of posts.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use notify::event::{DataChange, ModifyKind};
use notify::{Event, EventKind};

use crier::diag::Style;
use crier::env::Env;
use crier::watch::Session;
use crier::watch::session::Output;

fn main() {
    let posts: usize = std::env::var("CRIER_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonicalize");
    generate(&root, posts);

    let out = Output { style: Style { color: false, unicode: true }, quiet: false, verbose: 0 };
    let t = Instant::now();
    let mut session = Session::open(&root, None, Env::default(), out).expect("open");
    let first = session.check_all();
    let initial = t.elapsed();
    assert!(first.text.contains(&format!("{posts} posts: 0 errors")), "{}", &first.text[..first.text.len().min(3000)]);

    let modify = |path: &Path| Event::new(EventKind::Modify(ModifyKind::Data(DataChange::Any))).add_path(path.into());
    let mut times = Vec::new();
    for n in 0..200 {
        let i = (n * 37) % posts;
        let path = root.join(format!("content/{:03}/post{i}.md", i / 100));
        let start = Instant::now();
        std::fs::write(&path, post(i, &format!("Edit {n}."))).expect("write");
        let update = session.handle(&[modify(&path)]).expect("a change");
        times.push(start.elapsed());
        assert_eq!(update.checked.len(), 1);
        assert!(update.text.contains(&format!("post{i}.md  (ok)")), "{}", update.text);
    }
    let (median, p95) = stats(&mut times);

    let template = root.join("templates/teaser.hbs");
    let mut template_times = Vec::new();
    for n in 0..5 {
        let start = Instant::now();
        std::fs::write(&template, format!("{{{{title}}}} ({n})\n\n{{{{truncate text 200}}}}\n")).expect("write");
        let update = session.handle(&[modify(&template)]).expect("a change");
        template_times.push(start.elapsed());
        assert_eq!(update.checked.len(), posts / 5);
    }
    let (t_median, _) = stats(&mut template_times);

    println!(
        "crier watch, {posts} posts: one post changed: median {:.2} ms, p95 {:.2} ms (target ≤ 20 ms); \
         template used by {} posts changed: median {:.0} ms; first check {:.2} s",
        ms(median),
        ms(p95),
        posts / 5,
        ms(t_median),
        initial.as_secs_f64()
    );
}

fn stats(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let p95 = times[((times.len() * 95).div_ceil(100)).saturating_sub(1)];
    (times[times.len() / 2], p95)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every fifth post uses the `teaser` template for Threads and also goes to
/// dev.to; the others are two-part chains, some with an image.
fn post(i: usize, extra: &str) -> String {
    let para = "Shipping small tools is a habit: write the post next to the code, review it, merge it. \
                Links like https://example.com/docs work as usual.";
    match i % 5 {
        0 => format!(
            "---\ntitle: Article {i}\nplatforms: [devto, threads]\ntags: [rust]\nthreads:\n  template: teaser\n---\n\n## Heading\n\n{para}\n\n{extra}\n"
        ),
        1 => format!(
            "---\ntitle: Picture {i}\nmedia:\n  - path: media/img{}.png\n    alt: Picture {i}\n---\n\n{para} {extra}\n",
            i % 20
        ),
        _ => format!("---\ntitle: Chain {i}\n---\n\n{para}\n\n---\n\nPart two of {i}. {extra}\n"),
    }
}

fn generate(root: &Path, posts: usize) {
    let w = |rel: &str, text: &[u8]| support::write(root, rel, text);
    w("crier.yaml", b"defaults:\n  platforms: [threads]\n");
    w("templates/teaser.hbs", b"{{title}}\n\n{{truncate text 200}}\n");
    // A 1200x630 PNG header is all the media probe reads.
    let png = support::common::png(1200, 630);
    for i in 0..20 {
        w(&format!("media/img{i}.png"), &png);
    }
    for i in 0..posts {
        w(&format!("content/{:03}/post{i}.md", i / 100), post(i, "").as_bytes());
    }
}
