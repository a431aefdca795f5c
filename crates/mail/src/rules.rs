//! What to do with a message: pure decisions over the parsed message and
//! the facts looked up for it, so that every rule is a row in a table test.
//!
//! Order matters and is fixed: junk and loops first (an auto-reply is never
//! answered, not even with a size refusal), then the size limit, then
//! threading, then a new report.

use crate::message::IntakeMessage;

/// Why a message is dropped without a report or an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Junk {
    /// `Auto-Submitted` other than `no` (RFC 3834).
    AutoSubmitted(String),
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`.
    Precedence(String),
    /// From `mailer-daemon@` or `postmaster@`.
    DaemonSender(String),
    /// `Return-Path: <>`: a bounce or other notification (RFC 5321 §4.5.5).
    NullReturnPath,
    /// `X-Autoreply` / `X-Autorespond` (vacation responders that skip RFC 3834).
    AutoreplyHeader,
    /// A `multipart/report` delivery status notification.
    DeliveryReport,
    /// From one of Rampart's own addresses: our own mail coming back.
    OwnAddress(String),
}

impl Junk {
    pub fn describe(&self) -> String {
        match self {
            Junk::AutoSubmitted(v) => format!("automatic message (Auto-Submitted: {v})"),
            Junk::Precedence(v) => format!("bulk or automatic message (Precedence: {v})"),
            Junk::DaemonSender(a) => format!("bounce or notice from a mail system ({a})"),
            Junk::NullReturnPath => "bounce or notice (empty Return-Path <>)".into(),
            Junk::AutoreplyHeader => "automatic reply (X-Autoreply/X-Autorespond)".into(),
            Junk::DeliveryReport => "delivery status report (multipart/report)".into(),
            Junk::OwnAddress(a) => format!("sent from Rampart's own address {a} (a loop)"),
        }
    }
}

/// The first rule a message breaks that makes it an automatic message.
pub fn junk(m: &IntakeMessage) -> Option<Junk> {
    if let Some(v) = &m.auto_submitted {
        let keyword = v.split(';').next().unwrap_or("").trim();
        if !keyword.is_empty() && keyword != "no" {
            return Some(Junk::AutoSubmitted(keyword.to_owned()));
        }
    }
    if let Some(v) = &m.precedence {
        let v = v.trim();
        if matches!(v, "bulk" | "junk" | "list" | "auto_reply" | "auto-reply") {
            return Some(Junk::Precedence(v.to_owned()));
        }
    }
    let daemon = |a: &str| {
        let local = a.split('@').next().unwrap_or("");
        matches!(local, "mailer-daemon" | "postmaster" | "mail-daemon")
    };
    if daemon(&m.from.address) {
        return Some(Junk::DaemonSender(m.from.address.clone()));
    }
    match m.return_path.as_deref() {
        Some("") => return Some(Junk::NullReturnPath),
        Some(rp) if daemon(rp) => return Some(Junk::DaemonSender(rp.to_owned())),
        _ => {}
    }
    if m.autoreply_header {
        return Some(Junk::AutoreplyHeader);
    }
    if m.is_delivery_report {
        return Some(Junk::DeliveryReport);
    }
    None
}

/// The report number in a subject token `[#123]` (the first one).
pub fn subject_report_id(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(at) = rest.find("[#") {
        let after = &rest[at + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && digits.len() <= 19
            && after[digits.len()..].starts_with(']')
            && let Ok(id) = digits.parse()
        {
            return Some(id);
        }
        rest = after;
    }
    None
}

/// The polite explanation sent back for a message over the limit.
pub fn size_refusal_text(size: usize, max_bytes: usize, subject: &str) -> String {
    let mb = |b: usize| {
        if b < 1024 * 1024 {
            format!("{} KB", b.div_ceil(1024))
        } else {
            format!("{:.1} MB", b as f64 / (1024.0 * 1024.0))
        }
    };
    format!(
        "Thank you for writing to us. Your message \"{subject}\" could not be taken: it is {size}, \
         and this mailbox accepts messages up to {max}.\n\n\
         Nothing from it has been stored. Please send the report again with smaller attachments \
         (for example a shorter screen recording, or a link to a file you host), or submit it \
         through the web form, which takes files one by one.\n\n\
         This is an automatic answer; you do not need to reply to it.",
        size = mb(size),
        max = mb(max_bytes),
    )
}

/// A report that a message points at, as looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRef {
    pub id: i64,
    /// The report's researcher's address (lower-case).
    pub researcher_email: String,
}

/// What the apply step looked up for a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    pub max_bytes: usize,
    /// A recipient is a reply address whose token verified.
    pub reply_address_report: Option<ReportRef>,
    /// A recipient looked like a reply address but its token did not verify.
    pub bad_reply_token: bool,
    /// The report named by a `[#ID]` subject token, if it exists.
    pub subject_report: Option<ReportRef>,
    /// The report of a Message-ID Rampart sent, quoted in In-Reply-To/References.
    pub referenced_report: Option<ReportRef>,
    /// SPF/DKIM/DMARC said the From address is forged (see `auth`).
    pub sender_failed_checks: bool,
    /// The programme whose address is among the recipients.
    pub recipient_programme: Option<i64>,
    pub default_programme: Option<i64>,
    /// The From address is a programme's own address (or a reply address).
    pub sender_is_rampart: bool,
    /// New reports this sender's mail made in the last hour, and the limit
    /// (0: none); the web form's per-researcher limit, applied to mail.
    pub sender_reports_last_hour: u32,
    pub max_reports_per_hour: u32,
}

/// How a reply was matched to its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadedBy {
    ReplyAddress,
    InReplyTo,
    SubjectToken,
}

impl ThreadedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadedBy::ReplyAddress => "reply_address",
            ThreadedBy::InReplyTo => "in_reply_to",
            ThreadedBy::SubjectToken => "subject_token",
        }
    }
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Automatic mail: stored as ignored, never answered.
    Ignore(Junk),
    /// Not taken; `bounce` is the text to send back.
    Refuse { reason: String, bounce: String },
    /// A comment on an existing report.
    Comment {
        report_id: i64,
        by: ThreadedBy,
        /// The sender is the report's own researcher.
        from_researcher: bool,
    },
    /// A new report; `flags` explain anything the team should know.
    NewReport {
        programme_id: i64,
        flags: Vec<&'static str>,
    },
}

/// Decides. Pure: the same message and facts give the same answer.
pub fn decide(m: &IntakeMessage, f: &Facts) -> Decision {
    if let Some(j) = junk(m) {
        return Decision::Ignore(j);
    }
    if f.sender_is_rampart {
        return Decision::Ignore(Junk::OwnAddress(m.from.address.clone()));
    }
    if f.max_bytes > 0 && m.size > f.max_bytes {
        return Decision::Refuse {
            reason: format!(
                "message of {} bytes is over the {} byte limit",
                m.size, f.max_bytes
            ),
            bounce: size_refusal_text(m.size, f.max_bytes, &m.subject),
        };
    }
    // The reply address is a capability handed only to the report's
    // researcher: whoever holds it may write into that thread, whatever
    // the From says (a researcher's colleague, a second address).
    if let Some(r) = &f.reply_address_report {
        return Decision::Comment {
            report_id: r.id,
            by: ThreadedBy::ReplyAddress,
            from_researcher: r.researcher_email == m.from.address,
        };
    }
    // Everything else threads on the From address alone, so only for the
    // report's own researcher and only when the sender checks do not say
    // the From is forged.
    let mut flags = Vec::new();
    for (found, by) in [
        (&f.referenced_report, ThreadedBy::InReplyTo),
        (&f.subject_report, ThreadedBy::SubjectToken),
    ] {
        if let Some(r) = found {
            if r.researcher_email != m.from.address {
                flags.push("thread_refused_other_sender");
            } else if f.sender_failed_checks {
                flags.push("thread_refused_failed_checks");
            } else {
                return Decision::Comment {
                    report_id: r.id,
                    by,
                    from_researcher: true,
                };
            }
        }
    }
    if f.bad_reply_token {
        flags.push("bad_reply_token");
    }
    if f.sender_failed_checks {
        flags.push("sender_checks_failed");
    }
    if m.list_id.is_some() {
        flags.push("mailing_list");
    }
    flags.dedup();
    if f.max_reports_per_hour > 0 && f.sender_reports_last_hour >= f.max_reports_per_hour {
        return Decision::Refuse {
            reason: format!(
                "{} new reports from this sender in the last hour (limit {})",
                f.sender_reports_last_hour, f.max_reports_per_hour
            ),
            bounce: format!(
                "Thank you for writing to us. Your message \"{}\" was not stored: this address has \
                 sent {} new reports in the last hour, the most we take from one sender in that \
                 time. Please send it again in an hour, or add it to one of your reports by \
                 answering that report's mail.\n\nThis is an automatic answer.",
                m.subject, f.sender_reports_last_hour
            ),
        };
    }
    match f.recipient_programme.or(f.default_programme) {
        Some(programme_id) => Decision::NewReport {
            programme_id,
            flags,
        },
        None => Decision::Refuse {
            reason: "no programme takes mail at the addresses this message was sent to".into(),
            bounce: "Thank you for writing to us. This address does not take security reports \
                     at the moment, so your message was not stored. Please use the contact named \
                     in our security.txt.\n\nThis is an automatic answer."
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Mailbox;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn subject_tokens_never_panic_and_find_what_is_there(
            before in "\\PC{0,40}", id in 0i64..1_000_000_000, after in "\\PC{0,40}",
        ) {
            let _ = subject_report_id(&before);
            let s = format!("{before}[#{id}]{after}");
            let found = subject_report_id(&s);
            // An earlier token in `before` may win; a token is always found.
            prop_assert!(found.is_some());
            if subject_report_id(&before).is_none() {
                prop_assert_eq!(found, Some(id));
            }
        }
    }

    fn msg() -> IntakeMessage {
        IntakeMessage {
            from: Mailbox {
                address: "alice@researchers.test".into(),
                name: None,
            },
            to: vec!["security@shop.test".into()],
            subject: "XSS".into(),
            size: 1000,
            return_path: Some("alice@researchers.test".into()),
            ..Default::default()
        }
    }

    #[test]
    fn automatic_mail_is_recognised() {
        type Edit = fn(&mut IntakeMessage);
        let cases: &[(&str, Edit, Option<&str>)] = &[
            ("plain mail", |_| {}, None),
            (
                "Auto-Submitted: no",
                |m| m.auto_submitted = Some("no".into()),
                None,
            ),
            (
                "auto-replied",
                |m| m.auto_submitted = Some("auto-replied".into()),
                Some("AutoSubmitted"),
            ),
            (
                "auto-generated with params",
                |m| m.auto_submitted = Some("auto-generated; owner-email=x".into()),
                Some("AutoSubmitted"),
            ),
            (
                "bulk",
                |m| m.precedence = Some("bulk".into()),
                Some("Precedence"),
            ),
            (
                "junk",
                |m| m.precedence = Some("junk".into()),
                Some("Precedence"),
            ),
            (
                "list",
                |m| m.precedence = Some("list".into()),
                Some("Precedence"),
            ),
            (
                "auto_reply",
                |m| m.precedence = Some("auto_reply".into()),
                Some("Precedence"),
            ),
            (
                "first-class",
                |m| m.precedence = Some("first-class".into()),
                None,
            ),
            (
                "mailer-daemon",
                |m| m.from.address = "mailer-daemon@mx.shop.test".into(),
                Some("DaemonSender"),
            ),
            (
                "postmaster",
                |m| m.from.address = "postmaster@shop.test".into(),
                Some("DaemonSender"),
            ),
            (
                "daemon return path",
                |m| m.return_path = Some("mailer-daemon@mx.test".into()),
                Some("DaemonSender"),
            ),
            (
                "null return path",
                |m| m.return_path = Some(String::new()),
                Some("NullReturnPath"),
            ),
            ("no return path", |m| m.return_path = None, None),
            (
                "X-Autoreply",
                |m| m.autoreply_header = true,
                Some("AutoreplyHeader"),
            ),
            (
                "DSN",
                |m| m.is_delivery_report = true,
                Some("DeliveryReport"),
            ),
            (
                "postmaster-ish but not",
                |m| m.from.address = "postmasters-fan@x.test".into(),
                None,
            ),
        ];
        for (name, edit, want) in cases {
            let mut m = msg();
            edit(&mut m);
            let got = junk(&m).map(|j| format!("{j:?}"));
            match want {
                None => assert_eq!(got, None, "{name}"),
                Some(kind) => assert!(
                    got.as_deref().is_some_and(|g| g.starts_with(kind)),
                    "{name}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn subject_tokens() {
        let cases = [
            ("Re: [#12] XSS", Some(12)),
            ("[#7]", Some(7)),
            ("Re: [#] nothing [#9]", Some(9)),
            ("[# 12]", None),
            ("#12", None),
            ("[#12 ]", None),
            ("[#1234567890123456789012]", None),
            ("Fwd: Re: [#3][#4]", Some(3)),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(subject_report_id(s), want, "{s:?}");
        }
    }

    fn alice_report(id: i64) -> Option<ReportRef> {
        Some(ReportRef {
            id,
            researcher_email: "alice@researchers.test".into(),
        })
    }

    fn bob_report(id: i64) -> Option<ReportRef> {
        Some(ReportRef {
            id,
            researcher_email: "bob@researchers.test".into(),
        })
    }

    #[test]
    fn decisions() {
        let base = Facts {
            max_bytes: 10_000,
            recipient_programme: Some(1),
            default_programme: Some(9),
            ..Default::default()
        };
        type Edit = fn(&mut IntakeMessage, &mut Facts);
        let cases: &[(&str, Edit, &str)] = &[
            (
                "new report in the addressed programme",
                |_, _| {},
                "new 1 []",
            ),
            (
                "default programme",
                |_, f| f.recipient_programme = None,
                "new 9 []",
            ),
            (
                "no programme at all",
                |_, f| {
                    f.recipient_programme = None;
                    f.default_programme = None
                },
                "refuse",
            ),
            ("oversized", |m, _| m.size = 10_001, "refuse"),
            (
                "our own mail coming back",
                |_, f| f.sender_is_rampart = true,
                "ignore",
            ),
            (
                "no limit",
                |m, f| {
                    m.size = 10_000_000;
                    f.max_bytes = 0
                },
                "new 1 []",
            ),
            (
                "oversized auto-reply is ignored, not bounced",
                |m, _| {
                    m.size = 10_001;
                    m.auto_submitted = Some("auto-replied".into())
                },
                "ignore",
            ),
            (
                "subject token from the researcher",
                |_, f| f.subject_report = alice_report(5),
                "comment 5 subject_token researcher",
            ),
            (
                "subject token from someone else",
                |_, f| f.subject_report = bob_report(5),
                "new 1 [\"thread_refused_other_sender\"]",
            ),
            (
                "subject token, researcher, forged From",
                |_, f| {
                    f.subject_report = alice_report(5);
                    f.sender_failed_checks = true
                },
                "new 1 [\"thread_refused_failed_checks\", \"sender_checks_failed\"]",
            ),
            (
                "reply address from the researcher",
                |_, f| f.reply_address_report = alice_report(6),
                "comment 6 reply_address researcher",
            ),
            (
                "reply address from someone else",
                |_, f| f.reply_address_report = bob_report(6),
                "comment 6 reply_address other",
            ),
            (
                "reply address wins over a subject token",
                |_, f| {
                    f.reply_address_report = bob_report(6);
                    f.subject_report = alice_report(5)
                },
                "comment 6 reply_address other",
            ),
            (
                "reply address, failed checks: still threads (the token, not the From)",
                |_, f| {
                    f.reply_address_report = alice_report(6);
                    f.sender_failed_checks = true
                },
                "comment 6 reply_address researcher",
            ),
            (
                "In-Reply-To from the researcher",
                |_, f| f.referenced_report = alice_report(8),
                "comment 8 in_reply_to researcher",
            ),
            (
                "In-Reply-To from someone else",
                |_, f| f.referenced_report = bob_report(8),
                "new 1 [\"thread_refused_other_sender\"]",
            ),
            (
                "In-Reply-To beats subject token",
                |_, f| {
                    f.referenced_report = alice_report(8);
                    f.subject_report = alice_report(5)
                },
                "comment 8 in_reply_to researcher",
            ),
            (
                "bad reply token",
                |_, f| f.bad_reply_token = true,
                "new 1 [\"bad_reply_token\"]",
            ),
            (
                "mailing list is flagged",
                |m, _| m.list_id = Some("<sec.lists.test>".into()),
                "new 1 [\"mailing_list\"]",
            ),
            (
                "at the per-sender limit",
                |_, f| {
                    f.max_reports_per_hour = 3;
                    f.sender_reports_last_hour = 3
                },
                "refuse",
            ),
            (
                "under the per-sender limit",
                |_, f| {
                    f.max_reports_per_hour = 3;
                    f.sender_reports_last_hour = 2
                },
                "new 1 []",
            ),
            (
                "the limit does not stop replies",
                |_, f| {
                    f.max_reports_per_hour = 3;
                    f.sender_reports_last_hour = 9;
                    f.subject_report = alice_report(5)
                },
                "comment 5 subject_token researcher",
            ),
            (
                "failed checks on a new report",
                |_, f| f.sender_failed_checks = true,
                "new 1 [\"sender_checks_failed\"]",
            ),
        ];
        for (name, edit, want) in cases {
            let mut m = msg();
            let mut f = base.clone();
            edit(&mut m, &mut f);
            let got = match decide(&m, &f) {
                Decision::Ignore(_) => "ignore".to_owned(),
                Decision::Refuse { .. } => "refuse".to_owned(),
                Decision::Comment {
                    report_id,
                    by,
                    from_researcher,
                } => format!(
                    "comment {report_id} {} {}",
                    by.as_str(),
                    if from_researcher {
                        "researcher"
                    } else {
                        "other"
                    }
                ),
                Decision::NewReport {
                    programme_id,
                    flags,
                } => format!("new {programme_id} {flags:?}"),
            };
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn the_size_refusal_is_polite_and_specific() {
        let t = size_refusal_text(30 * 1024 * 1024, 25 * 1024 * 1024, "Big PoC");
        assert!(t.contains("30.0 MB") && t.contains("25.0 MB") && t.contains("Big PoC"));
        insta::assert_snapshot!("size_refusal", t);
        let t = size_refusal_text(35_445, 16_384, "x");
        assert!(
            t.contains("it is 35 KB") && t.contains("up to 16 KB"),
            "{t}"
        );
        assert!(t.contains("Thank you"));
        assert!(t.contains("web form"));
    }
}
