//! The process environment as crier sees it: real variables win over a `.env`
//! file in the working directory. Kept as a value (never written into the
//! process environment) so commands and tests see exactly what they are given.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::Error;

#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The real environment, completed by `dir/.env` when that file exists.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let mut vars: HashMap<String, String> = HashMap::new();
        let dotenv = dir.join(".env");
        if dotenv.is_file() {
            let iter = dotenvy::from_path_iter(&dotenv).map_err(|e| Error::Env {
                message: format!("cannot read `{}`: {}", dotenv.display(), redact_dotenv_error(&e)),
            })?;
            for item in iter {
                let (key, value) = item.map_err(|e| Error::Env {
                    message: format!("malformed `{}`: {}", dotenv.display(), describe_dotenv_error(&e, &dotenv)),
                })?;
                vars.insert(key, value);
            }
        }
        vars.extend(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))));
        Ok(Self { vars })
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    /// A variable's value; empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// "Now", overridable with `CRIER_NOW` (tests, backfills).
    pub fn now(&self) -> Result<DateTime<Utc>, Error> {
        match self.get("CRIER_NOW") {
            None => Ok(Utc::now()),
            Some(raw) => DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| Error::Env { message: format!("CRIER_NOW `{raw}` is not an RFC 3339 date-time: {e}") }),
        }
    }

    pub fn in_github_actions(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// Running in CI (`CI` set to anything but `false`/`0`, as CI services do, or GitHub
    /// Actions).
    pub fn in_ci(&self) -> bool {
        self.get("CI").is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "false" | "0"))
            || self.in_github_actions()
    }
}

// dotenvy's errors can quote the offending line, which may hold a secret.
fn redact_dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(..) => "cannot parse a line".to_owned(),
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "cannot parse the file".to_owned(),
    }
}

/// A parse error of `path` by line (and column), never quoting it: dotenvy gives the
/// offending entry's text (from its first line to where parsing stopped, several lines
/// for a quote never closed) and a byte index into it.
fn describe_dotenv_error(e: &dotenvy::Error, path: &Path) -> String {
    let dotenvy::Error::LineParse(entry, index) = e else { return redact_dotenv_error(e) };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
    let Some(n) = starts.enumerate().find(|(_, s)| text[*s..].starts_with(entry.as_str())).map(|(n, _)| n + 1) else {
        return redact_dotenv_error(e);
    };
    // A column only when the mistake is on the entry's first line (a quote never closed
    // fails at the end of the file).
    let first_line = entry.split('\n').next().unwrap_or_default().trim_end_matches('\r');
    match first_line.get(..*index).filter(|_| *index < first_line.len()) {
        Some(before) => format!("cannot parse line {n}, column {}", before.chars().count() + 1),
        None => format!("cannot parse line {n} (or the lines after it: a quote not closed?)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crier_now_overrides_the_clock() {
        let env = Env::from_pairs([("CRIER_NOW", "2026-01-02T03:04:05Z")]);
        assert_eq!(env.now().map(|t| t.to_rfc3339()).ok().as_deref(), Some("2026-01-02T03:04:05+00:00"));
        let bad = Env::from_pairs([("CRIER_NOW", "yesterday")]);
        assert!(bad.now().is_err());
    }

    #[test]
    fn dotenv_fills_in_but_real_variables_win() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".env"), "CRIER_TEST_ONLY_IN_DOTENV=from-file\nPATH=overridden\n")
            .expect("write");
        let env = Env::load(dir.path()).expect("load");
        assert_eq!(env.get("CRIER_TEST_ONLY_IN_DOTENV"), Some("from-file"));
        assert_ne!(env.get("PATH"), Some("overridden"));
    }

    #[test]
    fn malformed_dotenv_error_names_the_line() {
        let cases = [
            // A key with a space: the line, and the column where the parser stopped.
            ("GOOD=1\n# a comment\n\nBAD KEY=secret-value\n", "line 4, column 5"),
            // A quote never closed: the line it opens on.
            ("A=1\nTOKEN=\"abc\nB=2\n", "line 2"),
        ];
        for (text, said) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join(".env"), text).expect("write");
            let err = Env::load(dir.path()).expect_err("malformed").to_string();
            assert!(err.contains(said) && !err.contains("byte"), "{text:?}: {err}");
            assert!(!err.contains("secret-value") && !err.contains("abc"), "{err}");
        }
    }

    #[test]
    fn malformed_dotenv_error_does_not_quote_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".env"), "GOOD=1\nSECRET_TOKEN='abc\n").expect("write");
        let err = Env::load(dir.path()).expect_err("malformed");
        assert!(!err.to_string().contains("abc"), "{err}");
    }
}
