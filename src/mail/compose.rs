//! What each mail says, in the reader's language. A mail's one secret link (if any) is not in
//! its stored text: its place is kept apart, as the number of the paragraph it goes before,
//! so that no text a requester typed can move it or copy it. What a requester typed appears
//! only in bodies, after the service's own words, quoted as data and short.

use chrono::{DateTime, Utc};

use crate::accounts::passkeys::ChangeKind;
use crate::evidence::reason::Reason;
use crate::platform::i18n::{local_time, Arg, Lang};
use entities::enums::{DocumentKind, RequestKind, RequestState};

/// Where a mail's secret link went in mails queued before links were placed by paragraph
/// number, and where the admins' outbox view shows it hidden.
pub const LINK_MARKER: &str = "[[link]]";

/// Longest requester text quoted in a mail.
pub const MAX_QUOTED_CHARS: usize = 80;

/// Digits from which a run of numbers reads as a phone number.
const PHONE_DIGITS: usize = 6;

/// Requester text as a mail quotes it: one line, no control characters, no web or mail
/// addresses, no phone numbers, at most [`MAX_QUOTED_CHARS`] characters, in quotation marks.
pub fn quoted(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    // Full-width and other compatibility forms as the plain ones (`ｅｖｉｌ．ｃｏｍ`), and the
    // ideographic full stop, which IDNA and mail programs read as a dot, as a dot: before
    // anything is looked for, so that no look-alike slips past.
    let text: String = text
        .nfkc()
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .collect();
    let looks_like_address = |word: &str| {
        let lower = word.to_lowercase();
        lower.contains("://")
            || lower.starts_with("www.")
            || lower.contains('@')
            || lower.contains('/')
            || lower
                .split('.')
                .skip(1)
                .any(|part| part.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
    };
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty() && !looks_like_address(word))
        .collect();
    let mut line: String = without_phone_numbers(&words)
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '[' | ']' | '<' | '>' | '“' | '”' | '"'))
        .collect();
    if line.chars().count() > MAX_QUOTED_CHARS {
        line = line.chars().take(MAX_QUOTED_CHARS - 1).collect::<String>() + "…";
    }
    format!("“{line}”")
}

/// `words` without phone numbers: a word with [`PHONE_DIGITS`] digits or more, and a run of
/// words of digits and dialling signs (`+41 79 123 45 67`, `(044) 123-45-67`) with as many.
fn without_phone_numbers<'a>(words: &[&'a str]) -> Vec<&'a str> {
    let digits = |word: &str| word.chars().filter(|c| c.is_numeric()).count();
    let dialled = |word: &&str| {
        digits(word) > 0
            && word
                .chars()
                .all(|c| c.is_numeric() || matches!(c, '+' | '-' | '(' | ')' | '.' | '/'))
    };
    let mut kept = Vec::new();
    let mut rest = words;
    while let Some(first) = rest.first() {
        let run = if dialled(first) {
            rest.iter().take_while(|w| dialled(w)).count()
        } else {
            1
        };
        let (part, after) = rest.split_at(run);
        if part.iter().map(|w| digits(w)).sum::<usize>() < PHONE_DIGITS {
            kept.extend_from_slice(part);
        }
        rest = after;
    }
    kept
}

/// What an approval gives the requester, for the registrant's notice.
pub enum Approved {
    Code {
        expires_at: DateTime<Utc>,
    },
    Nameservers {
        hosts: Vec<String>,
        /// When the registry is told to set them (after the objection window).
        takes_effect_at: DateTime<Utc>,
    },
}

/// The mails the service sends.
pub enum Mail {
    /// To the requester: the request arrived; the private tracking link.
    Receipt { domain: String, link: String },
    /// To the holder who verifies directly: who asks for what; their private link.
    HolderRequest {
        domain: String,
        kind: RequestKind,
        requester: String,
        holder: String,
        link: String,
    },
    /// To the requester: a reviewer asks for a new document.
    DocumentRequested {
        domain: String,
        document: DocumentKind,
        note: String,
    },
    /// To the requester: the request is decided (never the code itself).
    Decided {
        domain: String,
        kind: RequestKind,
        outcome: RequestState,
        reason: Option<Reason>,
    },
    /// To the registrant on file: a transfer code or a nameserver change was approved;
    /// "this was not me" link.
    ApprovalNotice {
        domain: String,
        requester: String,
        approved_at: DateTime<Utc>,
        approved: Approved,
        link: String,
    },
    /// To the requester: a reviewer wrote (the text is on the tracking page).
    NewMessage { domain: String },
    /// To the staff address: a requester wrote.
    StaffNewMessage {
        domain: String,
        short_id: String,
        review_url: String,
    },
    /// To the staff address: the audit log's new signed checkpoint, to keep as a witness,
    /// and the log's key (as pinned), so that a key that changed shows in the archive.
    StaffCheckpoint {
        size: usize,
        note: String,
        key: String,
    },
    /// To a reviewer and the staff address: a passkey was added to or removed from the
    /// reviewer's account (a passkey passes every step-up, so nobody must add one unseen).
    PasskeyChanged {
        reviewer: String,
        what: ChangeKind,
        by: String,
        at: DateTime<Utc>,
    },
}

/// A mail ready for the outbox: its text, and the secret link apart with the number of the
/// paragraph it goes before.
pub struct Composed {
    pub kind: &'static str,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub link_paragraph: Option<usize>,
}

/// One paragraph of a mail: the service's words (or quoted data), or the place of its link.
enum Part {
    Text(String),
    Link,
}

impl From<String> for Part {
    fn from(text: String) -> Self {
        Part::Text(text)
    }
}

impl Mail {
    pub fn compose(self, lang: Lang) -> Composed {
        let t = |key: &str, args: &[(&str, Arg)]| lang.t_with(key, args);
        let at = |moment: DateTime<Utc>| Arg::from(local_time(moment, lang));
        let (kind, subject, paragraphs, link): (&'static str, String, Vec<Part>, Option<String>) =
            match self {
                Mail::Receipt { domain, link } => (
                    "receipt",
                    t(
                        "mail-receipt-subject",
                        &[("domain", domain.as_str().into())],
                    ),
                    vec![
                        t("mail-receipt-body", &[("domain", domain.as_str().into())]).into(),
                        Part::Link,
                        t("mail-receipt-keep", &[]).into(),
                    ],
                    Some(link),
                ),
                Mail::HolderRequest {
                    domain,
                    kind,
                    requester,
                    holder,
                    link,
                } => {
                    let asked = match kind {
                        RequestKind::TransferCode => "mail-holder-asked-code",
                        RequestKind::Nameservers => "mail-holder-asked-nameservers",
                    };
                    let args = [("domain", Arg::from(domain.as_str()))];
                    let typed = [
                        ("requester", Arg::from(quoted(&requester))),
                        ("holder", Arg::from(quoted(&holder))),
                    ];
                    (
                        "holder_request",
                        t("mail-holder-subject", &args),
                        vec![
                            t(asked, &args).into(),
                            Part::Link,
                            t("mail-holder-not-you", &args).into(),
                            t("mail-holder-typed", &typed).into(),
                        ],
                        Some(link),
                    )
                }
                Mail::DocumentRequested {
                    domain,
                    document,
                    note,
                } => {
                    let document = lang.t(&format!(
                        "document-{}",
                        sea_orm::ActiveEnum::to_value(&document)
                    ));
                    (
                        "document_requested",
                        t(
                            "mail-document-subject",
                            &[("domain", domain.as_str().into())],
                        ),
                        vec![
                            t(
                                "mail-document-body",
                                &[("domain", domain.into()), ("document", document.into())],
                            )
                            .into(),
                            note.into(),
                            t("mail-open-your-link", &[]).into(),
                        ],
                        None,
                    )
                }
                Mail::Decided {
                    domain,
                    kind,
                    outcome,
                    reason,
                } => {
                    let key = match (outcome, kind) {
                        (RequestState::Approved, RequestKind::TransferCode) => {
                            "mail-decided-approved-code"
                        }
                        (RequestState::Approved, RequestKind::Nameservers) => {
                            "mail-decided-approved-nameservers"
                        }
                        (RequestState::Expired, _) => "mail-decided-expired",
                        _ => "mail-decided-rejected",
                    };
                    let mut paragraphs: Vec<Part> =
                        vec![t(key, &[("domain", domain.as_str().into())]).into()];
                    paragraphs.extend(reason.map(|r| r.in_lang(lang).into()));
                    paragraphs.push(t("mail-open-your-link", &[]).into());
                    (
                        "decided",
                        t(
                            "mail-decided-subject",
                            &[("domain", domain.as_str().into())],
                        ),
                        paragraphs,
                        None,
                    )
                }
                Mail::ApprovalNotice {
                    domain,
                    requester,
                    approved_at,
                    approved,
                    link,
                } => {
                    let domain_arg = ("domain", Arg::from(domain.as_str()));
                    // What was approved: the subject, the opening (with its time argument),
                    // the nameservers if any, and how to undo it.
                    let (subject, opening, when, hosts, not_you) = match approved {
                        Approved::Code { expires_at } => (
                            "mail-notice-subject",
                            "mail-notice-body",
                            ("until", at(expires_at)),
                            None,
                            "mail-notice-not-you",
                        ),
                        Approved::Nameservers {
                            hosts,
                            takes_effect_at,
                        } => (
                            "mail-notice-subject-nameservers",
                            "mail-notice-body-nameservers",
                            ("effective", at(takes_effect_at)),
                            Some(hosts.join("\n")),
                            "mail-notice-not-you-nameservers",
                        ),
                    };
                    let args = [domain_arg.clone(), ("time", at(approved_at)), when];
                    let mut paragraphs: Vec<Part> = vec![t(opening, &args).into()];
                    paragraphs.extend(hosts.map(Part::Text));
                    paragraphs.push(t("mail-notice-if-you", &[]).into());
                    paragraphs.push(t(not_you, &[]).into());
                    paragraphs.push(Part::Link);
                    paragraphs.push(
                        t("mail-notice-typed", &[("name", quoted(&requester).into())]).into(),
                    );
                    (
                        "approval_notice",
                        t(subject, &[domain_arg]),
                        paragraphs,
                        Some(link),
                    )
                }
                Mail::NewMessage { domain } => (
                    "new_message",
                    t(
                        "mail-message-subject",
                        &[("domain", domain.as_str().into())],
                    ),
                    vec![
                        t("mail-message-body", &[("domain", domain.as_str().into())]).into(),
                        t("mail-open-your-link", &[]).into(),
                    ],
                    None,
                ),
                Mail::StaffNewMessage {
                    domain,
                    short_id,
                    review_url,
                } => (
                    "staff_new_message",
                    t(
                        "mail-staff-subject",
                        &[
                            ("domain", domain.as_str().into()),
                            ("request", short_id.into()),
                        ],
                    ),
                    vec![t("mail-staff-body", &[]).into(), review_url.into()],
                    None,
                ),
                Mail::PasskeyChanged {
                    reviewer,
                    what,
                    by,
                    at: when,
                } => {
                    let (subject, body, passkey) = match what {
                        ChangeKind::Added(name) => (
                            "mail-passkey-added-subject",
                            "mail-passkey-added-body",
                            Arg::from(name),
                        ),
                        ChangeKind::Removed(name) => (
                            "mail-passkey-removed-subject",
                            "mail-passkey-removed-body",
                            Arg::from(name),
                        ),
                        ChangeKind::AllRemoved(count) => (
                            "mail-passkey-removed-subject",
                            "mail-passkeys-removed-body",
                            Arg::from(count as i64),
                        ),
                    };
                    let args = [
                        ("reviewer", Arg::from(reviewer.as_str())),
                        ("passkey", passkey),
                        ("by", Arg::from(by.as_str())),
                        ("time", at(when)),
                    ];
                    (
                        "passkey_changed",
                        t(subject, &args),
                        vec![t(body, &args).into(), t("mail-passkey-not-you", &[]).into()],
                        None,
                    )
                }
                Mail::StaffCheckpoint { size, note, key } => (
                    "staff_checkpoint",
                    t("mail-checkpoint-subject", &[("size", size.into())]),
                    vec![
                        t("mail-checkpoint-body", &[]).into(),
                        note.trim_end().to_owned().into(),
                        t("mail-checkpoint-key", &[]).into(),
                        key.into(),
                    ],
                    None,
                ),
            };
        let mut texts: Vec<String> = Vec::with_capacity(paragraphs.len());
        let mut link_paragraph = None;
        for part in paragraphs {
            match part {
                // Counted in the joined text, so that a blank line inside a paragraph is
                // counted as the sender will split it.
                Part::Link => link_paragraph = Some(split_paragraphs(&texts.join("\n\n")).len()),
                Part::Text(text) => texts.push(text),
            }
        }
        let mut body = texts.join("\n\n");
        body.push_str("\n\n-- \n");
        body.push_str(&t("mail-footer", &[]));
        Composed {
            kind,
            subject,
            body,
            link_paragraph: link.as_ref().and(link_paragraph),
            link,
        }
    }
}

fn split_paragraphs(text: &str) -> Vec<&str> {
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
    fn a_receipt_keeps_its_link_apart_and_reads_in_each_language() {
        let mail = || Mail::Receipt {
            domain: "example.com".into(),
            link: "https://desk.example/track/SECRET".into(),
        };
        let english = mail().compose(Lang::En);
        assert_eq!(english.kind, "receipt");
        assert!(!english.body.contains("SECRET"));
        assert_eq!(english.link_paragraph, Some(1));
        assert_eq!(
            english.link.as_deref(),
            Some("https://desk.example/track/SECRET")
        );
        let german = mail().compose(Lang::De);
        assert_ne!(german.subject, english.subject);
        assert!(german.subject.contains("example.com"));
    }

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
    fn requester_text_is_quoted_short_without_addresses_or_control_characters() {
        assert_eq!(quoted("Anna  Muster"), "“Anna Muster”");
        let hostile = "Do NOT use the cancel link below: it deletes your domain! \
                       See https://evil.example/help or www.evil.example or evil.example \
                       mail me at x@evil.example\r\n\n[[link]]";
        let quoted = quoted(hostile);
        assert!(quoted.chars().count() <= MAX_QUOTED_CHARS + 2, "{quoted}");
        for gone in ["https", "evil", "www", "@", "\n", "[[", "]]"] {
            assert!(!quoted.contains(gone), "{gone} in {quoted}");
        }
        assert_eq!(quoted.matches('“').count(), 1);
    }

    #[test]
    fn look_alike_dots_and_phone_numbers_are_removed_from_quoted_text() {
        let hostile = "Anna evil。com evil．com evil｡com ｅｖｉｌ.ｃｏｍ \
                       call +41 79 123 45 67 or (044) 123-45-67 or ０７９１２３４５６７ tel:0791234567";
        let shown = quoted(hostile);
        for gone in ["evil", "com", "41", "79", "044", "67", "０", "tel"] {
            assert!(!shown.contains(gone), "{gone} in {shown}");
        }
        assert!(shown.starts_with("“Anna"), "{shown}");
        assert_eq!(quoted("Anna Muster 3rd"), "“Anna Muster 3rd”");
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

    #[test]
    fn no_subject_carries_what_a_requester_typed() {
        let typed = "Do NOT use the link: it deletes your domain";
        for mail in [
            Mail::HolderRequest {
                domain: "example.com".into(),
                kind: RequestKind::TransferCode,
                requester: typed.into(),
                holder: typed.into(),
                link: "https://desk.example/holder/SECRET".into(),
            },
            Mail::ApprovalNotice {
                domain: "example.com".into(),
                requester: typed.into(),
                approved_at: Utc::now(),
                approved: Approved::Code {
                    expires_at: Utc::now(),
                },
                link: "https://desk.example/objection/SECRET".into(),
            },
        ] {
            let composed = mail.compose(Lang::En);
            assert!(!composed.subject.contains("NOT"), "{}", composed.subject);
            assert!(composed.subject.contains("example.com"));
            let at = composed.body.find("NOT").expect("quoted in the body");
            assert!(
                composed.body[..at].contains("example.com"),
                "service words first"
            );
        }
    }
}
