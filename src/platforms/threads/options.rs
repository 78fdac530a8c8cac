//! `threads:` in a post (contract section 2).

use serde_saphyr::Spanned;

crate::keys::key_enum! {
    /// Threads' `split`: `none`, `auto`, or `attachment` (the whole text as a text attachment
    /// behind a short visible text), which only Threads has.
    pub enum ThreadsSplit {
        #[default]
        None,
        Auto,
        Attachment,
    }
}

crate::keys::post_options! {
    /// `threads:` overrides of a post.
    pub struct ThreadsOptions for "Threads" {
        /// Who may reply: `everyone`, `accounts_you_follow`, `mentioned_only`, `parent_post_author_only`, `followers_only`.
        pub reply_control: Option<Spanned<String>>,
        /// The post's topic tag (else its first hashtag).
        pub topic_tag: Option<Spanned<String>>,
        /// A link shown as a preview card.
        pub link_attachment: Option<Spanned<String>>,
        /// The id of a post to quote.
        pub quote_post_id: Option<Spanned<String>>,
        pub poll: Option<Spanned<Poll>>,
        pub split: Option<Spanned<ThreadsSplit>>,
        /// `is_spoiler_media`: the media show blurred until tapped.
        pub spoiler_media: Option<Spanned<bool>>,
        /// `is_ghost_post`: a text post that archives itself after 24 hours.
        pub ghost: Option<Spanned<bool>>,
    }
}

crate::keys::spanned_keys! {
    /// A poll of 2 to 4 options.
    pub struct Poll {
        pub options: Spanned<Vec<Spanned<String>>>,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::content::{FileKind, Post, parse_text};
    use crate::diag::Diagnostic;

    fn parse(text: &str) -> Result<Post, Diagnostic> {
        let name = "a.md";
        parse_text(
            format!("content/{name}"),
            PathBuf::from(name),
            FileKind::of(Path::new(name)),
            text,
            crate::platforms::catalog(),
        )
    }

    #[test]
    fn threads_mapping_is_parsed_with_positions() {
        let post = parse(
            "---\nthreads:\n  topic_tag: Rust\n  split: attachment\n  poll:\n    options: [yes, no]\n---\nbody\n",
        )
        .expect("valid");
        let o = &post.options.get::<ThreadsOptions>().expect("threads").value;
        assert_eq!(o.split.as_ref().map(|s| s.value), Some(ThreadsSplit::Attachment));
        assert_eq!(o.poll.as_ref().map(|p| p.value.options.value.len()), Some(2));
        let tag = o.topic_tag.as_ref().expect("topic_tag");
        assert_eq!(post.source.line_col(post.span_of(&tag.referenced).start), (3, 14));
    }

    #[test]
    fn threads_mistakes_are_diagnostics() {
        let cases: &[(&str, &str, (usize, usize), &str)] = &[
            ("---\nthreads:\n  topic: x\n---\nbody", "unknown-key", (3, 3), "did you mean `topic_tag`?"),
            ("---\nthreads:\n  split: sometimes\n---\nbody", "yaml-type", (3, 10), ""),
            ("---\nthreads:\n  poll:\n    optons: [a, b]\n---\nbody", "unknown-key", (4, 5), "did you mean `options`?"),
            ("---\nthreads:\n  ghost: maybe\n---\nbody", "yaml-type", (3, 10), ""),
        ];
        for (text, code, at, hint) in cases {
            let d = parse(text).expect_err(text);
            assert_eq!((d.code, (d.line, d.column)), (*code, *at), "{text:?}: {d:?}");
            if !hint.is_empty() {
                assert_eq!(d.hint.as_deref(), Some(*hint), "{text:?}");
            }
        }
    }
}
