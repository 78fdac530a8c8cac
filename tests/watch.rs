//! `crier watch` end to end: the real binary, polling a temporary repository,
//! driven by edits and read with a deadline on every wait (nothing here can
//! hang: a stuck watcher fails the test, and the process is killed on drop).

#[path = "support/common.rs"]
mod common;

use common::Fixture;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// The running watcher and what it printed so far.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    seen: String,
}

impl Watch {
    fn start(repo: &Fixture) -> Self {
        let mut child = repo.crier().args(["watch", "--poll", "--debounce", "50"]).spawn().expect("start crier watch");
        let (tx, lines) = channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self { child, lines, seen: String::new() }
    }

    /// Reads output until the text printed since the last wait ends a batch
    /// (the `[hh:mm:ss] …` summary line) and contains `want`; returns that text.
    #[track_caller]
    fn wait_for(&mut self, want: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(end) = self.batch_end_after(want) {
                let text = self.seen[..end].to_owned();
                self.seen.drain(..end);
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                }
                Err(RecvTimeoutError::Timeout) => panic!("no `{want}` within {WAIT:?}; output:\n{}", self.seen),
                Err(RecvTimeoutError::Disconnected) => panic!("crier watch ended; output:\n{}", self.seen),
            }
        }
    }

    /// The end of the first summary line after `want`.
    fn batch_end_after(&self, want: &str) -> Option<usize> {
        let at = self.seen.find(want)?;
        let mut offset = at;
        for line in self.seen[at..].split_inclusive('\n') {
            offset += line.len();
            if line.starts_with('[') && line.contains(" post") || line.starts_with("watching ") {
                return Some(offset);
            }
        }
        None
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

const TEASER: &str = "---\nplatforms: [threads]\ntemplate: teaser\n---\n\nHello from the teaser.\n";
const PLAIN: &str = "---\nplatforms: [threads]\n---\n\nA plain post.\n";

#[test]
fn watch_rechecks_what_changed_and_keeps_going() {
    let dir = Fixture::new("crier-watch-");
    let root = dir.root();
    write(root, "content/teaser.md", TEASER);
    write(root, "content/plain.md", PLAIN);
    write(root, "templates/teaser.hbs", "{{text}} #crier");

    let mut w = Watch::start(&dir);
    let first = w.wait_for("watching ");
    assert!(first.contains("2 posts: 0 errors, 0 warnings"), "{first}");

    // A part over 500 bytes: the diagnostic as `crier check` prints it.
    write(root, "content/plain.md", &format!("---\nplatforms: [threads]\n---\n\n{}\n", "a".repeat(520)));
    let broken = w.wait_for("threads-text-too-long");
    assert!(broken.contains("content/plain.md  (1 error, 0 warnings)"), "{broken}");
    assert!(broken.contains("threads  1 part  520/500"), "{broken}");
    assert!(broken.contains("content/plain.md:5:1"), "{broken}");
    assert!(!broken.contains("content/teaser.md"), "only the changed post is checked:\n{broken}");

    // Broken YAML: printed, and the watch goes on.
    write(root, "content/plain.md", "---\nplatforms: [threads\n---\n\nx\n");
    let yaml = w.wait_for("content/plain.md");
    assert!(yaml.contains("yaml-syntax") || yaml.contains("yaml-type"), "{yaml}");

    write(root, "content/plain.md", PLAIN);
    let fixed = w.wait_for("content/plain.md  (ok)");
    assert!(fixed.contains("1 post updated · 2 posts: 0 errors, 0 warnings"), "{fixed}");

    // A template change re-checks the post that uses it, and only that one.
    write(root, "templates/teaser.hbs", "{{text}} (via #crier)");
    let retemplated = w.wait_for("content/teaser.md  (ok)");
    assert!(retemplated.contains("template teaser changed: reloaded"), "{retemplated}");
    assert!(retemplated.contains("threads  1 part  35/500"), "{retemplated}");
    assert!(!retemplated.contains("content/plain.md"), "{retemplated}");

    // A template syntax error is shown; the watch goes on.
    write(root, "templates/teaser.hbs", "{{text} #crier");
    let syntax = w.wait_for("template-syntax");
    assert!(syntax.contains("templates/teaser.hbs"), "{syntax}");
    write(root, "templates/teaser.hbs", "{{text}} #crier");
    w.wait_for("content/teaser.md  (ok)");

    // Deleting a post forgets it.
    std::fs::remove_file(root.join("content/plain.md")).expect("remove");
    let removed = w.wait_for("content/plain.md  removed");
    assert!(removed.contains("1 post: 0 errors"), "{removed}");

    // Ctrl-C (SIGINT) ends it cleanly, with status 0.
    let status = Command::new("kill").args(["-INT", &w.child.id().to_string()]).status().expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Some(s) = w.child.try_wait().expect("wait") {
            break s.code();
        }
        assert!(Instant::now() < deadline, "crier watch did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
}

#[test]
fn debounce_must_be_positive() {
    Fixture::new("crier-watch-").crier().args(["watch", "--debounce", "0"]).run().code(2).stderr_has("--debounce");
}
