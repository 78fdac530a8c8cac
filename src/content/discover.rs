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

/// Post files under `dir` (absolute paths, sorted).
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        // A user's global excludes must not change what CI publishes.
        .git_global(false)
        .require_git(false)
        .parents(true)
        .follow_links(false)
        .filter_entry(|e| e.depth() == 0 || !is_skipped_name(&e.file_name().to_string_lossy()))
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
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, "x").expect("write");
        }
        std::fs::write(root.join(".gitignore"), "content/ignored/\nbuild.md\n").expect("write");
        let found: Vec<String> = discover(&root.join("content"))
            .expect("discover")
            .iter()
            .map(|p| crate::content::relative_display(root, p))
            .collect();
        assert_eq!(found, ["content/a.yaml", "content/b.md", "content/sub/c.yml"]);
    }
}
