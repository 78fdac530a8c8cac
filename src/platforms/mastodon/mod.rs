//! Mastodon (and servers with its client API, such as GoToSocial): plain text
//! made like Threads text, a chain of statuses replying to each other, media
//! uploaded with alt text, limits read from the instance.
//!
//! - [`count`]: characters as Mastodon counts them, and `split: auto`;
//! - [`rules`]: the limits (Mastodon's defaults, crier.yaml, or the
//!   instance's real numbers) and the diagnostics;
//! - [`api`]: the HTTP client; [`publish`]: exactly-once publishing and edits;
//! - [`html`]: status HTML back to text, to recognise statuses on the account.

pub mod api;
mod auth;
pub mod count;
mod doctor;
pub mod html;
pub mod options;
pub mod publish;
pub mod remote;
pub mod rules;
mod session;
mod stats;

pub use options::{MastodonConfig, MastodonOptions};

use serde_json::{Value, json};
use url::Url;

use super::{Credential, Output, PlatformId, PreviewContext, chain, parts};
use crate::config::Config;
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use rules::Limits;

/// The platform's name in posts, config and records.
pub const NAME: &str = "mastodon";

/// Visibilities a status may have (`public` is the default).
pub const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];

/// A status of the chain: its text, media and where it comes from.
pub type MastodonPart = chain::SourcePart;

/// What a post becomes on Mastodon: one status per part, the later ones
/// replying to the one before; the options apply to every status.
#[derive(Debug, Clone)]
pub struct MastodonOutput {
    pub parts: Vec<MastodonPart>,
    pub visibility: String,
    pub spoiler_text: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    pub template: String,
    /// The limits `check` counted against (crier.yaml or Mastodon's defaults).
    pub limits: Limits,
}

impl MastodonOutput {
    /// Characters of part `i` as the instance counts them (content warning included).
    pub fn count(&self, i: usize, limits: &Limits) -> usize {
        count::weighted_len(
            &self.parts[i].text,
            self.spoiler_text.as_deref().unwrap_or(""),
            limits.characters_reserved_per_url,
        )
    }
}

impl Output for MastodonOutput {
    super::output_basics!(Mastodon::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        let max = self.limits.max_characters;
        self.parts
            .iter()
            .enumerate()
            .map(|(i, p)| cx.card(&p.text, self.count(i, &self.limits), max, &p.media))
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| parts::part_json(&p.text, &p.media)).collect::<Vec<_>>(),
            "visibility": self.visibility,
            "spoiler_text": self.spoiler_text,
            "sensitive": self.sensitive,
            "language": self.language,
        })
    }

    fn summary(&self) -> String {
        let counts = (0..self.parts.len()).map(|i| self.count(i, &self.limits));
        parts::chain_summary("mastodon ", "part", counts, self.limits.max_characters)
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let mut opts = vec![format!("visibility: {}", self.visibility)];
        if let Some(cw) = &self.spoiler_text {
            opts.push(format!("content warning: {cw}"));
        }
        if self.sensitive {
            opts.push("sensitive media".to_owned());
        }
        if let Some(l) = &self.language {
            opts.push(format!("language: {l}"));
        }
        parts::options_line(&mut out, &opts);
        let n = self.parts.len();
        let max = self.limits.max_characters;
        for (i, p) in self.parts.iter().enumerate() {
            let header = format!("status {}/{n} · {}/{max} characters", i + 1, self.count(i, &self.limits));
            parts::human_part(&mut out, &header, &p.text, &[], &p.media, " — no alt text");
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "MASTODON_ACCESS_TOKEN", required: true },
    // Or `mastodon.instance` in crier.yaml; `connect` says when neither is set.
    Credential { var: "MASTODON_INSTANCE", required: false },
];

/// The instance: `MASTODON_INSTANCE`, else crier.yaml `mastodon.instance`.
pub fn instance_url(env: &Env, config: &Config) -> Result<Url, String> {
    let (given, from) = match env.get("MASTODON_INSTANCE") {
        Some(v) => (v.to_owned(), "MASTODON_INSTANCE"),
        None => match config
            .sections
            .get_or_default::<MastodonConfig>()
            .instance
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            Some(v) => (v.to_owned(), "crier.yaml `mastodon.instance`"),
            None => {
                return Err("no Mastodon instance is set: set MASTODON_INSTANCE (e.g. https://mastodon.social) or `mastodon: {instance: …}` in crier.yaml".to_owned());
            }
        },
    };
    api::parse_instance(&given)
        .ok_or_else(|| format!("{from} is `{given}`, not an http(s) URL such as https://mastodon.social"))
}

super::platform! {
    pub struct Mastodon(NAME) {
        display: "Mastodon",
        credentials: CREDENTIALS,
        hint: "run `crier auth mastodon --instance https://your.server --write-env .env` (or on your instance open Preferences → Development → New application with the scopes `write:statuses write:media read:accounts read:statuses`), then set MASTODON_ACCESS_TOKEN and MASTODON_INSTANCE as repository secrets for CI",
        noun: "status",
        sign_in: &auth::MastodonSignIn,
        post: MastodonOptions,
        config: MastodonConfig,
        edits_in_place: true,
        connect: |cx| session::connect(cx).await,
        validate: |_project, post, o: &MastodonOutput| rules::validate(post, o, &o.limits),
    }

    /// `MASTODON_INSTANCE` that is not a server's address is exit 2 before anything is sent.
    fn check_env(&self, env: &Env) -> Result<(), String> {
        match env.get("MASTODON_INSTANCE") {
            Some(given) if api::parse_instance(given).is_none() => {
                Err(format!("MASTODON_INSTANCE is `{given}`, not an http(s) URL such as https://mastodon.social"))
            }
            _ => Ok(()),
        }
    }

    fn placeholder_url(&self, _post: &Post, env: &Env) -> String {
        // Status ids are 18 digits; the host is the instance when known.
        let host = env
            .get("MASTODON_INSTANCE")
            .and_then(api::parse_instance)
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "mastodon.social".to_owned());
        format!("https://{host}/@username/113456789012345678")
    }
}

/// Renders `post` for Mastodon: the chain (from `thread:`, `mastodon.text` or
/// the body split at thematic breaks) as plain text, each part through the
/// template, then `split: auto` against `limits` when asked.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<MastodonOutput, Vec<Diagnostic>> {
    let (opts, template) = super::options_and_template::<MastodonOptions>(project, post, Mastodon::id())?;
    let limits = Limits::from_config(&project.config.sections.get_or_default::<MastodonConfig>());

    let mut parts = chain::source_parts(project, post, opts.and_then(|o| o.text.as_ref()), chain::INLINE_LINKS);
    chain::add_top_media(project, post, &mut parts);

    let mut out: Vec<MastodonPart> = parts::render_chain(project, post, targets, Mastodon::id(), &template, parts)?
        .into_iter()
        .map(|(text, part)| MastodonPart { text: text.trim().to_owned(), ..part })
        .collect();
    let spoiler_text = opts.and_then(|o| o.spoiler_text.as_ref()).map(|s| s.value.trim().to_owned());
    let spoiler_text = spoiler_text.filter(|s| !s.is_empty());
    if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto) {
        let reserve = count::weighted_len("", spoiler_text.as_deref().unwrap_or(""), 0);
        out = split_long_parts(out, &limits, reserve);
    }
    Ok(MastodonOutput {
        parts: out,
        visibility: opts.and_then(|o| o.visibility.as_ref()).map_or_else(|| "public".to_owned(), |v| v.value.clone()),
        spoiler_text,
        sensitive: opts.and_then(|o| o.sensitive).unwrap_or(false),
        language: opts.and_then(|o| o.language.as_ref()).map(|l| l.value.trim().to_owned()),
        template,
        limits,
    })
}

fn split_long_parts(parts: Vec<MastodonPart>, limits: &Limits, reserve: usize) -> Vec<MastodonPart> {
    let per_url = limits.characters_reserved_per_url;
    let mut out = Vec::new();
    for part in parts {
        if count::text_len(&part.text, per_url) + reserve <= limits.max_characters {
            out.push(part);
            continue;
        }
        let pieces = count::split_to_fit(&part.text, limits.max_characters, reserve, per_url);
        out.extend(parts::spread(part, pieces, |text, p| MastodonPart { text, ..p }));
    }
    out
}
