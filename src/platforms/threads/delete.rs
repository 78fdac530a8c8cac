//! Taking Threads posts down (`crier delete`) and looking them up (`crier status --remote`).
//!
//! A chain is deleted last part first, so a run that stops half-way leaves the beginning
//! of the chain, never replies hanging under nothing. A part that is already gone counts as
//! deleted, which makes a rerun after a crash or a lost reply finish the job. Threads says
//! "does not exist" both for a post that is gone and for one of another account (code 100
//! subcode 33: "does not exist, cannot be loaded due to missing permissions"), so such an
//! answer is checked with a read before the part is counted as gone.

use std::fmt::Write as _;

use super::ThreadsOutput;
use super::api::{Found, MediaId, ThreadsClient, ThreadsError};
use crate::platforms::{Budget, Deletion, Failure, Recorded, Remote, downcast};

/// Deletes a reply might have done before it was lost: the part is sent again at most this
/// many times, each after a read showed it still there.
const DELETE_ATTEMPTS: usize = 2;

/// The account a session acts for.
pub(super) struct Account {
    pub(super) client: ThreadsClient,
    pub(super) user: String,
    pub(super) username: String,
}

/// How one part went.
enum Part {
    Deleted,
    AlreadyGone,
}

impl Account {
    /// Deletes left in Threads' moving window.
    pub(super) async fn delete_budget(&self) -> Result<Budget, Failure> {
        let q = self.client.delete_quota(&self.user).await.map_err(|e| Failure {
            message: format!("cannot read the delete quota: {e}"),
            fatal: fatal(&e),
            published_parts: 0,
        })?;
        Ok(Budget {
            remaining: q.total.saturating_sub(q.used),
            exhausted: quota_note(q.total, q.duration_secs),
            replies: None,
        })
    }

    /// Deletes every part, the last first. `Failure::published_parts` counts the parts
    /// deleted (or found gone) before the failure.
    pub(super) async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let ids = target.part_ids();
        let n = ids.len();
        let step = |i, n| format!("deleting part {i}/{n}");
        Deletion::last_first(&ids, target.progress, step, |i, id| async move {
            match self.delete_part(&MediaId(id.to_owned())).await {
                Ok(part) => Ok(matches!(part, Part::Deleted)),
                Err(f) if n > 1 => Err(Failure { message: format!("part {}/{n}: {}", i + 1, f.message), ..f }),
                Err(f) => Err(f),
            }
        })
        .await
    }

    async fn delete_part(&self, id: &MediaId) -> Result<Part, Failure> {
        let mut last = None;
        for _ in 0..DELETE_ATTEMPTS {
            match self.client.delete_media(id).await {
                Ok(()) => return Ok(Part::Deleted),
                Err(e) if e.is_not_found() => return self.confirm_gone(id, &e).await,
                // The reply was lost: whether the post is still there says whether it went.
                Err(e @ ThreadsError::Ambiguous { .. }) => match self.client.look_up(id, false).await {
                    Err(read) if read.is_not_found() => return Ok(Part::Deleted),
                    Ok(found) if !self.owns(&found) => return Err(self.foreign(id, &found)),
                    Ok(_) => last = Some(e),
                    Err(read) => return Err(self.failure(&read)),
                },
                Err(e) => return Err(self.failure(&e)),
            }
        }
        Err(self.failure(&last.unwrap_or(ThreadsError::Ambiguous { operation: "delete", message: String::new() })))
    }

    /// After a "does not exist" to a delete: gone, or another account's post?
    async fn confirm_gone(&self, id: &MediaId, refused: &ThreadsError) -> Result<Part, Failure> {
        match self.client.look_up(id, false).await {
            Err(e) if e.is_not_found() => Ok(Part::AlreadyGone),
            Ok(found) if !self.owns(&found) => Err(self.foreign(id, &found)),
            Ok(_) => Err(self.failure(refused)),
            Err(e) => Err(self.failure(&e)),
        }
    }

    /// Whether the post is the connected account's (`owner` comes only with top-level
    /// posts; `username` with every post).
    fn owns(&self, found: &Found) -> bool {
        let owner_ok = found.owner_id.as_deref().is_none_or(|o| o == self.user);
        let name_ok = found
            .username
            .as_deref()
            .filter(|u| !u.is_empty() && !self.username.is_empty())
            .is_none_or(|u| u.eq_ignore_ascii_case(&self.username));
        owner_ok && name_ok
    }

    fn whose(found: &Found) -> String {
        match (&found.username, &found.owner_id) {
            (Some(u), _) if !u.is_empty() => format!("@{u}"),
            (_, Some(o)) => format!("user {o}"),
            _ => "another account".to_owned(),
        }
    }

    fn foreign(&self, id: &MediaId, found: &Found) -> Failure {
        Failure::new(format!(
            "Threads post {id} belongs to {}, not to @{} (the account of THREADS_ACCESS_TOKEN): crier deletes only that account's posts",
            Self::whose(found),
            self.username
        ))
    }

    fn failure(&self, e: &ThreadsError) -> Failure {
        let message = if e.is_permission() {
            format!(
                "Threads did not allow deleting ({e}): the token lacks the `threads_delete` permission; run `crier auth threads` to get a token that has it"
            )
        } else if is_quota(e) {
            format!("the Threads delete quota is used up ({e}); run `crier delete` again later")
        } else {
            e.to_string()
        };
        // Without the permission no other delete can succeed either.
        let stop = fatal(e).or_else(|| e.is_permission().then(|| message.clone()));
        Failure { message, fatal: stop, published_parts: 0 }
    }

    /// Looks every part up: gone, another account's, or its text edited.
    pub(super) async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let out = target.rendered.and_then(downcast::<ThreadsOutput>);
        let ids = target.part_ids();
        let n = ids.len();
        let mut gone = Vec::new();
        let mut edited = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let with_attachment = i == 0 && out.is_some_and(|o| o.attachment.is_some());
            let found = match self.client.look_up(&MediaId((*id).to_owned()), with_attachment).await {
                Ok(f) => f,
                Err(e) if e.is_not_found() => {
                    gone.push(i + 1);
                    continue;
                }
                Err(e) => {
                    return Err(Failure { message: e.to_string(), fatal: fatal(&e), published_parts: 0 });
                }
            };
            if !self.owns(&found) {
                let part = if n > 1 { format!("part {} ", i + 1) } else { String::new() };
                return Ok(Remote::OtherAccount(format!(
                    "{part}is a post of {}, not of @{}",
                    Self::whose(&found),
                    self.username
                )));
            }
            let Some(out) = out else { continue };
            // A chain that no longer renders to as many parts was not what was sent.
            let Some(part) = out.parts.get(i) else { continue };
            if let Some(diff) = difference(&part.text, found.text.as_deref().unwrap_or("")) {
                edited.push(if n > 1 { format!("part {}: {diff}", i + 1) } else { diff });
            }
            if with_attachment {
                let sent = out.attachment.as_ref().map(|a| a.plaintext.as_str()).unwrap_or("");
                if let Some(found) = found.attachment.as_deref() {
                    if let Some(diff) = difference(sent, found) {
                        edited.push(format!("text attachment: {diff}"));
                    }
                }
            }
        }
        if !gone.is_empty() {
            return Ok(Remote::Gone(if n == 1 {
                "the post is no longer on Threads".to_owned()
            } else if gone.len() == n {
                format!("all {n} parts are no longer on Threads")
            } else {
                let list: Vec<String> = gone.iter().map(ToString::to_string).collect();
                format!("part {} of {n} no longer on Threads", list.join(", "))
            }));
        }
        if !edited.is_empty() {
            return Ok(Remote::Edited(edited.join("; ")));
        }
        Ok(Remote::Same)
    }
}

fn fatal(e: &ThreadsError) -> Option<String> {
    e.is_fatal().then(|| "the run stopped: the Threads token was rejected (run `crier auth refresh`)".to_owned())
}

fn is_quota(e: &ThreadsError) -> bool {
    matches!(e, ThreadsError::Rejected { code: 9, .. } | ThreadsError::Rejected { subcode: Some(2_207_042), .. })
}

/// What a used-up delete quota is reported as.
pub(super) fn quota_note(total: u64, duration_secs: u64) -> String {
    let window = if duration_secs.is_multiple_of(3600) {
        format!("{} hours", duration_secs / 3600)
    } else {
        format!("{duration_secs} s")
    };
    format!("the Threads delete quota ({total} per {window}) is used up; run `crier delete` again later")
}

/// Text as compared: Threads may answer with other line endings and trims the ends; spaces
/// at line ends are not worth a report.
fn normalize(s: &str) -> String {
    s.replace("\r\n", "\n").lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_owned()
}

/// `None` when the texts are the same; else where they first differ, with a short excerpt
/// of each side.
fn difference(sent: &str, found: &str) -> Option<String> {
    let (a, b) = (normalize(sent), normalize(found));
    if a == b {
        return None;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let excerpt = |s: &str| {
        let start = common.saturating_sub(10);
        let tail: String = s.chars().skip(start).take(40).collect();
        let more = s.chars().count() > start + 40;
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.push_str(&tail.replace('\n', " "));
        if more {
            out.push('…');
        }
        out
    };
    let mut s = String::new();
    let _ = write!(s, "sent \"{}\", Threads shows \"{}\"", excerpt(&a), excerpt(&b));
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_after_line_endings_and_trailing_spaces() {
        assert_eq!(difference("Hello\nworld", "Hello  \r\nworld\n"), None);
    }

    #[test]
    fn a_difference_shows_where() {
        let d =
            difference("The quick brown fox jumps over the lazy dog", "The quick brown cat jumps over the lazy dog")
                .expect("differs");
        assert!(d.contains("fox") && d.contains("cat"), "{d}");
        assert!(d.starts_with("sent \"…"), "{d}");
    }

    #[test]
    fn the_quota_note_names_the_window() {
        assert_eq!(
            quota_note(100, 86_400),
            "the Threads delete quota (100 per 24 hours) is used up; run `crier delete` again later"
        );
    }
}
