//! Diagnostics: one type for YAML, template and rule problems, pointing at
//! `file:line:column`, and the renderers for humans, JSON and GitHub Actions.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in a file. `line` and `column` are 1-based; `column` counts
/// characters, as editors do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// Repository-relative path with `/` separators.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Byte range in the file, for the snippet.
    pub span: Option<Range<usize>>,
    pub label: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            file: String::new(),
            line: 1,
            column: 1,
            span: None,
            label: None,
            hint: None,
        }
    }

    /// Points the diagnostic at `span` (bytes) of `source`.
    #[must_use]
    pub fn at(mut self, source: &SourceFile, span: Range<usize>) -> Self {
        let (line, column) = source.line_col(span.start);
        self.file.clone_from(&source.path);
        self.line = line;
        self.column = column;
        let end = span.end.clamp(span.start, source.text.len());
        self.span = Some(span.start..end);
        self
    }

    /// Points at the whole file (line 1, column 1) without a snippet.
    #[must_use]
    pub fn in_file(mut self, path: &str) -> Self {
        path.clone_into(&mut self.file);
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A file's text with a line index, shared by every diagnostic pointing into it.
#[derive(Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { path: path.into(), text, line_starts }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text[start..end].chars().count() + 1;
        (line + 1, column)
    }

    /// Byte offset of a 1-based line and character column.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..].char_indices().nth(column.saturating_sub(1)).map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Sources by repository-relative path, for rendering snippets.
pub type Sources = HashMap<String, Arc<SourceFile>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub unicode: bool,
}

/// Renders diagnostics like a compiler: message, `file:line:col`, snippet with a
/// caret under the offending text, and the hint.
pub fn render_human(diag: &Diagnostic, sources: &Sources, style: Style) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

    let mut report =
        MietteDiagnostic::new(diag.message.clone()).with_code(diag.code).with_severity(match diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    if let Some(hint) = &diag.hint {
        report = report.with_help(hint.clone());
    }
    let source = sources.get(&diag.file);
    let theme = match (style.color, style.unicode) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::ascii(),
        (false, true) => GraphicalTheme::unicode_nocolor(),
        (false, false) => GraphicalTheme::none(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1).with_width(100);
    let mut out = String::new();
    match (source, &diag.span) {
        (Some(source), Some(span)) => {
            let len = span.end.saturating_sub(span.start);
            let label = diag.label.clone().unwrap_or_default();
            report = report.with_label(LabeledSpan::new((!label.is_empty()).then_some(label), span.start, len));
            // miette prints `[file:line:col]` from the span, so the location is never lost.
            let named = NamedSource::new(&diag.file, source.text.clone()).with_language("yaml");
            let with_source = miette::Report::new(report).with_source_code(named);
            let _ = handler.render_report(&mut out, with_source.as_ref());
        }
        _ => {
            let _ = handler.render_report(&mut out, &report);
            let _ = writeln!(out, "  at {}:{}:{}", diag.file, diag.line, diag.column);
        }
    }
    out
}

/// One GitHub Actions workflow command, in the contract's form
/// (`::error file=…,line=…,col=…::message`). The message is the one
/// `check --format json` prints; the code and hint are in the step summary
/// and the other formats.
pub fn render_github(diag: &Diagnostic) -> String {
    let level = match diag.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "::{level} file={},line={},col={}::{}",
        escape_property(&diag.file),
        diag.line,
        diag.column,
        escape_data(&diag.message)
    )
}

// Escaping rules of the workflow-command format (actions/toolkit `command.ts`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A diagnostic as JSON. The fields are in alphabetical order, the order of
/// a `serde_json::Value` object, so serialising this directly writes the same
/// text as serialising [`to_json_value`].
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    code: &'a str,
    column: usize,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    line: usize,
    message: &'a str,
    severity: Severity,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(diag: &'a Diagnostic) -> Self {
        Self {
            severity: diag.severity,
            code: diag.code,
            message: &diag.message,
            file: &diag.file,
            line: diag.line,
            column: diag.column,
            hint: diag.hint.as_deref(),
        }
    }
}

pub fn to_json_value(diag: &Diagnostic) -> serde_json::Value {
    serde_json::to_value(JsonDiagnostic::new(diag)).unwrap_or(serde_json::Value::Null)
}

/// A count and its noun: `1 post`, `2 posts` (nouns with a plain plural `s`).
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1) + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = SourceFile::new("a.md", "ab\n’x’y\n");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        // after one curly quote (3 bytes) and `x`
        assert_eq!(src.line_col(7), (2, 3));
        assert_eq!(src.offset_of(2, 3), 7);
    }

    #[test]
    fn did_you_mean_finds_typos() {
        let keys = ["title", "tags", "platforms", "publish_at"];
        assert_eq!(did_you_mean("titel", keys), Some("title"));
        assert_eq!(did_you_mean("platform", keys), Some("platforms"));
        assert_eq!(did_you_mean("publish_date", keys), Some("publish_at"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }

    #[test]
    fn github_format_escapes_newlines_and_commas() {
        let d = Diagnostic::error("x-code", "a, b\nc").in_file("content/a,b.md");
        let line = render_github(&d);
        assert_eq!(line, "::error file=content/a%2Cb.md,line=1,col=1::a, b%0Ac");
    }

    #[test]
    fn github_format_is_the_contracts_form_with_the_json_message() {
        let d = Diagnostic::warning("w-code", "too long").in_file("content/a.md").with_hint("shorten it");
        assert_eq!(render_github(&d), "::warning file=content/a.md,line=1,col=1::too long");
    }
}
