//! Property tests for the two pieces of crier that take arbitrary
//! hand-written input: the Threads length splitter and the ledger's
//! write-back editor (see also `fuzz/` for the coverage-guided versions).

use crier::content::FileKind;
use crier::ledger::{PartRecord, Record, get_record, set_record};
use crier::render::text::split_auto;
use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

// ---------------------------------------------------------------- splitter

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z]{1,12}[.,!?]?",
        1 => Just("…".to_owned()),
        1 => prop::sample::select(vec!["🎉", "👩‍👩‍👧‍👦", "🇫🇷", "e\u{301}", "👍🏽", "❤️"]).prop_map(str::to_owned),
        1 => "[\u{4e00}-\u{4e80}]{1,40}",
        1 => "[a-z]{30,90}",
        1 => "https://example\\.com/[a-z0-9/]{0,40}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", " ", " ", "  ", "\n", " \t", "\u{3000}"])
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec((word(), separator()), 1..40).prop_map(|ws| {
        let mut s = String::new();
        for (i, (w, sep)) in ws.iter().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(w);
        }
        s
    })
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec((paragraph(), prop::sample::select(vec!["\n\n", "\n\n\n", "\n \n"])), 1..8).prop_map(|ps| {
        let mut s = String::new();
        for (i, (p, sep)) in ps.iter().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(p);
        }
        s
    })
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn split_parts_fit_and_keep_every_word(text in text(), limit in 1usize..600) {
        let parts = split_auto(&text, limit);
        prop_assert!(!parts.is_empty());
        for p in &parts {
            prop_assert!(
                p.len() <= limit || p.graphemes(true).count() == 1,
                "part of {} bytes > {}: {:?}", p.len(), limit, p
            );
            prop_assert!(!p.trim().is_empty() || text.trim().is_empty(), "empty part {:?}", p);
        }
        // Words are only cut when one alone exceeds the limit, so compare
        // the non-whitespace characters, and whole words where nothing was cut.
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        let joined: String = parts.iter().map(|p| squash(p)).collect();
        prop_assert_eq!(joined, squash(&text));
        if words(&text).iter().all(|w| w.len() <= limit) {
            let got: Vec<&str> = parts.iter().flat_map(|p| words(p)).collect();
            prop_assert_eq!(got, words(&text));
        }
    }
}

// ---------------------------------------------------------------- ledger

/// One piece of hand-written front matter: its lines (without line ends)
/// and whether it is the `published` block (which crier may rewrite).
#[derive(Debug, Clone)]
struct Chunk {
    lines: Vec<String>,
    published: bool,
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9 ]{0,15}".prop_map(|s| s.trim_end().to_owned()),
        "[a-z ]{0,10}".prop_map(|s| format!("\"{s}: #not a comment\"")),
        "[a-z]{0,10}".prop_map(|s| format!("'it''s {s}'")),
        Just("\"esc \\\" \\\\ \\u00e9\"".to_owned()),
        Just("~".to_owned()),
        Just("123".to_owned()),
        Just("2026-01-01".to_owned()),
        Just("'published: no'".to_owned()),
        Just("émoji 🎉 中文".to_owned()),
    ]
}

fn chunk(i: usize) -> impl Strategy<Value = Chunk> {
    let key = format!("key{i}");
    fn plain(lines: Vec<String>) -> Chunk {
        Chunk { lines, published: false }
    }
    prop_oneof![
        4 => (scalar(), prop::option::of("[a-z ]{0,10}")).prop_map({
            let key = key.clone();
            move |(v, c)| plain(vec![match c {
                Some(c) => format!("{key}: {v}  # {c}"),
                None => format!("{key}: {v}"),
            }])
        }),
        1 => Just(plain(vec![format!("\"{key}\" : quoted key")])),
        1 => Just(plain(vec![format!("'{key}': single")])),
        1 => "[ -~]{0,20}".prop_map(|c| plain(vec![format!("#{c}")])),
        1 => Just(plain(vec![String::new()])),
        1 => Just(plain(vec!["   ".to_owned()])),
        1 => (1usize..5, prop::collection::vec(scalar(), 1..4)).prop_map({
            let key = key.clone();
            move |(ind, items)| {
                let mut lines = vec![format!("{key}:")];
                lines.extend(items.iter().map(|v| format!("{}- {v}", " ".repeat(ind))));
                plain(lines)
            }
        }),
        1 => (1usize..5, scalar()).prop_map({
            let key = key.clone();
            move |(ind, v)| {
                let pad = " ".repeat(ind);
                plain(vec![format!("{key}:"), format!("{pad}inner: {v}"), format!("{pad}# nested comment"), format!("{pad}deep:"), format!("{pad}{pad}x: 1")])
            }
        }),
        1 => Just(plain(vec![format!("{key}: |"), "  literal ---".to_owned(), "  published: no".to_owned(), "".to_owned(), "  more".to_owned()])),
    ]
}

fn published_block() -> impl Strategy<Value = Chunk> {
    let block = |lines: &[&str]| Chunk { lines: lines.iter().map(|s| (*s).to_owned()).collect(), published: true };
    prop_oneof![
        Just(block(&["published:"])),
        Just(block(&["published: {}"])),
        Just(block(&["published:  # crier writes here"])),
        Just(block(&[
            "published:",
            "  devto:",
            "    id: \"1\"",
            "    url: https://dev.to/x",
            "    published_at: t",
            "    hash: h"
        ])),
        Just(block(&[
            "published:",
            "    threads:",
            "        id: '2'",
            "",
            "        url: u",
            "        published_at: t",
            "        hash: old"
        ])),
        Just(block(&["published:", "  # a comment", "  threads: null"])),
        Just(block(&["published: {devto: {id: '1', url: u, published_at: t, hash: h}}"])),
    ]
}

fn front_matter() -> impl Strategy<Value = Vec<Chunk>> {
    (prop::collection::vec(0..1usize, 0..10), prop::option::of(published_block()), any::<prop::sample::Index>())
        .prop_flat_map(|(n, published, at)| {
            let chunks: Vec<_> = (0..n.len()).map(chunk).collect();
            (chunks, Just(published), Just(at))
        })
        .prop_map(|(mut chunks, published, at)| {
            if let Some(p) = published {
                let pos = at.index(chunks.len() + 1);
                chunks.insert(pos, p);
            }
            chunks
        })
}

fn record() -> impl Strategy<Value = Record> {
    let text =
        || prop_oneof!["[a-zA-Z0-9]{1,12}", "[ -~]{0,20}", Just("007".to_owned()), Just("é: #x\n\ty".to_owned())];
    (
        text(),
        text(),
        prop::option::of(text()),
        text(),
        prop::collection::vec((text(), text(), prop::option::of(text())), 0..3),
    )
        .prop_map(|(id, url, cid, hash, parts)| Record {
            relays: Vec::new(),
            d: None,
            id,
            url,
            cid,
            published_at: "2026-01-02T03:04:05Z".into(),
            hash,
            parts: parts.into_iter().map(|(id, url, cid)| PartRecord { id, url, cid }).collect(),
            deleted_at: None,
        })
}

fn is_subsequence(needle: &[&str], hay: &[&str]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn ledger_round_trips_and_keeps_other_lines(
        chunks in front_matter(),
        crlf in any::<bool>(),
        markdown in any::<bool>(),
        final_eol in any::<bool>(),
        platform in prop::sample::select(vec!["threads", "devto"]),
        rec in record(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut yaml = String::new();
        let mut kept: Vec<String> = Vec::new();
        let all: Vec<(&String, bool)> =
            chunks.iter().flat_map(|c| c.lines.iter().map(move |l| (l, c.published))).collect();
        for (i, (line, published)) in all.iter().enumerate() {
            yaml.push_str(line);
            // (An empty last line without its line end would be no line at all.)
            if i + 1 < all.len() || final_eol || markdown || line.is_empty() {
                yaml.push_str(eol);
            }
            if !published {
                kept.push((*line).clone());
            }
        }
        let (content, kind) = if markdown {
            let body = format!("Body line{eol}{eol}---{eol}published: not front matter{eol}");
            kept.insert(0, "---".into());
            kept.push("---".into());
            kept.extend(body.lines().map(str::to_owned));
            (format!("---{eol}{yaml}---{eol}{body}"), FileKind::Markdown)
        } else {
            (yaml, FileKind::Yaml)
        };

        let out = set_record(&content, kind, platform, &rec)
            .map_err(|e| TestCaseError::fail(format!("set_record: {e}\n{content}")))?;
        prop_assert_eq!(get_record(&out, kind, platform).unwrap(), Some(rec.clone()));
        let out_lines: Vec<&str> = out.lines().collect();
        let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
        prop_assert!(is_subsequence(&kept, &out_lines), "lines lost\n--- in:\n{}\n--- out:\n{}", content, out);
        if content.contains("\r\n") {
            prop_assert!(!out.replace("\r\n", "").contains('\n'), "mixed line ends:\n{:?}", out);
        }
        if markdown {
            prop_assert!(out.ends_with(&content[content.find("Body line").unwrap()..]));
        }
        // Writing again after a change keeps the same guarantees.
        let other = if platform == "threads" { "devto" } else { "threads" };
        let prev = get_record(&out, kind, other).unwrap();
        let out2 = set_record(&out, kind, platform, &Record { hash: "sha256:next".into(), ..rec.clone() }).unwrap();
        prop_assert_eq!(get_record(&out2, kind, other).unwrap(), prev);
        prop_assert_eq!(get_record(&out2, kind, platform).unwrap().map(|r| r.hash), Some("sha256:next".to_owned()));
    }
}
