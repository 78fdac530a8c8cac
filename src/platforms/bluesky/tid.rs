//! Record keys crier chooses itself, so a rerun (in the same checkout or a
//! fresh clone) writes to the same key instead of creating a second post.
//!
//! A post record's key must be a TID: 13 characters of base32-sortable
//! (`234567abcdefghijklmnopqrstuvwxyz`) holding `(microseconds since the epoch
//! << 10) | clock id`. Relays and app views read the time in it, so it must be
//! plausible: it comes from the post's `publish_at`, else the time of the
//! commit that added the file, else the file's modification time (outside
//! git), never from the clock of the run. A hash of the post's path adds up to
//! a second of microseconds and picks the clock id, so two posts scheduled for
//! the same second get different keys; the part index is added to both, so the
//! parts of a chain get keys in order. The record's `createdAt` is not this time
//! but the time it is published (see `publish`).

use std::path::Path;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// Encodes a TID from microseconds since the epoch and a clock id (0..1024).
pub fn encode(micros: u64, clock_id: u16) -> String {
    let value = ((micros & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 1023);
    let mut out = [b'2'; 13];
    let mut v = value;
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes a TID into (microseconds, clock id); `None` when it is not one.
pub fn decode(tid: &str) -> Option<(u64, u16)> {
    if !is_tid(tid) {
        return None;
    }
    let mut v: u64 = 0;
    for b in tid.bytes() {
        v = (v << 5) | ALPHABET.iter().position(|&a| a == b)? as u64;
    }
    Some((v >> 10, (v & 1023) as u16))
}

/// The TID syntax: 13 chars, the first one of `234567abcdefghij`.
pub fn is_tid(s: &str) -> bool {
    s.len() == 13
        && s.bytes().all(|b| ALPHABET.contains(&b))
        && s.as_bytes().first().is_some_and(|b| b"234567abcdefghij".contains(b))
}

/// Where one part of one post goes: its record key and the time in it, both a
/// pure function of (anchor time, post path, part index, attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub rkey: String,
    /// The key's time, RFC 3339 with milliseconds and `Z`.
    pub created_at: String,
}

/// The slot of part `part` of the post at `path` (repository-relative),
/// anchored at `anchor`. `attempt` > 0 moves to the next free key when the
/// key is taken by a record that is not this post's.
pub fn slot(anchor: DateTime<Utc>, path: &str, part: usize, attempt: u32) -> Slot {
    let digest = Sha256::digest(path.as_bytes());
    let h = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    let spread = h % 1_000_000;
    let clock = ((h >> 40) as usize + part) % 1024;
    // Whole seconds of the anchor, so sub-second noise in it never moves the key.
    let base = anchor.timestamp().max(0) as u64 * 1_000_000;
    // Parts a millisecond apart keep their `createdAt`s in chain order.
    let micros = base + spread + part as u64 * 1000 + u64::from(attempt);
    let created = Utc.timestamp_micros(micros as i64).single().unwrap_or(anchor);
    Slot { rkey: encode(micros, clock as u16), created_at: created.to_rfc3339_opts(SecondsFormat::Millis, true) }
}

/// The stable time a post's keys are derived from: `publish_at`, else the
/// commit that added the file (following first parents from HEAD), else the
/// file's modification time. Returns the time and where it came from.
pub fn anchor(root: &Path, rel_path: &str, publish_at: Option<&str>) -> (DateTime<Utc>, &'static str) {
    if let Some(t) = publish_at.and_then(|p| DateTime::parse_from_rfc3339(p.trim()).ok()) {
        return (t.to_utc(), "publish_at");
    }
    if let Some(t) = added_in_commit(root, rel_path) {
        return (t, "the commit that added the file");
    }
    let mtime = std::fs::metadata(root.join(rel_path)).and_then(|m| m.modified()).ok().map(DateTime::<Utc>::from);
    (mtime.unwrap_or_else(Utc::now), "the file's modification time")
}

/// Commit time of the oldest first-parent commit from HEAD that still has
/// `rel_path` (the one that added it). `None` outside git or when HEAD lacks it.
fn added_in_commit(root: &Path, rel_path: &str) -> Option<DateTime<Utc>> {
    let repo = git2::Repository::discover(root).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let abs = root.canonicalize().ok()?.join(rel_path);
    let in_repo = abs.strip_prefix(&workdir).ok()?.to_path_buf();
    let mut commit = repo.head().ok()?.peel_to_commit().ok()?;
    commit.tree().ok()?.get_path(&in_repo).ok()?;
    loop {
        let parent = match commit.parent(0) {
            Ok(p) => p,
            Err(_) => break,
        };
        if parent.tree().ok().and_then(|t| t.get_path(&in_repo).ok()).is_none() {
            break;
        }
        commit = parent;
    }
    Utc.timestamp_opt(commit.time().seconds(), 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_reference() {
        // The example TID the local PDS accepted decodes and re-encodes to itself.
        let (micros, clock) = decode("3n3enpce6222b").expect("a TID");
        assert_eq!(encode(micros, clock), "3n3enpce6222b");
        assert_eq!(encode(0, 0), "2222222222222");
        assert!(is_tid(&encode(u64::MAX, 1023)));
        assert!(!is_tid("my-post-1"));
        assert!(!is_tid("k222222222222"), "first char limited to 234567abcdefghij");
    }

    #[test]
    fn slots_are_stable_plausible_and_distinct() {
        let anchor = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("valid").to_utc();
        let a0 = slot(anchor, "content/a.md", 0, 0);
        assert_eq!(a0, slot(anchor, "content/a.md", 0, 0), "a pure function");
        let a1 = slot(anchor, "content/a.md", 1, 0);
        let b0 = slot(anchor, "content/b.md", 0, 0);
        assert_ne!(a0.rkey, a1.rkey);
        assert_ne!(a0.rkey, b0.rkey);
        assert!(a0.rkey < a1.rkey, "chain parts sort in order");
        assert!(a0.created_at < a1.created_at);
        assert_ne!(a0.rkey, slot(anchor, "content/a.md", 0, 1).rkey);
        // The time in the key is the anchor, give or take a second.
        let (micros, _) = decode(&a0.rkey).expect("a TID");
        let secs = (micros / 1_000_000) as i64;
        assert!((secs - anchor.timestamp()).abs() <= 1, "{secs}");
        assert!(a0.created_at.starts_with("2026-11-28T10:00:0") && a0.created_at.ends_with('Z'), "{}", a0.created_at);
        // Sub-second noise in the anchor does not move the key.
        let noisy = anchor + chrono::Duration::milliseconds(300);
        assert_eq!(slot(noisy, "content/a.md", 0, 0), a0);
    }

    #[test]
    fn anchor_prefers_publish_at() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.md"), "x").expect("write");
        let (t, from) = anchor(dir.path(), "p.md", Some("2026-12-01T09:30:00+01:00"));
        assert_eq!((t.to_rfc3339(), from), ("2026-12-01T08:30:00+00:00".to_owned(), "publish_at"));
        let (_, from) = anchor(dir.path(), "p.md", None);
        assert_eq!(from, "the file's modification time");
    }

    #[test]
    fn anchor_is_the_commit_that_added_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        let commit = |msg: &str, secs: i64| {
            let mut index = repo.index().expect("index");
            index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).expect("add");
            index.write().expect("write index");
            let tree = repo.find_tree(index.write_tree().expect("tree")).expect("find tree");
            let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(secs, 0)).expect("sig");
            let parents: Vec<git2::Commit<'_>> =
                repo.head().ok().and_then(|h| h.peel_to_commit().ok()).into_iter().collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs).expect("commit");
        };
        std::fs::write(dir.path().join("other.md"), "o").expect("write");
        commit("first", 1_780_000_000);
        std::fs::create_dir(dir.path().join("content")).expect("mkdir");
        std::fs::write(dir.path().join("content/p.md"), "v1").expect("write");
        commit("add post", 1_780_000_100);
        std::fs::write(dir.path().join("content/p.md"), "v2").expect("write");
        commit("edit post", 1_780_000_200);
        let (t, from) = anchor(dir.path(), "content/p.md", None);
        assert_eq!((t.timestamp(), from), (1_780_000_100, "the commit that added the file"));
    }
}
