//! One RFC 5322 message, read into the fields intake decides on.
//!
//! `mail-parser` does the MIME work (encodings, charsets, multipart trees,
//! HTML to text); this module picks out what Rampart needs and refuses
//! input that cannot be a message with a reason a postmaster understands.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

/// Longest subject kept (a report title is at most 200 characters).
const MAX_SUBJECT: usize = 200;

/// One mailbox: `Name <local@domain>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mailbox {
    /// Lower-cased address.
    pub address: String,
    pub name: Option<String>,
}

/// A file carried by the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    /// As the sender named it (not yet cleaned for storage).
    pub filename: String,
    /// `type/subtype` as declared.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message as intake sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntakeMessage {
    pub from: Mailbox,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// `Delivered-To` / `X-Original-To` (the envelope recipient as the MTA
    /// recorded it; for Bcc'd security@ mail this is the only trace).
    pub delivered_to: Vec<String>,
    pub subject: String,
    /// Without angle brackets, lower-cased; `None` when absent.
    pub message_id: Option<String>,
    /// The same, in the case the sender wrote it: what an answer's
    /// `In-Reply-To` must repeat for the sender's mail client to thread it.
    pub message_id_as_sent: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    /// The address inside `Return-Path`; `Some("")` for the null path `<>`.
    pub return_path: Option<String>,
    pub list_id: Option<String>,
    /// `X-Autoreply`, `X-Autorespond` or `X-Auto-Response-Suppress`-style
    /// vacation markers were present.
    pub autoreply_header: bool,
    /// `multipart/report` (delivery status notifications).
    pub is_delivery_report: bool,
    /// Plain text of the body; HTML-only mail converted to text.
    pub body: String,
    pub body_was_html: bool,
    pub attachments: Vec<MailAttachment>,
    /// `pgp_decrypted` or `pgp_undecryptable` when the mail came encrypted
    /// (set by the intake, which reads the plaintext).
    pub encryption: Option<&'static str>,
    /// Size of the raw message in bytes.
    pub size: usize,
}

impl IntakeMessage {
    /// Every recipient address named in the headers, in order, deduplicated.
    pub fn recipients(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in self
            .delivered_to
            .iter()
            .chain(&self.to)
            .chain(&self.cc)
            .map(String::as_str)
        {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// In-Reply-To then References, newest reference first.
    pub fn thread_references(&self) -> Vec<String> {
        let mut out = self.in_reply_to.clone();
        for r in self.references.iter().rev() {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the input is empty; expected one RFC 5322 message on standard input")]
    Empty,
    #[error("the input is not an RFC 5322 message (no header fields could be read)")]
    NotAMessage,
    #[error("the message has no usable From address; intake needs a sender to answer")]
    NoSender,
}

/// `<Abc@Example.COM>` → `abc@example.com`: Message-IDs compare case-
/// insensitively in practice (mail systems rewrite the case of the domain).
pub fn normalise_message_id(id: &str) -> Option<String> {
    let t = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if t.is_empty() || t.len() > 998 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(t.to_lowercase())
}

fn addresses(a: Option<&Address<'_>>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|m| m.address())
            .map(|s| s.trim().to_lowercase())
            .filter(|s| plausible_address(s))
            .collect()
    })
    .unwrap_or_default()
}

/// Has an `@` and nothing a database or a mail header could choke on.
fn plausible_address(s: &str) -> bool {
    s.contains('@') && s.len() <= 254 && !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn id_list(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match v {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter().filter_map(normalise_message_id).collect()
}

/// Unfolds and trims a raw header value.
fn unfold(raw: &str) -> String {
    raw.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The address in a raw `Return-Path` value: `<>` is the null path.
fn return_path_address(raw: &str) -> String {
    let v = unfold(raw);
    let inner = match (v.find('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.as_str(),
    };
    inner.trim().to_lowercase()
}

/// Text as a database and a page can hold it: no NUL or other control
/// characters (PostgreSQL refuses NUL outright), line breaks and tabs kept
/// where `multiline`.
fn clean_text(s: &str, multiline: bool) -> String {
    let keep = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\t'));
    // Fast path for the usual clean text: a byte scan, no per-char copy.
    // 0xC2 starts the C1 controls (U+0080..U+009F) in UTF-8.
    let suspect = s.bytes().any(|b| {
        (b < 0x20 && !(multiline && (b == b'\n' || b == b'\t'))) || b == 0x7f || b == 0xc2
    });
    if !suspect {
        return s.to_owned();
    }
    s.chars().filter(|&c| keep(c)).collect()
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Reads one message. Never panics; anything that is not a message is an
/// error naming why.
pub fn parse(raw: &[u8]) -> Result<IntakeMessage, ParseError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NotAMessage)?;
    if msg.headers().is_empty() {
        return Err(ParseError::NotAMessage);
    }
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|m| {
            let address = m.address()?.trim().to_lowercase();
            plausible_address(&address).then(|| Mailbox {
                address,
                name: m
                    .name()
                    .map(|n| clean_text(n, false).trim().to_owned())
                    .filter(|n| !n.is_empty()),
            })
        })
        .ok_or(ParseError::NoSender)?;

    let mut delivered_to = Vec::new();
    let mut auto_submitted = None;
    let mut precedence = None;
    let mut return_path = None;
    let mut list_id = None;
    let mut autoreply_header = false;
    for (name, value) in msg.headers_raw() {
        let value_text = unfold(value);
        match name.to_ascii_lowercase().as_str() {
            "delivered-to" | "x-original-to" | "envelope-to" => {
                let a = return_path_address(value);
                if plausible_address(&a) && !delivered_to.contains(&a) {
                    delivered_to.push(a);
                }
            }
            "auto-submitted" if auto_submitted.is_none() => {
                auto_submitted = Some(value_text.to_lowercase());
            }
            "precedence" if precedence.is_none() => {
                precedence = Some(value_text.to_lowercase());
            }
            // The MTA adds the final Return-Path at the top; the first wins.
            "return-path" if return_path.is_none() => {
                return_path = Some(return_path_address(value));
            }
            "list-id" if list_id.is_none() => list_id = Some(value_text),
            "x-autoreply" | "x-autorespond" | "x-autoresponder" => autoreply_header = true,
            _ => {}
        }
    }

    let is_delivery_report = msg.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });

    let (body, body_was_html) = if msg.text_body_count() > 0 {
        let was_html = msg.text_part(0).is_some_and(|p| p.is_text_html());
        (
            msg.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
            was_html,
        )
    } else if msg.html_body_count() > 0 {
        // body_text converts an HTML part to text (tags and scripts gone,
        // entities decoded): what the team reads is never markup.
        (
            msg.body_text(0)
                .or_else(|| msg.body_html(0))
                .map(|b| mail_parser::decoders::html::html_to_text(&b))
                .unwrap_or_default(),
            true,
        )
    } else {
        (String::new(), false)
    };

    let attachments = msg
        .attachments()
        .filter_map(|part| {
            let bytes = part.contents();
            if bytes.is_empty() {
                return None;
            }
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let filename = part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| "attachment".into());
            Some(MailAttachment {
                filename,
                content_type,
                bytes: bytes.to_vec(),
            })
        })
        .collect();

    let subject = msg.subject().map(unfold).unwrap_or_default();
    Ok(IntakeMessage {
        from,
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        delivered_to,
        subject: truncate_chars(&clean_text(&subject, false), MAX_SUBJECT),
        message_id: msg.message_id().and_then(normalise_message_id),
        message_id_as_sent: msg
            .message_id()
            .filter(|id| normalise_message_id(id).is_some())
            .map(|id| {
                id.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim()
                    .to_owned()
            }),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        auto_submitted,
        precedence,
        return_path,
        list_id,
        autoreply_header,
        is_delivery_report,
        body: if body.contains('\r') {
            clean_text(&body.replace("\r\n", "\n"), true)
        } else {
            clean_text(&body, true)
        },
        body_was_html,
        attachments,
        encryption: None,
        size: raw.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIMPLE: &str = "Return-Path: <alice@researchers.test>\r\n\
Delivered-To: security@shop.test\r\n\
From: Alice Example <Alice@Researchers.test>\r\n\
To: Security Team <security@shop.test>\r\n\
Cc: bob@researchers.test\r\n\
Subject: XSS in search\r\n\
Message-ID: <ABC123@researchers.test>\r\n\
In-Reply-To: <r1.x@rampart.shop.test>\r\n\
References: <r0.y@rampart.shop.test> <r1.x@rampart.shop.test>\r\n\
\r\n\
The search box reflects q.\r\n";

    #[test]
    fn reads_the_fields_intake_needs() {
        let m = parse(SIMPLE.as_bytes()).expect("parses");
        assert_eq!(m.from.address, "alice@researchers.test");
        assert_eq!(m.from.name.as_deref(), Some("Alice Example"));
        assert_eq!(m.to, vec!["security@shop.test"]);
        assert_eq!(m.cc, vec!["bob@researchers.test"]);
        assert_eq!(m.delivered_to, vec!["security@shop.test"]);
        assert_eq!(m.subject, "XSS in search");
        assert_eq!(m.message_id.as_deref(), Some("abc123@researchers.test"));
        assert_eq!(m.in_reply_to, vec!["r1.x@rampart.shop.test"]);
        assert_eq!(
            m.thread_references(),
            vec!["r1.x@rampart.shop.test", "r0.y@rampart.shop.test"]
        );
        assert_eq!(m.return_path.as_deref(), Some("alice@researchers.test"));
        assert!(m.body.contains("reflects q"));
        assert!(!m.body_was_html);
        assert_eq!(
            m.recipients(),
            vec!["security@shop.test", "bob@researchers.test"]
        );
    }

    #[test]
    fn null_return_path_is_empty_not_missing() {
        let m = parse(b"Return-Path: <>\r\nFrom: a@b.test\r\n\r\nx").expect("parses");
        assert_eq!(m.return_path.as_deref(), Some(""));
        let m = parse(b"From: a@b.test\r\n\r\nx").expect("parses");
        assert_eq!(m.return_path, None);
    }

    #[test]
    fn html_only_mail_becomes_text_without_markup() {
        let raw = "From: a@b.test\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Hello &amp; <b>bye</b></p></body></html>";
        let m = parse(raw.as_bytes()).expect("parses");
        assert!(m.body_was_html);
        assert!(m.body.contains("Hello & bye"), "{:?}", m.body);
        assert!(!m.body.contains('<'), "{:?}", m.body);
        assert!(!m.body.contains("alert"), "{:?}", m.body);
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(b"  \r\n"), Err(ParseError::Empty));
        assert_eq!(parse(b"Subject: hi\r\n\r\nbody"), Err(ParseError::NoSender));
        assert_eq!(
            parse(b"From: not an address\r\n\r\nbody"),
            Err(ParseError::NoSender)
        );
    }

    #[test]
    fn control_characters_never_reach_the_fields() {
        let raw = "From: =?utf-8?q?Eve=00Null?= <eve@x.test>\r\nSubject: =?utf-8?q?a=00b=07c?=\r\n\r\nline\u{0}one\r\nline two\u{1b}[31m\r\n";
        let m = parse(raw.as_bytes()).expect("parses");
        assert_eq!(m.subject, "abc");
        assert_eq!(m.from.name.as_deref(), Some("EveNull"));
        assert_eq!(m.body, "lineone\nline two[31m\n");
    }

    #[test]
    fn message_ids_are_normalised() {
        assert_eq!(
            normalise_message_id(" <A.B@Host.Test> ").as_deref(),
            Some("a.b@host.test")
        );
        assert_eq!(normalise_message_id("<>"), None);
        assert_eq!(normalise_message_id("<a b@c>"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(m) = parse(&raw) {
                // Whatever comes in, what goes out can be stored.
                prop_assert!(!m.subject.chars().any(char::is_control));
                prop_assert!(!m.body.contains('\0'));
                prop_assert!(!m.from.address.contains('\0'));
            }
        }

        #[test]
        fn truncated_messages_never_panic(cut in 0usize..SIMPLE.len()) {
            let _ = parse(&SIMPLE.as_bytes()[..cut]);
        }

        #[test]
        fn mangled_headers_never_panic(
            name in "[A-Za-z-]{1,20}",
            value in "\\PC{0,200}",
            body in "\\PC{0,200}",
        ) {
            let raw = format!("From: a@b.test\r\n{name}: {value}\r\nContent-Type: multipart/mixed; boundary=\"{value}\"\r\n\r\n{body}");
            let _ = parse(raw.as_bytes());
        }
    }
}
