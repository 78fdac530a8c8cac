//! `crier auth PLATFORM` (the platform's sign-in, [`crate::platforms::oauth::SignIn`]) and
//! `crier auth refresh [PLATFORM]`. The only commands that output a secret: the
//! credentials go to stdout or into the `.env` file the user names, nowhere else.

use std::path::{Path, PathBuf};

use clap::{Args as _, FromArgMatches as _};

use super::check::print;
use super::{Global, Outcome, runtime};
use crate::cli::{AuthArgs, AuthCommand, AuthRefreshArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::platforms::oauth::{self, CommonArgs, Credentials, Renewal, SignIn, SignInContext};
use crate::platforms::{self, Platform, PlatformId};

pub fn execute(g: &Global, args: &AuthArgs) -> Result<Outcome> {
    match &args.command {
        AuthCommand::SignIn(argv) => sign_in(g, argv),
        AuthCommand::Refresh(a) => refresh(g, a),
    }
}

fn info(g: &Global, msg: &str) {
    if !g.quiet {
        eprintln!("{msg}");
    }
}

fn platform(name: &str) -> Result<&'static dyn Platform> {
    PlatformId::parse(name)
        .map(platforms::get)
        .ok_or_else(|| Error::usage(format!("unknown platform `{name}`: {}", PlatformId::hint_for(name))))
}

fn resolve(g: &Global, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { g.root.join(p) }
}

fn context<'a>(g: &'a Global, common: &'a CommonArgs) -> Result<SignInContext<'a>> {
    Ok(SignInContext { env: &g.env, now: g.env.now()?, quiet: g.quiet, common })
}

// ---------------------------------------------------------------------------
// auth PLATFORM

fn sign_in(g: &Global, argv: &[String]) -> Result<Outcome> {
    let name = argv.first().map(String::as_str).unwrap_or_default();
    let p = platform(name)?;
    let Some(flow) = p.sign_in() else {
        return Err(Error::usage(format!("{} has no sign-in in crier; instead, {}", p.display_name(), p.setup_hint())));
    };
    let name = p.id().name();
    let command = GlobalArgs::augment_args(CommonArgs::augment_args(flow.command()))
        .name(name)
        .bin_name(format!("crier auth {name}"));
    let matches = match command.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp) => {
            print(&e.render().to_string());
            return Ok(Outcome::Success);
        }
        Err(e) => {
            let text = e.render().to_string();
            return Err(Error::usage(text.trim_start_matches("error: ").trim_end().to_owned()));
        }
    };
    let common = CommonArgs::from_arg_matches(&matches).map_err(|e| Error::usage(e.to_string()))?;
    // `-q`, `-C DIR`… after the platform's name reach this parser, not the top-level one.
    let late = GlobalArgs::from_arg_matches(&matches).map_err(|e| Error::usage(e.to_string()))?;
    let g = &Global::new(&g.args.with(&late).map_err(Error::usage)?)?;
    let cx = context(g, &common)?;
    let Some(credentials) = runtime()?.block_on(flow.sign_in(&cx, &matches))? else {
        return Ok(Outcome::Success);
    };
    hand_over(g, &common, &credentials)?;
    Ok(Outcome::Success)
}

/// Writes the credentials into the `.env` file named, or prints them on stdout.
fn hand_over(g: &Global, common: &CommonArgs, c: &Credentials) -> Result<()> {
    let pairs: Vec<(&str, &str)> = c.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(file) = &common.write_env {
        let path = resolve(g, file);
        write_env(g, &path, &pairs)?;
        info(g, &format!("Authorized {}. Wrote {} to {}.", c.account, keys(&pairs, ", "), path.display()));
    } else {
        let out: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        print(&out);
        info(
            g,
            &format!(
                "Authorized {}. Put these lines in .env or in your CI secrets (or use --write-env .env).",
                c.account
            ),
        );
    }
    for note in &c.notes {
        info(g, note);
    }
    Ok(())
}

fn keys(pairs: &[(&str, &str)], sep: &str) -> String {
    pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(sep)
}

fn write_env(g: &Global, path: &Path, pairs: &[(&str, &str)]) -> Result<()> {
    let w =
        oauth::update_env_file(path, pairs).map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))?;
    if let Some(mode) = w.readable_by_others {
        eprintln!(
            "warning: `{}` holds secrets but other users can read it (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    if w.created {
        info(g, &format!("Created `{}` (mode 600).", path.display()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// auth refresh [PLATFORM]

fn refresh(g: &Global, args: &AuthRefreshArgs) -> Result<Outcome> {
    let targets: Vec<&'static dyn SignIn> = match &args.platform {
        Some(name) => {
            let p = platform(name)?;
            vec![p.sign_in().ok_or_else(|| {
                Error::usage(format!("crier renews no {} credentials; {}", p.display_name(), p.setup_hint()))
            })?]
        }
        None => platforms::REGISTRY.iter().filter_map(|p| p.sign_in()).collect(),
    };
    let common = CommonArgs { write_env: None, timeout: 0, no_browser: true };
    let cx = context(g, &common)?;
    let rt = runtime()?;
    let (mut not_set, mut failures, mut done) = (Vec::new(), Vec::new(), false);
    for flow in targets {
        match rt.block_on(flow.refresh(&cx)) {
            Renewal::NotSet(why) => not_set.push(why),
            Renewal::NotNeeded(why) => {
                info(g, &why);
                done = true;
            }
            Renewal::Renewed { vars, token_var, note } => {
                store_renewed(g, args, &vars, token_var)?;
                info(g, &note);
                done = true;
            }
            Renewal::Failed(why) => failures.push(why),
        }
    }
    // Unset tokens are an error only when there is nothing else to report.
    if args.platform.is_some() || (!done && failures.is_empty()) {
        failures.extend(not_set);
    }
    if failures.is_empty() { Ok(Outcome::Success) } else { Err(Error::Env { message: failures.join("\nerror: ") }) }
}

fn store_renewed(g: &Global, args: &AuthRefreshArgs, vars: &[(&'static str, String)], token_var: &str) -> Result<()> {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if args.print_token {
        if let Some((_, token)) = pairs.iter().find(|(k, _)| *k == token_var) {
            print(&format!("{token}\n"));
        }
        if let Some(file) = &args.write_env {
            write_env(g, &resolve(g, file), &pairs)?;
        }
        return Ok(());
    }
    let path = resolve(g, args.write_env.as_deref().unwrap_or(Path::new(".env")));
    write_env(g, &path, &pairs)?;
    info(g, &format!("Wrote the new {} to {}.", keys(&pairs, " and "), path.display()));
    if std::env::var_os(token_var).is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "warning: {token_var} is also set in the environment, which wins over .env; update it there too (the old token keeps working until it expires)"
        );
    }
    Ok(())
}
