//! X connected for one publish run (or one `delete`, `status --remote`, `stats`): the
//! client, the exactly-once publisher, and the meter of what the run spends.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use tokio::sync::Mutex;

use super::api::{ClientOptions, MAX_PAGE, Tweet, XClient, XError};
use super::cost::{self, Meter, Micros};
use super::publish::{PublishFailure, PublishOptions, WAITER, XPublisher, comparable, same_text};
use super::{XConfig, XOutput, XPrices};
use crate::ledger::Record;
use crate::platforms::countdown;
use crate::platforms::metrics::{Engagement, Metric, Metrics, by_part};
use crate::platforms::{
    Adoption, ConnectContext, Deletion, Failure, Job, Output, PostNouns, Recorded, Remote, Session, downcast,
    rendered_as,
};

struct XSession {
    publisher: Mutex<XPublisher>,
    client: XClient,
    prices: XPrices,
    meter: Rc<Meter>,
    /// `publish.x_max_cost_per_run`, and what admitted posts may still cost.
    cap: Option<Micros>,
    reserved: Cell<Micros>,
    /// `stats.x: true` in crier.yaml (reading numbers costs money).
    stats: bool,
}

pub(super) fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let fatal = |m: String| Failure { fatal: Some(m.clone()), ..Failure::new(m) };
    let credentials = super::credentials(cx.env)
        .ok_or_else(|| fatal(format!("set {} (crier auth x)", super::KEY_VARS.join(", "))))?;
    let opts = ClientOptions {
        max_total_wait: cx.http.max_total_wait,
        initial_delay: cx.http.initial_delay,
        request_timeout: cx.http.request_timeout,
        processing_timeout: std::time::Duration::from_secs(cx.project.config.publish.processing_timeout_secs),
        poll_interval: std::time::Duration::from_millis(cx.project.config.publish.poll_interval_ms.max(1)),
        ..ClientOptions::default()
    };
    let client = XClient::new(super::base_url(cx.env), credentials, opts);
    let prices = cx.project.config.sections.get_or_default::<XConfig>().prices;
    let meter = Rc::new(Meter::default());
    let mut publisher = XPublisher::new(client.clone(), PublishOptions::default(), prices, meter.clone());
    publisher.exclude(cx.recorded_ids.iter().cloned());
    Ok(Box::new(XSession {
        publisher: Mutex::new(publisher),
        client,
        prices,
        meter,
        cap: cx.project.config.publish.x_max_cost_per_run.map(cost::micros),
        reserved: Cell::new(0),
        stats: cx.project.config.stats.x,
    }))
}

fn failure(f: PublishFailure) -> Failure {
    Failure { message: f.message, fatal: f.fatal, published_parts: f.published_parts }
}

fn x_failure(e: XError) -> Failure {
    failure(e.into())
}

const NOUNS: PostNouns = PostNouns { one: "the post", part: "post", parts: "posts", place: "on X" };

#[async_trait::async_trait(?Send)]
impl Session for XSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out = rendered_as::<XOutput>(job.rendered, "an X")?;
        let wait = countdown(job.progress, WAITER);
        let result = {
            let mut publisher = self.publisher.lock().await;
            publisher.publish(job, out, &wait).await.map_err(failure)
        };
        // What it was admitted for is spent now: the meter has what really went out (the
        // first reads included).
        self.reserved.set(0);
        // Every create of this post went out: the next post may start while this one's
        // record is written (after a failure it waits, so a stop is seen first).
        if result.is_ok() {
            (job.ordered_done)();
        }
        result
    }

    async fn adopt(&self, job: &Job<'_>, _incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let out = rendered_as::<XOutput>(job.rendered, "an X")?;
        let wait = countdown(job.progress, WAITER);
        let mut publisher = self.publisher.lock().await;
        publisher.adopt(job, out, &wait).await.map_err(failure)
    }

    fn admit(&self, rendered: &dyn Output) -> Option<String> {
        let cap = self.cap?;
        let mut price = downcast::<XOutput>(rendered).map_or(0, |o| cost::micros(o.cost()));
        if self.meter.spent.get() == 0 && self.reserved.get() == 0 {
            // The first post also pays for the run's first reads: the account, and a page of
            // its own posts.
            price += cost::micros(self.prices.user_read) + MAX_PAGE as Micros * cost::micros(self.prices.owned_read);
        }
        let committed = self.meter.spent.get() + self.reserved.get();
        if committed + price > cap {
            return Some(format!(
                "it would cost {} on X, and this run has {} left of publish.x_max_cost_per_run ({}): next run",
                cost::dollars(price as f64 / 1e6),
                cost::dollars(cap.saturating_sub(committed) as f64 / 1e6),
                cost::dollars(cap as f64 / 1e6),
            ));
        }
        self.reserved.set(self.reserved.get() + price);
        None
    }

    fn spent(&self) -> Option<String> {
        (self.meter.spent.get() > 0).then(|| self.meter.line())
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        let mut deletion = Deletion::default();
        for id in target.part_ids().into_iter().rev() {
            match self.client.delete(id, &wait).await {
                Ok(()) => {
                    self.meter.add(cost::micros(self.prices.delete));
                    deletion.deleted += 1;
                }
                Err(e) if e.is_not_found() => deletion.already_gone += 1,
                Err(e) => return Err(x_failure(e)),
            }
        }
        Ok(deletion)
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let wait = countdown(target.progress, WAITER);
        let me = self.publisher.lock().await.me(&wait).await.map_err(x_failure)?;
        let ids = target.part_ids();
        let found = self.lookup(&ids, &wait).await?;
        if let Some(other) = found.values().find_map(|t| t.author_id.as_deref().filter(|a| *a != me.id)) {
            return Ok(Remote::OtherAccount(format!(
                "the post belongs to the account with id {other}, not @{}",
                me.username
            )));
        }
        let gone: Vec<usize> =
            ids.iter().enumerate().filter(|(_, id)| !found.contains_key(**id)).map(|(i, _)| i + 1).collect();
        let sent = target.rendered.and_then(downcast::<XOutput>);
        let edited: Vec<String> = match sent {
            Some(out) => ids
                .iter()
                .zip(&out.parts)
                .enumerate()
                .filter_map(|(i, (id, part))| {
                    let t = found.get(*id)?;
                    (!same_text(&t.text, &comparable(&part.text), !part.media.is_empty())).then(|| {
                        if ids.len() > 1 {
                            format!("post {} of {} has other text on X", i + 1, ids.len())
                        } else {
                            "its text on X differs from what was sent".to_owned()
                        }
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Remote::found(ids.len(), &gone, &edited, &NOUNS))
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        if !self.stats {
            return Err(Failure::new(format!(
                "X charges for every post read ({} each): set `stats: {{x: true}}` in crier.yaml to read X's numbers",
                cost::dollars(self.prices.post_read)
            )));
        }
        let ids: Vec<&str> = targets.iter().flat_map(Recorded::part_ids).collect();
        let found = self.lookup(&ids, &crate::platforms::http::quiet).await?;
        if let Some(t) = targets.first() {
            (t.progress)(&self.meter.line());
        }
        let metrics: HashMap<String, Metrics> = found
            .into_iter()
            .map(|(id, t)| {
                let p = t.public_metrics.unwrap_or_default();
                let m = Metrics::default()
                    .with(Metric::Views, p.impression_count)
                    .with(Metric::Likes, p.like_count)
                    .with(Metric::Replies, p.reply_count)
                    .with(Metric::Reposts, p.reposts())
                    .with(Metric::Quotes, p.quote_count)
                    .with(Metric::Bookmarks, p.bookmark_count);
                (id, m)
            })
            .collect();
        Ok(by_part(targets, &metrics, |id| format!("post {id} is no longer on X")))
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}

impl XSession {
    /// `GET /2/tweets?ids=`, 100 ids a call, each post read counted at its price.
    async fn lookup(
        &self,
        ids: &[&str],
        wait: &dyn Fn(std::time::Duration),
    ) -> Result<HashMap<String, Tweet>, Failure> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(MAX_PAGE) {
            let posts = self.client.lookup(chunk, wait).await.map_err(x_failure)?;
            self.meter.read(posts.len() as u64, self.prices.post_read);
            found.extend(posts.into_iter().map(|t| (t.id.clone(), t)));
        }
        Ok(found)
    }
}
