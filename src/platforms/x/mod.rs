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

use handlebars::Context;
use serde_json::{Value, json};

use super::chain;
use super::{Credential, Output, PlatformId, PreviewContext};
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::{Card, cards};
use crate::render::templates::TemplateFailure;
use crate::rules::media::MediaRef;

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

    fn preview_html(&self, cx: &mut PreviewContext<'_>) -> String {
        let max = count::MAX_WEIGHTED;
        let list: Vec<Card<'_>> = self
            .parts
            .iter()
            .map(|part| {
                let n = count::weighted_len(&part.text);
                Card {
                    text: &part.text,
                    counter: format!("{n}/{max}"),
                    over: n > max,
                    media: part.media.iter().map(|m| cx.card_media(m)).collect(),
                }
            })
            .collect();
        cards("X", &list)
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| json!({
                "text": p.text,
                "weighted_length": count::weighted_len(&p.text),
                "media": p.media.iter().map(MediaRef::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "reply_settings": self.reply_settings,
            "poll": self.poll.as_ref().map(|p| json!({"options": p.options, "duration_minutes": p.duration_minutes})),
            "cost_usd": cost::round(self.cost()),
        })
    }

    fn summary(&self) -> String {
        let n = self.parts.len();
        let max = count::MAX_WEIGHTED;
        let sizes: Vec<String> = self.parts.iter().map(|p| format!("{}/{max}", count::weighted_len(&p.text))).collect();
        format!("x {n} part{}  {}  {}", if n == 1 { "" } else { "s" }, sizes.join("  "), cost::dollars(self.cost()))
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
        out.push_str(&opts.join(" · "));
        out.push('\n');
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            let len = count::weighted_len(&p.text);
            out.push_str(&format!("── post {}/{n} · {len}/{} weighted characters ──\n", i + 1, count::MAX_WEIGHTED));
            if !p.text.is_empty() {
                out.push_str(&p.text);
                out.push('\n');
            }
            for m in &p.media {
                out.push_str(&m.human_line(" — no alt text"));
            }
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
        doctor: doctor::check,
        render: render,
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

    let mut ctx = Context::from(Value::Object(super::template_context(project, post, targets, X::id())));
    let n = parts.len();
    let mut out = Vec::with_capacity(n);
    for (i, part) in parts.into_iter().enumerate() {
        chain::set_part(&mut ctx, i, n, part.text);
        match project.templates.render_with_context(&template, &ctx, &post.path, NAME) {
            Ok(rendered) => out.push(XPart { text: count::normalize(rendered.trim()), ..part }),
            Err(TemplateFailure::AlreadyReported) => return Err(Vec::new()),
            Err(TemplateFailure::Error(d)) => return Err(vec![*d]),
        }
    }
    if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto) {
        out = out
            .into_iter()
            .flat_map(|part| {
                if count::weighted_len(&part.text) <= count::MAX_WEIGHTED {
                    return vec![part];
                }
                let (mut media, mut dropped) = (Some(part.media), Some(part.dropped_images));
                count::split_to_fit(&part.text)
                    .into_iter()
                    .map(|text| XPart {
                        text,
                        media: media.take().unwrap_or_default(),
                        origin: part.origin.clone(),
                        dropped_images: dropped.take().unwrap_or_default(),
                    })
                    .collect()
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
