//! The platforms crier publishes to, each one module behind one trait.
//!
//! [`Platform`] is what a platform is outside a run: how a post renders there, which rules
//! it must meet, which credentials it needs, how `doctor` checks them, and how to connect.
//! [`Session`] is a platform connected for one publish run: its budget, publishing,
//! updating in place. The run loop, the plan, the dry run, `status`, `doctor` and the
//! summary are written once against these traits (see `crate::publish`).
//!
//! Adding a platform: a folder here, its name in [`crate::platform_id::NAMES`] and its
//! value in [`REGISTRY`] (same position). `docs/adding-a-platform.md` has the recipe.

pub mod bluesky;
pub mod card;
pub mod chain;
pub mod devto;
pub mod discord;
pub mod entities;
pub mod http;
pub mod linkedin;
pub mod mastodon;
pub mod metrics;
pub mod nostr;
pub mod oauth;
pub mod parts;
pub mod telegram;
pub mod threads;
pub mod upload;
pub mod x;

use std::any::Any;
use std::collections::HashSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

pub use crate::platform_id::PlatformId;

use crate::checklist::Checklist;
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::keys::{Catalog, Declared, Section};
use crate::ledger::Record;
use crate::project::Project;
use crate::render::context;
use http::HttpOptions;
use oauth::SignIn;

/// Every platform, in the order of [`crate::platform_id::NAMES`].
pub static REGISTRY: &[&dyn Platform] = &[
    &threads::Threads,
    &devto::Devto,
    &bluesky::Bluesky,
    &mastodon::Mastodon,
    &linkedin::Linkedin,
    &x::X,
    &nostr::Nostr,
    &telegram::Telegram,
    &discord::Discord,
];

/// The implementation of `id`.
pub fn get(id: PlatformId) -> &'static dyn Platform {
    REGISTRY[id.index()]
}

/// What a post becomes on one platform.
pub trait Output: Any + Debug + Send + Sync {
    fn platform(&self) -> PlatformId;

    /// The template it was rendered with (for cross-link dependencies).
    fn template(&self) -> &str;

    /// The JSON shape of `crier render --format json` (contract section 4).
    fn to_json(&self) -> Value;

    /// A human-readable preview.
    fn to_human(&self) -> String;

    /// One line: the platform, its parts and sizes against the limits.
    fn summary(&self) -> String;

    /// An HTML preview for `watch --serve`; local media it shows are added to `cx`. By
    /// default the platform's column of [`Output::cards`].
    fn preview_html(&self, cx: &mut PreviewContext<'_>) -> String {
        crate::render::html::cards(get(self.platform()).display_name(), &self.cards(cx))
    }

    /// Replies to its own first part it is published as (a chain's parts after the first),
    /// for a platform that counts replies against a quota of their own.
    fn replies(&self) -> u64 {
        0
    }

    fn as_any(&self) -> &dyn Any;

    /// The cards of the default [`Output::preview_html`], a part each.
    fn cards<'a>(&'a self, _cx: &mut PreviewContext<'_>) -> Vec<crate::render::html::Card<'a>> {
        Vec::new()
    }
}

/// A rendered post, cheap to clone.
pub type Rendered = Arc<dyn Output>;

/// What an HTML preview needs besides the rendering.
pub struct PreviewContext<'a> {
    pub root: &'a Path,
    /// The post's repository path.
    pub post_path: &'a str,
    /// Local files the page must serve: (repository path, absolute path).
    pub media: &'a mut Vec<(String, PathBuf)>,
}

impl PreviewContext<'_> {
    /// A media item as a card shows it: the source (a served local file, else its URL),
    /// the alt text, and whether it is a video.
    pub fn card_media(&mut self, m: &crate::rules::media::MediaRef) -> (Option<String>, String, bool) {
        let src = match (&m.path, &m.abs) {
            (Some(rel), Some(abs)) => Some(self.local_media(rel, abs)),
            _ => m.url.clone(),
        };
        (src, m.alt.clone().unwrap_or_default(), m.format.is_video())
    }

    /// The page's URL for a repository file, registering it to be served.
    pub fn local_media(&mut self, rel: &str, abs: &Path) -> String {
        self.media.push((rel.to_owned(), abs.to_path_buf()));
        format!("/media/{}", crate::render::html::url_path(rel))
    }
}

/// An environment variable a platform reads.
#[derive(Debug, Clone, Copy)]
pub struct Credential {
    pub var: &'static str,
    /// Needed to publish at all (else optional).
    pub required: bool,
}

/// Why a post did not go out, as the run reports it.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    pub message: String,
    /// Set when nothing more can succeed on this platform in this run (a rejected
    /// token, a bad password): the reason given for the posts not attempted.
    pub fatal: Option<String>,
    /// Parts of a chain that went out before the failure (the next run resumes after them).
    pub published_parts: usize,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), ..Self::default() }
    }
}

/// An [`http::OnWait`] body showing a wait on a progress line, counting
/// down in whole seconds: `{who}: trying again in N s` (a wait the server asked for, or
/// the backoff after a failure).
pub fn countdown<'a>(progress: &'a dyn Fn(&str), who: &'a str) -> impl Fn(std::time::Duration) + 'a {
    move |left| progress(&format!("{who}: trying again in {} s", left.as_secs_f64().ceil() as u64))
}

/// How many more posts a platform accepts in this run, and why it stops there.
#[derive(Debug, Clone)]
pub struct Budget {
    pub remaining: u64,
    /// Said of a post deferred because the budget is used up.
    pub exhausted: String,
    /// Replies left, where replies have a quota of their own (Threads): a chain that does
    /// not fit waits whole for a later run rather than stopping part-way.
    pub replies: Option<u64>,
}

/// What connecting a platform for a run gets.
pub struct ConnectContext<'a> {
    pub project: &'a Project,
    pub env: &'a Env,
    /// Ids (and part ids) recorded for this platform by any post of the repository: a
    /// platform never adopts one of them for another post.
    pub recorded_ids: HashSet<String>,
    pub http: HttpOptions,
}

/// One post to publish (or update) on a connected platform.
pub struct Job<'a> {
    pub post: &'a Post,
    pub rendered: &'a dyn Output,
    /// `sha256:…` of what is sent (`fingerprint`).
    pub hash: &'a str,
    /// The run's time, RFC 3339.
    pub now: &'a str,
    /// Reports a step (shown as progress).
    pub progress: &'a dyn Fn(&str),
    /// Says that the job's order-sensitive calls are over (its last publish call went
    /// out), so the platform's next post may start while this one finishes (reads its
    /// URL). A session that never calls it publishes strictly one post after another.
    pub ordered_done: &'a dyn Fn(),
    /// For a platform that can neither repeat a send nor look its posts up: called before
    /// each such send, it writes into the post's entry what is known (the parts confirmed
    /// so far) marked `unconfirmed: <check>`, so a crash before the reply is recorded
    /// holds the post back instead of sending it again. `Err`: the entry could not be
    /// written, and nothing may be sent. A session that returns a record, or a failure
    /// with nothing sent, needs nothing more: the engine replaces or takes the entry out.
    pub write_ahead: &'a dyn Fn(LostReply) -> futures_util::future::LocalBoxFuture<'a, Result<(), String>>,
}

/// What `doctor` gives a platform.
pub struct DoctorContext<'a> {
    pub project: Option<&'a Project>,
    pub env: &'a Env,
    pub http: HttpOptions,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// One platform: how a post renders there, which rules it must meet, and how to reach it.
#[async_trait::async_trait(?Send)]
pub trait Platform: Sync {
    fn id(&self) -> PlatformId;

    /// The name people know it by ("dev.to").
    fn display_name(&self) -> &'static str;

    /// What one published post is called there ("article" on dev.to).
    fn post_noun(&self) -> &'static str {
        "post"
    }

    /// Renders the post. `targets` are the platforms the post goes to: those without a
    /// record get a placeholder `published.<platform>.url` (check, render, dry run).
    fn render(&self, project: &Project, post: &Post, targets: &[PlatformId]) -> Result<Rendered, Vec<Diagnostic>>;

    /// Checks the rendered post against the platform's rules.
    fn validate(&self, project: &Project, post: &Post, rendered: &dyn Output) -> Vec<Diagnostic>;

    /// A URL of typical length for a post not published yet, so length checks of a
    /// template that links it stay meaningful.
    fn placeholder_url(&self, post: &Post, env: &Env) -> String;

    /// The environment variables it reads.
    fn credentials(&self) -> &'static [Credential];

    /// How to get the credentials (said when they are missing).
    fn setup_hint(&self) -> &'static str;

    /// Whether a published post that changed is updated in place (else left alone).
    fn edits_in_place(&self) -> bool {
        false
    }

    /// `crier auth <platform>` and its part of `crier auth refresh`, where the platform has
    /// a sign-in; the others say how to get credentials ([`Platform::setup_hint`]).
    fn sign_in(&self) -> Option<&'static dyn SignIn> {
        None
    }

    /// Connects for a run (called only when something is due for this platform).
    async fn connect(&self, cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure>;

    /// `crier doctor`: checks the credentials against the platform (they are set).
    async fn doctor(&self, cx: &DoctorContext<'_>, report: &mut Checklist);

    // The keys the platform adds (`crate::keys`): parsed, checked and put in the JSON
    // Schemas under the platform's name. `Section::of::<T>()` declares a type.

    /// Its `<platform>:` mapping in a post (read back with `post.options.get::<T>()`).
    fn post_options(&self) -> Option<Section> {
        None
    }

    /// Its `<platform>:` section of crier.yaml (read back with
    /// `config.sections.get_or_default::<T>()`).
    fn config_section(&self) -> Option<Section> {
        None
    }

    /// Checks the form of credentials that are set (a malformed key is exit 2 before
    /// anything is sent); the message names the variable, never its value.
    fn check_env(&self, _env: &Env) -> Result<(), String> {
        Ok(())
    }

    /// Whether a published post that renders to `rendered` is updated in place when it
    /// changes (a platform may edit some kinds of posts and not others).
    fn edits_output_in_place(&self, _rendered: &dyn Output) -> bool {
        self.edits_in_place()
    }

    /// Whether an unchanged published post still has something to finish (a Nostr post
    /// not yet on a relay configured since): `publish` then hands it to
    /// [`Session::update`] with its record, as if it had changed.
    fn unfinished(&self, _record: &Record, _project: &Project) -> bool {
        false
    }

    /// A line for `publish --dry-run` about the posts due here (what they would cost, on a
    /// pay-per-use API).
    fn dry_run_note(&self, _project: &Project, _due: &[&dyn Output]) -> Option<String> {
        None
    }
}

/// A platform's unit type and its [`Platform`] impl, with the methods that only name the
/// platform's parts written from one argument each: its id (also the type's own
/// `Self::id()`), name, credentials and setup hint, what a post is called there, the key
/// types it declares, whether it edits in place, how it connects, checks credentials
/// (`doctor::check` of the folder unless named) and validates. It renders with the
/// folder's `fn render(&Project, &Post, &[PlatformId]) -> Result<ExampleOutput, Vec<Diagnostic>>`.
/// The methods it overrides besides follow the braces.
///
/// ```text
/// platform! {
///     pub struct Example(NAME) {
///         display: "Example",
///         credentials: CREDENTIALS,
///         hint: "create an API key at https://example.com/settings and set EXAMPLE_API_KEY",
///         noun: "note",                  // optional (default "post")
///         sign_in: &auth::ExampleSignIn, // optional
///         post: ExampleOptions,          // optional
///         config: ExampleConfig,         // optional
///         edits_in_place: true,          // optional (default false)
///         connect: |cx| session::connect(cx).await,
///         doctor: session::doctor,       // optional (default doctor::check)
///         validate: |_project, post, out: &ExampleOutput| rules::validate(post, out),
///     }
///     fn placeholder_url(&self, _post: &Post, _env: &Env) -> String { … }
/// }
/// ```
macro_rules! platform {
    (@doctor) => {
        doctor::check
    };
    (@doctor $doctor:path) => {
        $doctor
    };
    (
        $(#[$attr:meta])*
        $vis:vis struct $ty:ident($name:expr) {
            display: $display:literal,
            credentials: $credentials:expr,
            hint: $hint:literal,
            $(noun: $noun:literal,)?
            $(sign_in: $sign_in:expr,)?
            $(post: $post:ty,)?
            $(config: $config:ty,)?
            $(edits_in_place: $edits:literal,)?
            connect: |$cx:ident| $connect:expr,
            $(doctor: $doctor:path,)?
            validate: $validate:expr $(,)?
        }
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis struct $ty;

        impl $ty {
            fn id() -> $crate::platforms::PlatformId {
                $crate::platforms::PlatformId::parse($name).expect("a platform of the registry")
            }
        }

        #[async_trait::async_trait(?Send)]
        impl $crate::platforms::Platform for $ty {
            fn id(&self) -> $crate::platforms::PlatformId {
                Self::id()
            }

            fn display_name(&self) -> &'static str {
                $display
            }

            fn credentials(&self) -> &'static [$crate::platforms::Credential] {
                $credentials
            }

            fn setup_hint(&self) -> &'static str {
                $hint
            }

            $(fn post_noun(&self) -> &'static str {
                $noun
            })?

            $(fn sign_in(&self) -> Option<&'static dyn $crate::platforms::oauth::SignIn> {
                Some($sign_in)
            })?

            $(fn post_options(&self) -> Option<$crate::keys::Section> {
                Some($crate::keys::Section::of::<$post>())
            })?

            $(fn config_section(&self) -> Option<$crate::keys::Section> {
                Some($crate::keys::Section::of::<$config>())
            })?

            $(fn edits_in_place(&self) -> bool {
                $edits
            })?

            async fn connect(
                &self,
                $cx: &$crate::platforms::ConnectContext<'_>,
            ) -> Result<Box<dyn $crate::platforms::Session>, $crate::platforms::Failure> {
                $connect
            }

            async fn doctor(&self, cx: &$crate::platforms::DoctorContext<'_>, report: &mut $crate::checklist::Checklist) {
                $crate::platforms::platform!(@doctor $($doctor)?)(cx, report).await;
            }

            fn render(
                &self,
                project: &$crate::project::Project,
                post: &$crate::content::Post,
                targets: &[$crate::platforms::PlatformId],
            ) -> Result<$crate::platforms::Rendered, Vec<$crate::diag::Diagnostic>> {
                render(project, post, targets).map(|o| std::sync::Arc::new(o) as $crate::platforms::Rendered)
            }

            fn validate(
                &self,
                project: &$crate::project::Project,
                post: &$crate::content::Post,
                rendered: &dyn $crate::platforms::Output,
            ) -> Vec<$crate::diag::Diagnostic> {
                $crate::platforms::validate_as(project, post, rendered, $validate)
            }

            $($rest)*
        }
    };
}
pub(crate) use platform;

/// The [`Output`] methods every output writes alike, for a type with a `template: String`
/// field: `impl Output for XOutput { output_basics!(X::id()); … }`.
macro_rules! output_basics {
    ($id:expr) => {
        fn platform(&self) -> $crate::platforms::PlatformId {
            $id
        }

        fn template(&self) -> &str {
            &self.template
        }

        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    };
}
pub(crate) use output_basics;

/// What every platform declares, for parsing posts and crier.yaml and for `crier schema`.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::new(
            REGISTRY
                .iter()
                .map(|p| Declared { name: p.id().name(), post: p.post_options(), config: p.config_section() })
                .collect(),
        )
    })
}

/// A platform connected for one publish run. Methods take `&self` so slow, harmless work
/// ([`Session::prepare`]) can run beside publishing.
#[async_trait::async_trait(?Send)]
pub trait Session {
    /// How many more posts may go out in this run (`None`: no limit).
    fn budget(&self) -> Option<Budget> {
        None
    }

    /// Starts slow work for a job that is published later (media processing). It must
    /// be harmless when the job is never published.
    async fn prepare(&self, _job: &Job<'_>) {}

    /// Publishes the post (or adopts what an interrupted run already published) and
    /// returns the record to write back.
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure>;

    /// Updates a published post in place; only called where [`Platform::edits_in_place`].
    async fn update(&self, job: &Job<'_>, _previous: &Record) -> Result<Record, Failure> {
        Err(Failure::new(format!("{} posts cannot be edited", job.rendered.platform())))
    }

    /// `crier adopt`: looks for the post on the account, the way [`Session::publish`]
    /// reconciles, and returns its record without publishing or changing anything.
    /// `incomplete` is the post's record when it has an id but no URL (written by
    /// `crier import`): the platform looks that id up instead.
    async fn adopt(&self, _job: &Job<'_>, _incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        Ok(Adoption::Unsupported)
    }

    /// How many more deletions (chain parts count one each) the platform accepts now, and
    /// why it stops there (Threads' daily delete quota). `None`: no known limit.
    async fn delete_budget(&self) -> Result<Option<Budget>, Failure> {
        Ok(None)
    }

    /// `crier delete`: takes the recorded post down, every part of a chain, the last part
    /// first. A part that is already gone counts as deleted, so running again after a
    /// lost reply or a crash finishes the job. `target.record.deleted_at` is not set yet.
    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let _ = target;
        Err(Failure::new("crier cannot delete posts on this platform"))
    }

    /// `crier status --remote`: asks the platform whether the recorded post is still there
    /// as recorded. Read-only.
    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let _ = target;
        Ok(Remote::Unchecked("crier cannot look posts up on this platform".to_owned()))
    }

    /// `crier stats`: the engagement of each recorded post, in the order of `targets`,
    /// read in as few calls as the platform's API allows. Read-only. An error means
    /// nothing could be read here (a missing permission, a refused token): its message
    /// says why and how to fix it.
    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<metrics::Engagement>, Failure> {
        let _ = targets;
        Err(Failure::new("crier cannot read engagement on this platform"))
    }

    /// HTTP requests sent so far.
    fn calls(&self) -> u64;

    /// Set once the platform has refused crier's configuration (a sunset API version in
    /// crier.yaml): why. The run then exits 2, as for any invocation or environment error.
    fn misconfigured(&self) -> Option<String> {
        None
    }

    /// What the engine calls to publish a post: [`Session::publish`], for a platform that
    /// can always find out what a lost reply did. A platform that cannot (no idempotency
    /// key, no way to read its posts back) overrides it and answers [`Sent::ReplyLost`]
    /// when a send went out but its reply was lost: the engine records that at once and
    /// never sends the post again on its own.
    async fn send(&self, job: &Job<'_>) -> Result<Sent, Failure> {
        self.publish(job).await.map(Sent::Recorded)
    }

    /// Whether a post may start now, checked just before [`Session::publish`] (never for an
    /// update): `Some(why)` defers it to a later run (a spending cap, X's
    /// `publish.x_max_cost_per_run`).
    fn admit(&self, _rendered: &dyn Output) -> Option<String> {
        None
    }

    /// A line for the run's summary about what the session spent, on a pay-per-use API.
    fn spent(&self) -> Option<String> {
        None
    }
}

/// What [`Session::send`] did with a post.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Published (or found published): the record to write back.
    Recorded(Record),
    /// A send went out and its reply was lost, and the platform cannot tell whether the
    /// post exists: the engine writes `record` with the marker `unconfirmed: <check>`
    /// (`ledger::set_unconfirmed`) and holds the post back until the user records it
    /// (`crier adopt PATH --platform P --id N`) or clears it (`crier publish --resend PATH`).
    ReplyLost(LostReply),
}

/// [`Job::write_ahead`] where nothing is sent (`adopt`, `prepare`): refuses.
pub fn no_write_ahead<'a>(_: LostReply) -> futures_util::future::LocalBoxFuture<'a, Result<(), String>> {
    Box::pin(async { Err("crier sends nothing here".to_owned()) })
}

/// What is known of a post whose reply was lost.
#[derive(Debug, Clone)]
pub struct LostReply {
    /// What is confirmed: `parts` sent before the lost one (ids and URLs; the first as
    /// `id`/`url`), else empty `id` and `url`; `published_at` is when it was sent, `hash`
    /// what was sent.
    pub record: Record,
    /// What the user should look for, in the platform's words (where, which text).
    pub check: String,
}

impl Sent {
    /// The record of a post sent and confirmed; a lost reply is a failure that says what
    /// to check (for callers that cannot record an unconfirmed send).
    pub fn confirmed(self) -> Result<Record, Failure> {
        match self {
            Self::Recorded(r) => Ok(r),
            Self::ReplyLost(lost) => Err(Failure::new(format!("sent, reply lost: {}", lost.check))),
        }
    }
}

/// A recorded post that `crier delete` takes down or `crier status --remote` looks up.
pub struct Recorded<'a> {
    pub post: &'a Post,
    /// The post's record on the session's platform.
    pub record: &'a Record,
    /// What the post renders to now, given only when that is what was sent (its
    /// fingerprint is the record's hash): the text a platform compares with its own.
    pub rendered: Option<&'a dyn Output>,
    /// Reports a step (shown as progress).
    pub progress: &'a dyn Fn(&str),
}

impl Recorded<'_> {
    /// The recorded ids of every part, first part first (one for a single post).
    pub fn part_ids(&self) -> Vec<&str> {
        if self.record.parts.is_empty() {
            vec![self.record.id.as_str()]
        } else {
            self.record.parts.iter().map(|p| p.id.as_str()).collect()
        }
    }
}

/// What [`Session::delete`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deletion {
    /// Parts taken down by this call.
    pub deleted: usize,
    /// Parts that were already gone (deleted in the app, or by an interrupted run).
    pub already_gone: usize,
    /// What the user should know about how the platform deletes ("unpublished: dev.to
    /// has no delete").
    pub note: Option<String>,
}

impl Deletion {
    /// Deletes the parts `ids` the last first, so an interrupted run never leaves the end of
    /// a chain without its start; for a chain, `step(i, n)` is the progress line of part `i`
    /// (from 1). `delete(i, id)` says whether the part was there (`false`: already gone); a
    /// failure stops, counting the parts done before it in `published_parts`.
    pub async fn last_first<'a, F, Fut>(
        ids: &[&'a str],
        progress: &dyn Fn(&str),
        step: impl Fn(usize, usize) -> String,
        mut delete: F,
    ) -> Result<Self, Failure>
    where
        F: FnMut(usize, &'a str) -> Fut,
        Fut: std::future::Future<Output = Result<bool, Failure>>,
    {
        let n = ids.len();
        let mut done = Self::default();
        for (i, id) in ids.iter().enumerate().rev() {
            if n > 1 {
                progress(&step(i + 1, n));
            }
            match delete(i, id).await {
                Ok(true) => done.deleted += 1,
                Ok(false) => done.already_gone += 1,
                Err(f) => return Err(Failure { published_parts: done.deleted + done.already_gone, ..f }),
            }
        }
        Ok(done)
    }
}

/// What [`Session::inspect`] found for one recorded post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// There as recorded (and its text matches, where the platform returns text and the
    /// file still renders to what was sent).
    Same,
    /// The post, or some parts of its chain, are no longer there: which.
    Gone(String),
    /// The platform's text differs from what was sent: where.
    Edited(String),
    /// The record points at a post of another account: whose.
    OtherAccount(String),
    /// Not checked: why.
    Unchecked(String),
}

/// How a platform names its posts in the messages of [`Remote::found`].
pub struct PostNouns {
    /// A lone post: `the post`.
    pub one: &'static str,
    /// A part of a chain: `part`.
    pub part: &'static str,
    /// Parts of a chain: `parts`.
    pub parts: &'static str,
    /// Where they were: `on Bluesky`.
    pub place: &'static str,
}

impl Remote {
    /// What a check of a chain of `n` parts found: the parts gone (1-based) win over the
    /// edits, and nothing found is [`Remote::Same`].
    pub fn found(n: usize, gone: &[usize], edited: &[String], nouns: &PostNouns) -> Self {
        let PostNouns { one, part, parts, place } = nouns;
        if !gone.is_empty() {
            Self::Gone(match (n, gone.len()) {
                (1, _) => format!("{one} is no longer {place}"),
                (n, g) if g == n => format!("all {n} {parts} are no longer {place}"),
                (n, 1) => format!("{part} {} of {n} is no longer {place}", gone[0]),
                (n, _) => format!(
                    "{parts} {} of {n} are no longer {place}",
                    gone.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
                ),
            })
        } else if !edited.is_empty() {
            Self::Edited(edited.join("; "))
        } else {
            Self::Same
        }
    }

    /// The stable name used in `status --remote --format json`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Gone(_) => "gone",
            Self::Edited(_) => "edited",
            Self::OtherAccount(_) => "other-account",
            Self::Unchecked(_) => "unchecked",
        }
    }

    /// Whether this is drift (the platform no longer shows what the file records).
    pub fn is_drift(&self) -> bool {
        matches!(self, Self::Gone(_) | Self::Edited(_) | Self::OtherAccount(_))
    }
}

/// What [`Session::adopt`] found for one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adoption {
    /// The post (every part of a chain found, in order) is there: the record to write.
    Found(Record),
    /// Nothing on the account matches.
    NotFound,
    /// Several posts match: none is adopted, and this says which (for the user to decide).
    Ambiguous(String),
    /// Only the beginning of a chain is there: nothing is adopted, and this says what.
    Partial(String),
    /// The platform cannot look for existing posts.
    Unsupported,
}

/// The template context of `post` on `platform`: every post key, `published.<p>.url`
/// (placeholders for `targets` without a record), `platform`.
pub(crate) fn template_context(
    project: &Project,
    post: &Post,
    targets: &[PlatformId],
    platform: PlatformId,
) -> Map<String, Value> {
    let placeholder = |p: PlatformId| get(p).placeholder_url(post, &project.env);
    let mut ctx = context::base(post, &project.config, targets, &placeholder);
    ctx.insert("platform".into(), platform.name().into());
    ctx
}

/// The template a post uses on a platform: the platform's override key, else the post's
/// `template`, else the built-in named after the platform.
pub(crate) fn choose_template(
    project: &Project,
    post: &Post,
    override_key: Option<&serde_saphyr::Spanned<String>>,
    platform: PlatformId,
) -> Result<String, Vec<Diagnostic>> {
    let key = override_key.or(post.front.template.as_ref());
    let name = key.map_or(platform.name(), |t| t.value.as_str()).to_owned();
    if project.templates.has(&name) {
        return Ok(name);
    }
    let known: Vec<&str> = project.templates.names().collect();
    let span = key.map_or_else(|| post.head_span(), |t| post.span_of(&t.referenced));
    Err(vec![
        Diagnostic::error("template-not-found", format!("template `{name}` does not exist"))
            .at(&post.source, span)
            .with_hint(format!(
                "create `{}/{name}.hbs`, or use one of: {}",
                project.config.templates_dir,
                known.join(", ")
            )),
    ])
}

/// The post's `<platform>:` options of type `T`, when it has them, and the template it
/// renders with there ([`choose_template`] with the options' `template`).
pub(crate) fn options_and_template<'p, T: crate::keys::Options>(
    project: &Project,
    post: &'p Post,
    platform: PlatformId,
) -> Result<(Option<&'p T>, String), Vec<Diagnostic>> {
    let opts = post.options.get::<T>().map(|o| &o.value);
    let template = choose_template(project, post, opts.and_then(|o| o.template()), platform)?;
    Ok((opts, template))
}

/// crier.yaml holding `yaml`, loaded as `crier` loads it (for the tests of a platform's
/// section).
#[cfg(test)]
pub(crate) fn load_config_yaml(yaml: &str) -> crate::error::Result<crate::config::Config> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(crate::config::FILE_NAME), yaml).expect("write");
    crate::config::load(dir.path(), None, catalog()).map(|l| l.config)
}

/// `rendered` as the platform's own output type.
pub(crate) fn downcast<T: Output>(rendered: &dyn Output) -> Option<&T> {
    rendered.as_any().downcast_ref::<T>()
}

/// [`Platform::validate`] through a platform's own check of its output type (nothing to
/// say about another platform's output).
pub(crate) fn validate_as<T: Output>(
    project: &Project,
    post: &Post,
    rendered: &dyn Output,
    check: impl Fn(&Project, &Post, &T) -> Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    downcast::<T>(rendered).map(|o| check(project, post, o)).unwrap_or_default()
}

/// `rendered` as the platform's own output type; another platform's rendering is an internal
/// failure (`expected` names what was expected: `a dev.to`).
pub(crate) fn rendered_as<'a, T: Output>(rendered: &'a dyn Output, expected: &str) -> Result<&'a T, Failure> {
    downcast::<T>(rendered).ok_or_else(|| Failure::new(format!("internal: not {expected} rendering")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_follows_the_names() {
        assert_eq!(REGISTRY.len(), crate::platform_id::NAMES.len());
        for id in PlatformId::all() {
            assert_eq!(get(id).id(), id, "REGISTRY[{}] is not {id}", id.index());
        }
    }
}
