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

/// The keys a file may hold, for the hint of an unknown key.
pub struct KnownKeys {
    /// What the file is (`post`, `config`): `crier schema <kind>` lists its keys.
    pub kind: &'static str,
    /// The generic keys of the top level, as its struct names them when a key is unknown.
    pub core: &'static [&'static str],
    /// Every key with the mapping that takes it (`keys::key_places`): `""` the top level.
    pub places: Vec<(String, String)>,
}

/// Parses `yaml` (which sits at `at` in `source`) into `T`, whose keys are all top-level.
pub fn parse<T: DeserializeOwned>(
    yaml: &str,
    source: &SourceFile,
    at: Embedded,
    known_keys: &'static [&'static str],
) -> Result<T, Diagnostic> {
    let known = || KnownKeys {
        kind: "post",
        core: known_keys,
        places: known_keys.iter().map(|k| (String::new(), (*k).to_owned())).collect(),
    };
    serde_saphyr::from_str_with_options(yaml, options()).map_err(|e| to_diagnostic(&e, yaml, source, at, &known))
}

/// Parses `yaml` with `seed`; `known_keys` (for the hint) is only asked for on an
/// unknown key.
pub fn parse_seed<'de, S: DeserializeSeed<'de>>(
    yaml: &'de str,
    source: &SourceFile,
    at: Embedded,
    seed: S,
    known_keys: &dyn Fn() -> KnownKeys,
) -> Result<S::Value, Diagnostic> {
    serde_saphyr::with_deserializer_from_str_with_options(yaml, options(), |de| seed.deserialize(de))
        .map_err(|e| to_diagnostic(&e, yaml, source, at, known_keys))
}

fn to_diagnostic(
    err: &serde_saphyr::Error,
    yaml: &str,
    source: &SourceFile,
    at: Embedded,
    known_keys: &dyn Fn() -> KnownKeys,
) -> Diagnostic {
    let inner = err.without_snippet();
    let raw = inner.to_string();
    let message = strip_location_suffix(&raw).to_owned();
    let yaml_source = SourceFile::new("", yaml);
    let line_col = |line: usize, col: usize| (line > 0).then(|| yaml_source.offset_of(line, col));
    // A line and column of the YAML text, as the file's.
    let file_line_col = |line: usize, col: usize| {
        line_col(line, col).map_or((line, col), |o| source.line_col(at.offset + o.min(yaml.len())))
    };
    // (A budget breached inside an alias names the alias too: that is said below.)
    let alias = alias_mismatch(&message).filter(|_| !message.starts_with("budget breached: "));
    if let Some((what, defined, used)) = alias {
        // serde-saphyr names the alias's anchor and use: point at the use, name the anchor.
        let start = at.offset + line_col(used.0, used.1).unwrap_or(0).min(yaml.len());
        let (line, col) = file_line_col(defined.0, defined.1);
        let end = start + yaml[start - at.offset..].find([',', ']', '}', '\n', ' ']).unwrap_or(1).max(1);
        // serde-saphyr's words are the parser's (`expected sequence start`).
        let what = what.replace("sequence start", "a list").replace("mapping start", "a mapping");
        return Diagnostic::error(
            "yaml-type",
            format!("{what}, but this alias stands for the value anchored at line {line}, column {col}"),
        )
        .at(source, start..end)
        .with_hint(
            "an alias (`*name`) repeats its anchored value (`&name`): that value must have the type this key expects",
        );
    }
    // An error inside a platform's mapping crossed a type-erased deserializer that kept
    // only its text: the first position in it is where it happened (for a missing key,
    // the second: the mapping that lacks it, rather than its first key).
    let missing = missing_field(&message);
    let nested = if missing.is_some() { second_position(&raw) } else { first_position(&raw) };
    let offset = nested
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

    if let Some((field, expected)) = unknown_field(&message) {
        return Diagnostic::error("unknown-key", format!("unknown key `{field}`"))
            .at(source, start..start + field.len().max(1))
            .with_label("not a known key")
            .with_hint(unknown_key_hint(field, &expected, &known_keys()));
    }
    if let Some(key) = missing {
        return Diagnostic::error("missing-key", format!("missing key `{key}`: this mapping needs it"))
            .at(source, start..start + 1)
            .with_label(format!("`{key}` missing here"))
            .with_hint(format!("add `{key}: …` to this mapping"));
    }
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key);
        return Diagnostic::error("duplicate-key", format!("duplicate key `{key}`"))
            .at(source, start..start + key.len().max(1))
            .with_label("second occurrence")
            .with_hint("a key may appear only once: remove one of them");
    }
    if message.starts_with("budget breached: Documents") {
        return Diagnostic::error(
            "yaml-multiple-documents",
            "a `---` line here starts a second YAML document; the file holds one YAML document",
        )
        .at(source, start..start + token_len)
        .with_label("second document")
        .with_hint("remove this `---` line (a YAML post, like crier.yaml, is one mapping)");
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

/// The hint of an unknown key `field` in a mapping whose keys are `expected` (as serde
/// names them): a close key of that mapping, else where `field` is a key, else the keys.
fn unknown_key_hint(field: &str, expected: &[&str], known: &KnownKeys) -> String {
    let same = |keys: &[&str], other: &[&str]| {
        !keys.is_empty() && keys.len() == other.len() && keys.iter().all(|k| other.contains(k))
    };
    let keys_at =
        |path: &str| -> Vec<&str> { known.places.iter().filter(|(p, _)| p == path).map(|(_, k)| k.as_str()).collect() };
    // The mapping the key is in: its struct names its keys in the error.
    let here_path = if same(expected, known.core) {
        Some(String::new())
    } else {
        let mut paths: Vec<&str> = known.places.iter().map(|(p, _)| p.as_str()).collect();
        paths.dedup();
        paths.into_iter().find(|p| same(expected, &keys_at(p))).map(str::to_owned)
    };
    let here = here_path.as_deref().map_or_else(|| expected.to_vec(), keys_at);
    let schema = format!("`crier schema {}` lists every key", known.kind);
    let mut elsewhere: Vec<&str> = known.places.iter().filter(|(_, k)| k == field).map(|(p, _)| p.as_str()).collect();
    if !elsewhere.is_empty() {
        // Nearest first: under the mapping the key is in, then the top level, then by name.
        let under_here = |p: &str| here_path.as_deref().is_some_and(|h| !h.is_empty() && p.starts_with(h));
        elsewhere.sort_by_key(|p| (!under_here(p), !p.is_empty(), *p));
        elsewhere.dedup();
        let names: Vec<String> = elsewhere
            .iter()
            .map(|p| if p.is_empty() { "the top level".to_owned() } else { format!("`{p}`") })
            .collect();
        let places = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        };
        let example = elsewhere.iter().find(|p| !p.is_empty()).map(|p| format!(", as in `{}`", nest(p, field)));
        let top = if elsewhere.len() == 1 && elsewhere[0].is_empty() { "at" } else { "under" };
        return format!(
            "`{field}` is not a key of this mapping: it belongs {top} {places}{}",
            example.unwrap_or_default()
        );
    }
    if let Some(s) = did_you_mean(field, here.iter().copied()) {
        return format!("did you mean `{s}`?");
    }
    if !here.is_empty() && here.len() <= 10 {
        let list: Vec<String> = here.iter().map(|k| format!("`{k}`")).collect();
        return format!("the keys of this mapping are {}; {schema}", list.join(", "));
    }
    format!("check the key's spelling and indentation; {schema}")
}

/// `key` written inside the mappings of `path` (`x.poll` → `x: {poll: {key: …}}`).
fn nest(path: &str, key: &str) -> String {
    path.split('.').rev().fold(format!("{key}: …"), |inner, seg| match seg.strip_suffix("[]") {
        Some(list) => format!("{list}: [{{{inner}}}]"),
        None => format!("{seg}: {{{inner}}}"),
    })
}

// serde-saphyr ends messages with " at line N, column M" (once per level an error crossed
// as text); the position is reported separately, so keep only the words.
fn strip_location_suffix(msg: &str) -> &str {
    let mut rest = msg.trim();
    while let Some(idx) = rest.rfind(" at line ") {
        let tail = &rest[idx + " at line ".len()..];
        let is_position = tail.split_once(", column ").is_some_and(|(l, c)| {
            !l.is_empty() && !c.is_empty() && (l.chars().chain(c.chars())).all(|ch| ch.is_ascii_digit())
        });
        if !is_position {
            break;
        }
        rest = rest[..idx].trim_end();
    }
    rest
}

/// A line and column of the YAML text (1-based).
type Position = (usize, usize);

/// The " at line N, column M" positions of a message, innermost first.
fn positions(msg: &str) -> Vec<Position> {
    msg.split(" at line ")
        .skip(1)
        .filter_map(|rest| {
            let (line, rest) = rest.split_once(", column ")?;
            let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((line.parse().ok()?, col.parse().ok()?))
        })
        .collect()
}

/// The first position of a message, when there are several (the innermost).
fn first_position(msg: &str) -> Option<Position> {
    let p = positions(msg);
    (p.len() > 1).then(|| p[0])
}

/// The second position of a message (the mapping around the innermost), when there are
/// more than two (the last is where the outermost value starts).
fn second_position(msg: &str) -> Option<Position> {
    let p = positions(msg);
    (p.len() > 2).then(|| p[1]).or_else(|| first_position(msg))
}

/// The unknown key and the keys its mapping takes, from serde's message
/// (``unknown field `x`, expected one of a, b`` or ``expected `a` or `b` ``).
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.split_once("unknown field `")?.1;
    let end = rest.find('`')?;
    let list = rest[end + 1..].trim_start_matches(',').trim();
    let list = list.strip_prefix("expected one of ").or_else(|| list.strip_prefix("expected ")).unwrap_or("");
    let expected = list
        .split(", ")
        .flat_map(|k| k.split(" or "))
        .map(|k| k.trim().trim_matches('`'))
        .filter(|k| !k.is_empty())
        .collect();
    Some((&rest[..end], expected))
}

/// A missing key, from serde's ``missing field `x` ``.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    Some(&rest[..rest.find('`')?])
}

/// An alias whose value has the wrong type: what was expected, and the anchor's and the
/// alias's positions in the YAML text (`expected X (defined at line A, column B) (used at …)`).
fn alias_mismatch(message: &str) -> Option<(&str, Position, Position)> {
    let (what, rest) = message.split_once(" (defined at line ")?;
    let mut found = positions(&format!(" at line {rest}")).into_iter();
    let defined = found.next()?;
    rest.contains("(used at line ").then_some(())?;
    Some((what.trim(), defined, found.next()?))
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
    fn unknown_key_hints_name_only_keys_valid_where_it_is() {
        let places = [
            ("", "title"),
            ("", "media"),
            ("", "bluesky"),
            ("", "x"),
            ("bluesky", "split"),
            ("x", "split"),
            ("x", "poll"),
            ("x.poll", "options"),
            ("x.poll", "duration_minutes"),
            ("media[]", "path"),
            ("media[]", "alt"),
        ];
        let known = KnownKeys {
            kind: "post",
            core: &["title", "media"],
            places: places.iter().map(|(p, k)| ((*p).to_owned(), (*k).to_owned())).collect(),
        };
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "split",
                &["title", "media"],
                "`split` is not a key of this mapping: it belongs under `bluesky` or `x`, as in `bluesky: {split: …}`",
            ),
            ("blusky", &["title", "media"], "did you mean `bluesky`?"),
            (
                "options",
                &["split", "poll"],
                "`options` is not a key of this mapping: it belongs under `x.poll`, as in `x: {poll: {options: …}}`",
            ),
            ("title", &["path", "alt"], "`title` is not a key of this mapping: it belongs at the top level"),
            (
                "caption",
                &["path", "alt"],
                "the keys of this mapping are `path`, `alt`; `crier schema post` lists every key",
            ),
            ("alts", &["path", "alt"], "did you mean `alt`?"),
            ("zzz", &[], "check the key's spelling and indentation; `crier schema post` lists every key"),
        ];
        for (field, expected, want) in cases {
            assert_eq!(unknown_key_hint(field, expected, &known), *want, "{field}");
        }
    }

    #[test]
    fn messages_lose_only_their_trailing_positions() {
        let cases = [
            ("missing field `a` at line 2, column 12 at line 2, column 11", "missing field `a`"),
            (
                "expected x (defined at line 2, column 14) (used at line 3, column 7)",
                "expected x (defined at line 2, column 14) (used at line 3, column 7)",
            ),
            ("invalid type at line 1, column 8", "invalid type"),
            ("a word at line five", "a word at line five"),
        ];
        for (raw, want) in cases {
            assert_eq!(strip_location_suffix(raw), want);
        }
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
