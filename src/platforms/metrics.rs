//! Engagement numbers as `crier stats` reports them (contract section 4): a metric a
//! platform does not report is absent, never 0.

use serde_json::{Map, Value};

/// One engagement metric. `Likes` covers likes, favourites and reactions, `Reposts`
/// reposts, reblogs and boosts, `Replies` replies and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Views,
    Likes,
    Replies,
    Reposts,
    Quotes,
    Shares,
    Bookmarks,
}

impl Metric {
    /// Every metric, in the contract's order.
    pub const ALL: [Metric; 7] =
        [Self::Views, Self::Likes, Self::Replies, Self::Reposts, Self::Quotes, Self::Shares, Self::Bookmarks];

    /// The name used in JSON, CSV and `--sort`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Views => "views",
            Self::Likes => "likes",
            Self::Replies => "replies",
            Self::Reposts => "reposts",
            Self::Quotes => "quotes",
            Self::Shares => "shares",
            Self::Bookmarks => "bookmarks",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The numbers of one post (or one part of a chain) on one platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics([Option<u64>; 7]);

impl Metrics {
    pub fn get(&self, m: Metric) -> Option<u64> {
        self.0[m as usize]
    }

    /// Sets `m` when the platform reported it (`None` leaves it absent).
    pub fn with(mut self, m: Metric, value: Option<u64>) -> Self {
        if value.is_some() {
            self.0[m as usize] = value;
        }
        self
    }

    /// Adds `other` metric by metric: absent only where both are absent.
    pub fn add(&mut self, other: &Metrics) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = match (*a, b) {
                (Some(x), Some(y)) => Some(x.saturating_add(y)),
                (x, y) => x.or(y),
            };
        }
    }

    /// The metrics reported, in the contract's order.
    pub fn present(&self) -> impl Iterator<Item = (Metric, u64)> + '_ {
        Metric::ALL.into_iter().filter_map(|m| Some((m, self.get(m)?)))
    }

    /// `{"views": N, …}` with only the metrics reported.
    pub fn to_json(&self) -> Value {
        Value::Object(self.present().map(|(m, n)| (m.name().to_owned(), Value::from(n))).collect::<Map<_, _>>())
    }

    /// Reads [`Metrics::to_json`]'s shape; unknown keys and non-numbers are ignored.
    pub fn from_json(v: &Value) -> Self {
        Metric::ALL.into_iter().fold(Self::default(), |m, k| m.with(k, v.get(k.name()).and_then(Value::as_u64)))
    }
}

/// What a platform read for one recorded post: each part's numbers (first part first),
/// or why the post could not be read (it is gone).
pub type Engagement = Result<Vec<Metrics>, String>;

/// Each target's parts looked up in what a platform's batches `found` (by id); a part
/// not found makes its post `gone(id)`.
pub fn by_part(
    targets: &[super::Recorded<'_>],
    found: &std::collections::HashMap<String, Metrics>,
    mut gone: impl FnMut(&str) -> String,
) -> Vec<Engagement> {
    targets
        .iter()
        .map(|t| t.part_ids().iter().map(|id| found.get(*id).copied().ok_or_else(|| gone(id))).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_keep_absent_metrics_absent() {
        let cases = [
            // (a, b, sum) as (views, likes)
            ((None, Some(1)), (None, Some(2)), (None, Some(3))),
            ((Some(5), None), (None, Some(2)), (Some(5), Some(2))),
            ((Some(5), Some(0)), (Some(1), Some(0)), (Some(6), Some(0))),
        ];
        for ((av, al), (bv, bl), (sv, sl)) in cases {
            let mut a = Metrics::default().with(Metric::Views, av).with(Metric::Likes, al);
            a.add(&Metrics::default().with(Metric::Views, bv).with(Metric::Likes, bl));
            assert_eq!((a.get(Metric::Views), a.get(Metric::Likes)), (sv, sl));
            assert_eq!(a.get(Metric::Shares), None);
        }
    }

    #[test]
    fn json_has_only_reported_metrics_and_reads_back() {
        let m = Metrics::default().with(Metric::Likes, Some(3)).with(Metric::Quotes, Some(0));
        assert_eq!(m.to_json().to_string(), r#"{"likes":3,"quotes":0}"#);
        assert_eq!(Metrics::from_json(&m.to_json()), m);
        assert_eq!(Metric::parse("bookmarks"), Some(Metric::Bookmarks));
        assert_eq!(Metric::parse("favourites"), None);
    }
}
