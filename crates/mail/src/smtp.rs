//! Sending one outbox row by SMTP (lettre over rustls with ring): implicit
//! TLS, STARTTLS (required, never silently skipped) or plain (meant for a
//! relay on the same machine), optional AUTH.

use crate::outbound::{DeliveryError, DeliveryOk, MailHeaders};
use lettre::message::header::{ContentDisposition, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rampart_store::OutboxRow;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// TLS from the first byte (submissions port 465).
    Tls,
    /// Plain, then STARTTLS; refused if the server does not offer it (587).
    #[default]
    StartTls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tls" => Some(SmtpSecurity::Tls),
            "starttls" => Some(SmtpSecurity::StartTls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// An extra CA certificate (PEM) to trust, for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Per command; a slow server is a failed try, retried later.
    pub timeout: Duration,
}

/// A pooled SMTP client.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

/// Why the SMTP settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("could not read the SMTP CA file {path}: {error}")]
    CaFile { path: String, error: String },
    #[error("the SMTP CA file {0} holds no PEM certificate")]
    BadCa(String),
    #[error("SMTP TLS settings for {host}: {error}")]
    Tls { host: String, error: String },
}

impl SmtpSender {
    pub fn new(c: &SmtpConfig) -> Result<Self, SmtpConfigError> {
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.clone())
            .port(c.port)
            .timeout(Some(c.timeout));
        if c.security != SmtpSecurity::None {
            let mut params = TlsParameters::builder(c.host.clone());
            if let Some(path) = &c.ca_file {
                let pem = std::fs::read(path).map_err(|e| SmtpConfigError::CaFile {
                    path: path.display().to_string(),
                    error: e.to_string(),
                })?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|_| SmtpConfigError::BadCa(path.display().to_string()))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| SmtpConfigError::Tls {
                host: c.host.clone(),
                error: e.to_string(),
            })?;
            b = b.tls(match c.security {
                SmtpSecurity::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(SmtpSender {
            transport: b.build(),
        })
    }

    /// Sends one email row. A permanent refusal (5xx: no such mailbox,
    /// refused content) is not retried; everything else is.
    pub async fn send(&self, row: &OutboxRow) -> Result<DeliveryOk, DeliveryError> {
        let message = build_message(row).map_err(|e| DeliveryError {
            permanent: true,
            status_code: None,
            detail: format!("the message cannot be built: {e}"),
        })?;
        match self.transport.send(message).await {
            Ok(resp) => Ok(DeliveryOk {
                status_code: Some(i64::from(u16::from(resp.code()))),
                detail: resp.message().collect::<Vec<_>>().join(" "),
            }),
            Err(e) => Err(DeliveryError {
                permanent: e.is_permanent(),
                status_code: e.status().map(|c| i64::from(u16::from(c))),
                detail: smtp_error_text(&e),
            }),
        }
    }
}

fn smtp_error_text(e: &lettre::transport::smtp::Error) -> String {
    // lettre's Display stops at the outermost layer ("Connection error");
    // the cause says what happened ("connection refused").
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(": ");
        text.push_str(&s.to_string());
        src = s.source();
    }
    text
}

/// The RFC 5322 message for an email row: headers from its `headers` JSON
/// (From, Reply-To, threading, Auto-Submitted), a plain-text body, or, for a
/// row encrypted to its recipient's key, `multipart/encrypted` (PGP/MIME).
pub fn build_message(row: &OutboxRow) -> Result<Message, String> {
    let h: MailHeaders = serde_json::from_str(&row.headers).map_err(|e| format!("headers: {e}"))?;
    let from: Mailbox = h
        .from
        .parse()
        .map_err(|e| format!("From {:?}: {e}", h.from))?;
    let to: Mailbox = row
        .target
        .parse()
        .map_err(|e| format!("recipient {:?}: {e}", row.target))?;
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(row.message_id.as_ref().map(|m| format!("<{m}>")));
    if let Some(r) = &h.reply_to {
        let r: Mailbox = r.parse().map_err(|e| format!("Reply-To {r:?}: {e}"))?;
        b = b.reply_to(r);
    }
    if let Some(root) = &h.in_reply_to {
        b = b.in_reply_to(format!("<{root}>"));
    }
    if !h.references.is_empty() {
        let refs: Vec<String> = h.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    let mut m = if h.pgp_encrypted {
        // RFC 3156 section 4: the version part, then the armoured message
        // (encrypted when queued: the row holds only ciphertext).
        let octets = ContentType::parse("application/octet-stream; name=\"encrypted.asc\"")
            .map_err(|e| e.to_string())?;
        let version = ContentType::parse("application/pgp-encrypted").map_err(|e| e.to_string())?;
        b.multipart(
            MultiPart::encrypted("application/pgp-encrypted".to_owned())
                .singlepart(
                    SinglePart::builder()
                        .header(version)
                        .body("Version: 1\r\n".to_owned()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(octets)
                        .header(ContentDisposition::inline_with_name("encrypted.asc"))
                        .body(row.body.clone()),
                ),
        )
        .map_err(|e| e.to_string())?
    } else {
        b.header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| e.to_string())?
    };
    let mut raw = |name: &'static str, value: &str| {
        m.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str(name),
            value.to_owned(),
        ));
    };
    if let Some(a) = &h.auto_submitted {
        raw("Auto-Submitted", a);
    }
    if let Some(id) = row.report_id {
        raw("X-Rampart-Report", &id.to_string());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(headers: &str) -> OutboxRow {
        OutboxRow {
            id: 1,
            channel: "email".into(),
            target: "alice@researchers.test".into(),
            subject: "[#7] XSS in search".into(),
            body: "The team replied.\n".into(),
            headers: headers.into(),
            message_id: Some("r7.abc@shop.test".into()),
            report_id: Some(7),
            user_id: Some(2),
            kind: "comment".into(),
            dedupe_key: None,
            state: "sending".into(),
            attempts: 1,
            next_attempt_at: 0,
            lease_until: None,
            last_error: String::new(),
            created_at: 0,
            queued_at: 0,
            sent_at: None,
        }
    }

    #[test]
    fn threading_headers_are_written() {
        let h = r#"{"from":"Shop security <security@shop.test>","reply_to":"security+r7-abcdefghijklmnop@shop.test",
                    "in_reply_to":"r7.root@shop.test","references":["r7.root@shop.test"],"auto_submitted":"auto-generated"}"#;
        let m = build_message(&row(h)).unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        for want in [
            "From: \"Shop security\" <security@shop.test>",
            "To: alice@researchers.test",
            "Subject: [#7] XSS in search",
            "Message-ID: <r7.abc@shop.test>",
            "In-Reply-To: <r7.root@shop.test>",
            "References: <r7.root@shop.test>",
            "Reply-To: security+r7-abcdefghijklmnop@shop.test",
            "Auto-Submitted: auto-generated",
            "X-Rampart-Report: 7",
        ] {
            assert!(text.contains(want), "{want} missing in\n{text}");
        }
    }

    #[test]
    fn an_encrypted_row_is_pgp_mime_with_the_same_threading() {
        let h = r#"{"from":"Shop security <security@shop.test>","in_reply_to":"r7.root@shop.test",
                    "references":["r7.root@shop.test"],"pgp_encrypted":true}"#;
        let mut r = row(h);
        r.subject = "[#7] Update on your report".into();
        r.body = "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n".into();
        let text = String::from_utf8(build_message(&r).unwrap().formatted()).unwrap();
        for want in [
            "Content-Type: multipart/encrypted;",
            "protocol=\"application/pgp-encrypted\"",
            "Content-Type: application/pgp-encrypted",
            "Version: 1",
            "Content-Type: application/octet-stream; name=\"encrypted.asc\"",
            "-----BEGIN PGP MESSAGE-----",
            "In-Reply-To: <r7.root@shop.test>",
            "Message-ID: <r7.abc@shop.test>",
            "Subject: [#7] Update on your report",
        ] {
            assert!(text.contains(want), "{want} missing in\n{text}");
        }
        // The version part comes before the encrypted one (RFC 3156 section 4).
        let v = text.find("application/pgp-encrypted\r\n").unwrap();
        let o = text.find("application/octet-stream").unwrap();
        assert!(v < o, "{text}");
        assert!(!text.contains("text/plain"), "{text}");
    }

    #[test]
    fn bad_rows_are_errors_not_panics() {
        assert!(build_message(&row("not json")).is_err());
        assert!(build_message(&row(r#"{"from":"not an address"}"#)).is_err());
        let mut r = row(r#"{"from":"a@b.test"}"#);
        r.target = "nobody".into();
        assert!(build_message(&r).is_err());
    }
}
