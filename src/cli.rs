//! Command-line interface (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Publish social posts from a git repository: render, check, publish, record.
#[derive(Debug, Parser)]
#[command(name = "crier", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

// The flags every command takes, before or after its name (`crier auth PLATFORM` parses
// its own flags and takes these among them). A plain comment: a doc comment would replace
// the `about` of the command it is flattened into.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Work in DIR instead of the current directory.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,

    /// Use FILE as configuration instead of `crier.yaml`.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colours (`NO_COLOR` is honoured in `auto`).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

impl GlobalArgs {
    /// These flags with `later`'s (given after a platform's name) on top: a later `-C` or
    /// `--config` wins, `-v` adds up, a later `--color` other than `auto` wins.
    pub fn with(&self, later: &GlobalArgs) -> Result<GlobalArgs, String> {
        let merged = GlobalArgs {
            dir: later.dir.clone().or_else(|| self.dir.clone()),
            config: later.config.clone().or_else(|| self.config.clone()),
            quiet: self.quiet || later.quiet,
            verbose: self.verbose.saturating_add(later.verbose),
            color: if later.color == ColorChoice::Auto { self.color } else { later.color },
        };
        if merged.quiet && merged.verbose > 0 {
            return Err("the argument '--quiet' cannot be used with '--verbose'".to_owned());
        }
        Ok(merged)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate every post (or the given files and folders) against each platform's rules.
    Check(CheckArgs),
    /// Show what a post becomes on each platform.
    Render(RenderArgs),
    /// Publish what is new and due, and record ids and URLs in the post files.
    ///
    /// Refuses to publish while `crier check` reports an error. On SIGINT or SIGTERM it
    /// starts no new post, lets the calls in flight finish, records, commits and pushes
    /// them, and exits 130 or 143; a second signal exits at once.
    Publish(PublishArgs),
    /// Show every post, platform and state (`--remote`: and what the platforms show).
    Status(StatusArgs),
    /// Scaffold a new post in the content folder.
    New(NewArgs),
    /// Scaffold crier.yaml (with its JSON Schemas), content/, templates/ and a GitHub Actions workflow.
    Init(InitArgs),
    /// Sign in to a platform (`crier auth PLATFORM`), or renew tokens (`crier auth refresh`).
    Auth(AuthArgs),
    /// Check configuration, content, credentials and git: would publishing work?
    Doctor(DoctorArgs),
    /// Re-check posts as they change; `--serve` shows them in a browser.
    Watch(WatchArgs),
    /// Record posts that are already on the accounts, without publishing anything.
    ///
    /// On SIGINT or SIGTERM it looks for no further post, records, commits and pushes what
    /// it found, and exits 130 or 143.
    Adopt(AdoptArgs),
    /// Convert posts written for another tool into crier posts.
    Import(ImportArgs),
    /// Take published posts down (every part of a chain) and record that in the files.
    ///
    /// On SIGINT or SIGTERM it deletes no further post, records, commits and pushes what it
    /// deleted, and exits 130 or 143.
    Delete(DeleteArgs),
    /// Print the JSON Schema of a post's front matter or of crier.yaml (for editors).
    Schema(SchemaArgs),
    /// How the published posts did: views, likes, replies, reposts… per post and platform.
    Stats(StatsArgs),
}

/// `crier stats` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Human,
    Json,
    Csv,
}

#[derive(Debug, Args)]
#[command(after_help = "A metric a platform does not report is left out (never 0). A platform that cannot be \
read (missing credentials or permission, or an API that gives no engagement) is listed as unavailable with the reason; the others still report. \
Exit 1 only when nothing could be read; with nothing published yet it says so and exits 0. On a terminal a \
progress bar (stderr) counts the posts read.")]
pub struct StatsArgs {
    /// Post files or folders (default: every post with a record).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[arg(help = with_platform_names("Read only these platforms"), long, value_name = "NAME", num_args = 1..)]
    pub platform: Vec<String>,

    /// Output format (json: `posts` with their `metrics`, and the `unavailable` platforms with
    /// the reason, shape in the README's `crier stats` section; csv: one row per post and platform).
    #[arg(long, value_enum, default_value_t = StatsFormat::Human)]
    pub format: StatsFormat,

    /// Append one line per post and platform read (every run, unchanged numbers too) to
    /// `stats.file` (default `.crier/stats.jsonl`) and commit and push it as
    /// `crier: record engagement [skip ci]`.
    #[arg(long)]
    pub record: bool,

    /// Write a self-contained page of charts (engagement over time, from the history) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Sort by this metric, most first.
    #[arg(long, value_name = "METRIC", default_value = "likes",
          value_parser = ["views", "likes", "replies", "reposts", "quotes", "shares", "bookmarks"])]
    pub sort: String,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file's schema: a post's front matter, or crier.yaml.
    #[arg(value_enum, value_name = "KIND")]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A post's front matter (a Markdown post's YAML header, or a whole YAML post).
    Post,
    /// crier.yaml.
    Config,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Post files or folders whose published posts to take down.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    #[arg(help = with_platform_names("Delete only on these platforms"), long, value_name = "NAME", num_args = 1..)]
    pub platform: Vec<String>,

    /// Print what would be deleted and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (needed when not on a terminal, e.g. in CI).
    #[arg(long, short = 'y')]
    pub yes: bool,

    #[command(flatten)]
    pub commit: CommitArgs,
}

/// What to do with the records a command writes into the post files.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Write the records into the files but do not commit them.
    #[arg(long)]
    pub no_commit: bool,

    /// Commit the records but do not push them.
    #[arg(long)]
    pub no_push: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Post files or folders to adopt (default: the whole content folder).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[arg(help = with_platform_names("Look only on these platforms"), long, value_name = "NAME", num_args = 1..)]
    pub platform: Vec<String>,

    /// Look and print the table, but write and commit nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub commit: CommitArgs,

    /// The post's id on the platform, as you found it there (one PATH and one --platform):
    /// records a post crier cannot look for, such as one whose reply was lost or one on a
    /// platform that cannot search the account.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub from: ImportFrom,
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// Posts of a devto-cli / publish-devto repository (front matter with dev.to's keys).
    Devto(ImportDevtoArgs),
}

#[derive(Debug, Args)]
pub struct ImportDevtoArgs {
    /// Files to convert (globs, relative to the repository; default `posts/**/*.md`).
    #[arg(value_name = "GLOB")]
    pub globs: Vec<String>,

    /// Move the converted files into DIR (keeping their paths below the glob's base folder).
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,

    /// Print what would change (a diff per file) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Compiler-style diagnostics with snippets.
    Human,
    /// One JSON object with every diagnostic.
    Json,
    /// GitHub Actions annotations, plus a preview in the job summary.
    Github,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Post files or folders to check (default: the whole content folder).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The post file.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    #[arg(help = with_platform_names("Render only for this platform"), long, value_name = "NAME")]
    pub platform: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RenderFormat::Human)]
    pub format: RenderFormat,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Print the plan and change nothing: no network, no file writes.
    #[arg(long)]
    pub dry_run: bool,

    /// Publish only these post files.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub only: Vec<PathBuf>,

    #[arg(help = with_platform_names("Publish only to these platforms"), long, value_name = "NAME", num_args = 1..)]
    pub platform: Vec<String>,

    #[command(flatten)]
    pub commit: CommitArgs,

    /// Send these posts again where their reply was lost (`unconfirmed` in the record),
    /// after you checked that they are not on the platform.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub resend: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RenderFormat::Human)]
    pub format: RenderFormat,

    /// Also ask each platform about every recorded post: gone, edited there, or on
    /// another account (read-only; needs the platforms' credentials).
    #[arg(long)]
    pub remote: bool,

    #[arg(help = with_platform_names("With --remote: ask only these platforms"), long, value_name = "NAME", num_args = 1.., requires = "remote")]
    pub platform: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Name of the post file (may include folders: `2026/launch`); ending it in `.yaml` or
    /// `.yml` makes a YAML post, as --yaml does.
    #[arg(value_name = "SLUG")]
    pub slug: String,

    /// Write a YAML post instead of Markdown.
    #[arg(long)]
    pub yaml: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Which crier GitHub Action the workflow uses: a ref (`v1.2.3`, `main`, a
    /// commit) or `OWNER/REPO@REF`. Default: this crier's own release.
    #[arg(long, value_name = "REF")]
    pub action_ref: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    subcommand_value_name = "PLATFORM",
    after_help = crate::platforms::oauth::help()
)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Renew the tokens that can be renewed; say which must be authorized again, and when.
    Refresh(AuthRefreshArgs),
    /// `crier auth PLATFORM [OPTIONS]`: sign in to PLATFORM and write its credentials
    /// to `.env` (`--write-env`) or print them.
    #[command(external_subcommand)]
    SignIn(Vec<String>),
}

#[derive(Debug, Args)]
pub struct AuthRefreshArgs {
    /// Only this platform (default: every platform whose token is set).
    #[arg(value_name = "PLATFORM")]
    pub platform: Option<String>,

    /// Print only the new token on stdout (e.g. `| gh secret set THREADS_ACCESS_TOKEN`); write no file.
    #[arg(long)]
    pub print_token: bool,

    /// Update this `.env` file (default: `.env` in the working directory).
    #[arg(long, value_name = "FILE")]
    pub write_env: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Poll the files instead of using the system's notifications (network
    /// drives, containers, WSL).
    #[arg(long)]
    pub poll: bool,

    /// Wait this long after a change for more changes before checking (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub debounce: u64,

    /// Also serve a live preview page at ADDR: PORT (on 127.0.0.1), HOST:PORT
    /// or IP:PORT (default 127.0.0.1:4000).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:4000",
          value_parser = serve_addr)]
    pub serve: Option<std::net::SocketAddr>,
}

/// `--serve`: `4000` (loopback), `localhost:4000` (loopback, without asking the
/// resolver), `host:4000` (resolved; IPv4 first) or `IP:PORT`.
fn serve_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let expected = "expected PORT, HOST:PORT or IP:PORT, e.g. 4000 or localhost:4000";
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a port (0 to 65535)"));
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("no port; {expected}"))?;
    let port: u16 = port.parse().map_err(|_| format!("`{port}` is not a port; {expected}"))?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    let addrs: Vec<SocketAddr> =
        (host, port).to_socket_addrs().map_err(|e| format!("cannot resolve `{host}`: {e}; {expected}"))?.collect();
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied().ok_or_else(|| format!("`{host}` has no address"))
}

/// A `--platform` flag's help: `what`, then every platform's name (from the registry's list,
/// so it never falls behind).
fn with_platform_names(what: &str) -> String {
    format!("{what} ({})", crate::platform_id::NAMES.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_platform_flag_names_every_platform() {
        let cli = Cli::command();
        let mut flags = 0;
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments().filter(|a| a.get_id() == "platform") {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                for name in crate::platform_id::NAMES {
                    assert!(help.contains(name), "`crier {} --platform` help lacks {name}: {help}", sub.get_name());
                }
                flags += 1;
            }
        }
        assert_eq!(flags, 6, "render, publish, status, adopt, delete and stats take --platform");
    }

    #[test]
    fn watch_serves_on_a_port_a_host_and_port_or_an_address() {
        let serve = |args: &[&str]| {
            let mut argv = vec!["crier", "watch"];
            argv.extend(args);
            match Cli::try_parse_from(argv).map(|c| c.command) {
                Ok(Command::Watch(w)) => Ok(w.serve.map(|a| a.to_string())),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e.to_string()),
            }
        };
        for (args, want) in [
            (&[][..], None),
            (&["--serve"][..], Some("127.0.0.1:4000")),
            (&["--serve", "4002"][..], Some("127.0.0.1:4002")),
            (&["--serve", "localhost:4001"][..], Some("127.0.0.1:4001")),
            (&["--serve", "0.0.0.0:4000"][..], Some("0.0.0.0:4000")),
            (&["--serve", "[::1]:4000"][..], Some("[::1]:4000")),
        ] {
            assert_eq!(serve(args), Ok(want.map(str::to_owned)), "{args:?}");
        }
        for bad in ["70000", "localhost", "localhost:port", "localhost:70000", ""] {
            let err = serve(&["--serve", bad]).expect_err(bad);
            assert!(err.contains("--serve"), "{bad}: {err}");
        }
    }
}
