//! Where two texts part, shown as short excerpts: what `status --remote` says of a post
//! edited in the app. A leaf, so the platforms that compare texts need not import `drift`.

/// Where a platform's text and the text sent part: an excerpt of each (about 50
/// characters from a little before the first difference, on one line), for
/// `Remote::Edited` messages.
pub fn difference(found: &str, sent: &str) -> (String, String) {
    let at = found.chars().zip(sent.chars()).take_while(|(a, b)| a == b).count();
    (excerpt(found, at), excerpt(sent, at))
}

fn excerpt(text: &str, at: usize) -> String {
    const BEFORE: usize = 10;
    const LEN: usize = 50;
    let chars: Vec<char> = text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    let start = at.saturating_sub(BEFORE).min(chars.len());
    let end = (start + LEN).min(chars.len());
    let mut s: String = chars[start..end].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < chars.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_shown_where_they_are() {
        let (found, sent) =
            difference(&format!("{} tail one", "x".repeat(80)), &format!("{} tail two", "x".repeat(80)));
        assert_eq!(found, "…xxxx tail one");
        assert_eq!(sent, "…xxxx tail two");
        assert_eq!(difference("a\nb", "a\nc"), ("a b".to_owned(), "a c".to_owned()));
        let (long, _) = difference(&"y".repeat(100), "z");
        assert_eq!(long, format!("{}…", "y".repeat(50)));
    }
}
