//! The X client against the fake X server: each endpoint, each error class (a rejected
//! token, the plan, duplicate content, a rate limit waited out, a create whose reply was
//! lost), and that every request it sends conforms to the OpenAPI definition.

#[path = "support/fake_x.rs"]
mod fake_x;

use std::time::Duration;

use crier::platforms::x::api::{ClientOptions, NewPoll, NewTweet, ReplyTo, XClient, XError};
use crier::platforms::x::oauth1::Credentials;
use fake_x::{FakeConfig, FakeX, Fault, Route};
use secrecy::SecretString;

fn options() -> ClientOptions {
    ClientOptions {
        max_total_wait: Duration::from_secs(3),
        initial_delay: Duration::from_millis(10),
        request_timeout: Duration::from_secs(2),
        ..ClientOptions::default()
    }
}

fn client(fake: &FakeX, token_secret: Option<&str>) -> XClient {
    let s = |v: String| SecretString::from(v);
    let credentials = Credentials {
        consumer_key: s(fake.api_key()),
        consumer_secret: s(fake.api_secret()),
        token: s(fake.access_token()),
        token_secret: s(token_secret.map_or_else(|| fake.access_token_secret(), str::to_owned)),
    };
    XClient::new(&fake.base_url(), credentials, options())
}

fn tweet(text: &str) -> NewTweet {
    NewTweet { text: text.to_owned(), ..NewTweet::default() }
}

async fn start() -> FakeX {
    FakeX::start(FakeConfig { drop_hang: Duration::from_secs(4), ..FakeConfig::default() }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_does_what_x_documents() {
    let fake = start().await;
    let c = client(&fake, None);
    let quiet = |_: Duration| {};
    let me = c.me(&quiet).await.expect("me");
    assert_eq!((me.id.as_str(), me.username.as_str()), ("1234567890", "crier_tester"));
    let first = c.create(&tweet("Hello & <welcome>"), &quiet).await.expect("create");
    let poll = NewPoll { options: vec!["a".into(), "b".into()], duration_minutes: 60 };
    let reply = NewTweet {
        reply: Some(ReplyTo { in_reply_to_tweet_id: first.id.clone() }),
        poll: Some(poll),
        ..tweet("Second")
    };
    let second = c.create(&reply, &quiet).await.expect("reply");
    let page = c.timeline(&me.id, 100, None, &quiet).await.expect("timeline");
    let texts: Vec<&str> = page.data.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["Second", "Hello &amp; &lt;welcome&gt;"], "newest first, escaped as X does");
    assert_eq!(page.data[0].replied_to(), Some(first.id.as_str()));
    let found = c.lookup(&[first.id.as_str(), "999"], &quiet).await.expect("lookup");
    assert_eq!(found.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [first.id.as_str()], "a gone post is left out");
    assert_eq!(found[0].author_id.as_deref(), Some("1234567890"));
    c.delete(&second.id, &quiet).await.expect("delete");
    let gone = c.delete(&second.id, &quiet).await.expect_err("already gone");
    assert!(gone.is_not_found(), "{gone:?}");
    assert_eq!(fake.nonconforming(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_reply_of_an_unexpected_shape_is_an_error_not_every_post_gone() {
    let fake = start().await;
    let c = client(&fake, None);
    let quiet = |_: Duration| {};
    let post = c.create(&tweet("Still here"), &quiet).await.expect("create");
    let gone = c.lookup(&["999"], &quiet).await.expect("a gone post is an `errors` entry");
    assert!(gone.is_empty());
    for body in [r#"{"data":{"id":"1"}}"#, r#"{"data":[{"text":"no id"}]}"#, "{}", "[]"] {
        fake.fail_next(Route::Lookup, Fault::Status(200, body.into()));
        let e = c.lookup(&[post.id.as_str()], &quiet).await.expect_err(body);
        assert!(matches!(e, XError::BadResponse { .. }), "{body}: {e:?}");
    }
    // A reply carrying both names of the repost count reads.
    let both = format!(
        r#"{{"data":[{{"id":"{}","text":"Still here","public_metrics":{{"repost_count":2,"retweet_count":2,"like_count":1}}}}]}}"#,
        post.id
    );
    fake.fail_next(Route::Lookup, Fault::Status(200, both));
    let found = c.lookup(&[post.id.as_str()], &quiet).await.expect("both names");
    assert_eq!(found[0].public_metrics.as_ref().and_then(|m| m.reposts()), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_sorted_by_what_to_do() {
    let fake = start().await;
    let quiet = |_: Duration| {};
    let bad = client(&fake, Some("not-the-secret"));
    let e = bad.me(&quiet).await.expect_err("a wrong secret");
    assert!(matches!(e, XError::Unauthorized { .. }) && e.is_fatal(), "{e:?}");
    assert!(!e.to_string().contains("not-the-secret"));

    let c = client(&fake, None);
    c.create(&tweet("Once"), &quiet).await.expect("create");
    let dup = c.create(&tweet("Once"), &quiet).await.expect_err("duplicate");
    assert!(matches!(dup, XError::Duplicate { .. }), "{dup:?}");

    // X takes one cashtag in a post made through the API (§7.3).
    c.create(&tweet("Watching $AAPL"), &quiet).await.expect("one cashtag");
    let two = c.create(&tweet("$AAPL beats $TSLA"), &quiet).await.expect_err("two cashtags");
    assert!(two.to_string().contains("1 cashtag"), "{two:?}");
    assert_eq!(fake.with_text("$AAPL beats $TSLA"), 0);

    let credits = r#"{"title":"Payment Required","detail":"Your account has no credits left.","type":"about:blank","status":402}"#;
    fake.fail_next(Route::Create, Fault::Status(402, credits.into()));
    let plan = c.create(&tweet("No credits"), &quiet).await.expect_err("plan");
    assert!(matches!(plan, XError::Plan { status: 402, .. }), "{plan:?}");

    // A 429 is waited out until x-rate-limit-reset, and the call goes through.
    fake.fail_next(Route::Create, Fault::RateLimited { reset_in_secs: 1 });
    c.create(&tweet("After the limit"), &quiet).await.expect("after the wait");
    assert_eq!(fake.with_text("After the limit"), 1);

    // A create whose reply is lost is not sent again: it is ambiguous.
    fake.fail_next(Route::Create, Fault::DropAfterAction);
    let lost = c.create(&tweet("Lost reply"), &quiet).await.expect_err("lost");
    assert!(lost.is_ambiguous(), "{lost:?}");
    assert_eq!(fake.with_text("Lost reply"), 1);
    assert_eq!(fake.count("POST", "/2/tweets"), 8, "every create sent once (the 429 twice)");
    assert_eq!(fake.nonconforming(), Vec::<String>::new());
}
