//! `crier watch`: what a batch of file-system events means for the posts.
//!
//! [`classify`] turns debounced events into [`Changes`] (posts to re-check or
//! forget, whether the project must be reloaded); [`Session`] applies them and
//! prints a block per changed post; [`page`] shows the same in a browser. The
//! command in `commands/watch.rs` only wires the watcher, the signal and the
//! server to these.
//!
//! Classification looks at the file system as it is *after* the batch, not at
//! the order of events: an editor's save dance (vim's `4913` probe and
//! rename-to-backup, JetBrains' `___jb_tmp___`, an atomic rename over the
//! file) ends with the post present and changed, whatever happened on the way.
//! A path whose content hash equals the one crier last checked is no change,
//! so a `touch`, crier's own reads and a save without edits do nothing.

pub mod page;
pub mod session;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::EventKind;
use notify::event::{AccessKind, AccessMode};

pub use session::{Session, Update};

/// What crier knows about a post it has checked.
#[derive(Debug, Clone, Default)]
pub struct PostInfo {
    /// Hash of the bytes last checked (`None` if the file could not be read).
    pub hash: Option<u64>,
    /// Template names the post may render with: `template`,
    /// `threads.template`, `devto.template` and the built-in names of its
    /// platforms.
    pub templates: BTreeSet<String>,
}

/// Everything [`classify`] needs to know about the project.
pub struct Context<'a> {
    pub root: &'a Path,
    pub content_dir: &'a Path,
    pub templates_dir: &'a Path,
    pub config_file: &'a Path,
    pub ignored: &'a Ignored,
    /// Posts checked so far.
    pub posts: &'a BTreeMap<PathBuf, PostInfo>,
    /// Hashes of the templates and the configuration as last loaded.
    pub hashes: &'a HashMap<PathBuf, u64>,
    /// For each template, the partials it includes (`*`: a dynamic partial).
    pub includes: &'a BTreeMap<String, BTreeSet<String>>,
}

/// What a batch of events asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The configuration changed: reload it and re-check every post.
    pub config: bool,
    /// Templates that changed, appeared or went away (names).
    pub templates: BTreeSet<String>,
    /// Ignore rules changed: find the posts again (new ones are checked,
    /// vanished ones forgotten).
    pub rescan: bool,
    /// Posts to check, with the hash of their current bytes.
    pub recheck: BTreeMap<PathBuf, Option<u64>>,
    /// Posts that are gone.
    pub forget: BTreeSet<PathBuf>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the project (configuration and templates) must be reloaded.
    pub fn reload(&self) -> bool {
        self.config || !self.templates.is_empty()
    }
}

/// Hash of a file's bytes, or `None` if it cannot be read.
pub fn hash_file(path: &Path) -> Option<u64> {
    std::fs::read(path).ok().map(|b| hash_bytes(&b))
}

pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Editors' temporary, swap, backup and lock files.
pub fn is_temp_file(name: &str) -> bool {
    name == "4913" // vim's "can I write here?" probe
        || name.ends_with('~') // vim, emacs, gedit backups
        || name.starts_with(".#") // emacs lock
        || (name.starts_with('#') && name.ends_with('#')) // emacs auto-save
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || [".swp", ".swo", ".swx", ".tmp", ".bak", ".crswap"].iter().any(|ext| name.ends_with(ext))
        || name.contains(".tmp.") // atomic saves: `post.md.tmp.1234`
}

/// `.gitignore` (root and nested under the watched folders) and
/// `.git/info/exclude`: the rules `content::discover` applies.
#[derive(Default)]
pub struct Ignored {
    matchers: Vec<Gitignore>,
}

impl Ignored {
    /// Reads the ignore files of `root` and of the folders under `dirs`.
    pub fn load(root: &Path, dirs: &[&Path]) -> Self {
        let mut files = vec![root.join(".gitignore"), root.join(".git/info/exclude")];
        for dir in dirs {
            collect_gitignores(dir, &mut files, 0);
        }
        let mut matchers = Vec::new();
        for file in files {
            if !file.is_file() {
                continue;
            }
            let base = if file.ends_with(".git/info/exclude") { root } else { file.parent().unwrap_or(root) };
            let mut b = GitignoreBuilder::new(base);
            let _ = b.add(&file);
            if let Ok(m) = b.build() {
                matchers.push(m);
            }
        }
        // Deeper rules win: ask them first.
        matchers.sort_by_key(|m| std::cmp::Reverse(m.path().components().count()));
        Self { matchers }
    }

    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for m in &self.matchers {
            if !path.starts_with(m.path()) {
                continue;
            }
            let hit = m.matched_path_or_any_parents(path, is_dir);
            if hit.is_ignore() {
                return true;
            }
            if hit.is_whitelist() {
                return false;
            }
        }
        false
    }
}

fn collect_gitignores(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    if depth > 32 {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == ".gitignore" {
            out.push(entry.path());
        } else if entry.file_type().is_ok_and(|t| t.is_dir()) && !name.to_string_lossy().starts_with(['.', '_']) {
            collect_gitignores(&entry.path(), out, depth + 1);
        }
    }
}

/// Where a touched path belongs.
enum Place {
    Config,
    Ignore,
    Template(Option<String>),
    Content,
    Elsewhere,
}

fn place(path: &Path, cx: &Context<'_>) -> Place {
    if path == cx.config_file {
        return Place::Config;
    }
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if is_temp_file(&name) {
        return Place::Elsewhere;
    }
    if name == ".gitignore" || path.ends_with(".git/info/exclude") {
        return Place::Ignore;
    }
    if let Ok(rel) = path.strip_prefix(cx.templates_dir) {
        // The template loader skips dot names (only).
        if rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')) {
            return Place::Elsewhere;
        }
        if path.extension().is_some_and(|e| e == "hbs") {
            let name = crate::content::relative_display(Path::new(""), &rel.with_extension(""));
            return Place::Template(Some(name));
        }
        // The folder itself, or a folder in it: every template may have changed.
        return if path.extension().is_none() { Place::Template(None) } else { Place::Elsewhere };
    }
    if let Ok(rel) = path.strip_prefix(cx.content_dir) {
        if rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with(['_', '.'])) {
            return Place::Elsewhere;
        }
        return Place::Content;
    }
    Place::Elsewhere
}

/// Whether an event can mean new content (reads and opens cannot).
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Turns a batch of events into the work it asks for. Reads the files it is
/// told about (to compare hashes); changes nothing.
pub fn classify(events: &[notify::Event], cx: &Context<'_>) -> Changes {
    let mut touched = BTreeSet::new();
    for e in events.iter().filter(|e| relevant(&e.kind)) {
        touched.extend(e.paths.iter().cloned());
    }
    let mut changes = Changes::default();
    // New ignore rules apply to the posts that arrive with them: read them
    // before classifying the batch's content.
    let fresh;
    let ignored = if touched.iter().any(|p| matches!(place(p, cx), Place::Ignore)) {
        fresh = Ignored::load(cx.root, &[cx.content_dir]);
        &fresh
    } else {
        cx.ignored
    };
    let cx = &Context { ignored, ..*cx };
    let mut all_templates = false;
    for path in touched {
        match place(&path, cx) {
            Place::Elsewhere => {}
            Place::Config => changes.config |= file_changed(&path, cx.hashes),
            Place::Ignore => changes.rescan = true,
            Place::Template(Some(name)) => {
                if file_changed(&path, cx.hashes) {
                    changes.templates.insert(name);
                }
            }
            Place::Template(None) => all_templates = true,
            Place::Content => content_change(&path, cx, &mut changes),
        }
    }
    if all_templates {
        changes.templates.extend(cx.includes.keys().cloned());
        changes.templates.extend(cx.posts.values().flat_map(|p| p.templates.iter().cloned()));
    }
    if !changes.templates.is_empty() && !changes.config {
        let affected = including(&changes.templates, cx.includes);
        for (path, info) in cx.posts {
            if !changes.forget.contains(path)
                && !changes.recheck.contains_key(path)
                && info.templates.iter().any(|t| affected.contains(t))
            {
                changes.recheck.insert(path.clone(), info.hash);
            }
        }
    }
    changes
}

/// A template or configuration file changed, appeared or went away.
fn file_changed(path: &Path, hashes: &HashMap<PathBuf, u64>) -> bool {
    hash_file(path) != hashes.get(path).copied()
}

fn content_change(path: &Path, cx: &Context<'_>, changes: &mut Changes) {
    let meta = std::fs::symlink_metadata(path);
    if meta.as_ref().is_ok_and(|m| m.is_dir()) {
        // A folder appeared or was renamed here: find its posts.
        if cx.ignored.is_ignored(path, true) {
            return;
        }
        for post in crate::content::discover(cx.root, path).unwrap_or_default() {
            content_change(&post, cx, changes);
        }
        return;
    }
    if meta.is_err() {
        // Gone: the post, or a folder of posts.
        for known in cx.posts.keys().filter(|k| k.starts_with(path)) {
            changes.forget.insert(known.clone());
        }
        return;
    }
    if !crate::content::is_post_file(path) || cx.ignored.is_ignored(path, false) {
        // Possibly a post that stopped being one (renamed to `x.md.txt` is a
        // removal and a create, so this is rare): forget it.
        if cx.posts.contains_key(path) {
            changes.forget.insert(path.to_path_buf());
        }
        return;
    }
    let hash = hash_file(path);
    if cx.posts.get(path).is_some_and(|p| p.hash.is_some() && p.hash == hash) {
        return;
    }
    changes.recheck.insert(path.to_path_buf(), hash);
}

/// `changed` and every template that includes one of them, transitively.
fn including(changed: &BTreeSet<String>, includes: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut set = changed.clone();
    loop {
        let before = set.len();
        for (t, partials) in includes {
            if !set.contains(t) && (partials.contains("*") || partials.iter().any(|p| set.contains(p))) {
                set.insert(t.clone());
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// The partials a template names: `{{> name}}`, `{{~> name}}`, `{{#> name}}`;
/// `*` for a dynamic one (`{{> (lookup …)}}`).
pub fn partials_of(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        rest = &rest[i + 2..];
        let tag = rest.trim_start_matches('~').trim_start_matches('#').trim_start_matches('~');
        let Some(after) = tag.strip_prefix('>') else { continue };
        let after = after.trim_start();
        if after.starts_with('(') {
            out.insert("*".to_owned());
            continue;
        }
        let after = after.trim_start_matches(['"', '\'']);
        let end = after.find(|c: char| c.is_whitespace() || matches!(c, '}' | '~' | '"' | '\'')).unwrap_or(after.len());
        if end > 0 {
            out.insert(after[..end].to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;
