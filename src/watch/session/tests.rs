//! What a session prints for a batch: each test builds a project in a
//! temporary folder, opens a session on it, edits files and hands the
//! session the events the edit would produce.

use std::path::PathBuf;

use notify::event::{CreateKind, ModifyKind};
use notify::{Event, EventKind};

use super::*;

const OK: &str = "---\nplatforms: [threads]\n---\n\nHello.\n";

fn too_long() -> String {
    format!("---\nplatforms: [threads]\n---\n\n{}\n", "a".repeat(520))
}

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Self {
        let repo = Self { dir: tempfile::tempdir().expect("tempdir") };
        for (rel, text) in files {
            repo.write(rel, text);
        }
        repo
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        crate::watch::tests::write_file(self.dir.path(), rel, text);
    }

    fn session(&self, quiet: bool) -> Session {
        let out = Output { style: Style { color: false, unicode: true }, quiet, verbose: 0 };
        Session::open(self.dir.path(), None, Env::from_pairs([]), out).expect("open")
    }

    fn modified(&self, rel: &str) -> Event {
        Event::new(EventKind::Modify(ModifyKind::Any)).add_path(self.path(rel))
    }

    fn created(&self, rel: &str) -> Event {
        Event::new(EventKind::Create(CreateKind::File)).add_path(self.path(rel))
    }
}

/// The text a batch printed (empty when it changed nothing).
fn printed(s: &mut Session, events: &[Event]) -> String {
    s.handle(events).map(|u| u.text).unwrap_or_default()
}

#[test]
fn quiet_prints_only_errors() {
    let repo = Repo::new(&[("content/a.md", OK), ("content/b.md", &too_long())]);
    let mut s = repo.session(true);
    let first = s.check_all().text;
    assert!(first.contains("threads-text-too-long"), "{first}");
    for noise in ["(ok)", "(1 error", "1 part", "posts:"] {
        assert!(!first.contains(noise), "`{noise}` in quiet output:\n{first}");
    }
    // Fixing the post prints nothing; breaking another prints its error only.
    repo.write("content/b.md", OK);
    assert_eq!(printed(&mut s, &[repo.modified("content/b.md")]), "");
    repo.write("content/a.md", &too_long());
    let broken = printed(&mut s, &[repo.modified("content/a.md")]);
    assert!(broken.contains("content/a.md:5:1") && broken.contains("threads-text-too-long"), "{broken}");
    assert!(!broken.contains("1 part") && !broken.contains("posts:"), "{broken}");
    assert_eq!(s.reports().len(), 2);
}

#[test]
fn a_post_whose_template_does_not_parse_shows_the_template_error() {
    let repo = Repo::new(&[("content/z.md", OK), ("templates/threads.hbs", "{{text")]);
    let mut s = repo.session(false);
    let first = s.check_all().text;
    assert!(first.contains("content/z.md  (1 error, 0 warnings)"), "{first}");
    // Shown once in full, at the top; the post refers to it.
    assert_eq!(first.matches("does not parse").count(), 1, "{first}");
    assert!(first.contains("template-syntax at templates/threads.hbs:1:7 (shown above)"), "{first}");
    assert!(first.contains("1 post: 1 error"), "{first}");
    // An edit of the post alone shows the template's error with it.
    repo.write("content/z.md", "---\nplatforms: [threads]\n---\n\nHello again.\n");
    let edited = printed(&mut s, &[repo.modified("content/z.md")]);
    assert!(edited.contains("content/z.md  (1 error, 0 warnings)"), "{edited}");
    assert!(edited.contains("templates/threads.hbs:1:"), "{edited}");
    assert!(edited.contains("template-syntax"), "{edited}");
    assert!(!edited.contains("(ok)"), "{edited}");
    // Fixed template: the post is ok again.
    repo.write("templates/threads.hbs", "{{text}}");
    let fixed = printed(&mut s, &[repo.modified("templates/threads.hbs")]);
    assert!(fixed.contains("content/z.md  (ok)") && fixed.contains("1 post: 0 errors"), "{fixed}");
}

#[test]
fn a_content_dir_that_does_not_exist_is_an_error_and_the_watch_goes_on() {
    let repo = Repo::new(&[("content/a.md", OK), ("crier.yaml", "vars: {}\n")]);
    let mut s = repo.session(false);
    assert!(s.check_all().text.contains("1 post: 0 errors"));
    repo.write("crier.yaml", "content_dir: posts\n");
    let moved = printed(&mut s, &[repo.modified("crier.yaml")]);
    assert!(moved.contains("content-dir-missing"), "{moved}");
    assert!(moved.contains("crier.yaml:1:"), "{moved}");
    assert!(moved.contains("0 posts: 1 error"), "{moved}");
    // The folder appears: its posts are checked, the error is gone.
    repo.write("posts/p.md", OK);
    let created = printed(&mut s, &[repo.created("posts"), repo.created("posts/p.md")]);
    assert!(created.contains("posts/p.md  (ok)") && created.contains("1 post: 0 errors"), "{created}");
    // Quiet: the error is printed too.
    let mut q = Repo::new(&[("crier.yaml", "content_dir: posts\n")]).session(true);
    assert!(q.check_all().text.contains("content-dir-missing"));
}
