//! X (API v2): plain text made like Threads text, counted the way X counts (280 weighted
//! characters), a chain of posts replying to each other, a poll, who may reply, and what a
//! run costs (X is pay-per-use).
//!
//! - [`count`]: twitter-text's weighted length, and `split: auto`;
//! - [`rules`]: the limits as check errors;
//! - [`oauth1`]: OAuth 1.0a signing; [`api`]: the HTTP client;
//! - [`cost`]: the prices and what a post costs;
//! - `publish`: exactly-once publishing through the account's own timeline.

pub mod api;
mod auth;
pub mod cost;
pub mod count;
mod doctor;
pub mod oauth1;
pub mod options;
pub mod publish;
pub mod rules;
mod session;

pub use options::{XConfig, XOptions, XPoll, XPrices};

use serde_json::{Value, json};

use super::{Credential, Output, PlatformId, PreviewContext};
use super::{chain, parts};
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;

/// The platform's name in posts, config and records.
pub const NAME: &str = "x";

/// `reply_settings` X knows (absent: everyone may reply).
pub const REPLY_SETTINGS: [&str; 4] = ["following", "mentionedUsers", "subscribers", "verified"];

/// The environment variables of the OAuth 1.0a user context.
pub const KEY_VARS: [&str; 4] = ["X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"];

/// One post of the chain (its text NFC-normalised, as X receives it).
pub type XPart = super::chain::SourcePart;

/// What a post becomes on X: one post per part, the later ones replying to the one before.
#[derive(Debug, Clone)]
pub struct XOutput {
    pub parts: Vec<XPart>,
    pub reply_settings: Option<String>,
    /// On the first part.
    pub poll: Option<api::NewPoll>,
    pub template: String,
    /// The prices the cost is counted with (crier.yaml `x.prices`).
    pub prices: XPrices,
}

impl XOutput {
    /// What publishing it costs, in US dollars (without reconciliation reads).
    pub fn cost(&self) -> f64 {
        cost::of_output(self, &self.prices)
    }
}

impl Output for XOutput {
    super::output_basics!(X::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        self.parts
            .iter()
            .map(|p| cx.card(&p.text, count::weighted_len(&p.text), count::MAX_WEIGHTED, &p.media))
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| {
                let mut part = parts::part_json(&p.text, &p.media);
                part["weighted_length"] = json!(count::weighted_len(&p.text));
                part
            }).collect::<Vec<_>>(),
            "reply_settings": self.reply_settings,
            "poll": self.poll.as_ref().map(|p| json!({"options": p.options, "duration_minutes": p.duration_minutes})),
            "cost_usd": cost::round(self.cost()),
        })
    }

    fn summary(&self) -> String {
        let counts = self.parts.iter().map(|p| count::weighted_len(&p.text));
        format!("{}  {}", parts::chain_summary("x ", "part", counts, count::MAX_WEIGHTED), cost::dollars(self.cost()))
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let mut opts = vec![format!("cost: {}", cost::dollars(self.cost()))];
        if let Some(r) = &self.reply_settings {
            opts.push(format!("replies: {r}"));
        }
        if let Some(p) = &self.poll {
            opts.push(format!("poll: {} ({} min)", p.options.join(" / "), p.duration_minutes));
        }
        parts::options_line(&mut out, &opts);
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            let len = count::weighted_len(&p.text);
            let header = format!("post {}/{n} · {len}/{} weighted characters", i + 1, count::MAX_WEIGHTED);
            parts::human_part(&mut out, &header, &p.text, &[], &p.media, " — no alt text");
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "X_API_KEY", required: true },
    Credential { var: "X_API_SECRET", required: true },
    Credential { var: "X_ACCESS_TOKEN", required: true },
    Credential { var: "X_ACCESS_TOKEN_SECRET", required: true },
];

/// The four credentials from the environment, when all are set.
pub fn credentials(env: &Env) -> Option<oauth1::Credentials> {
    let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).map(|v| secrecy::SecretString::from(v.to_owned()));
    Some(oauth1::Credentials {
        consumer_key: get(KEY_VARS[0])?,
        consumer_secret: get(KEY_VARS[1])?,
        token: get(KEY_VARS[2])?,
        token_secret: get(KEY_VARS[3])?,
    })
}

/// The API base: `CRIER_X_API_URL`, else `https://api.x.com`.
pub fn base_url(env: &Env) -> &str {
    env.get("CRIER_X_API_URL").unwrap_or(api::DEFAULT_BASE_URL)
}

super::platform! {
    pub struct X(NAME) {
        display: "X",
        credentials: CREDENTIALS,
        hint: "in the X developer console (console.x.com) create an app with read and write permission and set its API key and secret as X_API_KEY and X_API_SECRET; then run `crier auth x --write-env .env` (or generate an access token and secret in the console) for X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET; set all four as repository secrets for CI (the tokens do not expire)",
        sign_in: &auth::XSignIn,
        post: XOptions,
        config: XConfig,
        connect: |cx| session::connect(cx),
        validate: |_project, post, o: &XOutput| rules::validate(post, o),
    }

    fn placeholder_url(&self, _post: &Post, _env: &Env) -> String {
        // A link counts 23 on X whatever its length; ids are 19 digits.
        "https://x.com/username/status/1346889436626259968".to_owned()
    }

    fn dry_run_note(&self, project: &Project, due: &[&dyn Output]) -> Option<String> {
        let outs: Vec<&XOutput> = due.iter().filter_map(|o| super::downcast::<XOutput>(*o)).collect();
        Some(cost::plan(
            &outs,
            &project.config.sections.get_or_default::<XConfig>().prices,
            project.config.publish.x_max_cost_per_run,
        ))
    }
}

/// Renders `post` for X: the chain (from `thread:`, `x.text` or the body split at
/// thematic breaks) as plain text, each part through the template, NFC-normalised, then
/// `split: auto` at 280 weighted characters when asked.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<XOutput, Vec<Diagnostic>> {
    let opts = post.options.get::<XOptions>().map(|m| &m.value);
    let template = super::choose_template(project, post, opts.and_then(|o| o.template.as_ref()), X::id())?;

    let mut parts = chain::source_parts(project, post, opts.and_then(|o| o.text.as_ref()), chain::INLINE_LINKS);
    chain::add_top_media(project, post, &mut parts);

    let mut out: Vec<XPart> = parts::render_chain(project, post, targets, X::id(), &template, parts)?
        .into_iter()
        .map(|(text, part)| XPart { text: count::normalize(text.trim()), ..part })
        .collect();
    if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto) {
        out = out
            .into_iter()
            .flat_map(|part| {
                if count::weighted_len(&part.text) <= count::MAX_WEIGHTED {
                    return vec![part];
                }
                let pieces = count::split_to_fit(&part.text);
                parts::spread(part, pieces, |text, p| XPart { text, ..p })
            })
            .collect();
    }
    let poll = opts.and_then(|o| o.poll.as_ref()).map(|p| api::NewPoll {
        options: p.value.options.value.iter().map(|o| o.value.trim().to_owned()).collect(),
        duration_minutes: p.value.duration_minutes.value,
    });
    Ok(XOutput {
        parts: out,
        reply_settings: opts.and_then(|o| o.reply_settings.as_ref()).map(|r| r.value.trim().to_owned()),
        poll,
        template,
        prices: project.config.sections.get_or_default::<XConfig>().prices,
    })
}
