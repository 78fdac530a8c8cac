//! A checklist report (what `crier doctor` prints): sections of items, each ok, a
//! warning, a failure or information, failures and warnings with what to do.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Warn,
    Fail,
    Info,
}

#[derive(Debug, Default)]
pub struct Checklist {
    pub out: String,
    pub unicode: bool,
    pub failures: usize,
    pub warnings: usize,
    /// GitHub Actions workflow commands (`::warning …`) printed before the report.
    pub annotations: String,
}

impl Checklist {
    pub fn new(unicode: bool) -> Self {
        Self { unicode, ..Self::default() }
    }

    pub fn section(&mut self, name: &str) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        let _ = writeln!(self.out, "{name}");
    }

    pub fn item(&mut self, mark: Mark, msg: &str, fix: Option<&str>) {
        let sym = match (mark, self.unicode) {
            (Mark::Ok, true) => "✓",
            (Mark::Warn, true) => "!",
            (Mark::Fail, true) => "✗",
            (Mark::Info, true) => "·",
            (Mark::Ok, false) => "ok  ",
            (Mark::Warn, false) => "warn",
            (Mark::Fail, false) => "FAIL",
            (Mark::Info, false) => "-   ",
        };
        match mark {
            Mark::Fail => self.failures += 1,
            Mark::Warn => self.warnings += 1,
            _ => {}
        }
        let _ = writeln!(self.out, "  {sym} {msg}");
        if let Some(fix) = fix {
            let _ = writeln!(self.out, "      fix: {fix}");
        }
    }

    pub fn ok(&mut self, msg: &str) {
        self.item(Mark::Ok, msg, None);
    }

    pub fn info(&mut self, msg: &str) {
        self.item(Mark::Info, msg, None);
    }

    pub fn warn(&mut self, msg: &str, fix: &str) {
        self.item(Mark::Warn, msg, Some(fix));
    }

    pub fn fail(&mut self, msg: &str, fix: &str) {
        self.item(Mark::Fail, msg, Some(fix));
    }

    pub fn annotate(&mut self, line: &str) {
        self.annotations.push_str(line);
        self.annotations.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_marks() {
        let mut c = Checklist::new(false);
        c.section("threads");
        c.ok("token accepted");
        c.warn("quota low", "wait");
        c.fail("no key", "set DEVTO_API_KEY");
        c.info("note");
        assert_eq!((c.failures, c.warnings), (1, 1));
        assert_eq!(
            c.out,
            "threads\n  ok   token accepted\n  warn quota low\n      fix: wait\n  FAIL no key\n      fix: set DEVTO_API_KEY\n  -    note\n"
        );
    }
}
