//! A content repository opened for work: root, configuration, templates,
//! environment and caches shared by every post of a run.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::config::{self, Config};
use crate::env::Env;
use crate::error::Result;
use crate::keys::Catalog;
use crate::media_probe::{MediaInfo, probe_file};
use crate::render::Templates;

pub struct Project {
    pub root: PathBuf,
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub templates: Templates,
    pub env: Env,
    /// What the platforms declare: posts of this project are parsed against it.
    pub catalog: &'static Catalog,
    media: Mutex<HashMap<PathBuf, Result<MediaInfo, String>>>,
    /// Whether a media path resolves inside the repository, per path.
    inside: Mutex<HashMap<PathBuf, bool>>,
    canonical_root: OnceLock<Option<PathBuf>>,
    tracked: OnceLock<Option<HashSet<String>>>,
    git_head: OnceLock<Option<(String, Option<String>)>>,
}

impl Project {
    pub fn open(root: &Path, config_file: Option<&Path>, env: Env, catalog: &'static Catalog) -> Result<Self> {
        let loaded = config::load(root, config_file, catalog)?;
        let templates = Templates::load(root, &root.join(&loaded.config.templates_dir));
        Ok(Self {
            root: root.to_path_buf(),
            config: loaded.config,
            config_path: loaded.path,
            templates,
            env,
            catalog,
            media: Mutex::new(HashMap::new()),
            inside: Mutex::new(HashMap::new()),
            canonical_root: OnceLock::new(),
            tracked: OnceLock::new(),
            git_head: OnceLock::new(),
        })
    }

    pub fn content_dir(&self) -> PathBuf {
        self.root.join(&self.config.content_dir)
    }

    /// Header facts of a media file, read once per run.
    pub fn probe(&self, abs: &Path) -> Result<MediaInfo, String> {
        if let Some(hit) = self.media.lock().ok().and_then(|m| m.get(abs).cloned()) {
            return hit;
        }
        let info = probe_file(abs).map_err(|e| e.to_string());
        if let Ok(mut m) = self.media.lock() {
            m.insert(abs.to_path_buf(), info.clone());
        }
        info
    }

    /// Whether `abs`, with every symlink on the way resolved, stays inside the
    /// repository (cached: many posts share media).
    pub fn is_inside_repo(&self, abs: &Path) -> bool {
        if let Some(&hit) = self.inside.lock().ok().as_ref().and_then(|m| m.get(abs)) {
            return hit;
        }
        let root = self.canonical_root.get_or_init(|| self.root.canonicalize().ok());
        let inside = abs.canonicalize().ok().zip(root.as_ref()).is_some_and(|(target, root)| target.starts_with(root));
        if let Ok(mut m) = self.inside.lock() {
            m.insert(abs.to_path_buf(), inside);
        }
        inside
    }

    /// Whether git tracks `rel` (repo-relative); `None` outside a git repository.
    pub fn is_tracked(&self, rel: &str) -> Option<bool> {
        let set = self.tracked.get_or_init(|| {
            let repo = git2::Repository::open(&self.root).ok()?;
            let index = repo.index().ok()?;
            Some(index.iter().map(|e| String::from_utf8_lossy(&e.path).into_owned()).collect())
        });
        set.as_ref().map(|s| s.contains(rel))
    }

    /// HEAD commit and branch, from GitHub Actions variables or the repository.
    fn head(&self) -> Option<&(String, Option<String>)> {
        self.git_head
            .get_or_init(|| {
                if let Some(sha) = self.env.get("GITHUB_SHA") {
                    return Some((sha.to_owned(), self.env.get("GITHUB_REF_NAME").map(str::to_owned)));
                }
                let repo = git2::Repository::open(&self.root).ok()?;
                let head = repo.head().ok()?;
                let sha = head.peel_to_commit().ok()?.id().to_string();
                let branch = if head.is_branch() { head.shorthand().ok().map(str::to_owned) } else { None };
                Some((sha, branch))
            })
            .as_ref()
    }

    /// The public URL of a repository file, if one can be formed: from
    /// `media.base_url` (`{sha}`, `{branch}` substituted), or inside GitHub
    /// Actions from raw.githubusercontent.com.
    pub fn public_url(&self, rel: &str) -> Option<String> {
        let rel = rel.trim_start_matches('/');
        if let Some(base) = &self.config.media.base_url {
            let mut base = base.clone();
            if base.contains("{sha}") || base.contains("{branch}") {
                let (sha, branch) = self.head()?;
                base = base.replace("{sha}", sha);
                if base.contains("{branch}") {
                    base = base.replace("{branch}", branch.as_deref()?);
                }
            }
            if !base.ends_with('/') {
                base.push('/');
            }
            return Some(format!("{base}{}", encode_path(rel)));
        }
        let repo = self.env.get("GITHUB_REPOSITORY")?;
        let sha = self.env.get("GITHUB_SHA")?;
        Some(format!("https://raw.githubusercontent.com/{repo}/{sha}/{}", encode_path(rel)))
    }
}

fn encode_path(rel: &str) -> String {
    let mut out = String::with_capacity(rel.len());
    for b in rel.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_from_config_or_actions() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("crier.yaml"), "media:\n  base_url: https://cdn.example/{sha}\n")
            .expect("write");
        let p =
            Project::open(dir.path(), None, Env::from_pairs([("GITHUB_SHA", "abc123")]), crate::platforms::catalog())
                .expect("open");
        assert_eq!(p.public_url("media/a b.png").as_deref(), Some("https://cdn.example/abc123/media/a%20b.png"));

        let dir2 = tempfile::tempdir().expect("tempdir");
        let env = Env::from_pairs([("GITHUB_REPOSITORY", "me/site"), ("GITHUB_SHA", "def")]);
        let p2 = Project::open(dir2.path(), None, env, crate::platforms::catalog()).expect("open");
        assert_eq!(
            p2.public_url("media/x.png").as_deref(),
            Some("https://raw.githubusercontent.com/me/site/def/media/x.png")
        );

        let p3 = Project::open(dir2.path(), None, Env::default(), crate::platforms::catalog()).expect("open");
        assert_eq!(p3.public_url("media/x.png"), None);
    }
}
