//! What each mail says, in the reader's language. A mail's one secret link (if any) is not in
//! its stored text: the marker [`LINK_MARKER`] stands in its place until it is sent.

use chrono::{DateTime, Utc};

use crate::i18n::{local_time, Arg, Lang};
use crate::workflow::{DocumentKind, Reason, RequestKind, RequestState};

/// Where a mail's secret link goes.
pub const LINK_MARKER: &str = "[[link]]";

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
    /// To the registrant on file: a transfer code was approved; "this was not me" link.
    ApprovalNotice {
        domain: String,
        requester: String,
        approved_at: DateTime<Utc>,
        code_expires_at: DateTime<Utc>,
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
}

/// A mail ready for the outbox: its text with the marker, and the secret link apart.
pub struct Composed {
    pub kind: &'static str,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
}

impl Mail {
    pub fn compose(self, lang: Lang) -> Composed {
        let t = |key: &str, args: &[(&str, Arg)]| lang.t_with(key, args);
        let at = |moment: DateTime<Utc>| Arg::from(local_time(moment, lang));
        let (kind, subject, paragraphs, link): (&'static str, String, Vec<String>, Option<String>) =
            match self {
                Mail::Receipt { domain, link } => (
                    "receipt",
                    t(
                        "mail-receipt-subject",
                        &[("domain", domain.as_str().into())],
                    ),
                    vec![
                        t("mail-receipt-body", &[("domain", domain.as_str().into())]),
                        LINK_MARKER.to_owned(),
                        t("mail-receipt-keep", &[]),
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
                    let args = [
                        ("domain", Arg::from(domain.as_str())),
                        ("requester", Arg::from(requester.as_str())),
                        ("holder", Arg::from(holder.as_str())),
                    ];
                    (
                        "holder_request",
                        t("mail-holder-subject", &args),
                        vec![
                            t(asked, &args),
                            LINK_MARKER.to_owned(),
                            t("mail-holder-not-you", &args),
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
                            ),
                            note,
                            t("mail-open-your-link", &[]),
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
                    let mut paragraphs = vec![t(key, &[("domain", domain.as_str().into())])];
                    paragraphs.extend(reason.map(|r| r.in_lang(lang)));
                    paragraphs.push(t("mail-open-your-link", &[]));
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
                    code_expires_at,
                    link,
                } => (
                    "approval_notice",
                    t("mail-notice-subject", &[("domain", domain.as_str().into())]),
                    vec![
                        t(
                            "mail-notice-body",
                            &[
                                ("domain", domain.as_str().into()),
                                ("time", at(approved_at)),
                                ("requester", requester.as_str().into()),
                                ("until", at(code_expires_at)),
                            ],
                        ),
                        t("mail-notice-if-you", &[]),
                        t("mail-notice-not-you", &[]),
                        LINK_MARKER.to_owned(),
                    ],
                    Some(link),
                ),
                Mail::NewMessage { domain } => (
                    "new_message",
                    t(
                        "mail-message-subject",
                        &[("domain", domain.as_str().into())],
                    ),
                    vec![
                        t("mail-message-body", &[("domain", domain.as_str().into())]),
                        t("mail-open-your-link", &[]),
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
                    vec![t("mail-staff-body", &[]), review_url],
                    None,
                ),
            };
        let mut body = paragraphs.join("\n\n");
        body.push_str("\n\n-- \n");
        body.push_str(&t("mail-footer", &[]));
        Composed {
            kind,
            subject,
            body,
            link,
        }
    }
}

/// The HTML part of a mail: its paragraphs, escaped, the link as a link.
pub fn html(body: &str, link: Option<&str>, lang: Lang) -> String {
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
    for paragraph in body.split("\n\n") {
        if paragraph == LINK_MARKER {
            if let Some(link) = link {
                let link = escape(link);
                out.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
            }
        } else {
            out.push_str(&format!(
                "<p>{}</p>",
                escape(paragraph).replace('\n', "<br>")
            ));
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
        assert!(english.body.contains(LINK_MARKER));
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
            "Hello <b>you</b>\n\n[[link]]",
            Some("https://desk.example/a?b=1&c=2"),
            Lang::En,
        );
        assert!(page.contains("Hello &lt;b&gt;you&lt;/b&gt;"));
        assert!(page.contains("<a href=\"https://desk.example/a?b=1&amp;c=2\">"));
        assert!(page.starts_with("<!doctype html><html lang=\"en\">"));
    }
}
