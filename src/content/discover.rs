//! Finds post files: `*.md`, `*.yaml`, `*.yml` under the content folder, in a
//! deterministic order, skipping names that start with `_` or `.` and paths
//! that `.gitignore` excludes.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub fn is_post_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "yaml" | "yml"))
}

fn is_skipped_name(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// Post files under `dir` (absolute paths, sorted), ignoring what git ignores there.
///
/// Inside a git repository: the .gitignore files from the repository's root down and
/// .git/info/exclude, as `git check-ignore` does (none above the repository; no
/// `.ignore` files, which only ripgrep and fd read). The global excludes file is left
/// out so that a user's own excludes never change what CI publishes. Outside a git
/// repository, the .gitignore files from the project `root` down apply.
pub fn discover(root: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let in_git = dir.ancestors().any(|d| d.join(".git").exists());
    // Outside git the walk starts at the project root so that the .gitignore files
    // between it and `dir` are read, and goes down only towards `dir`; inside git the
    // walker itself reads them, up to the repository's root.
    let start = if !in_git && dir.starts_with(root) { root } else { dir };
    let inside = dir.to_path_buf();
    let walker = ignore::WalkBuilder::new(start)
        // Names starting with `.` are skipped below, inside `dir` only.
        .hidden(false)
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        // A user's global excludes must not change what CI publishes.
        .git_global(false)
        .require_git(in_git)
        .parents(in_git)
        .follow_links(false)
        .filter_entry(move |e| match e.path().strip_prefix(&inside) {
            Ok(rel) => rel.as_os_str().is_empty() || !is_skipped_name(&e.file_name().to_string_lossy()),
            // On the way from the project root: only the folders leading to `dir`.
            Err(_) => inside.starts_with(e.path()),
        })
        // Visiting each folder's entries in name order yields the paths already
        // in `Path` order, which makes the final sort a cheap check.
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry
            .map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), std::io::Error::other(e.to_string())))?;
        if entry.file_type().is_some_and(|t| t.is_file()) && is_post_file(entry.path()) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (path, contents) under `root`.
    fn write_all(root: &Path, files: &[(&str, &str)]) {
        for (f, text) in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
        }
    }

    /// The posts found under `root/content`, relative to `root`.
    fn found(root: &Path) -> Vec<String> {
        discover(root, &root.join("content"))
            .expect("discover")
            .iter()
            .map(|p| crate::content::relative_display(root, p))
            .collect()
    }

    #[test]
    fn finds_posts_and_skips_ignored_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let files = [
            "content/b.md",
            "content/a.yaml",
            "content/sub/c.yml",
            "content/_draft.md",
            "content/.hidden.md",
            "content/_private/d.md",
            "content/notes.txt",
            "content/ignored/e.md",
            "content/build.md",
        ];
        write_all(root, &files.map(|f| (f, "x")));
        // Outside a git repository, the project's own .gitignore files still apply.
        std::fs::write(root.join(".gitignore"), "content/ignored/\nbuild.md\n").expect("write");
        assert_eq!(found(root), ["content/a.yaml", "content/b.md", "content/sub/c.yml"]);
    }

    /// What `git check-ignore` would say decides: the repository's .gitignore files and
    /// .git/info/exclude, never a .gitignore above the repository nor a ripgrep `.ignore`.
    #[test]
    fn ignores_what_git_ignores_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outer = dir.path();
        let root = outer.join("repo");
        write_all(
            outer,
            &[
                (".gitignore", "*.md\n"),
                ("repo/.git/info/exclude", "excluded.md\n"),
                ("repo/.gitignore", "/content/drafts/\n"),
                ("repo/content/.ignore", "a.md\n"),
                ("repo/content/.gitignore", "local.md\n"),
                ("repo/content/a.md", "x"),
                ("repo/content/excluded.md", "x"),
                ("repo/content/local.md", "x"),
                ("repo/content/drafts/d.md", "x"),
                ("repo/content/sub/b.md", "x"),
            ],
        );
        assert_eq!(found(&root), ["content/a.md", "content/sub/b.md"]);
    }

    /// Outside a git repository, a .gitignore above the project does not hide its posts.
    #[test]
    fn outside_git_a_gitignore_above_the_project_does_not_apply() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outer = dir.path();
        let root = outer.join("site");
        write_all(outer, &[(".gitignore", "*.md\n"), ("site/content/a.md", "x"), ("site/content/.ignore", "a.md\n")]);
        assert_eq!(found(&root), ["content/a.md"]);
    }

    /// A content folder whose name starts with `_` (`_posts`) is still searched.
    #[test]
    fn a_content_folder_named_with_an_underscore_is_searched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write_all(root, &[("_posts/a.md", "x"), ("_posts/_b.md", "x")]);
        let got = discover(root, &root.join("_posts")).expect("discover");
        assert_eq!(got, [root.join("_posts/a.md")]);
    }
}
