//! `crier` end to end for LinkedIn: the real binary against the fake LinkedIn — render,
//! publish (text with reserved characters and a hashtag, images with alt text, a link card),
//! records, reruns, edits, deletes, status and stats, a sunset API version, and exactly once
//! after lost replies (resent inside the duplicate window; past it, nothing is resent and the
//! run says what to check). The fault matrix is in tests/faults.rs.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_linkedin.rs"]
mod fake_linkedin;

use std::time::Duration;

use common::{Crier, png};
use fake_linkedin::{FakeConfig, FakeLinkedin, Fault, Route};
use serde_json::Value;

const CONFIG: &str = "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n";

common::world!(FakeLinkedin, |f| [
    plain("CRIER_LINKEDIN_API_URL", f.origin()),
    secret("LINKEDIN_ACCESS_TOKEN", f.token())
]);

impl World {
    fn new() -> Self {
        Self::with(CONFIG)
    }

    fn with(config: &str) -> Self {
        // Dropped replies hang longer than crier's 2 s request timeout.
        let cfg = FakeConfig { drop_hang: Duration::from_secs(5), ..FakeConfig::default() };
        Self::configured(2, "crier-linkedin-", config, || FakeLinkedin::start(cfg))
    }
}

fn record(text: &str) -> Option<Value> {
    common::record(text, "linkedin")
}

const TEXT_POST: &str = "---\nplatforms: [linkedin]\n---\n\nShipping **crier** (v1) today: #rust_lang & friends.\n";

#[test]
fn render_shows_the_commentary_as_sent() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    let run = w.run(&["render", "content/a.md", "--format", "json"]);
    run.code(0);
    let li = &run.json()["platforms"]["linkedin"];
    assert_eq!(li["text"], "Shipping crier (v1) today: #rust_lang & friends.");
    assert_eq!(li["commentary"], "Shipping crier \\(v1\\) today: {hashtag|\\#|rust\\_lang} & friends.");
    assert_eq!(li["visibility"], "PUBLIC");
}

#[test]
fn publishes_text_images_and_a_card_once_and_records_them() {
    let w = World::new();
    w.file("media/a.png", png(8, 8)).file("media/b.png", png(9, 9));
    w.file("content/a.md", TEXT_POST);
    w.file(
        "content/b.md",
        "---\nplatforms: [linkedin]\nmedia:\n  - {path: media/a.png, alt: A red dot}\n  - {path: media/b.png, alt: A blue dot}\n---\n\nTwo dots\n",
    );
    w.file("content/c.md", format!("---\nplatforms: [linkedin]\n---\n\nRead this: {}\n", w.fake.page_url()));
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);

    let posts = w.fake.live();
    assert_eq!(posts.len(), 3, "{}", run.all());
    let text = posts.iter().find(|p| p.text.starts_with("Shipping")).expect("text post");
    assert_eq!(text.text, "Shipping crier (v1) today: #rust_lang & friends.", "nothing cut");
    let dots = posts.iter().find(|p| p.text == "Two dots").expect("image post");
    let images = dots.content.as_ref().and_then(|c| c["multiImage"]["images"].as_array().cloned()).unwrap_or_default();
    let alts: Vec<&str> = images.iter().filter_map(|i| i["altText"].as_str()).collect();
    assert_eq!(alts, ["A red dot", "A blue dot"]);
    let card = posts.iter().find(|p| p.text.starts_with("Read this")).and_then(|p| p.content.clone()).expect("card");
    assert_eq!(card["article"]["title"], "Shipping crier");
    assert_eq!(card["article"]["description"], "How crier posts everywhere");
    assert!(card["article"]["thumbnail"].as_str().is_some_and(|t| t.starts_with("urn:li:image:")), "{card}");

    let rec = record(&w.read("content/a.md")).expect("recorded");
    let urn = rec["id"].as_str().expect("id");
    assert_eq!(urn, text.urn);
    assert_eq!(rec["url"], format!("https://www.linkedin.com/feed/update/{urn}/"));
    assert!(rec["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")));

    let calls = w.fake.calls();
    w.run(&["publish", "--no-commit"]).code(0);
    assert_eq!(w.fake.calls(), calls, "a rerun calls nothing");
    assert_eq!(w.fake.posts().len(), 3);
    assert!(!w.exists(".crier/linkedin-pending.json"), "nothing left pending");
}

#[test]
fn an_edited_post_is_updated_in_place_and_delete_takes_it_down() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    w.run(&["publish", "--no-commit"]).code(0);
    let before = record(&w.read("content/a.md")).expect("recorded");
    let edited = w.read("content/a.md").replace("today", "tomorrow");
    w.file("content/a.md", edited);
    w.run(&["publish", "--no-commit"]).code(0);
    let posts = w.fake.posts();
    assert_eq!(posts.len(), 1, "edited, not posted again");
    assert_eq!((posts[0].text.as_str(), posts[0].edits), ("Shipping crier (v1) tomorrow: #rust_lang & friends.", 1));
    let after = record(&w.read("content/a.md")).expect("recorded");
    assert_eq!(after["id"], before["id"]);
    assert_ne!(after["hash"], before["hash"]);

    let status = w.run(&["status", "--remote"]);
    assert!(status.all().contains("approved partners"), "{}", status.all());
    let stats = w.run(&["stats", "--format", "json"]);
    let unavailable = &stats.json()["unavailable"];
    assert_eq!(unavailable[0]["platform"], "linkedin", "{}", stats.all());
    assert!(unavailable[0]["reason"].as_str().is_some_and(|r| r.contains("r_member_social")));

    w.run(&["delete", "content/a.md", "--yes", "--no-commit"]).code(0);
    assert!(w.fake.live().is_empty());
    assert!(record(&w.read("content/a.md")).is_some_and(|r| r["deleted_at"].is_string()));
}

#[test]
fn a_lost_reply_is_resolved_by_the_duplicate_refusal() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    w.fake.fail_next(Route::CreatePost, Fault::DropAfterAction);
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    assert_eq!(w.fake.posts().len(), 1, "{}", run.all());
    let rec = record(&w.read("content/a.md")).expect("recorded");
    assert_eq!(rec["id"], w.fake.posts()[0].urn.as_str(), "the URN the refusal named");
}

#[test]
fn a_post_whose_fate_is_unknown_is_resent_inside_the_window_only() {
    // Both the create and its resend lose their replies: the run cannot tell.
    for (later, published) in [("2026-11-28T10:05:00Z", true), ("2026-11-28T10:30:00Z", false)] {
        let w = World::new();
        w.file("content/a.md", TEXT_POST);
        w.fake.fail_next(Route::CreatePost, Fault::DropAfterAction);
        w.fake.fail_next(Route::CreatePost, Fault::DropAfterAction);
        let first = w.run(&["publish", "--no-commit"]);
        first.code(1);
        assert!(w.exists(".crier/linkedin-pending.json"));
        let rerun = w.command(&["publish", "--no-commit"]).env("CRIER_NOW", later).run();
        assert_eq!(w.fake.posts().len(), 1, "never twice\n{}\n{}", first.all(), rerun.all());
        if published {
            rerun.code(0);
            assert_eq!(record(&w.read("content/a.md")).expect("recorded")["id"], w.fake.posts()[0].urn.as_str());
        } else {
            rerun.code(1);
            assert!(record(&w.read("content/a.md")).is_none());
            let out = rerun.all();
            assert!(out.contains("crier adopt") && out.contains("linkedin-pending.json"), "{out}");
            // The user finds the post in their activity and records it.
            let urn = w.fake.posts()[0].urn.clone();
            let adopt = w.run(&["adopt", "content/a.md", "--platform", "linkedin", "--id", &urn, "--no-commit"]);
            adopt.code(0);
            let rec = record(&w.read("content/a.md")).expect("adopted");
            assert_eq!(
                (rec["id"].as_str(), rec["url"].as_str()),
                (Some(urn.as_str()), Some(&*format!("https://www.linkedin.com/feed/update/{urn}/")))
            );
            w.run(&["publish", "--no-commit"]).code(0);
            assert_eq!(w.fake.posts().len(), 1);
        }
    }
}

#[test]
fn a_post_made_by_hand_is_adopted_but_never_another_files() {
    let w = World::new();
    let urn = w.fake.seed("Same words");
    w.file("content/a.md", "---\nplatforms: [linkedin]\n---\n\nSame words\n");
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    assert_eq!(w.fake.posts().len(), 1, "{}", run.all());
    assert_eq!(record(&w.read("content/a.md")).expect("adopted")["id"], urn.as_str());
    // A second file with the same words inside the window: refused as a duplicate of the
    // post the first file records, which it must not adopt.
    w.file("content/b.md", "---\nplatforms: [linkedin]\n---\n\nSame words\n");
    let run = w.run(&["publish", "--no-commit"]);
    run.code(1);
    assert!(run.all().contains("duplicate"), "{}", run.all());
    assert!(record(&w.read("content/b.md")).is_none());
    assert_eq!(w.fake.posts().len(), 1);
}

#[test]
fn a_sunset_api_version_is_a_configuration_error() {
    let w = World::with(&format!("{CONFIG}linkedin:\n  version: \"202401\"\n"));
    w.file("content/a.md", TEXT_POST);
    let run = w.run(&["publish", "--no-commit"]);
    run.code(2);
    assert!(run.all().contains("linkedin.version"), "{}", run.all());
    assert!(w.fake.posts().is_empty());
}

// ---------------------------------------------------------------- crier auth linkedin

const REDIRECT: &str = "https://example.com/linkedin/callback";

impl World {
    /// `crier auth linkedin ARGS…` with the app's settings and the fake's endpoints.
    fn auth(&self, args: &[&str], redirect: &str) -> Crier {
        let cfg = fake_linkedin::FakeConfig::default();
        self.repo
            .crier()
            .env("CRIER_LINKEDIN_API_URL", self.fake.origin())
            .env("CRIER_LINKEDIN_OAUTH_URL", format!("{}/oauth/v2", self.fake.origin()))
            .env("LINKEDIN_CLIENT_ID", &cfg.client_id)
            .env("LINKEDIN_CLIENT_SECRET", &cfg.client_secret)
            .env("LINKEDIN_REDIRECT_URI", redirect)
            .env_remove("LINKEDIN_ACCESS_TOKEN")
            .args(["auth", "linkedin"])
            .args(args)
    }
}

#[test]
fn auth_writes_the_token_and_its_end_and_a_code_works_once() {
    let w = World::new();
    let code = w.fake.code(REDIRECT);
    let run = w.auth(&["--code", &code, "--write-env", ".env"], REDIRECT).run();
    run.code(0);
    let secret = fake_linkedin::FakeConfig::default().client_secret;
    assert!(!run.all().contains(&secret) && !run.all().contains(&w.fake.token()), "{}", run.all());
    let env = w.read(".env");
    assert!(env.contains(&format!("LINKEDIN_ACCESS_TOKEN={}", w.fake.token())), "{env}");
    // 60 days after CRIER_NOW (2026-11-28T10:00:00Z).
    assert!(env.contains("LINKEDIN_TOKEN_EXPIRES_AT=2027-01-27T10:00:00Z"), "{env}");

    let again = w.auth(&["--code", &code], REDIRECT).run();
    again.code(2);
    assert!(again.all().contains("works once"), "{}", again.all());

    let refresh =
        w.command(&["auth", "refresh", "linkedin"]).env("LINKEDIN_TOKEN_EXPIRES_AT", "2026-12-05T00:00:00Z").run();
    assert!(refresh.all().contains("crier auth linkedin"), "{}", refresh.all());
}

#[test]
fn auth_receives_the_redirect_on_this_machine() {
    use std::io::BufRead as _;
    let w = World::new();
    let mut child = w
        .auth(&["--no-browser", "--write-env", ".env"], "http://127.0.0.1:0/callback")
        .spawn_with(std::process::Stdio::null())
        .expect("spawn");
    let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap_or(0) > 0, "no authorize URL printed");
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_owned();
        }
    };
    assert!(url.contains("scope=openid%20profile%20w_member_social"), "{url}");
    // The browser: LinkedIn's page redirects to crier's listener with the code.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let location = w.rt.block_on(async {
        let r = http.get(&url).send().await.expect("authorize");
        r.headers()[reqwest::header::LOCATION].to_str().expect("location").to_owned()
    });
    let page =
        w.rt.block_on(async { http.get(&location).send().await.expect("redirect").text().await.unwrap_or_default() });
    assert!(page.contains("authorized"), "{page}");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert!(w.read(".env").contains(&format!("LINKEDIN_ACCESS_TOKEN={}", w.fake.token())));
}

#[test]
fn doctor_and_publish_warn_fourteen_days_before_the_token_ends() {
    let w = World::new();
    w.file("content/a.md", TEXT_POST);
    let soon = "2026-12-05T10:00:00Z"; // 7 days after CRIER_NOW
    let doctor = w.command(&["doctor"]).env("LINKEDIN_TOKEN_EXPIRES_AT", soon).run();
    let out = doctor.all();
    assert!(out.contains("Ada Lovelace") && out.contains("expires on 2026-12-05"), "{out}");
    let publish = w.command(&["publish", "--no-commit"]).env("LINKEDIN_TOKEN_EXPIRES_AT", soon).run();
    publish.code(0);
    assert!(publish.all().contains("expires on 2026-12-05"), "{}", publish.all());
    let fine = w.command(&["doctor"]).env("LINKEDIN_TOKEN_EXPIRES_AT", "2027-01-20T10:00:00Z").run();
    assert!(!fine.all().contains("in 7 day"), "{}", fine.all());
}

#[test]
fn doctor_warns_when_the_configured_api_version_nears_its_sunset() {
    // CRIER_NOW is 2026-11-28: 202510 is 13 months old, past LinkedIn's year.
    let old = World::with(&format!("{CONFIG}linkedin:\n  version: \"202510\"\n"));
    let out = old.command(&["doctor"]).run().all();
    assert!(out.contains("`linkedin.version` 202510 is 13 months old"), "{out}");
    let current = World::new();
    let out = current.command(&["doctor"]).run().all();
    assert!(!out.contains("months old") && out.contains("API version: 202611"), "{out}");
}
