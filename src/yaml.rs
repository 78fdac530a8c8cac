//! YAML parsing shared by configuration and posts: serde-saphyr with tight
//! resource budgets, and its errors turned into diagnostics that point into
//! the whole file (front matter starts a few lines into a Markdown post).

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde_saphyr::{Budget, Options};

use crate::diag::{Diagnostic, SourceFile, did_you_mean};

/// Where a YAML document sits inside its file.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// Byte offset of the YAML text in the file.
    pub offset: usize,
}

fn options() -> Options {
    // Posts are small hand-written mappings: anything beyond these bounds is a
    // mistake or an attack (alias bombs, absurd nesting), never a real post.
    let mut budget = Budget::default();
    budget.max_depth = 64;
    budget.max_aliases = 256;
    budget.max_anchors = 256;
    budget.max_nodes = 200_000;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = 16 * 1024 * 1024;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options
}

/// Parses `yaml` (which sits at `at` in `source`) into `T`.
pub fn parse<T: DeserializeOwned>(
    yaml: &str,
    source: &SourceFile,
    at: Embedded,
    known_keys: &[&str],
) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(yaml, options())
        .map_err(|e| to_diagnostic(&e, yaml, source, at, &|| known_keys.iter().map(|k| (*k).to_owned()).collect()))
}

/// Parses `yaml` with `seed`; `known_keys` (for "did you mean") is only asked for on an
/// unknown key.
pub fn parse_seed<'de, S: DeserializeSeed<'de>>(
    yaml: &'de str,
    source: &SourceFile,
    at: Embedded,
    seed: S,
    known_keys: &dyn Fn() -> Vec<String>,
) -> Result<S::Value, Diagnostic> {
    serde_saphyr::with_deserializer_from_str_with_options(yaml, options(), |de| seed.deserialize(de))
        .map_err(|e| to_diagnostic(&e, yaml, source, at, known_keys))
}

fn to_diagnostic(
    err: &serde_saphyr::Error,
    yaml: &str,
    source: &SourceFile,
    at: Embedded,
    known_keys: &dyn Fn() -> Vec<String>,
) -> Diagnostic {
    let inner = err.without_snippet();
    let raw = inner.to_string();
    let message = strip_location_prefix(&raw).to_owned();
    let line_col = |line: usize, col: usize| (line > 0).then(|| SourceFile::new("", yaml).offset_of(line, col));
    // An error inside a platform's mapping crossed a type-erased deserializer that kept
    // only its text: the first position in it is where it happened.
    let offset = first_position(&raw)
        .and_then(|(line, col)| line_col(line, col))
        .or_else(|| {
            inner.location().and_then(|loc| {
                // Fall back on line/column inside the YAML text.
                let span = loc.span();
                span.byte_offset().map(|b| b as usize).or_else(|| line_col(loc.line() as usize, loc.column() as usize))
            })
        })
        .unwrap_or(0)
        .min(yaml.len());
    let start = at.offset + offset;
    let token_len = yaml[offset..].find([':', '\n', '\r']).unwrap_or(yaml.len() - offset).max(1);

    if let Some(field) = unknown_field(&message) {
        let mut d = Diagnostic::error("unknown-key", format!("unknown key `{field}`"))
            .at(source, start..start + field.len().max(1))
            .with_label("not a known key");
        let known = known_keys();
        let hint = match did_you_mean(field, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "check the key's spelling and indentation against the post schema in the README".to_owned(),
        };
        d = d.with_hint(hint);
        return d;
    }
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key);
        return Diagnostic::error("duplicate-key", format!("duplicate key `{key}`"))
            .at(source, start..start + key.len().max(1))
            .with_label("second occurrence")
            .with_hint("a key may appear only once: remove one of them");
    }
    if let Some(rest) = message.strip_prefix("budget breached: ") {
        // The breach names an internal counter (`Nodes { nodes: 200001 }`): say it in words.
        let what = rest.split([' ', '{']).next().unwrap_or("size").to_lowercase();
        return Diagnostic::error(
            "yaml-too-complex",
            format!("the YAML is too large or too deeply nested for a post (limit reached: {what})"),
        )
        .at(source, start..start + token_len)
        .with_hint("simplify the YAML: deep nesting and many aliases are not allowed in posts");
    }
    let lower = message.to_lowercase();
    let (code, hint) = if lower.contains("budget") || lower.contains("limit") || lower.contains("depth") {
        ("yaml-too-complex", "simplify the YAML: deep nesting and many aliases are not allowed in posts")
    } else if lower.starts_with("invalid") || lower.contains("expected") || lower.contains("unknown variant") {
        ("yaml-type", "check the value's type against the post schema in the README")
    } else {
        ("yaml-syntax", "fix the YAML syntax at the marked position")
    };
    Diagnostic::error(code, message).at(source, start..start + token_len).with_hint(hint)
}

// serde-saphyr ends messages with " at line N, column M" (once per level an error crossed
// as text); the position is reported separately, so keep only the words.
fn strip_location_prefix(msg: &str) -> &str {
    let trimmed = msg.trim();
    match trimmed.find(" at line ") {
        Some(idx) if trimmed[idx..].contains(", column ") => trimmed[..idx].trim_end(),
        _ => trimmed,
    }
}

/// The first " at line N, column M" of a message, when there are several (the innermost).
fn first_position(msg: &str) -> Option<(usize, usize)> {
    let (_, rest) = msg.split_once(" at line ")?;
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let nested = rest[col.len()..].contains(" at line ");
    nested.then_some((line.parse().ok()?, col.parse().ok()?))
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split_once("unknown field `")?.1;
    Some(&rest[..rest.find('`')?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        title: Option<String>,
        draft: Option<bool>,
        tags: Option<Vec<String>>,
    }

    fn err(yaml: &str) -> Diagnostic {
        let src = SourceFile::new("x.yaml", yaml);
        parse::<Doc>(yaml, &src, Embedded { offset: 0 }, &["title", "draft", "tags"]).expect_err("must fail")
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let d = err("title: a\ntitel: b\n");
        assert_eq!(d.code, "unknown-key");
        assert_eq!((d.line, d.column), (2, 1));
        assert!(d.hint.as_deref().unwrap_or("").contains("did you mean `title`"), "{d:?}");
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let d = err("title: a\ndraft: maybe\n");
        assert_eq!(d.code, "yaml-type", "{d:?}");
        assert_eq!((d.line, d.column), (2, 8), "{d:?}");
    }

    #[test]
    fn syntax_error_has_a_position() {
        let d = err("title: 'x\n");
        assert_eq!(d.code, "yaml-syntax", "{d:?}");
        assert!(d.line >= 1);
    }

    #[test]
    fn duplicate_key_is_named() {
        let d = err("title: a\ntitle: b\n");
        assert_eq!(d.code, "duplicate-key");
        assert_eq!(d.message, "duplicate key `title`");
        assert_eq!(d.line, 2);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let src = SourceFile::new("x.yaml", y.as_str());
        let r = parse::<serde_json::Value>(&y, &src, Embedded { offset: 0 }, &[]);
        assert!(r.is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let y = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let src = SourceFile::new("x.yaml", y.as_str());
        let r = parse::<serde_json::Value>(&y, &src, Embedded { offset: 0 }, &[]);
        let d = r.expect_err("too deep");
        assert_eq!(d.code, "yaml-too-complex", "{d:?}");
    }
}
