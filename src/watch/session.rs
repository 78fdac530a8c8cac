//! The state of a watch: the project as loaded, a report per post, and what
//! classification needs (hashes, template includes, ignore rules). Applies
//! [`Changes`] and renders the text printed for them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Changes, Context, Ignored, PostInfo, classify, hash_bytes, hash_file, partials_of};
use crate::diag::{self, Diagnostic, Severity, Style, plural};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::pipeline::{self, PostReport};
use crate::platform_id::PlatformId;
use crate::project::Project;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub style: Style,
    pub quiet: bool,
    pub verbose: u8,
}

/// What one batch did, for the terminal and the page.
#[derive(Debug, Default)]
pub struct Update {
    /// The text to print (empty when nothing changed).
    pub text: String,
    /// Posts checked again (absolute paths).
    pub checked: Vec<PathBuf>,
    /// Posts forgotten.
    pub forgotten: Vec<PathBuf>,
    /// Whether configuration or templates were reloaded.
    pub reloaded: bool,
}

pub struct Session {
    config_arg: Option<PathBuf>,
    config_file: PathBuf,
    out: Output,
    project: Project,
    reports: BTreeMap<PathBuf, PostReport>,
    posts: BTreeMap<PathBuf, PostInfo>,
    hashes: HashMap<PathBuf, u64>,
    includes: BTreeMap<String, BTreeSet<String>>,
    ignored: Ignored,
    /// Why the configured content folder cannot be read (`content-dir-missing`),
    /// counted as an error until it is fixed.
    folder: Option<Error>,
}

impl Session {
    /// Loads the project; checks nothing yet (see [`Session::check_all`]).
    pub fn open(root: &Path, config_arg: Option<PathBuf>, env: Env, out: Output) -> Result<Self> {
        let project = Project::open(root, config_arg.as_deref(), env, crate::platforms::catalog())?;
        let config_file = match &config_arg {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => root.join(p),
            None => root.join(crate::config::FILE_NAME),
        };
        let mut s = Self {
            config_arg,
            config_file,
            out,
            project,
            reports: BTreeMap::new(),
            posts: BTreeMap::new(),
            hashes: HashMap::new(),
            includes: BTreeMap::new(),
            ignored: Ignored::default(),
            folder: None,
        };
        s.loaded();
        Ok(s)
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn reports(&self) -> &BTreeMap<PathBuf, PostReport> {
        &self.reports
    }

    /// Folders to watch, and whether recursively: the root itself (not
    /// recursively, so a `crier.yaml` replaced by an editor is seen), the
    /// content and templates folders, and the folder of a `--config` file.
    pub fn watch_roots(&self) -> BTreeMap<PathBuf, bool> {
        let mut roots = BTreeMap::new();
        roots.insert(self.project.root.clone(), false);
        if let Some(parent) = self.config_file.parent() {
            roots.entry(parent.to_path_buf()).or_insert(false);
        }
        for dir in [self.project.content_dir(), self.templates_dir()] {
            if dir.is_dir() {
                roots.insert(dir, true);
            }
        }
        roots
    }

    fn templates_dir(&self) -> PathBuf {
        self.project.root.join(&self.project.config.templates_dir)
    }

    /// Records what classification needs about the freshly loaded project.
    fn loaded(&mut self) {
        self.hashes.clear();
        self.includes.clear();
        if let Some(h) = hash_file(&self.config_file) {
            self.hashes.insert(self.config_file.clone(), h);
        }
        let names: Vec<String> = self.project.templates.names().map(str::to_owned).collect();
        for name in names {
            let Some(file) = self.project.templates.source(&name).and_then(|s| s.file.clone()) else { continue };
            self.hashes.insert(self.project.root.join(&file.path), hash_bytes(file.text.as_bytes()));
            self.includes.insert(name, partials_of(&file.text));
        }
        self.ignored = Ignored::load(&self.project.root, &[&self.project.content_dir()]);
    }

    fn dirs(&self) -> (PathBuf, PathBuf) {
        (self.project.content_dir(), self.templates_dir())
    }

    /// Classifies a batch of events.
    pub fn classify(&self, events: &[notify::Event]) -> Changes {
        let (content_dir, templates_dir) = self.dirs();
        let cx = Context {
            root: &self.project.root,
            content_dir: &content_dir,
            templates_dir: &templates_dir,
            config_file: &self.config_file,
            ignored: &self.ignored,
            posts: &self.posts,
            hashes: &self.hashes,
            includes: &self.includes,
        };
        classify(events, &cx)
    }

    /// Classifies and applies a batch; `None` when it changes nothing.
    pub fn handle(&mut self, events: &[notify::Event]) -> Option<Update> {
        let changes = self.classify(events);
        (!changes.is_empty()).then(|| self.apply(changes))
    }

    /// The first check of every post: blocks for posts with problems (every
    /// post with `-v`), then the summary.
    pub fn check_all(&mut self) -> Update {
        let mut update = Update { reloaded: true, ..Update::default() };
        self.check_folder(&mut update.text, true);
        let mut shown = self.template_diagnostics(&mut update.text);
        let files = match crate::content::discover(&self.project.root, &self.project.content_dir()) {
            Ok(f) => f,
            Err(e) => {
                let _ = writeln!(update.text, "error: {e}");
                Vec::new()
            }
        };
        let changes = Changes { recheck: files.into_iter().map(|p| (p, None)).collect(), ..Changes::default() };
        self.recheck(changes.recheck, &mut update, self.out.verbose == 0, &mut shown);
        update.text.push_str(&self.summary(None));
        update
    }

    /// Applies classified changes and renders what they did.
    pub fn apply(&mut self, mut changes: Changes) -> Update {
        let mut update = Update::default();
        let mut everything = false;
        let mut shown = BTreeSet::new();
        if changes.reload() {
            let what = if changes.config {
                format!("{} changed", crate::content::relative_display(&self.project.root, &self.config_file))
            } else {
                let names: Vec<&str> = changes.templates.iter().map(String::as_str).collect();
                format!("template{} {} changed", if names.len() == 1 { "" } else { "s" }, names.join(", "))
            };
            match Project::open(
                &self.project.root,
                self.config_arg.as_deref(),
                self.project.env.clone(),
                self.project.catalog,
            ) {
                Ok(project) => {
                    if !self.out.quiet {
                        let _ = writeln!(update.text, "{what}: reloaded");
                    }
                    self.project = project;
                    self.loaded();
                    update.reloaded = true;
                    shown = self.template_diagnostics(&mut update.text);
                    everything = changes.config;
                }
                Err(e) => {
                    let _ = writeln!(update.text, "{what}, but it cannot be loaded; still using the previous one");
                    update.text.push_str(&render_error(&e, self.out.style));
                    // Not again for the same text; any other change (removing the file too) retries.
                    if let Some(h) = hash_file(&self.config_file) {
                        self.hashes.insert(self.config_file.clone(), h);
                    }
                }
            }
        }
        // Again after a new configuration; otherwise only when it appears.
        self.check_folder(&mut update.text, everything);
        if everything || changes.rescan {
            if changes.rescan {
                self.ignored = Ignored::load(&self.project.root, &[&self.project.content_dir()]);
            }
            let found: BTreeSet<PathBuf> = crate::content::discover(&self.project.root, &self.project.content_dir())
                .unwrap_or_default()
                .into_iter()
                .collect();
            changes.forget.extend(self.posts.keys().filter(|p| !found.contains(*p)).cloned());
            for p in found {
                if everything || !self.posts.contains_key(&p) {
                    changes.recheck.entry(p).or_insert(None);
                }
            }
        }
        for path in &changes.forget {
            if changes.recheck.contains_key(path) {
                continue;
            }
            if let Some(r) = self.reports.remove(path)
                && !self.out.quiet
            {
                let _ = writeln!(update.text, "{}  removed", r.path);
            }
            self.posts.remove(path);
            update.forgotten.push(path.clone());
        }
        self.recheck(changes.recheck, &mut update, false, &mut shown);
        update.text.push_str(&self.summary(Some(update.checked.len() + update.forgotten.len())));
        update
    }

    /// Checks `paths` (in parallel) and records the reports; prints a block
    /// per post (only for posts with problems when `only_problems`).
    /// `shown`: the template diagnostics (indices) printed in full already.
    fn recheck(
        &mut self,
        paths: BTreeMap<PathBuf, Option<u64>>,
        update: &mut Update,
        only_problems: bool,
        shown: &mut BTreeSet<usize>,
    ) {
        let files: Vec<PathBuf> = paths.keys().cloned().collect();
        let reports = pipeline::check_all(&self.project, &files);
        for (report, (path, hash)) in reports.into_iter().zip(paths) {
            let templates = self.template_problems(&report);
            if !only_problems || !report.diagnostics.is_empty() || !templates.is_empty() {
                update.text.push_str(&self.block(&report, &templates, shown));
            }
            let info = PostInfo { hash: hash.or_else(|| hash_file(&path)), templates: templates_of(&report) };
            self.posts.insert(path.clone(), info);
            self.reports.insert(path.clone(), report);
            update.checked.push(path);
        }
    }

    /// A post's problems: those of the broken templates it renders with, then
    /// its own.
    pub fn problems<'a>(&'a self, report: &'a PostReport) -> Vec<&'a Diagnostic> {
        let templates = self.template_problems(report).into_iter().map(|i| &self.project.templates.diagnostics[i]);
        templates.chain(&report.diagnostics).collect()
    }

    /// Why the configured content folder cannot be read (empty when it can).
    pub fn folder_problem(&self, style: Style) -> String {
        self.folder.as_ref().map(|e| render_error(e, style)).unwrap_or_default()
    }

    /// The load problems of the templates a parsed post renders with (indices
    /// into the project's template diagnostics): rendering stops at them.
    fn template_problems(&self, report: &PostReport) -> Vec<usize> {
        if report.post.is_none() || self.project.templates.diagnostics.is_empty() {
            return Vec::new();
        }
        let names = templates_of(report);
        let all = &self.project.templates.diagnostics;
        let used = self.project.templates.diagnostics_of(names.iter().map(String::as_str));
        used.into_iter().filter_map(|d| all.iter().position(|x| std::ptr::eq(x, d))).collect()
    }

    /// One post: its path, a line per platform (parts and sizes against the
    /// limits), and its diagnostics exactly as `crier check` shows them, with
    /// those of the broken templates it uses (`templates`; in full unless
    /// `shown` already). Quiet: the errors only.
    fn block(&self, report: &PostReport, templates: &[usize], shown: &mut BTreeSet<usize>) -> String {
        let mut s = String::new();
        let template_diags: Vec<&Diagnostic> =
            templates.iter().map(|&i| &self.project.templates.diagnostics[i]).collect();
        let errors = report.errors() + template_diags.iter().filter(|d| d.is_error()).count();
        let warnings = report.diagnostics.len() + template_diags.len() - errors;
        if !self.out.quiet {
            let verdict = match (errors, warnings) {
                (0, 0) => "ok".to_owned(),
                (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
            };
            let _ = writeln!(s, "{}  ({verdict})", report.path);
            for rendered in &report.rendered {
                let _ = writeln!(s, "  {}", rendered.summary());
            }
        }
        let sources = pipeline::sources(&self.project, std::slice::from_ref(report));
        for (&i, d) in templates.iter().zip(template_diags) {
            if self.out.quiet && d.severity == Severity::Warning {
                continue;
            }
            if shown.insert(i) {
                s.push_str(&diag::render_human(d, &sources, self.out.style));
            } else {
                let _ = writeln!(s, "  {} at {}:{}:{} (shown above)", d.code, d.file, d.line, d.column);
            }
        }
        for d in &report.diagnostics {
            if self.out.quiet && d.severity == Severity::Warning {
                continue;
            }
            s.push_str(&diag::render_human(d, &sources, self.out.style));
        }
        s
    }

    /// Prints the templates' load problems; returns them (indices) as shown.
    fn template_diagnostics(&self, text: &mut String) -> BTreeSet<usize> {
        let sources = pipeline::sources(&self.project, &[]);
        let mut shown = BTreeSet::new();
        for (i, d) in self.project.templates.diagnostics.iter().enumerate() {
            if !(self.out.quiet && d.severity == Severity::Warning) {
                text.push_str(&diag::render_human(d, &sources, self.out.style));
                shown.insert(i);
            }
        }
        shown
    }

    /// Whether the configured content folder can be read (`crier check` stops
    /// at the same problem); prints the problem when it appears, or always
    /// with `again`.
    fn check_folder(&mut self, text: &mut String, again: bool) {
        let p = &self.project;
        let problem = crate::config::content_folder(&p.root, &p.config, p.config_path.as_deref()).err();
        if let Some(e) = &problem
            && (again || self.folder.is_none())
        {
            text.push_str(&render_error(e, self.out.style));
        }
        self.folder = problem;
    }

    /// `[12:03:04] 1 post checked · 40 posts: 2 errors, 1 warning`.
    /// Nothing when quiet.
    fn summary(&self, changed: Option<usize>) -> String {
        if self.out.quiet {
            return String::new();
        }
        let all = self.all_diagnostics();
        let errors = all.iter().filter(|d| d.is_error()).count();
        let warnings = all.len() - errors;
        let errors = errors + usize::from(self.folder.is_some());
        let now = chrono::Local::now().format("%H:%M:%S");
        let changed = changed.map(|n| format!("{} updated · ", plural(n, "post"))).unwrap_or_default();
        format!(
            "[{now}] {changed}{}: {}, {}\n",
            plural(self.reports.len(), "post"),
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }

    pub fn all_diagnostics(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.project.templates.diagnostics.iter().collect();
        all.extend(self.reports.values().flat_map(|r| r.diagnostics.iter()));
        all
    }
}

/// The templates a post may use (over-approximated: every template key it
/// sets, and the built-in name of each of its platforms, which a file in
/// `templates/` may override).
fn templates_of(report: &PostReport) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = report.targets.iter().map(|p| p.name().to_owned()).collect();
    let Some(post) = &report.post else { return out };
    let f = &post.front;
    let keys = f.template.iter().chain(post.options.templates());
    out.extend(keys.map(|t| t.value.clone()));
    if out.is_empty() {
        // No platform could be determined: any built-in may become relevant.
        out.extend(PlatformId::all().map(|p| p.name().to_owned()));
    }
    out
}

/// An error that stops loading the project, printed like `main` prints it.
pub(crate) fn render_error(err: &Error, style: Style) -> String {
    let mut out = format!("error: {err}\n");
    if let Error::Config { path, diagnostics } = err {
        let mut sources = diag::Sources::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            for d in diagnostics {
                sources
                    .insert(d.file.clone(), std::sync::Arc::new(diag::SourceFile::new(d.file.clone(), text.as_str())));
            }
        }
        for d in diagnostics {
            out.push_str(&diag::render_human(d, &sources, style));
        }
    } else {
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let _ = writeln!(out, "  caused by: {cause}");
            source = cause.source();
        }
    }
    out
}

#[cfg(test)]
mod tests;
