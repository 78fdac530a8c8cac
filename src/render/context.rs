//! The template context (contract section 3): every post key, plus `body`,
//! `text`, `platform`, `vars`, `config.vars`, `published.<platform>.url`, and
//! for Threads parts `part` (`number`, `count`, `first`, `last`).

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::content::Post;
use crate::platform_id::PlatformId;

/// The context shared by every platform and part of one post; callers add
/// `text`, `platform` and `part`.
pub fn base(
    post: &Post,
    config: &Config,
    targets: &[PlatformId],
    placeholder: &dyn Fn(PlatformId) -> String,
) -> Map<String, Value> {
    let mut ctx = match serde_json::to_value(&post.front) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if let Ok(Value::Object(options)) = serde_json::to_value(&post.options) {
        ctx.extend(options);
    }
    ctx.insert("body".to_owned(), Value::String(post.body.clone()));
    if ctx.get("vars").is_none_or(Value::is_null) {
        ctx.insert("vars".to_owned(), Value::Object(Map::new()));
    }
    if ctx.get("tags").is_none_or(Value::is_null) {
        ctx.insert("tags".to_owned(), Value::Array(Vec::new()));
    }
    ctx.insert("config".to_owned(), json!({ "vars": config.vars }));
    ctx.insert("slug".to_owned(), Value::String(post.slug.clone()));
    ctx.insert("path".to_owned(), Value::String(post.path.clone()));
    ctx.insert("published".to_owned(), Value::Object(published_urls(post, targets, placeholder)));
    ctx
}

/// `published.<platform>.url` for every platform that has a record, and a
/// placeholder of typical length for targets not published yet, so length
/// checks of a teaser that links the article stay meaningful.
pub fn published_urls(
    post: &Post,
    targets: &[PlatformId],
    placeholder: &dyn Fn(PlatformId) -> String,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(Value::Object(records)) = post.front.published.as_ref().map(|p| &p.value) {
        for (platform, record) in records {
            if let Some(url) = record.get("url").and_then(Value::as_str) {
                out.insert(platform.clone(), json!({ "url": url, "placeholder": false }));
            }
        }
    }
    for &p in targets {
        out.entry(p.name().to_owned()).or_insert_with(|| json!({ "url": placeholder(p), "placeholder": true }));
    }
    out
}

/// A URL slug of `title`: lower-case words joined by `-` (as dev.to makes them).
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{FileKind, parse_text};
    use std::path::PathBuf;

    #[test]
    fn context_holds_every_key_and_placeholders() {
        let post = parse_text(
            "content/p.md".into(),
            PathBuf::from("p.md"),
            FileKind::Markdown,
            "---\ntitle: Hello, World!\nvars: {a: 1}\npublished:\n  threads:\n    id: \"1\"\n    url: https://www.threads.com/@me/post/abc\n---\nbody\n",
            crate::platforms::catalog(),
        )
        .expect("valid");
        let mut config = Config::default();
        config.vars.insert("site".into(), json!("https://x.dev"));
        let targets: Vec<PlatformId> = ["threads", "devto"].into_iter().filter_map(PlatformId::parse).collect();
        let placeholder = |p: PlatformId| format!("https://{p}.example/ann/{}", slugify(&post.slug));
        let ctx = Value::Object(base(&post, &config, &targets, &placeholder));
        assert_eq!(ctx["title"], "Hello, World!");
        assert_eq!(ctx["body"], "body\n");
        assert_eq!(ctx["vars"]["a"], 1);
        assert_eq!(ctx["config"]["vars"]["site"], "https://x.dev");
        assert_eq!(ctx["draft"], Value::Null);
        assert_eq!(ctx["tags"], json!([]));
        assert_eq!(ctx["published"]["threads"]["url"], "https://www.threads.com/@me/post/abc");
        assert_eq!(ctx["published"]["devto"]["url"], "https://devto.example/ann/p");
        assert_eq!(ctx["published"]["devto"]["placeholder"], true);
        assert_eq!(ctx["published"]["threads"]["placeholder"], false);
    }
}
