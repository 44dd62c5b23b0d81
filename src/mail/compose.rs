//! What each mail says, in the reader's language: one function a mail. A mail's one secret
//! link (if any) is not in its stored text: its place is kept apart, as the number of the
//! paragraph it goes before, so that no text a requester typed can move it or copy it. What
//! a requester typed appears only in bodies, after the service's own words, quoted as data
//! and short.

use chrono::{DateTime, Utc};

use super::body::split_paragraphs;
use super::quote::quoted;
use crate::accounts::passkeys::ChangeKind;
use crate::evidence::reason::Reason;
use crate::platform::i18n::{local_time, Arg, Lang};
use entities::enums::{DocumentKind, RequestKind, RequestState};

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

/// A mail before its paragraphs are joined: its kind, subject, paragraphs and link.
struct Draft {
    kind: &'static str,
    subject: String,
    paragraphs: Vec<Part>,
    link: Option<String>,
}

impl Mail {
    pub fn compose(self, lang: Lang) -> Composed {
        let draft = match self {
            Mail::Receipt { domain, link } => receipt(lang, &domain, link),
            Mail::HolderRequest {
                domain,
                kind,
                requester,
                holder,
                link,
            } => holder_request(lang, &domain, kind, &requester, &holder, link),
            Mail::DocumentRequested {
                domain,
                document,
                note,
            } => document_requested(lang, domain, document, note),
            Mail::Decided {
                domain,
                kind,
                outcome,
                reason,
            } => decided(lang, &domain, kind, outcome, reason),
            Mail::ApprovalNotice {
                domain,
                requester,
                approved_at,
                approved,
                link,
            } => approval_notice(lang, &domain, &requester, approved_at, approved, link),
            Mail::NewMessage { domain } => new_message(lang, &domain),
            Mail::StaffNewMessage {
                domain,
                short_id,
                review_url,
            } => staff_new_message(lang, &domain, short_id, review_url),
            Mail::PasskeyChanged {
                reviewer,
                what,
                by,
                at,
            } => passkey_changed(lang, &reviewer, what, &by, at),
            Mail::StaffCheckpoint { size, note, key } => staff_checkpoint(lang, size, note, key),
        };
        draft.finish(lang)
    }
}

impl Draft {
    /// The paragraphs joined, the footer added, and the link's paragraph counted.
    fn finish(self, lang: Lang) -> Composed {
        let mut texts: Vec<String> = Vec::with_capacity(self.paragraphs.len());
        let mut link_paragraph = None;
        for part in self.paragraphs {
            match part {
                // Counted in the joined text, so that a blank line inside a paragraph is
                // counted as the sender will split it.
                Part::Link => link_paragraph = Some(split_paragraphs(&texts.join("\n\n")).len()),
                Part::Text(text) => texts.push(text),
            }
        }
        let mut body = texts.join("\n\n");
        body.push_str("\n\n-- \n");
        body.push_str(&lang.t_with("mail-footer", &[]));
        Composed {
            kind: self.kind,
            subject: self.subject,
            body,
            link_paragraph: self.link.as_ref().and(link_paragraph),
            link: self.link,
        }
    }
}

/// A moment in the reader's time zone and language.
fn at(moment: DateTime<Utc>, lang: Lang) -> Arg {
    Arg::from(local_time(moment, lang))
}

fn receipt(lang: Lang, domain: &str, link: String) -> Draft {
    let args = [("domain", Arg::from(domain))];
    Draft {
        kind: "receipt",
        subject: lang.t_with("mail-receipt-subject", &args),
        paragraphs: vec![
            lang.t_with("mail-receipt-body", &args).into(),
            Part::Link,
            lang.t_with("mail-receipt-keep", &[]).into(),
        ],
        link: Some(link),
    }
}

fn holder_request(
    lang: Lang,
    domain: &str,
    kind: RequestKind,
    requester: &str,
    holder: &str,
    link: String,
) -> Draft {
    let asked = match kind {
        RequestKind::TransferCode => "mail-holder-asked-code",
        RequestKind::Nameservers => "mail-holder-asked-nameservers",
    };
    let args = [("domain", Arg::from(domain))];
    let typed = [
        ("requester", Arg::from(quoted(requester))),
        ("holder", Arg::from(quoted(holder))),
    ];
    Draft {
        kind: "holder_request",
        subject: lang.t_with("mail-holder-subject", &args),
        paragraphs: vec![
            lang.t_with(asked, &args).into(),
            Part::Link,
            lang.t_with("mail-holder-not-you", &args).into(),
            lang.t_with("mail-holder-typed", &typed).into(),
        ],
        link: Some(link),
    }
}

fn document_requested(lang: Lang, domain: String, document: DocumentKind, note: String) -> Draft {
    let document = lang.t(&format!(
        "document-{}",
        sea_orm::ActiveEnum::to_value(&document)
    ));
    Draft {
        kind: "document_requested",
        subject: lang.t_with(
            "mail-document-subject",
            &[("domain", domain.as_str().into())],
        ),
        paragraphs: vec![
            lang.t_with(
                "mail-document-body",
                &[("domain", domain.into()), ("document", document.into())],
            )
            .into(),
            note.into(),
            lang.t_with("mail-open-your-link", &[]).into(),
        ],
        link: None,
    }
}

fn decided(
    lang: Lang,
    domain: &str,
    kind: RequestKind,
    outcome: RequestState,
    reason: Option<Reason>,
) -> Draft {
    let key = match (outcome, kind) {
        (RequestState::Approved, RequestKind::TransferCode) => "mail-decided-approved-code",
        (RequestState::Approved, RequestKind::Nameservers) => "mail-decided-approved-nameservers",
        (RequestState::Expired, _) => "mail-decided-expired",
        _ => "mail-decided-rejected",
    };
    let args = [("domain", Arg::from(domain))];
    let mut paragraphs: Vec<Part> = vec![lang.t_with(key, &args).into()];
    paragraphs.extend(reason.map(|r| r.in_lang(lang).into()));
    paragraphs.push(lang.t_with("mail-open-your-link", &[]).into());
    Draft {
        kind: "decided",
        subject: lang.t_with("mail-decided-subject", &args),
        paragraphs,
        link: None,
    }
}

fn approval_notice(
    lang: Lang,
    domain: &str,
    requester: &str,
    approved_at: DateTime<Utc>,
    approved: Approved,
    link: String,
) -> Draft {
    let domain_arg = ("domain", Arg::from(domain));
    // What was approved: the subject, the opening (with its time argument), the nameservers
    // if any, and how to undo it.
    let (subject, opening, when, hosts, not_you) = match approved {
        Approved::Code { expires_at } => (
            "mail-notice-subject",
            "mail-notice-body",
            ("until", at(expires_at, lang)),
            None,
            "mail-notice-not-you",
        ),
        Approved::Nameservers {
            hosts,
            takes_effect_at,
        } => (
            "mail-notice-subject-nameservers",
            "mail-notice-body-nameservers",
            ("effective", at(takes_effect_at, lang)),
            Some(hosts.join("\n")),
            "mail-notice-not-you-nameservers",
        ),
    };
    let args = [domain_arg.clone(), ("time", at(approved_at, lang)), when];
    let mut paragraphs: Vec<Part> = vec![lang.t_with(opening, &args).into()];
    paragraphs.extend(hosts.map(Part::Text));
    paragraphs.push(lang.t_with("mail-notice-if-you", &[]).into());
    paragraphs.push(lang.t_with(not_you, &[]).into());
    paragraphs.push(Part::Link);
    paragraphs.push(
        lang.t_with("mail-notice-typed", &[("name", quoted(requester).into())])
            .into(),
    );
    Draft {
        kind: "approval_notice",
        subject: lang.t_with(subject, &[domain_arg]),
        paragraphs,
        link: Some(link),
    }
}

fn new_message(lang: Lang, domain: &str) -> Draft {
    let args = [("domain", Arg::from(domain))];
    Draft {
        kind: "new_message",
        subject: lang.t_with("mail-message-subject", &args),
        paragraphs: vec![
            lang.t_with("mail-message-body", &args).into(),
            lang.t_with("mail-open-your-link", &[]).into(),
        ],
        link: None,
    }
}

fn staff_new_message(lang: Lang, domain: &str, short_id: String, review_url: String) -> Draft {
    Draft {
        kind: "staff_new_message",
        subject: lang.t_with(
            "mail-staff-subject",
            &[("domain", domain.into()), ("request", short_id.into())],
        ),
        paragraphs: vec![
            lang.t_with("mail-staff-body", &[]).into(),
            review_url.into(),
        ],
        link: None,
    }
}

fn passkey_changed(
    lang: Lang,
    reviewer: &str,
    what: ChangeKind,
    by: &str,
    when: DateTime<Utc>,
) -> Draft {
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
        ("reviewer", Arg::from(reviewer)),
        ("passkey", passkey),
        ("by", Arg::from(by)),
        ("time", at(when, lang)),
    ];
    Draft {
        kind: "passkey_changed",
        subject: lang.t_with(subject, &args),
        paragraphs: vec![
            lang.t_with(body, &args).into(),
            lang.t_with("mail-passkey-not-you", &[]).into(),
        ],
        link: None,
    }
}

fn staff_checkpoint(lang: Lang, size: usize, note: String, key: String) -> Draft {
    Draft {
        kind: "staff_checkpoint",
        subject: lang.t_with("mail-checkpoint-subject", &[("size", size.into())]),
        paragraphs: vec![
            lang.t_with("mail-checkpoint-body", &[]).into(),
            note.trim_end().to_owned().into(),
            lang.t_with("mail-checkpoint-key", &[]).into(),
            key.into(),
        ],
        link: None,
    }
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
