//! Classification of editor save patterns, renames, deletes and ignores. Each
//! test replays on a real folder what an editor does, then classifies the
//! events it would produce.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, CreateKind, MetadataKind, ModifyKind, RemoveKind, RenameMode};
use notify::{Event, EventKind};

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
    posts: BTreeMap<PathBuf, PostInfo>,
    hashes: HashMap<PathBuf, u64>,
    includes: BTreeMap<String, BTreeSet<String>>,
    ignored: Ignored,
}

/// Writes `root/rel`, making its folders (for every watch test).
pub(super) fn write_file(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

const POST: &str = "---\nplatforms: [threads]\n---\n\nHello.\n";

impl Fixture {
    /// `content/a.md` (default templates), `content/b.md` (template `teaser`,
    /// which includes `partials/sig`), `content/c.md` (dev.to only), a
    /// template, a partial, crier.yaml and a .gitignore; all known as checked.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut f = Self {
            dir,
            posts: BTreeMap::new(),
            hashes: HashMap::new(),
            includes: BTreeMap::new(),
            ignored: Ignored::default(),
        };
        f.write(".gitignore", "content/drafts/\n*.draft.md\n");
        f.write("crier.yaml", "vars: {name: Ann}\n");
        f.write("templates/teaser.hbs", "{{text}}\n{{> partials/sig}}");
        f.write("templates/partials/sig.hbs", "— {{config.vars.name}}");
        f.write("templates/unused.hbs", "{{text}}");
        for (name, templates) in [
            ("content/a.md", &["threads"][..]),
            ("content/b.md", &["threads", "teaser"][..]),
            ("content/c.md", &["devto"][..]),
            ("content/sub/d.md", &["threads"][..]),
        ] {
            f.write(name, POST);
            f.posts.insert(
                f.path(name),
                PostInfo {
                    hash: hash_file(&f.path(name)),
                    templates: templates.iter().map(|t| (*t).to_owned()).collect(),
                },
            );
        }
        for t in ["crier.yaml", "templates/teaser.hbs", "templates/partials/sig.hbs", "templates/unused.hbs"] {
            f.hashes.insert(f.path(t), hash_file(&f.path(t)).expect("hash"));
        }
        for (name, file) in [("teaser", "teaser"), ("partials/sig", "partials/sig"), ("unused", "unused")] {
            let text = std::fs::read_to_string(f.path(&format!("templates/{file}.hbs"))).expect("read");
            f.includes.insert(name.to_owned(), partials_of(&text));
        }
        f.ignored = Ignored::load(f.dir.path(), &[&f.path("content")]);
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        write_file(self.dir.path(), rel, text);
    }

    fn rename(&self, from: &str, to: &str) {
        std::fs::rename(self.path(from), self.path(to)).expect("rename");
    }

    fn remove(&self, rel: &str) {
        let p = self.path(rel);
        if p.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) }.expect("remove");
    }

    fn classify(&self, events: &[Event]) -> Changes {
        let content = self.path("content");
        let templates = self.path("templates");
        let config = self.path("crier.yaml");
        let cx = Context {
            root: self.dir.path(),
            content_dir: &content,
            templates_dir: &templates,
            config_file: &config,
            ignored: &self.ignored,
            posts: &self.posts,
            hashes: &self.hashes,
            includes: &self.includes,
        };
        classify(events, &cx)
    }

    fn ev(&self, kind: EventKind, paths: &[&str]) -> Event {
        paths.iter().fold(Event::new(kind), |e, p| e.add_path(self.path(p)))
    }

    fn create(&self, p: &str) -> Event {
        self.ev(EventKind::Create(CreateKind::File), &[p])
    }
    fn modify(&self, p: &str) -> Event {
        self.ev(EventKind::Modify(ModifyKind::Any), &[p])
    }
    fn delete(&self, p: &str) -> Event {
        self.ev(EventKind::Remove(RemoveKind::Any), &[p])
    }
    fn renamed(&self, from: &str, to: &str) -> Event {
        self.ev(EventKind::Modify(ModifyKind::Name(RenameMode::Both)), &[from, to])
    }

    fn rechecked(changes: &Changes) -> Vec<String> {
        changes.recheck.keys().map(|p| Self::rel(p)).collect()
    }

    fn forgotten(changes: &Changes) -> Vec<String> {
        changes.forget.iter().map(|p| Self::rel(p)).collect()
    }

    fn rel(p: &Path) -> String {
        let s = p.to_string_lossy();
        s[s.find("content/").unwrap_or(0)..].to_owned()
    }
}

const EDITED: &str = "---\nplatforms: [threads]\n---\n\nHello, edited.\n";

#[test]
fn vim_writes_a_probe_renames_to_a_backup_and_writes_anew() {
    let f = Fixture::new();
    // :w with `backupcopy=no`: probe the folder with `4913`, move the file to
    // `a.md~`, write a new `a.md`, delete the backup; the swap file changes too.
    f.write("content/4913", "");
    f.remove("content/4913");
    f.write("content/.a.md.swp", "swap");
    f.rename("content/a.md", "content/a.md~");
    f.write("content/a.md", EDITED);
    f.remove("content/a.md~");
    let events = [
        f.create("content/4913"),
        f.delete("content/4913"),
        f.modify("content/.a.md.swp"),
        f.renamed("content/a.md", "content/a.md~"),
        f.create("content/a.md"),
        f.modify("content/a.md"),
        f.delete("content/a.md~"),
    ];
    let c = f.classify(&events);
    assert_eq!(Fixture::rechecked(&c), ["content/a.md"]);
    assert!(c.forget.is_empty() && !c.reload() && !c.rescan, "{c:?}");
}

#[test]
fn a_save_without_changes_or_a_touch_does_nothing() {
    let f = Fixture::new();
    f.rename("content/a.md", "content/a.md~");
    f.write("content/a.md", POST);
    f.remove("content/a.md~");
    let events = [
        f.renamed("content/a.md", "content/a.md~"),
        f.create("content/a.md"),
        f.delete("content/a.md~"),
        f.ev(EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)), &["content/b.md"]),
        f.modify("templates/teaser.hbs"),
        f.modify("crier.yaml"),
    ];
    assert!(f.classify(&events).is_empty());
}

#[test]
fn reads_are_not_changes() {
    let f = Fixture::new();
    f.write("content/a.md", EDITED);
    let open = f.ev(EventKind::Access(AccessKind::Open(AccessMode::Any)), &["content/a.md"]);
    assert!(f.classify(std::slice::from_ref(&open)).is_empty());
    let closed = f.ev(EventKind::Access(AccessKind::Close(AccessMode::Write)), &["content/a.md"]);
    assert_eq!(Fixture::rechecked(&f.classify(&[open, closed])), ["content/a.md"]);
}

#[test]
fn emacs_lock_and_auto_save_files_are_ignored() {
    let f = Fixture::new();
    f.write("content/.#a.md", "user@host.123");
    f.write("content/#a.md#", "autosave");
    let only_emacs = [f.create("content/.#a.md"), f.create("content/#a.md#"), f.modify("content/#a.md#")];
    assert!(f.classify(&only_emacs).is_empty());
    // The save itself: backup, write, lock removed.
    f.write("content/a.md~", POST);
    f.write("content/a.md", EDITED);
    f.remove("content/.#a.md");
    f.remove("content/#a.md#");
    let save =
        [f.create("content/a.md~"), f.modify("content/a.md"), f.delete("content/.#a.md"), f.delete("content/#a.md#")];
    let c = f.classify(&save);
    assert_eq!(Fixture::rechecked(&c), ["content/a.md"]);
    assert!(c.forget.is_empty());
}

#[test]
fn jetbrains_safe_write_renames_through_temporary_names() {
    let f = Fixture::new();
    f.write("content/b.md___jb_tmp___", EDITED);
    f.rename("content/b.md", "content/b.md___jb_old___");
    f.rename("content/b.md___jb_tmp___", "content/b.md");
    f.remove("content/b.md___jb_old___");
    let events = [
        f.create("content/b.md___jb_tmp___"),
        f.renamed("content/b.md", "content/b.md___jb_old___"),
        f.renamed("content/b.md___jb_tmp___", "content/b.md"),
        f.delete("content/b.md___jb_old___"),
    ];
    let c = f.classify(&events);
    assert_eq!(Fixture::rechecked(&c), ["content/b.md"]);
    assert!(c.forget.is_empty());
}

#[test]
fn atomic_rename_over_the_post() {
    let f = Fixture::new();
    for tmp in ["content/.a.md.tmp", "content/a.md.tmp.4821", "content/sub/d.md.tmp"] {
        f.write(tmp, EDITED);
        let to = if tmp.contains("sub") { "content/sub/d.md" } else { "content/a.md" };
        f.rename(tmp, to);
        let events = [f.create(tmp), f.modify(tmp), f.renamed(tmp, to)];
        assert_eq!(Fixture::rechecked(&f.classify(&events)), [to], "{tmp}");
    }
    // Temporary files alone are nothing.
    f.write("content/x.tmp", "x");
    f.write("content/notes.bak", "x");
    assert!(f.classify(&[f.create("content/x.tmp"), f.create("content/notes.bak")]).is_empty());
}

#[test]
fn renames_forget_the_old_name_and_check_the_new() {
    let f = Fixture::new();
    f.rename("content/a.md", "content/renamed.md");
    let c = f.classify(&[f.renamed("content/a.md", "content/renamed.md")]);
    assert_eq!(Fixture::forgotten(&c), ["content/a.md"]);
    assert_eq!(Fixture::rechecked(&c), ["content/renamed.md"]);

    // Renamed to a name crier skips: only forgotten.
    f.rename("content/c.md", "content/_c.md");
    let c = f.classify(&[f.renamed("content/c.md", "content/_c.md")]);
    assert_eq!(Fixture::forgotten(&c), ["content/c.md"]);
    assert!(c.recheck.is_empty());

    // A folder moved in: its posts are found.
    std::fs::create_dir_all(f.path("elsewhere/new")).expect("mkdir");
    std::fs::write(f.path("elsewhere/new/e.md"), POST).expect("write");
    std::fs::write(f.path("elsewhere/new/_skip.md"), POST).expect("write");
    std::fs::rename(f.path("elsewhere/new"), f.path("content/new")).expect("rename");
    let c = f.classify(&[f.ev(EventKind::Create(CreateKind::Folder), &["content/new"])]);
    assert_eq!(Fixture::rechecked(&c), ["content/new/e.md"]);
}

#[test]
fn deletes_forget_posts_and_folders_of_posts() {
    let f = Fixture::new();
    f.remove("content/a.md");
    f.remove("content/sub");
    let c = f.classify(&[f.delete("content/a.md"), f.ev(EventKind::Remove(RemoveKind::Folder), &["content/sub"])]);
    assert_eq!(Fixture::forgotten(&c), ["content/a.md", "content/sub/d.md"]);
    assert!(c.recheck.is_empty());
    // Deleting something crier never knew is nothing.
    assert!(f.classify(&[f.delete("content/never.md")]).is_empty());
}

#[test]
fn ignored_paths_are_not_posts() {
    let f = Fixture::new();
    for p in ["content/drafts/x.md", "content/y.draft.md", "content/_z.md", "content/.w.md", "content/_wip/v.md"] {
        f.write(p, POST);
        assert!(f.classify(&[f.create(p)]).is_empty(), "{p}");
    }
    f.write("content/notes.txt", "x");
    f.write("README.md", "x");
    assert!(f.classify(&[f.create("content/notes.txt"), f.modify("README.md")]).is_empty());
    // Changing the ignore rules asks for a rescan.
    f.write(".gitignore", "");
    assert!(f.classify(&[f.modify(".gitignore")]).rescan);
}

#[test]
fn ignore_rules_changed_in_the_same_batch_apply_to_its_posts() {
    // `echo content/ign.md > .gitignore; printf hello > content/ign.md`: one
    // batch; the new post is ignored by the rules written with it.
    for (ignore, rel) in
        [(".gitignore", "content/ign.md"), (".git/info/exclude", "content/ign.md"), ("content/.gitignore", "ign.md")]
    {
        let f = Fixture::new();
        f.write(ignore, &format!("{rel}\n"));
        f.write("content/ign.md", POST);
        f.write("content/a.md", EDITED);
        let c = f.classify(&[f.modify(ignore), f.create("content/ign.md"), f.modify("content/a.md")]);
        assert_eq!(Fixture::rechecked(&c), ["content/a.md"], "{ignore}");
        assert!(c.rescan, "{ignore}");
        // A known post the new rules ignore is forgotten.
        f.write(ignore, "content/b.md\nb.md\n");
        let c = f.classify(&[f.modify(ignore), f.modify("content/b.md")]);
        assert_eq!(Fixture::forgotten(&c), ["content/b.md"], "{ignore}");
    }
}

#[test]
fn a_template_change_rechecks_the_posts_that_use_it() {
    let f = Fixture::new();
    f.write("templates/teaser.hbs", "{{text}}!");
    let c = f.classify(&[f.modify("templates/teaser.hbs")]);
    assert_eq!(c.templates, BTreeSet::from(["teaser".to_owned()]));
    assert!(c.reload() && !c.config);
    assert_eq!(Fixture::rechecked(&c), ["content/b.md"]);

    // A partial: the posts whose templates include it.
    let f = Fixture::new();
    f.write("templates/partials/sig.hbs", "— {{config.vars.name}}!");
    let c = f.classify(&[f.modify("templates/partials/sig.hbs")]);
    assert_eq!(Fixture::rechecked(&c), ["content/b.md"]);

    // An override of a built-in appears: every post on that platform.
    let f = Fixture::new();
    f.write("templates/devto.hbs", "{{text}}");
    let c = f.classify(&[f.create("templates/devto.hbs")]);
    assert_eq!(Fixture::rechecked(&c), ["content/c.md"]);

    // A template nobody uses: reload, nothing to check.
    let f = Fixture::new();
    f.remove("templates/unused.hbs");
    let c = f.classify(&[f.delete("templates/unused.hbs")]);
    assert!(c.reload() && c.recheck.is_empty());

    // Vim's swap file next to a template is nothing.
    f.write("templates/.teaser.hbs.swp", "x");
    assert!(f.classify(&[f.create("templates/.teaser.hbs.swp")]).is_empty());
}

#[test]
fn a_post_change_and_a_template_change_together_check_each_post_once() {
    let f = Fixture::new();
    f.write("templates/teaser.hbs", "{{text}}?");
    f.write("content/b.md", EDITED);
    let c = f.classify(&[f.modify("templates/teaser.hbs"), f.modify("content/b.md")]);
    assert_eq!(Fixture::rechecked(&c), ["content/b.md"]);
    assert_eq!(c.recheck[&f.path("content/b.md")], hash_file(&f.path("content/b.md")));
}

#[test]
fn the_config_replaced_by_an_editor_reloads_everything() {
    let f = Fixture::new();
    f.write("crier.yaml~", "vars: {name: Ann}\n");
    f.write("crier.yaml", "vars: {name: Bob}\n");
    let c = f.classify(&[f.create("crier.yaml~"), f.renamed("crier.yaml", "crier.yaml~"), f.create("crier.yaml")]);
    assert!(c.config && c.reload());
    f.remove("crier.yaml");
    assert!(f.classify(&[f.delete("crier.yaml")]).config);
}

#[test]
fn partials_named_by_templates() {
    let p =
        partials_of("a {{> partials/sig}} b {{~> \"quoted\" x=1}} {{#> layout}}x{{/layout}} {{> (lookup . \"n\")}}");
    let want: BTreeSet<String> = ["partials/sig", "quoted", "layout", "*"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(p, want);
    assert!(partials_of("{{text}} {{#if x}}{{/if}}").is_empty());
}

#[test]
fn temp_file_names() {
    for t in
        ["4913", "a.md~", ".#a.md", "#a.md#", "a.md___jb_tmp___", "a.md___jb_old___", ".a.md.swp", "x.swo", "a.md.tmp"]
    {
        assert!(is_temp_file(t), "{t}");
    }
    for t in ["a.md", "post.yaml", "tmp.md", "#hashtag.md"] {
        assert!(!is_temp_file(t), "{t}");
    }
}
