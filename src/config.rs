//! `crier.yaml`: optional, every key optional, unknown keys are errors.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, SourceFile};
use crate::error::{Error, Result};
use crate::keys::{self, Catalog, Place, Sections};
use crate::platform_id::PlatformId;
use crate::yaml::{self, Embedded};

pub const FILE_NAME: &str = "crier.yaml";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(title = "crier.yaml", description = "crier's configuration: every key is optional.")]
pub struct Config {
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<Defaults>")]
    pub defaults: Defaults,
    /// Free values handed to every template as `config.vars`.
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub vars: serde_json::Map<String, serde_json::Value>,
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<MediaConfig>")]
    pub media: MediaConfig,
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<SiteConfig>")]
    pub site: SiteConfig,
    /// Folder holding the posts, relative to the repository root.
    pub content_dir: String,
    /// Folder holding template overrides, relative to the repository root.
    pub templates_dir: String,
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<PublishConfig>")]
    pub publish: PublishConfig,
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<GitConfig>")]
    pub git: GitConfig,
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(with = "Option<StatsConfig>")]
    pub stats: StatsConfig,
    /// Each platform's section, as the platform declares it.
    #[serde(skip)]
    pub sections: Sections,
}

/// `stats:`: where `crier stats --record` keeps the history.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// JSON Lines file the engagement history is appended to, relative to the repository root.
    pub file: String,
    /// Read X's numbers too (X charges for every post read, $0.005 each).
    pub x: bool,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self { file: ".crier/stats.jsonl".to_owned(), x: false }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GitConfig {
    /// Author of the record commits when git config has no identity.
    pub author_name: Option<String>,
    pub author_email: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Where posts go when they do not list `platforms` themselves.
    #[schemars(with = "Vec<keys::PlatformName>")]
    pub platforms: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Public URL prefix for repository files; `{sha}` and `{branch}` are substituted.
    pub base_url: Option<String>,
}

/// `site:` in crier.yaml: the website the posts' relative links belong to.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// What relative links (`/docs/x`, `#setup`) are made absolute against.
    pub base_url: Option<String>,
}

impl Config {
    /// `site.base_url` (checked when loaded to be an absolute http(s) URL).
    pub fn site_url(&self) -> Option<url::Url> {
        self.site.base_url.as_deref().and_then(site_url)
    }
}

fn site_url(raw: &str) -> Option<url::Url> {
    url::Url::parse(raw.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// At most this many posts are published by one run (a safety net).
    pub max_per_run: u32,
    /// At most this many edits in place (published posts changed since) by one run.
    pub max_edits_per_run: u32,
    /// Total time one API request may spend waiting between retries.
    pub max_retry_wait_secs: u64,
    /// First retry delay when the server gives no `Retry-After` (it doubles).
    pub retry_initial_delay_ms: u64,
    /// Timeout of one HTTP exchange.
    pub request_timeout_secs: u64,
    /// How long to wait for a platform to process uploaded media.
    pub processing_timeout_secs: u64,
    /// How often to ask whether media processing is done.
    pub poll_interval_ms: u64,
    /// Minimum time between two writes to a platform that limits their rate.
    pub write_interval_ms: u64,
    /// At most this many US dollars spent on X by one run (a safety net): what would
    /// exceed it waits for a later run.
    pub x_max_cost_per_run: Option<f64>,
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self {
            max_per_run: 10,
            max_edits_per_run: 10,
            max_retry_wait_secs: 120,
            retry_initial_delay_ms: 1000,
            request_timeout_secs: 30,
            processing_timeout_secs: 300,
            poll_interval_ms: 5000,
            write_interval_ms: 1000,
            x_max_cost_per_run: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            defaults: Defaults::default(),
            vars: serde_json::Map::new(),
            media: MediaConfig::default(),
            site: SiteConfig::default(),
            content_dir: "content".to_owned(),
            templates_dir: "templates".to_owned(),
            publish: PublishConfig::default(),
            git: GitConfig::default(),
            stats: StatsConfig::default(),
            sections: Sections::default(),
        }
    }
}

/// A section holding only comments (`media:` with nothing under it) is null
/// in YAML; treat it like an absent one.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The keys of [`Config`] (serde's struct fields, for the YAML deserializer).
const KEYS: &[&str] = &["defaults", "vars", "media", "site", "content_dir", "templates_dir", "publish", "git", "stats"];

/// The JSON Schema of crier.yaml: the generic keys and every platform's section.
pub fn schema(catalog: &Catalog) -> schemars::Schema {
    catalog.schema::<Config>(Place::Config)
}

/// The loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

/// Loads `explicit` (which must exist) or `root/crier.yaml` (which may not).
pub fn load(root: &Path, explicit: Option<&Path>, catalog: &Catalog) -> Result<Loaded> {
    let path = match explicit {
        Some(p) => {
            let p = if p.is_absolute() { p.to_path_buf() } else { root.join(p) };
            if !p.exists() {
                return Err(Error::usage(format!("config file `{}` does not exist", p.display())));
            }
            p
        }
        None => {
            let p = root.join(FILE_NAME);
            // Only a crier.yaml that is not there at all means the defaults: a folder, or a
            // link to nothing, is a mistake, not "no configuration".
            if std::fs::symlink_metadata(&p).is_err() {
                return Ok(Loaded { config: Config::default(), path: None });
            }
            p
        }
    };
    if !path.is_file() {
        let what = match std::fs::read_link(&path) {
            Ok(to) if !path.exists() => format!("a symbolic link to `{}`, which does not exist", to.display()),
            _ => "not a file".to_owned(),
        };
        return Err(Error::Env { message: format!("the configuration `{}` is {what}", path.display()) });
    }
    let text = std::fs::read(&path).map_err(|e| Error::io(format!("cannot read `{}`", path.display()), e))?;
    let display = crate::content::relative_display(root, &path);
    let fail = |d: Diagnostic| Error::Config { path: path.clone(), diagnostics: vec![d] };
    let text = String::from_utf8(text)
        .map_err(|_| fail(Diagnostic::error("not-utf8", "the file is not valid UTF-8").in_file(&display)))?;
    let source = SourceFile::new(display.clone(), text.as_str());
    let config = if text.trim().is_empty() {
        Config::default()
    } else {
        let seed = catalog.seed::<Config>(Place::Config, "Config", KEYS);
        let known = || yaml::KnownKeys { kind: "config", core: KEYS, places: keys::key_places(&schema(catalog)) };
        let (mut config, sections): (Config, _) =
            yaml::parse_seed(&text, &source, Embedded { offset: 0 }, seed, &known).map_err(fail)?;
        config.sections = sections;
        config
    };
    let at = || Positions::of(&text);
    for (i, name) in config.defaults.platforms.iter().enumerate() {
        if PlatformId::parse(name).is_none() {
            let span = at().defaults.and_then(|d| d.platforms?.get(i).map(|p| span(&p.referenced)));
            return Err(fail(
                Diagnostic::error("unknown-platform", format!("unknown platform `{name}` in defaults.platforms"))
                    .at(&source, span.unwrap_or(0..0))
                    .with_hint(PlatformId::hint_for(name)),
            ));
        }
    }
    if let Some(raw) = config.site.base_url.as_deref().filter(|raw| site_url(raw).is_none()) {
        let span = at().site.and_then(|s| s.base_url).map(|v| span(&v.referenced)).unwrap_or(0..0);
        return Err(fail(
            Diagnostic::error("config-site-url", format!("`site.base_url` is `{raw}`, not an absolute http(s) URL"))
                .at(&source, span)
                .with_hint(
                    "write the address of the site the posts' relative links belong to, e.g. `https://example.com/`",
                ),
        ));
    }
    for (key, dir) in [("content_dir", &config.content_dir), ("templates_dir", &config.templates_dir)] {
        if Path::new(dir).is_absolute()
            || Path::new(dir).components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            let positions = at();
            let value = if key == "content_dir" { positions.content_dir } else { positions.templates_dir };
            return Err(fail(
                Diagnostic::error(
                    "config-path",
                    format!("`{key}` must be a folder inside the repository, found `{dir}`"),
                )
                .at(&source, value.map_or(0..0, |v| span(&v.referenced)))
                .with_hint("use a relative path such as `content`"),
            ));
        }
    }
    Ok(Loaded { config, path: Some(path) })
}

/// Where the values [`load`] checks after parsing sit in crier.yaml: a second, lenient
/// parse, made only when one of them is wrong (searching the text for the value would
/// find it in a comment first).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Positions {
    defaults: Option<DefaultsAt>,
    site: Option<SiteAt>,
    content_dir: Option<Spanned<String>>,
    templates_dir: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DefaultsAt {
    platforms: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SiteAt {
    base_url: Option<Spanned<String>>,
}

impl Positions {
    fn of(text: &str) -> Self {
        serde_saphyr::from_str(text).unwrap_or_default()
    }
}

/// The bytes of crier.yaml a parsed value came from.
fn span(loc: &serde_saphyr::Location) -> std::ops::Range<usize> {
    let span = loc.span();
    let start = span.byte_offset().unwrap_or(0) as usize;
    start..start + span.byte_len().unwrap_or(0) as usize
}

/// The folder the posts are looked for in (`content_dir` under `root`); none when it is
/// the default `content` and does not exist: no posts yet (git keeps no empty folder, so
/// a repository whose last post was deleted has none, and its scheduled runs must not
/// fail). Any other folder `content_dir` names must exist: a misspelt one would
/// otherwise check and publish nothing, saying all is well (exit 2, pointing at the key).
pub fn content_folder(root: &Path, config: &Config, config_path: Option<&Path>) -> Result<Option<PathBuf>> {
    let dir = root.join(&config.content_dir);
    if dir.is_dir() {
        return Ok(Some(dir));
    }
    let exists = dir.exists();
    let default = config.content_dir == Config::default().content_dir;
    if default && !exists {
        return Ok(None);
    }
    let (code, problem) = if exists {
        ("content-dir-not-a-folder", "is not a folder")
    } else {
        ("content-dir-missing", "does not exist")
    };
    let message = format!("the content folder `{}` {problem}", config.content_dir);
    let hint = "create it, or set `content_dir` in crier.yaml to the folder the posts are in";
    let Some(path) = config_path.filter(|_| !default) else {
        return Err(Error::Env { message: format!("{message} (`content_dir`, default `content`); {hint}") });
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let source = SourceFile::new(crate::content::relative_display(root, path), text.as_str());
    let at = Positions::of(&text).content_dir.map_or(0..0, |v| span(&v.referenced));
    Err(Error::Config {
        path: path.to_path_buf(),
        diagnostics: vec![Diagnostic::error(code, message).at(&source, at).with_hint(hint)],
    })
}

/// The one diagnostic a `crier.yaml` that does not load stops at (for tests: `loaded` is
/// the loading of `yaml`).
#[cfg(test)]
pub(crate) fn mistake<T: std::fmt::Debug>(loaded: Result<T>, yaml: &str) -> Diagnostic {
    match loaded {
        Err(Error::Config { mut diagnostics, .. }) if !diagnostics.is_empty() => diagnostics.swap_remove(0),
        other => panic!("{yaml}: expected a config error, got {other:?}"),
    }
}

/// A `crier.yaml` and the diagnostic it fails with: `(yaml, code, (line, column), hint)`.
#[cfg(test)]
pub(crate) type Mistake<'a> = (&'a str, &'a str, (usize, usize), Option<&'a str>);

/// Tests of a platform's section: each case fails to load with its diagnostic (and its
/// "did you mean" hint, when one is given).
#[cfg(test)]
pub(crate) fn assert_mistakes(load: impl Fn(&str) -> Result<Config>, cases: &[Mistake<'_>]) {
    for &(yaml, code, at, hint) in cases {
        let d = mistake(load(yaml), yaml);
        assert_eq!((d.code, (d.line, d.column)), (code, at), "{yaml}: {d:?}");
        if hint.is_some() {
            assert_eq!(d.hint.as_deref(), hint, "{yaml}");
        }
    }
}

/// The section `T` of a `crier.yaml` that loads (its defaults when the file has none).
#[cfg(test)]
pub(crate) fn section<T: keys::Options + Default + Clone>(loaded: Result<Config>) -> T {
    loaded.expect("valid").sections.get_or_default::<T>().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(yaml: &str) -> Result<Loaded> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE_NAME), yaml).expect("write");
        load(dir.path(), None, &Catalog::default())
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loaded = load(dir.path(), None, &Catalog::default()).expect("defaults");
        assert_eq!(loaded.config.content_dir, "content");
        assert_eq!(loaded.config.publish.max_per_run, 10);
        assert!(loaded.path.is_none());
    }

    #[test]
    fn empty_sections_are_defaults() {
        let c = load_str("defaults:\nmedia:\n  # base_url: x\npublish:\nvars:\n").expect("valid").config;
        assert!(c.media.base_url.is_none());
        assert_eq!(c.publish.max_per_run, 10);
        assert!(c.defaults.platforms.is_empty());
    }

    #[test]
    fn reads_every_key() {
        let c = load_str(
            "defaults:\n  platforms: [threads, devto]\nvars:\n  site: https://x.dev\nmedia:\n  base_url: https://cdn/{sha}/\ncontent_dir: posts\ntemplates_dir: tpl\npublish:\n  max_per_run: 3\n",
        )
        .expect("valid")
        .config;
        assert_eq!(c.defaults.platforms, ["threads", "devto"]);
        assert_eq!(c.vars["site"], "https://x.dev");
        assert_eq!(c.media.base_url.as_deref(), Some("https://cdn/{sha}/"));
        assert_eq!((c.content_dir.as_str(), c.templates_dir.as_str()), ("posts", "tpl"));
        assert_eq!(c.publish.max_per_run, 3);
        let c = load_str("site:\n  base_url: https://example.com/blog/\n").expect("valid").config;
        assert_eq!(c.site_url().map(String::from).as_deref(), Some("https://example.com/blog/"));
    }

    #[cfg(unix)]
    #[test]
    fn a_crier_yaml_that_is_not_a_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join(FILE_NAME)).expect("mkdir");
        let err = load(dir.path(), None, &Catalog::default()).expect_err("a folder");
        assert!(err.to_string().contains("crier.yaml") && err.to_string().contains("not a file"), "{err}");
        let dangling = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink("gone.yaml", dangling.path().join(FILE_NAME)).expect("symlink");
        let err = load(dangling.path(), None, &Catalog::default()).expect_err("a dangling link");
        assert!(err.to_string().contains("gone.yaml"), "{err}");
    }

    #[test]
    fn the_content_folder_must_exist_unless_it_is_the_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join(FILE_NAME);
        let yaml = "# content_dir: posts\ncontent_dir: postz\n";
        std::fs::write(&config_path, yaml).expect("write");
        let loaded = load(dir.path(), None, &Catalog::default()).expect("valid");
        let d = mistake(content_folder(dir.path(), &loaded.config, loaded.path.as_deref()), yaml);
        assert_eq!((d.code, d.line, d.column), ("content-dir-missing", 2, 14), "{d:?}");
        assert!(d.message.contains("postz"), "{d:?}");
        std::fs::create_dir(dir.path().join("postz")).expect("mkdir");
        let found = content_folder(dir.path(), &loaded.config, loaded.path.as_deref()).expect("exists");
        assert_eq!(found, Some(dir.path().join("postz")));
        // The default missing: no posts yet (git keeps no empty folder).
        let fresh = tempfile::tempdir().expect("tempdir");
        let none = content_folder(fresh.path(), &Config::default(), None).expect("default");
        assert_eq!(none, None);
        // A file where the folder should be is an error, the default too.
        std::fs::write(fresh.path().join("content"), "x").expect("write");
        assert!(content_folder(fresh.path(), &Config::default(), None).is_err());
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let cases: &[(&str, &str, usize, usize)] = &[
            ("defaults:\n  platform: [threads]\n", "unknown-key", 2, 3),
            ("defaults:\n  platforms: [threads, tiktok]\n", "unknown-platform", 2, 24),
            ("publish:\n  max_per_run: many\n", "yaml-type", 2, 16),
            ("content_dir: ../elsewhere\n", "config-path", 1, 14),
            // A comment that mentions the value first is not the value.
            ("# twitter is gone\ndefaults:\n  platforms: [threads, twitter]\n", "unknown-platform", 3, 24),
            ("# base_url: /docs was wrong\nsite:\n  base_url: /docs\n", "config-site-url", 3, 13),
            ("# content_dir: ../x\ncontent_dir: ../elsewhere\n", "config-path", 2, 14),
            ("# templates_dir: tpl\ncontent_dir: posts\ntemplates_dir: /abs\n", "config-path", 3, 16),
            ("site:\n  base_url: /docs\n", "config-site-url", 2, 13),
            ("site:\n  base_url: ftp://example.com/\n", "config-site-url", 2, 13),
        ];
        for (yaml, code, line, col) in cases {
            let d = mistake(load_str(yaml), yaml);
            assert_eq!((d.code, d.line, d.column), (*code, *line, *col), "{yaml}: {d:?}");
            assert_eq!(d.file, "crier.yaml");
        }
    }
}
