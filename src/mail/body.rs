//! A stored mail's body as it is sent: its paragraphs, with the secret link put back in its
//! place, as plain text and as HTML.

use crate::platform::i18n::Lang;

/// Where a mail's secret link went in mails queued before links were placed by paragraph
/// number, and where the admins' outbox view shows it hidden.
pub const LINK_MARKER: &str = "[[link]]";

pub(super) fn split_paragraphs(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split("\n\n").collect()
}

/// A stored body's paragraphs with the link's place among them: the stored paragraph number,
/// or (for mails queued before it was stored) a paragraph that is the marker alone.
pub fn paragraphs_with_link(body: &str, link_paragraph: Option<usize>) -> Vec<Option<&str>> {
    let mut paragraphs: Vec<Option<&str>> = split_paragraphs(body)
        .into_iter()
        .map(|p| (p != LINK_MARKER || link_paragraph.is_some()).then_some(p))
        .collect();
    if let Some(at) = link_paragraph {
        paragraphs.insert(at.min(paragraphs.len()), None);
    }
    paragraphs
}

/// The plain-text part of a mail: its paragraphs with the link put in its place.
pub fn text(body: &str, link_paragraph: Option<usize>, link: Option<&str>) -> String {
    paragraphs_with_link(body, link_paragraph)
        .into_iter()
        .filter_map(|p| p.or(link))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The HTML part of a mail: its paragraphs, escaped, the link as a link.
pub fn html(body: &str, link_paragraph: Option<usize>, link: Option<&str>, lang: Lang) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif;line-height:1.5\">",
        lang.code()
    );
    for paragraph in paragraphs_with_link(body, link_paragraph) {
        match (paragraph, link) {
            (Some(paragraph), _) => out.push_str(&format!(
                "<p>{}</p>",
                escape(paragraph).replace('\n', "<br>")
            )),
            (None, Some(link)) => {
                let link = escape(link);
                out.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
            }
            (None, None) => {}
        }
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_escapes_everything_but_the_link() {
        let page = html(
            "Hello <b>you</b>",
            Some(1),
            Some("https://desk.example/a?b=1&c=2"),
            Lang::En,
        );
        assert!(page.contains("Hello &lt;b&gt;you&lt;/b&gt;"));
        assert!(page.contains("<a href=\"https://desk.example/a?b=1&amp;c=2\">"));
        assert!(page.starts_with("<!doctype html><html lang=\"en\">"));
    }

    #[test]
    fn the_link_goes_by_paragraph_number_never_where_typed_text_says() {
        let body = "Service words.\n\n“[[link]] typed”\n\n[[link]]";
        let sent = text(body, Some(1), Some("https://desk.example/holder/SECRET"));
        assert_eq!(sent.matches("SECRET").count(), 1);
        assert!(sent.starts_with("Service words.\n\nhttps://desk.example/holder/SECRET\n\n"));
        assert!(
            sent.contains("“[[link]] typed”"),
            "typed text stays as typed"
        );
        // A mail queued before the paragraph number was stored: the marker paragraph alone.
        let old = text("Words\n\n[[link]]\n\nmore [[link]]", None, Some("L"));
        assert_eq!(old, "Words\n\nL\n\nmore [[link]]");
    }
}
