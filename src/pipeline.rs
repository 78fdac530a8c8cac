//! The per-post pipeline shared by `check`, `render` and `watch`: parse →
//! platforms → render → rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::content::{self, Post};
use crate::diag::{Diagnostic, SourceFile, Sources};
use crate::platforms::{self, PlatformId, Rendered};
use crate::project::Project;
use crate::rules;

/// Everything known about one post after checking it.
#[derive(Debug)]
pub struct PostReport {
    pub path: String,
    pub abs_path: PathBuf,
    pub post: Option<Post>,
    pub targets: Vec<PlatformId>,
    pub rendered: Vec<Rendered>,
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text when it could not be parsed (for snippets).
    pub raw_source: Option<Arc<SourceFile>>,
}

impl PostReport {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn source(&self) -> Option<&Arc<SourceFile>> {
        self.post.as_ref().map(|p| &p.source).or(self.raw_source.as_ref())
    }
}

/// Parses, renders and validates one post.
pub fn check_post(project: &Project, abs: &Path) -> PostReport {
    check_post_on(project, abs, None)
}

/// Like [`check_post`], on the one platform `only` when given: the post's own problems
/// and that platform's, not those of its other platforms (`render --platform`). A
/// platform the post does not list is rendered as a preview, as if it were listed.
pub fn check_post_on(project: &Project, abs: &Path, only: Option<PlatformId>) -> PostReport {
    let path = content::relative_display(&project.root, abs);
    let mut report = PostReport {
        path,
        abs_path: abs.to_path_buf(),
        post: None,
        targets: Vec::new(),
        rendered: Vec::new(),
        diagnostics: Vec::new(),
        raw_source: None,
    };
    let post = match content::parse_file(&project.root, abs, project.catalog) {
        Ok(p) => p,
        Err(d) => {
            if d.span.is_some() {
                // Re-read only on failure: the snippet needs the text.
                if let Ok(bytes) = std::fs::read(abs) {
                    let text =
                        String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).into_owned();
                    report.raw_source = Some(Arc::new(SourceFile::new(report.path.clone(), text)));
                }
            }
            report.diagnostics.push(d);
            return report;
        }
    };
    let mut diags = Vec::new();
    let targets = rules::targets(&post, &project.config, &mut diags);
    rules::general(&post, &mut diags);
    rules::published(&post, &mut diags);
    rules::relative_links(&post, &project.config, &mut diags);
    let mut context = targets.clone();
    if let Some(p) = only.filter(|p| !targets.contains(p)) {
        context.push(p);
    }
    for &id in context.iter().filter(|&&id| only.is_none_or(|p| p == id)) {
        let platform = platforms::get(id);
        match platform.render(project, &post, &context) {
            Ok(r) => {
                diags.extend(platform.validate(project, &post, r.as_ref()));
                report.rendered.push(r);
            }
            Err(errs) => diags.extend(errs),
        }
    }
    diags.extend(crate::crosslinks::check(project, &post, &report.rendered, &context));
    // Media shared by several parts or platforms reports its problem once.
    diags.sort_by(|a, b| (a.line, a.column).cmp(&(b.line, b.column)).then(a.severity.cmp(&b.severity)));
    diags.dedup();
    report.diagnostics = diags;
    report.targets = targets;
    report.post = Some(post);
    report
}

/// The platforms of `post` as it is now, and the errors `check` would report for it on
/// `id` rendered as `rendered`: a post read again at publish time (it may have been
/// edited while the run was going) is held to the same rules as when it was checked.
pub fn recheck(project: &Project, post: &Post, rendered: &dyn platforms::Output) -> (Vec<PlatformId>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let targets = rules::targets(post, &project.config, &mut diags);
    rules::general(post, &mut diags);
    let id = rendered.platform();
    if targets.contains(&id) {
        diags.extend(platforms::get(id).validate(project, post, rendered));
    }
    diags.retain(Diagnostic::is_error);
    (targets, diags)
}

/// Checks posts in parallel, keeping the given order.
pub fn check_all(project: &Project, paths: &[PathBuf]) -> Vec<PostReport> {
    paths.par_iter().map(|p| check_post(project, p)).collect()
}

/// Like [`check_all`], keeping only each post's diagnostics: the parsed and
/// rendered posts are freed as soon as they are checked, on the worker threads.
pub fn check_all_diagnostics(project: &Project, paths: &[PathBuf]) -> Vec<Vec<Diagnostic>> {
    paths.par_iter().map(|p| check_post(project, p).diagnostics).collect()
}

/// The sources every diagnostic of `reports` points into, for snippets.
pub fn sources(project: &Project, reports: &[PostReport]) -> Sources {
    let mut map = Sources::new();
    for r in reports {
        if let Some(src) = r.source() {
            map.insert(r.path.clone(), src.clone());
        }
    }
    for d in &project.templates.diagnostics {
        add_template_source(project, &d.file, &mut map);
    }
    for r in reports {
        for d in &r.diagnostics {
            if !map.contains_key(&d.file) {
                add_template_source(project, &d.file, &mut map);
            }
        }
    }
    map
}

fn add_template_source(project: &Project, file: &str, map: &mut Sources) {
    for name in project.templates.names() {
        if let Some(src) = project.templates.source(name) {
            if src.display == file {
                if let Some(f) = &src.file {
                    map.insert(file.to_owned(), f.clone());
                }
            }
        }
    }
}

/// Post files to check: everything under the content folder, or the given
/// paths (files, or folders searched like the content folder).
pub fn select(project: &Project, paths: &[PathBuf]) -> crate::error::Result<Vec<PathBuf>> {
    if paths.is_empty() {
        let folder = crate::config::content_folder(&project.root, &project.config, project.config_path.as_deref())?;
        return folder.map_or_else(|| Ok(Vec::new()), |dir| content::discover(&project.root, &dir));
    }
    let mut out = Vec::new();
    let root = canonical(&project.root);
    for p in paths {
        let abs = normalize(&if p.is_absolute() { p.clone() } else { project.root.join(p) });
        if abs.exists() && !canonical(&abs).starts_with(&root) {
            return Err(crate::error::Error::usage(format!(
                "`{}` is outside the repository ({}): crier reads posts inside it only",
                p.display(),
                project.root.display()
            )));
        }
        if abs.is_dir() {
            // A folder holding the configuration (`check .`): crier.yaml is not a post.
            let config = project.config_path.as_deref().map(canonical);
            out.extend(
                content::discover(&project.root, &abs)?.into_iter().filter(|f| config.as_ref() != Some(&canonical(f))),
            );
        } else if abs.is_file() {
            out.push(abs);
        } else {
            return Err(crate::error::Error::usage(format!("`{}` does not exist", p.display())));
        }
    }
    // One file named twice (`a.md`, `sub/../a.md`, a symbolic link) is one post: compare
    // the files themselves, not the paths as given.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(canonical(p)));
    out.sort();
    Ok(out)
}

/// The posts among `paths` (`publish --only`, `delete`, `adopt`): a folder gives the posts
/// in it; a file must be a post a run would find on its own, as a file outside the content
/// folder, ignored by git or named with `_` or `.` is never published, deleted or
/// committed by naming it (exit 2). No paths: every post.
pub fn select_posts(project: &Project, paths: &[PathBuf]) -> crate::error::Result<Vec<PathBuf>> {
    let all = select(project, &[])?;
    if paths.is_empty() {
        return Ok(all);
    }
    let posts: std::collections::HashSet<_> = all.iter().map(|p| canonical(p)).collect();
    let mut out = Vec::new();
    for p in paths {
        let found = select(project, std::slice::from_ref(p))?;
        if project.root.join(p).is_dir() {
            out.extend(found.into_iter().filter(|f| posts.contains(&canonical(f))));
        } else if let Some(f) = found.iter().find(|f| !posts.contains(&canonical(f))) {
            return Err(crate::error::Error::usage(format!(
                "`{}` is not a post crier publishes: posts are the files under `{}` that git does not ignore and whose names do not start with `_` or `.`",
                crate::content::relative_display(&project.root, f),
                project.config.content_dir
            )));
        } else {
            out.extend(found);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(canonical(p)));
    out.sort();
    Ok(out)
}

/// The file itself (links and `..` resolved) when it exists, else `path` as given: one
/// file named two ways is one post.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` with `.` and `name/..` removed, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
