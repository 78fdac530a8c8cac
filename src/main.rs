//! The `crier` binary: parse arguments, run the command, print the error
//! chain once, pick the exit code (0 ok, 1 content or publish failures,
//! 2 invocation or environment errors).

use std::process::ExitCode;

use clap::Parser;
use crier::cli::Cli;
use crier::commands::{self, Outcome};
use crier::diag::{self, Sources, Style};
use crier::error::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failure) => ExitCode::from(1),
        Ok(Outcome::Cancelled(code)) => ExitCode::from(code),
        Err(err) => {
            report(&err);
            ExitCode::from(2)
        }
    }
}

fn report(err: &Error) {
    let style = Style { color: false, unicode: true };
    if let Error::Config { path, diagnostics } = err {
        let mut sources = Sources::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            for d in diagnostics {
                sources
                    .insert(d.file.clone(), std::sync::Arc::new(diag::SourceFile::new(d.file.clone(), text.as_str())));
            }
        }
        eprintln!("error: {err}");
        for d in diagnostics {
            eprint!("{}", diag::render_human(d, &sources, style));
        }
        return;
    }
    let mut msg = format!("error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        msg.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{msg}");
}
