//! What X charges: a post, a post with a URL, reads of the account's own posts, lookups.
//!
//! Money is counted in millionths of a dollar (integers add up exactly); prices come from
//! crier.yaml `x.prices` (defaults: X's pricing page of 2026-08-13).

use std::cell::Cell;

use super::{XOutput, XPrices, count};

/// Millionths of a US dollar.
pub type Micros = u64;

/// `dollars` as millionths.
pub fn micros(dollars: f64) -> Micros {
    if dollars.is_finite() && dollars > 0.0 { (dollars * 1_000_000.0).round() as Micros } else { 0 }
}

/// What creating a post with `text` costs.
pub fn of_post(text: &str, prices: &XPrices) -> Micros {
    micros(if count::has_url(text) { prices.post_with_url } else { prices.post })
}

/// What publishing `out` costs: each part, and alt text set on its media.
pub fn of_output(out: &XOutput, prices: &XPrices) -> f64 {
    let total: Micros = out
        .parts
        .iter()
        .map(|p| {
            let alts = p.media.iter().filter(|m| m.alt.as_deref().is_some_and(|a| !a.trim().is_empty())).count();
            of_post(&p.text, prices) + alts as Micros * micros(prices.media_metadata)
        })
        .sum();
    total as f64 / 1_000_000.0
}

/// The dry run's line: what the posts due would cost, the reads that look for posts an
/// interrupted run made, and the cap when one is set.
pub fn plan(outs: &[&XOutput], prices: &XPrices, cap: Option<f64>) -> String {
    let posts: usize = outs.iter().map(|o| o.parts.len()).sum();
    let with_url = outs.iter().flat_map(|o| &o.parts).filter(|p| count::has_url(&p.text)).count();
    let total: f64 = outs.iter().map(|o| of_output(o, prices)).sum();
    // The account once, and one page of its own posts per 100 published.
    let reads = prices.user_read
        + posts.div_ceil(super::api::MAX_PAGE) as f64 * super::api::MAX_PAGE as f64 * prices.owned_read;
    let mut line = format!(
        "X: about {} for {posts} post{} ({with_url} with a URL), plus at most {} of reads that check the account for posts an interrupted run made",
        dollars(total),
        if posts == 1 { "" } else { "s" },
        dollars(reads)
    );
    if let Some(cap) = cap {
        line.push_str(&format!(
            "; publish.x_max_cost_per_run is {}: what would pass it waits for a later run",
            dollars(cap)
        ));
    }
    line
}

/// `$0.215`: dollars with as many decimals as a price has (at least two, at most four).
pub fn dollars(amount: f64) -> String {
    let m = micros(amount);
    let mut s = format!("{:.4}", m as f64 / 1_000_000.0);
    while s.ends_with('0') && s.len() > s.find('.').map_or(0, |d| d + 3) {
        s.pop();
    }
    format!("${s}")
}

/// `amount` rounded to millionths (for JSON).
pub fn round(amount: f64) -> f64 {
    micros(amount) as f64 / 1_000_000.0
}

/// What one run spent, and on what.
#[derive(Debug, Default)]
pub struct Meter {
    pub posts: Cell<u64>,
    pub reads: Cell<u64>,
    pub spent: Cell<Micros>,
}

impl Meter {
    pub fn post(&self, micros: Micros) {
        self.posts.set(self.posts.get() + 1);
        self.spent.set(self.spent.get() + micros);
    }

    /// `n` resources read at `price` each.
    pub fn read(&self, n: u64, price: f64) {
        self.reads.set(self.reads.get() + n);
        self.spent.set(self.spent.get() + n * micros(price));
    }

    pub fn add(&self, micros: Micros) {
        self.spent.set(self.spent.get() + micros);
    }

    /// `X: spent about $0.431 (2 posts, 31 posts read)`.
    pub fn line(&self) -> String {
        let (p, r) = (self.posts.get(), self.reads.get());
        format!(
            "X: spent about {} ({p} post{}, {r} post{} read; X's own billing is what counts)",
            dollars(self.spent.get() as f64 / 1_000_000.0),
            if p == 1 { "" } else { "s" },
            if r == 1 { "" } else { "s" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_with_a_url_cost_more() {
        let p = XPrices::default();
        for (text, want) in
            [("Hello", 15_000), ("Read it: https://example.com/post", 200_000), ("example dot com", 15_000)]
        {
            assert_eq!(of_post(text, &p), want, "{text}");
        }
    }

    #[test]
    fn dollars_read_like_prices() {
        for (amount, want) in [(0.2, "$0.20"), (0.015, "$0.015"), (0.2151, "$0.2151"), (0.0, "$0.00"), (12.5, "$12.50")]
        {
            assert_eq!(dollars(amount), want);
        }
    }

    #[test]
    fn the_meter_adds_up() {
        let m = Meter::default();
        m.post(200_000);
        m.read(31, 0.001);
        assert_eq!(m.spent.get(), 231_000);
        assert!(m.line().starts_with("X: spent about $0.231 (1 post, 31 posts read"), "{}", m.line());
    }
}
