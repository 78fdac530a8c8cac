//! Templates: a built-in default for every platform is embedded in the binary;
//! any `templates/**/*.hbs` file overrides one of them or adds a new one (usable
//! by name, or as a partial `{{> name}}`). Output is plain text:
//! nothing is ever HTML-escaped, and strict mode turns a misspelt variable
//! into an error that names the template, line and column.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError, RenderErrorReason,
};
use unicode_segmentation::UnicodeSegmentation;

use crate::content::relative_display;
use crate::diag::{Diagnostic, SourceFile};
use crate::platform_id::NAMES;

/// Every platform's built-in template: it adds nothing to the text rendered for the
/// platform (the contract's "built-in templates add nothing"), so one text serves every
/// name in [`NAMES`] and a new platform needs no template of its own.
const BUILTIN: &str = "{{text}}";

/// Where a template came from, for diagnostics.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    /// `templates/x.hbs`, or `<built-in x>`.
    pub display: String,
    pub file: Option<Arc<SourceFile>>,
}

pub struct Templates {
    hb: Handlebars<'static>,
    sources: BTreeMap<String, TemplateSource>,
    /// Templates whose file failed to load; their error is reported once.
    broken: HashSet<String>,
    /// Problems found while loading (syntax errors).
    pub diagnostics: Vec<Diagnostic>,
    /// Per template: the `published.<platform>` names and the partials it mentions.
    mentions: BTreeMap<String, Mentions>,
}

#[derive(Debug, Default, Clone)]
struct Mentions {
    published: BTreeSet<String>,
    partials: BTreeSet<String>,
}

impl Mentions {
    /// Scans template text for `published.<name>` (also `published/<name>` and
    /// `published.[<name>]`) and `{{> partial}}`. A scan, not a parse: it may see a
    /// mention inside a comment, which only makes a post wait for a platform it could
    /// have done without.
    fn scan(text: &str) -> Self {
        let ident = |s: &str| -> String {
            s.trim_start_matches('[')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        };
        let mut m = Self::default();
        for (i, _) in text.match_indices("published") {
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[i + "published".len()..];
            if let Some(after) = rest.strip_prefix('.').or_else(|| rest.strip_prefix('/')) {
                let name = ident(after);
                if !name.is_empty() {
                    m.published.insert(name);
                }
            }
        }
        for (i, _) in text.match_indices("{{>") {
            let name: String = text[i + 3..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.'))
                .collect();
            if !name.is_empty() {
                m.partials.insert(name);
            }
        }
        m
    }
}

/// Why rendering a post with a template failed.
#[derive(Debug)]
pub enum TemplateFailure {
    /// The template itself is broken; its diagnostic was reported at load.
    AlreadyReported,
    Error(Box<Diagnostic>),
}

impl Templates {
    fn registry() -> Handlebars<'static> {
        let mut hb = Handlebars::new();
        hb.register_escape_fn(handlebars::no_escape);
        hb.set_strict_mode(true);
        let helpers: [(&str, HelperFn); 5] = [
            ("truncate", truncate_helper),
            ("hashtags", hashtags_helper),
            ("lower", |h| Ok(param_str(h, 0, "lower")?.to_lowercase())),
            ("upper", |h| Ok(param_str(h, 0, "upper")?.to_uppercase())),
            ("join", join_helper),
        ];
        for (name, f) in helpers {
            hb.register_helper(name, Box::new(TextHelper(f)));
        }
        hb
    }

    /// Built-ins only.
    pub fn builtin() -> Self {
        let mut hb = Self::registry();
        let mut sources = BTreeMap::new();
        let mut mentions = BTreeMap::new();
        for name in NAMES {
            // The built-in is tested; a failure here is a bug in crier.
            if hb.register_template_string(name, BUILTIN).is_ok() {
                mentions.insert((*name).to_owned(), Mentions::scan(BUILTIN));
                sources
                    .insert((*name).to_owned(), TemplateSource { display: format!("<built-in {name}>"), file: None });
            }
        }
        Self { hb, sources, broken: HashSet::new(), diagnostics: Vec::new(), mentions }
    }

    /// Built-ins, overridden and extended by `dir/**/*.hbs`.
    pub fn load(root: &Path, dir: &Path) -> Self {
        let mut t = Self::builtin();
        if !dir.is_dir() {
            return t;
        }
        let mut files = Vec::new();
        collect_hbs(dir, &mut files, 0);
        files.sort();
        for path in files {
            let Some(name) = path.strip_prefix(dir).ok().map(|rel| {
                let s = relative_display(Path::new(""), &rel.with_extension(""));
                s.trim_start_matches('/').to_owned()
            }) else {
                continue;
            };
            let display = relative_display(root, &path);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    t.diagnostics.push(
                        Diagnostic::error("template-unreadable", format!("cannot read template: {e}"))
                            .in_file(&display),
                    );
                    t.broken.insert(name.clone());
                    // Its problem is found by its file (`diagnostics_of`).
                    t.sources.insert(name, TemplateSource { display, file: None });
                    continue;
                }
            };
            t.mentions.insert(name.clone(), Mentions::scan(&text));
            let file = Arc::new(SourceFile::new(display.clone(), text.as_str()));
            match t.hb.register_template_string(&name, &text) {
                Ok(()) => {}
                Err(e) => {
                    let (line, col) = e.pos().unwrap_or((1, 1));
                    let at = file.offset_of(line, col);
                    t.diagnostics.push(
                        Diagnostic::error(
                            "template-syntax",
                            format!("template `{name}` does not parse: {}", e.reason()),
                        )
                        .at(&file, at..at + 1)
                        .with_hint("check the `{{ }}` tags near the marked position"),
                    );
                    t.broken.insert(name.clone());
                    t.hb.unregister_template(&name);
                }
            }
            t.sources.insert(name, TemplateSource { display, file: Some(file) });
        }
        t
    }

    pub fn has(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    pub fn source(&self, name: &str) -> Option<&TemplateSource> {
        self.sources.get(name)
    }

    /// The platforms whose `published.<platform>.url` template `name` (or a partial it
    /// includes) uses: a post rendered with it waits for them.
    pub fn linked_platforms(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(t) = todo.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            if let Some(m) = self.mentions.get(&t) {
                out.extend(m.published.iter().cloned());
                todo.extend(m.partials.iter().cloned());
            }
        }
        out
    }

    /// The load problems (syntax errors, unreadable files) of the templates `names` and
    /// of the partials they include: what a post rendered with them cannot get past.
    pub fn diagnostics_of<'a>(&'a self, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a Diagnostic> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = names.into_iter().map(str::to_owned).collect();
        let mut files = BTreeSet::new();
        while let Some(t) = todo.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            if let Some(src) = self.sources.get(&t) {
                files.insert(src.display.as_str());
            }
            if let Some(m) = self.mentions.get(&t) {
                todo.extend(m.partials.iter().cloned());
            }
        }
        self.diagnostics.iter().filter(|d| files.contains(d.file.as_str())).collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// Renders `name` with `ctx`. `post` and `platform` name the post in errors.
    pub fn render(
        &self,
        name: &str,
        ctx: &serde_json::Value,
        post: &str,
        platform: &str,
    ) -> Result<String, TemplateFailure> {
        self.render_with_context(name, &Context::from(ctx.clone()), post, platform)
    }

    /// Like [`Templates::render`], with a context the caller owns and may
    /// reuse (and update between renders) without converting it again.
    pub fn render_with_context(
        &self,
        name: &str,
        ctx: &Context,
        post: &str,
        platform: &str,
    ) -> Result<String, TemplateFailure> {
        if self.broken.contains(name) {
            return Err(TemplateFailure::AlreadyReported);
        }
        self.hb
            .render_with_context(name, ctx)
            .map_err(|e| TemplateFailure::Error(Box::new(self.render_error(name, &e, post, platform))))
    }

    fn render_error(&self, name: &str, e: &RenderError, post: &str, platform: &str) -> Diagnostic {
        // The error may come from a partial: report the template it names.
        let failing = e.template_name.clone().unwrap_or_else(|| name.to_owned());
        let reason = match e.reason() {
            RenderErrorReason::MissingVariable(Some(var)) => format!("unknown variable `{var}`"),
            RenderErrorReason::MissingVariable(None) => "unknown variable".to_owned(),
            RenderErrorReason::PartialNotFound(p) => format!("partial `{p}` not found"),
            other => other.to_string(),
        };
        let message = format!("template `{failing}` failed while rendering {post} for {platform}: {reason}");
        let hint = match e.reason() {
            RenderErrorReason::MissingVariable(_) => {
                "templates run in strict mode; available: title, text, body, tags, vars, config.vars, platform, part, published.<platform>.url and every post key"
            }
            _ => "fix the template, or the post's data it uses",
        };
        let source = self.sources.get(&failing);
        match (source.and_then(|s| s.file.as_ref()), e.line_no, e.column_no) {
            (Some(file), Some(line), Some(col)) => {
                let at = file.offset_of(line, col);
                let end = file.text[at..].find("}}").map_or(at + 1, |i| at + i + 2);
                Diagnostic::error("template-render", message).at(file, at..end).with_hint(hint)
            }
            _ => {
                let display = source.map_or_else(|| post.to_owned(), |s| s.display.clone());
                let mut d = Diagnostic::error("template-render", message).in_file(&display).with_hint(hint);
                if let (Some(line), Some(col)) = (e.line_no, e.column_no) {
                    d.line = line;
                    d.column = col;
                }
                d
            }
        }
    }
}

fn collect_hbs(dir: &Path, out: &mut Vec<std::path::PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_hbs(&path, out, depth + 1),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "hbs") => out.push(path),
            _ => {}
        }
    }
}

/// A built-in helper: the text it writes, made from its parameters.
type HelperFn = fn(&Helper<'_>) -> Result<String, RenderError>;

/// Registers a [`HelperFn`] with Handlebars: writes what it makes.
struct TextHelper(HelperFn);

impl HelperDef for TextHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        out.write(&(self.0)(h)?)?;
        Ok(())
    }
}

fn param_str(h: &Helper<'_>, i: usize, helper: &str) -> Result<String, RenderError> {
    let v = h.param(i).ok_or_else(|| {
        RenderErrorReason::Other(format!("`{helper}` needs a value, for example `{{{{{helper} title}}}}`"))
    })?;
    Ok(match v.value() {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `{{truncate text 100}}` or `{{truncate text 100 "…"}}`: at most N graphemes
/// (never cutting inside an emoji or accent), the suffix included.
fn truncate_helper(h: &Helper<'_>) -> Result<String, RenderError> {
    let text = param_str(h, 0, "truncate")?;
    let max = h.param(1).and_then(|p| p.value().as_u64()).ok_or_else(|| {
        RenderErrorReason::Other("`truncate` needs a length, for example `{{truncate text 280}}`".to_owned())
    })?;
    let suffix = h.param(2).and_then(|p| p.value().as_str()).unwrap_or("…");
    Ok(truncate_graphemes(&text, usize::try_from(max).unwrap_or(usize::MAX), suffix))
}

pub fn truncate_graphemes(text: &str, max: usize, suffix: &str) -> String {
    // A grapheme is at least one byte, so short texts fit without counting;
    // otherwise only the first `max + 1` graphemes decide whether it fits.
    if text.len() <= max || grapheme_prefix_len(text, max + 1).is_none() {
        return text.to_owned();
    }
    let keep = max.saturating_sub(suffix.graphemes(true).count());
    let end = grapheme_prefix_len(text, keep).unwrap_or(text.len());
    let mut out = text[..end].trim_end().to_owned();
    out.push_str(suffix);
    out
}

/// The byte length of the first `n` graphemes of `text`, or `None` if it has
/// fewer than `n`.
fn grapheme_prefix_len(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    if text.is_ascii() {
        // In ASCII text every byte is a grapheme, except that CR LF is one.
        let bytes = text.as_bytes();
        let (mut at, mut count) = (0, 0);
        while at < bytes.len() {
            at += if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { 2 } else { 1 };
            count += 1;
            if count == n {
                return Some(at);
            }
        }
        return None;
    }
    text.grapheme_indices(true).nth(n - 1).map(|(i, g)| i + g.len())
}

/// `{{hashtags tags}}`: `#rust #opensource` (spaces and punctuation dropped).
fn hashtags_helper(h: &Helper<'_>) -> Result<String, RenderError> {
    let v = h.param(0).map(|p| p.value().clone()).unwrap_or(serde_json::Value::Null);
    let tags: Vec<String> = match v {
        serde_json::Value::Array(items) => items.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        serde_json::Value::String(s) => s.split([',', ' ']).map(str::to_owned).collect(),
        serde_json::Value::Null => Vec::new(),
        _ => {
            return Err(RenderErrorReason::Other(
                "`hashtags` needs a list of tags, for example `{{hashtags tags}}`".to_owned(),
            )
            .into());
        }
    };
    Ok(hashtags(&tags))
}

pub fn hashtags(tags: &[String]) -> String {
    tags.iter()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
        .filter(|t| !t.is_empty())
        .map(|t| format!("#{t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `{{join tags ", "}}` (the separator defaults to `, `).
fn join_helper(h: &Helper<'_>) -> Result<String, RenderError> {
    let sep = h.param(1).and_then(|p| p.value().as_str()).unwrap_or(", ");
    let v = h.param(0).map(|p| p.value().clone()).unwrap_or(serde_json::Value::Null);
    let joined = match v {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(sep),
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        _ => {
            return Err(
                RenderErrorReason::Other("`join` needs a list, for example `{{join tags \", \"}}`".to_owned()).into()
            );
        }
    };
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(tpl: &str, ctx: &serde_json::Value) -> Result<String, TemplateFailure> {
        let dir = tempfile::tempdir().expect("tempdir");
        let tdir = dir.path().join("templates");
        std::fs::create_dir_all(tdir.join("partials")).expect("mkdir");
        std::fs::write(tdir.join("t.hbs"), tpl).expect("write");
        std::fs::write(tdir.join("partials/sig.hbs"), "— {{vars.name}}").expect("write");
        let t = Templates::load(dir.path(), &tdir);
        assert!(t.diagnostics.is_empty(), "{:?}", t.diagnostics);
        t.render("t", ctx, "content/p.md", "threads")
    }

    #[test]
    fn linked_platforms_follow_partials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tdir = dir.path().join("templates");
        std::fs::create_dir_all(tdir.join("partials")).expect("mkdir");
        std::fs::write(tdir.join("teaser.hbs"), "{{text}}\n{{> partials/link}}").expect("write");
        std::fs::write(tdir.join("partials/link.hbs"), "Read: {{published.devto.url}} {{published/bluesky.url}}")
            .expect("write");
        std::fs::write(tdir.join("plain.hbs"), "{{text}} {{#if unpublished}}x{{/if}}").expect("write");
        let t = Templates::load(dir.path(), &tdir);
        let names = |n: &str| t.linked_platforms(n).into_iter().collect::<Vec<_>>();
        assert_eq!(names("teaser"), ["bluesky", "devto"]);
        assert!(names("plain").is_empty());
        assert!(names("threads").is_empty(), "the built-ins link nothing");
    }

    #[test]
    fn helpers_and_partials() {
        let ctx =
            json!({"text": "Tom & Jerry <3 it's", "tags": ["rust", "open source", "CLI"], "vars": {"name": "Ann"}});
        let cases = [
            ("{{text}}", "Tom & Jerry <3 it's"),
            ("{{hashtags tags}}", "#rust #opensource #CLI"),
            ("{{lower text}}", "tom & jerry <3 it's"),
            ("{{upper vars.name}}", "ANN"),
            ("{{join tags}}", "rust, open source, CLI"),
            ("{{join tags \" / \"}}", "rust / open source / CLI"),
            ("{{truncate text 8}}", "Tom & J…"),
            ("{{truncate text 100}}", "Tom & Jerry <3 it's"),
            ("{{> partials/sig}}", "— Ann"),
        ];
        for (tpl, want) in cases {
            let got = render(tpl, &ctx).map_err(|e| format!("{e:?}"));
            assert_eq!(got.as_deref(), Ok(want), "{tpl}");
        }
    }

    #[test]
    fn ascii_prefix_lengths_match_unicode_segmentation() {
        for text in ["", "a", "ab\r\ncd", "\r\n\r\n", "\r\r\n\n", "x\r", "tab\there\n\nend", "line\r\nnext\r"] {
            let graphemes: Vec<&str> = text.graphemes(true).collect();
            for n in 0..=graphemes.len() + 2 {
                let want = (n <= graphemes.len()).then(|| graphemes[..n].iter().map(|g| g.len()).sum::<usize>());
                assert_eq!(grapheme_prefix_len(text, n), want, "{text:?} {n}");
            }
        }
    }

    #[test]
    fn truncate_never_cuts_a_grapheme() {
        let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
        let s = format!("ab{family}🇫🇷e\u{301}xyz");
        assert_eq!(truncate_graphemes(&s, 4, ""), format!("ab{family}🇫🇷"));
        assert_eq!(truncate_graphemes(&s, 5, "…"), format!("ab{family}🇫🇷…"));
        assert_eq!(truncate_graphemes(&s, 50, "…"), s);
    }

    #[test]
    fn unknown_variable_names_template_line_and_column() {
        let err = render("line one\n  {{titel}}", &json!({"title": "x"})).expect_err("strict");
        let TemplateFailure::Error(d) = err else { panic!("expected a diagnostic") };
        assert_eq!(d.code, "template-render");
        assert_eq!((d.file.as_str(), d.line, d.column), ("templates/t.hbs", 2, 3));
        assert!(d.message.contains("`titel`") && d.message.contains("content/p.md"), "{}", d.message);
    }

    #[test]
    fn syntax_errors_are_reported_at_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tdir = dir.path().join("templates");
        std::fs::create_dir_all(&tdir).expect("mkdir");
        std::fs::write(tdir.join("threads.hbs"), "ok\n{{#if x}}never closed").expect("write");
        let t = Templates::load(dir.path(), &tdir);
        assert_eq!(t.diagnostics.len(), 1);
        assert_eq!(t.diagnostics[0].code, "template-syntax");
        assert_eq!(t.diagnostics[0].file, "templates/threads.hbs");
        assert!(matches!(t.render("threads", &json!({}), "p", "threads"), Err(TemplateFailure::AlreadyReported)));
    }

    #[test]
    fn builtins_render_text_exactly() {
        let t = Templates::builtin();
        let ctx = json!({"text": "a & b\n<c> 'd'"});
        for name in NAMES {
            assert_eq!(t.render(name, &ctx, "p", name).ok().as_deref(), Some("a & b\n<c> 'd'"));
        }
    }
}
