//! Refusals mailed back. Mail that is not taken (over the size limit, over
//! the per-sender rate limit, to an address no programme claims) gets a
//! polite explanation (`Outcome::Refused { bounce }`). Through an MTA's
//! pipe the MTA bounces it; mail taken over IMAP or HTTP has no MTA left to
//! do that, so an intake with [`RefusalMail`] set queues the explanation as
//! an outbox email to the sender, `In-Reply-To` the refused message.
//!
//! Never to automatic mail (auto-replies, bounces, lists: those are ignored,
//! not refused, and checked again here), never to the null sender or a
//! mailer daemon, never to our own sending address, and at most one per
//! sender per hour ([`REFUSAL_WINDOW_MS`], claimed atomically in the
//! store), so two robots answering each other can never loop.

use crate::message::IntakeMessage;
use crate::outbound::{EmailNotifier, MailHeaders, bare_address};
use rampart_core::UnixMillis;
use rampart_store::{CHANNEL_EMAIL, NewOutbox, StoreError};

/// At most one refusal per sender in this time.
pub const REFUSAL_WINDOW_MS: i64 = 3_600_000;

/// The outbox kind of a mailed refusal.
pub const REFUSAL_KIND: &str = "mail_refused";

/// Mails refusals through the email channel's outbox (its `from` address,
/// its worker's wake-up).
#[derive(Clone)]
pub struct RefusalMail {
    pub mailer: EmailNotifier,
}

impl std::fmt::Debug for RefusalMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusalMail")
            .field("from", &self.mailer.config.from)
            .finish_non_exhaustive()
    }
}

/// Why no refusal goes to this sender (`None`: one may go).
pub fn why_not(m: &IntakeMessage, envelope_sender: Option<&str>, our_from: &str) -> Option<String> {
    if let Some(j) = crate::rules::junk(m) {
        return Some(format!("automatic mail ({})", j.describe()));
    }
    let to = m.from.address.trim();
    if to.is_empty() || !to.contains('@') {
        return Some("no sender address".into());
    }
    if let Some(s) = envelope_sender {
        let s = s.trim().trim_start_matches('<').trim_end_matches('>');
        if s.is_empty() {
            return Some("the null sender".into());
        }
    }
    let local = to.split('@').next().unwrap_or("").to_ascii_lowercase();
    if matches!(
        local.as_str(),
        "mailer-daemon" | "mail-daemon" | "postmaster" | "noreply" | "no-reply" | "do-not-reply"
    ) {
        return Some(format!("{to} takes no answers"));
    }
    if to.eq_ignore_ascii_case(bare_address(our_from)) {
        return Some("mail from our own address".into());
    }
    None
}

/// One line, no control characters, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

impl RefusalMail {
    /// Queues `bounce` to the sender of `m` unless [`why_not`] or the
    /// hourly limit says no. Returns the outbox row's id when one was queued.
    pub async fn send(
        &self,
        m: &IntakeMessage,
        envelope_sender: Option<&str>,
        intake_id: i64,
        bounce: &str,
        now: UnixMillis,
    ) -> Result<Option<i64>, StoreError> {
        let from = self.mailer.config.from.clone();
        if let Some(why) = why_not(m, envelope_sender, &from) {
            tracing::info!(intake_id, why, "refusal not mailed");
            return Ok(None);
        }
        let to = m.from.address.trim().to_owned();
        let store = &self.mailer.store;
        if !store
            .claim_refusal_mail(&to, REFUSAL_WINDOW_MS, now)
            .await?
        {
            tracing::info!(
                intake_id,
                "refusal not mailed: one went to this sender within the hour"
            );
            return Ok(None);
        }
        let root = m.message_id.clone();
        let headers = MailHeaders {
            from: from.clone(),
            in_reply_to: root.clone(),
            references: root.into_iter().collect(),
            // RFC 3834: an automatic answer; the other side's robots stay quiet.
            auto_submitted: Some("auto-replied".into()),
            ..Default::default()
        };
        let subject = if m.subject.trim().is_empty() {
            "Your message was not taken".to_owned()
        } else {
            format!("Not taken: {}", one_line(&m.subject, 160))
        };
        let domain = bare_address(&from)
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d)
            .to_owned();
        let row = NewOutbox {
            channel: CHANNEL_EMAIL.into(),
            target: to,
            subject,
            body: format!("{}\n", bounce.trim_end()),
            headers: serde_json::to_string(&headers).unwrap_or_else(|_| "{}".into()),
            message_id: Some(format!(
                "x{intake_id}.{}@{domain}",
                crate::reply::random_hex(12).unwrap_or_default()
            )),
            report_id: None,
            user_id: None,
            kind: REFUSAL_KIND.into(),
            dedupe_key: Some(format!("refusal:{intake_id}")),
        };
        let id = store.enqueue_outbox(&row, now).await?;
        if id.is_some() {
            self.mailer.wake.notify_one();
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(raw: &str) -> IntakeMessage {
        crate::message::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn robots_daemons_and_the_null_sender_get_no_refusal() {
        let ours = "Rampart <security@rampart.test>";
        let human = msg("From: Alice <alice@researchers.test>\r\nSubject: hi\r\n\r\nbody\r\n");
        assert_eq!(why_not(&human, None, ours), None);
        assert_eq!(why_not(&human, Some("alice@researchers.test"), ours), None);
        assert!(
            why_not(&human, Some("<>"), ours)
                .unwrap()
                .contains("null sender")
        );
        assert!(
            why_not(&human, Some(""), ours)
                .unwrap()
                .contains("null sender")
        );
        let auto = msg(
            "From: Alice <alice@researchers.test>\r\nAuto-Submitted: auto-replied\r\nSubject: away\r\n\r\nx\r\n",
        );
        assert!(why_not(&auto, None, ours).unwrap().contains("automatic"));
        let daemon = msg("From: MAILER-DAEMON@mx.test\r\nSubject: failure\r\n\r\nx\r\n");
        assert!(why_not(&daemon, None, ours).is_some());
        let noreply = msg("From: noreply@shop.test\r\nSubject: x\r\n\r\nx\r\n");
        assert!(
            why_not(&noreply, None, ours)
                .unwrap()
                .contains("takes no answers")
        );
        let us = msg("From: Security@Rampart.test\r\nSubject: x\r\n\r\nx\r\n");
        assert!(why_not(&us, None, ours).unwrap().contains("our own"));
    }

    #[test]
    fn subjects_stay_on_one_line() {
        assert_eq!(one_line("a\r\nBcc: x\t y", 100), "a Bcc: x y");
        assert_eq!(one_line(&"x".repeat(300), 10).len(), 10);
    }
}
