//! The security@ mailbox's records: each message taken in (claimed once per
//! Message-ID, so a message delivered twice is applied once), the
//! Message-IDs Rampart sent for a report (replies to them thread), and
//! server secrets generated on first use (the reply-address key).
//!
//! A claim is made *before* the message is applied and finished after; a
//! failed apply releases it, so a redelivery by the MTA is taken again
//! instead of being lost as a "duplicate".

use crate::{Result, Store, StoreError};
use rampart_core::UnixMillis;

/// One message taken in, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailIntake {
    pub id: i64,
    pub message_id: String,
    pub received_at: i64,
    /// `processing` while being applied; then `new_report`, `comment`,
    /// `ignored` (auto-reply, bounce, list) or `refused` (size, no sender…).
    pub outcome: String,
    pub sender: String,
    pub subject: String,
    pub size: i64,
    pub report_id: Option<i64>,
    pub event_id: Option<i64>,
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// Comma-separated flags, e.g. `auth_failed`.
    pub flags: String,
    /// Why, in a sentence (the rule that decided).
    pub detail: String,
}

/// What became of a claimed message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailOutcomeRecord {
    pub outcome: String,
    pub sender: String,
    pub subject: String,
    pub size: i64,
    pub report_id: Option<i64>,
    pub event_id: Option<i64>,
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    pub flags: Vec<String>,
    pub detail: String,
}

/// How long a claim may stay `processing` before a redelivery takes it
/// over (an intake takes well under a second; ten minutes is a dead one).
pub const STALE_CLAIM_MS: i64 = 10 * 60 * 1000;

const SELECT_INTAKE: &str = "SELECT id, message_id, received_at, outcome, sender, subject, size, \
     report_id, event_id, spf, dkim, dmarc, flags, detail FROM mail_intake";

impl Store {
    /// Claims a Message-ID for intake. `None` when it was taken before (a
    /// duplicate delivery): the caller must not apply the message again.
    /// A claim left `processing` for longer than [`STALE_CLAIM_MS`] (the
    /// process died half-way) is taken over, so a crash never turns the
    /// MTA's redelivery into a "duplicate" that is silently dropped.
    pub async fn claim_mail(&self, message_id: &str, now: UnixMillis) -> Result<Option<i64>> {
        let _g = self.write_guard().await;
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO mail_intake (message_id, received_at, outcome) VALUES ($1, $2, 'processing') \
             ON CONFLICT (message_id) DO NOTHING RETURNING id",
        )
        .bind(message_id.to_owned())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((id,)) = row {
            return Ok(Some(id));
        }
        let stale: Option<(i64,)> = sqlx::query_as(
            "UPDATE mail_intake SET received_at = $1 WHERE message_id = $2 \
             AND outcome = 'processing' AND received_at < $3 RETURNING id",
        )
        .bind(now)
        .bind(message_id.to_owned())
        .bind(now - STALE_CLAIM_MS)
        .fetch_optional(&self.pool)
        .await?;
        Ok(stale.map(|(id,)| id))
    }

    /// Records what became of a claimed message.
    pub async fn finish_mail(&self, intake_id: i64, r: &MailOutcomeRecord) -> Result<()> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE mail_intake SET outcome = $1, sender = $2, subject = $3, size = $4, \
             report_id = $5, event_id = $6, spf = $7, dkim = $8, dmarc = $9, flags = $10, \
             detail = $11 WHERE id = $12",
        )
        .bind(r.outcome.clone())
        .bind(r.sender.clone())
        .bind(r.subject.clone())
        .bind(r.size)
        .bind(r.report_id)
        .bind(r.event_id)
        .bind(r.spf.clone())
        .bind(r.dkim.clone())
        .bind(r.dmarc.clone())
        .bind(r.flags.join(","))
        .bind(r.detail.clone())
        .bind(intake_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Gives a claim back after a failed apply, so a redelivery is taken.
    pub async fn release_mail(&self, intake_id: i64) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("DELETE FROM mail_intake WHERE id = $1 AND outcome = 'processing'")
            .bind(intake_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mail_intake(&self, intake_id: i64) -> Result<MailIntake> {
        let row: Option<MailIntake> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INTAKE} WHERE id = $1"
        )))
        .bind(intake_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    pub async fn mail_intake_by_message_id(&self, message_id: &str) -> Result<MailIntake> {
        let row: Option<MailIntake> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INTAKE} WHERE message_id = $1"
        )))
        .bind(message_id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    /// The messages that went into a report (its sender checks), oldest first.
    pub async fn report_mail_intake(&self, report_id: i64) -> Result<Vec<MailIntake>> {
        let rows: Vec<MailIntake> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INTAKE} WHERE report_id = $1 ORDER BY id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Every message taken in, newest first (at most `limit`).
    pub async fn recent_mail_intake(&self, limit: i64) -> Result<Vec<MailIntake>> {
        let rows: Vec<MailIntake> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INTAKE} ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// How many new reports mail from `sender` made since `since` (the
    /// per-sender rate limit of mail intake).
    pub async fn mail_reports_from_since(&self, sender: &str, since: UnixMillis) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM mail_intake WHERE sender = $1 AND outcome = 'new_report' \
             AND received_at >= $2",
        )
        .bind(sender.to_owned())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// An internal note by Rampart itself (no author) in a report's thread:
    /// how a mail arrived and what its sender checks said, for the team
    /// only. It starts no clock and changes no state.
    pub async fn add_mail_note(&self, report_id: i64, body: &str, now: UnixMillis) -> Result<i64> {
        let _g = self.write_guard().await;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO report_events (report_id, author_id, kind, body, internal, detail, created_at) \
             VALUES ($1, NULL, 'note', $2, 1, 'mail intake', $3) RETURNING id",
        )
        .bind(report_id)
        .bind(body.to_owned())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Remembers a Message-ID Rampart sent about a report (idempotent).
    pub async fn record_sent_message(
        &self,
        message_id: &str,
        report_id: i64,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO mail_sent (message_id, report_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id.to_owned())
        .bind(report_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The report of the first of `message_ids` that Rampart sent, if any.
    pub async fn report_for_sent_messages(&self, message_ids: &[String]) -> Result<Option<i64>> {
        for id in message_ids {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT report_id FROM mail_sent WHERE message_id = $1")
                    .bind(id.clone())
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some((report_id,)) = row {
                return Ok(Some(report_id));
            }
        }
        Ok(None)
    }

    /// The secret called `name`, created with `generate` the first time.
    /// Concurrent first calls agree: the first insert wins and everyone
    /// reads it back.
    pub async fn mail_secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> String + Send,
        now: UnixMillis,
    ) -> Result<String> {
        if let Some((v,)) =
            sqlx::query_as::<_, (String,)>("SELECT value FROM mail_secrets WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.pool)
                .await?
        {
            return Ok(v);
        }
        {
            let _g = self.write_guard().await;
            sqlx::query(
                "INSERT INTO mail_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name.to_owned())
            .bind(generate())
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        let (v,): (String,) = sqlx::query_as("SELECT value FROM mail_secrets WHERE name = $1")
            .bind(name.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(v)
    }
}
