//! One module per subcommand; each exposes `execute`.

pub mod auth;
pub mod check;
pub mod doctor;
pub mod init;
pub mod new;
pub mod publish;
pub mod render;
pub mod status;
pub mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command};
use crate::diag::Style;
use crate::env::Env;
use crate::error::{Error, Result};

/// How a command ended, when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Content errors, or a post that failed to publish (exit code 1).
    Failure,
}

/// Global options every command sees.
pub struct Global {
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: u8,
    pub style: Style,
    pub env: Env,
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let root = match &cli.dir {
        Some(d) => {
            if !d.is_dir() {
                return Err(Error::usage(format!("`-C {}`: no such directory", d.display())));
            }
            d.clone()
        }
        None => std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?,
    };
    let root = root.canonicalize().map_err(|e| Error::io(format!("cannot open `{}`", root.display()), e))?;
    let env = Env::load(&root)?;
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => env.get("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    let g = Global {
        root,
        config: cli.config,
        quiet: cli.quiet,
        verbose: cli.verbose,
        style: Style { color, unicode: color },
        env,
    };
    match cli.command {
        Command::Check(args) => check::execute(&g, &args),
        Command::Render(args) => render::execute(&g, &args),
        Command::Publish(args) => publish::execute(&g, &args),
        Command::Status(args) => status::execute(&g, &args),
        Command::New(args) => new::execute(&g, &args),
        Command::Init(args) => init::execute(&g, &args),
        Command::Auth(args) => auth::execute(&g, &args),
        Command::Doctor(args) => doctor::execute(&g, &args),
        Command::Watch(args) => watch::execute(&g, &args),
    }
}

pub(crate) fn open_project(g: &Global) -> Result<crate::project::Project> {
    crate::project::Project::open(&g.root, g.config.as_deref(), g.env.clone())
}
