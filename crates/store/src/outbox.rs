//! The durable outbox: every outgoing email, Slack message and webhook call
//! is a row here before anyone tries to send it, so an SMTP server or a
//! receiver that is down loses nothing. A worker *claims* due rows (state
//! `sending` with a lease), tries them, and marks each `sent`, `failed`
//! (retried later) or `dead` (given up; admins see it and can retry).
//!
//! Claims are atomic: one `UPDATE … RETURNING` moves rows from due to
//! `sending` (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so concurrent
//! workers take different rows instead of waiting on each other), and the
//! outcome is written only by the claim that holds the row (its attempt
//! number is the lease token). A worker that dies mid-send leaves its rows
//! `sending` until the lease runs out; the next worker sends them again. So
//! a crash between the server's acceptance and the `sent` mark can send a
//! message twice (once per crash, never more); nothing is ever lost.
//!
//! Team members' email preferences (immediate, daily digest, none) and the
//! digest's collected items live here too.

use crate::{Result, Store, StoreError};
use rampart_core::UnixMillis;

/// Rows by channel.
pub const CHANNEL_EMAIL: &str = "email";
pub const CHANNEL_WEBHOOK: &str = "webhook";
pub const CHANNEL_SLACK: &str = "slack";

/// Something to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewOutbox {
    /// [`CHANNEL_EMAIL`], [`CHANNEL_WEBHOOK`] or [`CHANNEL_SLACK`].
    pub channel: String,
    /// Email: the recipient address. Webhook/Slack: the endpoint's name.
    pub target: String,
    /// Email: the subject. Webhook/Slack: the event name.
    pub subject: String,
    /// Email: the plain-text body. Webhook/Slack: the JSON sent.
    pub body: String,
    /// A JSON object of extra headers (empty: none).
    pub headers: String,
    pub message_id: Option<String>,
    pub report_id: Option<i64>,
    pub user_id: Option<i64>,
    /// A notice kind or webhook event.
    pub kind: String,
    /// When set, a second row with the same key is not queued.
    pub dedupe_key: Option<String>,
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub headers: String,
    pub message_id: Option<String>,
    pub report_id: Option<i64>,
    pub user_id: Option<i64>,
    pub kind: String,
    pub dedupe_key: Option<String>,
    /// `queued`, `sending`, `sent`, `failed` (will be retried) or `dead`.
    pub state: String,
    /// Tries so far, this one included while `sending`.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: String,
    pub created_at: i64,
    pub queued_at: i64,
    pub sent_at: Option<i64>,
}

/// One try of one row, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxAttempt {
    pub id: i64,
    pub outbox_id: i64,
    pub at: i64,
    pub duration_ms: i64,
    pub ok: bool,
    /// HTTP status or SMTP reply code; `None` when no answer came.
    pub status_code: Option<i64>,
    /// The answer's first 500 characters, or the error.
    pub detail: String,
}

/// What a try found, to be logged with the outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptLog {
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub detail: String,
}

/// A count of rows in one channel and state (the admin queue summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxCount {
    pub channel: String,
    pub state: String,
    pub count: i64,
}

/// One item waiting for a daily digest.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestItem {
    pub id: i64,
    pub user_id: i64,
    pub report_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub at: i64,
}

/// How a team member wants email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailPreference {
    #[default]
    Immediate,
    Daily,
    None,
}

impl EmailPreference {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailPreference::Immediate => "immediate",
            EmailPreference::Daily => "daily",
            EmailPreference::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "immediate" => Some(EmailPreference::Immediate),
            "daily" => Some(EmailPreference::Daily),
            "none" => Some(EmailPreference::None),
            _ => None,
        }
    }
}

/// `outbox_attempts` as read: id, row, at, duration, ok, code, detail.
type AttemptRow = (i64, i64, i64, i64, i64, Option<i64>, String);

const DETAIL_MAX: usize = 500;

fn clip(s: &str) -> String {
    if s.chars().count() <= DETAIL_MAX {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(DETAIL_MAX).collect();
        t.push('…');
        t
    }
}

const COLUMNS: &str = "id, channel, target, subject, body, headers, message_id, report_id, user_id, \
     kind, dedupe_key, state, attempts, next_attempt_at, lease_until, last_error, created_at, \
     queued_at, sent_at";

/// Rows a worker may take: due ones, and ones whose claim ran out.
const DUE: &str = "((state IN ('queued', 'failed') AND next_attempt_at <= $2) \
     OR (state = 'sending' AND lease_until < $2))";

impl Store {
    /// Queues something to send. `None` when a row with the same
    /// `dedupe_key` exists already (nothing is queued twice).
    pub async fn enqueue_outbox(&self, n: &NewOutbox, now: UnixMillis) -> Result<Option<i64>> {
        if !matches!(
            n.channel.as_str(),
            CHANNEL_EMAIL | CHANNEL_WEBHOOK | CHANNEL_SLACK
        ) {
            return Err(StoreError::Conflict(format!(
                "unknown outbox channel {:?}: use email, webhook or slack",
                n.channel
            )));
        }
        let _g = self.bookkeeping_guard().await;
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO outbox (channel, target, subject, body, headers, message_id, report_id, \
             user_id, kind, dedupe_key, state, attempts, next_attempt_at, created_at, queued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', 0, $11, $11, $11) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(n.channel.clone())
        .bind(n.target.clone())
        .bind(n.subject.clone())
        .bind(n.body.clone())
        .bind(if n.headers.is_empty() {
            "{}".to_owned()
        } else {
            n.headers.clone()
        })
        .bind(n.message_id.clone())
        .bind(n.report_id)
        .bind(n.user_id)
        .bind(n.kind.clone())
        .bind(n.dedupe_key.clone())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Claims up to `limit` due rows for `lease_ms`: they become `sending`
    /// with one more attempt, and no other claim gets them until the lease
    /// runs out. Oldest due first.
    pub async fn claim_outbox(
        &self,
        now: UnixMillis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let _g = self.bookkeeping_guard().await;
        let pick =
            format!("SELECT id FROM outbox WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $3");
        // On PostgreSQL the pick is an ARRAY(…) so it runs exactly once: a
        // plain `IN (… LIMIT n FOR UPDATE SKIP LOCKED)` may be re-run by the
        // planner and take more than n rows. The outer condition repeats the
        // inner one: a row another claim changed meanwhile is re-checked.
        let ids = match self.backend() {
            crate::Backend::Postgres => format!("id = ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED))"),
            crate::Backend::Sqlite => format!("id IN ({pick})"),
        };
        let sql = format!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = $1 \
             WHERE {ids} AND {DUE} RETURNING {COLUMNS}"
        );
        let mut rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    async fn log_attempt(
        &self,
        outbox_id: i64,
        ok: bool,
        log: &AttemptLog,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox_attempts (outbox_id, at, duration_ms, ok, status_code, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(outbox_id)
        .bind(now)
        .bind(log.duration_ms)
        .bind(i64::from(ok))
        .bind(log.status_code)
        .bind(clip(&log.detail))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a claimed row sent. `false` when the claim was no longer held
    /// (its lease ran out and another worker took it): the caller's result
    /// is logged but changes nothing.
    pub async fn mark_outbox_sent(
        &self,
        row: &OutboxRow,
        log: &AttemptLog,
        now: UnixMillis,
    ) -> Result<bool> {
        let _g = self.bookkeeping_guard().await;
        self.log_attempt(row.id, true, log, now).await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = '' \
             WHERE id = $2 AND state = 'sending' AND attempts = $3",
        )
        .bind(now)
        .bind(row.id)
        .bind(row.attempts)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a claimed row failed: retried at `retry_at`, or `dead` when
    /// `retry_at` is `None` (given up). `false` when the claim was lost.
    pub async fn mark_outbox_failed(
        &self,
        row: &OutboxRow,
        error: &str,
        retry_at: Option<UnixMillis>,
        log: &AttemptLog,
        now: UnixMillis,
    ) -> Result<bool> {
        let _g = self.bookkeeping_guard().await;
        self.log_attempt(row.id, false, log, now).await?;
        let (state, next) = match retry_at {
            Some(t) => ("failed", t),
            None => ("dead", row.next_attempt_at),
        };
        let done = sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, lease_until = NULL, \
             last_error = $3 WHERE id = $4 AND state = 'sending' AND attempts = $5",
        )
        .bind(state)
        .bind(next)
        .bind(clip(error))
        .bind(row.id)
        .bind(row.attempts)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An admin's retry: a failed or dead row is due now, with a new round
    /// of tries. Rows sent or being sent are left alone (`NotFound`).
    pub async fn retry_outbox(&self, id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.bookkeeping_guard().await;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at = $1, queued_at = $1 \
             WHERE id = $2 AND state IN ('failed', 'dead')",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn outbox_row(&self, id: i64) -> Result<OutboxRow> {
        let row: Option<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    /// Rows, newest first, optionally only in one state.
    pub async fn list_outbox(&self, state: Option<&str>, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows: Vec<OutboxRow> = match state {
            Some(s) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = $1 ORDER BY id DESC LIMIT $2"
                )))
                .bind(s.to_owned())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// Every row about a report sent (or to be sent) to one email
    /// recipient, oldest first.
    pub async fn outbox_for_report(&self, report_id: i64) -> Result<Vec<OutboxRow>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE report_id = $1 ORDER BY id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Rows per channel and state.
    pub async fn outbox_counts(&self) -> Result<Vec<OutboxCount>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state \
             ORDER BY channel, state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(channel, state, count)| OutboxCount {
                channel,
                state,
                count,
            })
            .collect())
    }

    /// A row's tries, oldest first.
    pub async fn outbox_attempts(&self, outbox_id: i64) -> Result<Vec<OutboxAttempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT id, outbox_id, at, duration_ms, ok, status_code, detail FROM outbox_attempts \
             WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(outbox_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, outbox_id, at, duration_ms, ok, status_code, detail)| OutboxAttempt {
                    id,
                    outbox_id,
                    at,
                    duration_ms,
                    ok: ok != 0,
                    status_code,
                    detail,
                },
            )
            .collect())
    }

    /// The Message-ID of the first email queued about `report_id` to
    /// `recipient`: later mail to them names it in In-Reply-To and
    /// References, so their mail client shows one conversation per report.
    pub async fn first_thread_message_id(
        &self,
        report_id: i64,
        recipient: &str,
    ) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT message_id FROM outbox WHERE report_id = $1 AND target = $2 \
             AND channel = 'email' AND message_id IS NOT NULL ORDER BY id LIMIT 1",
        )
        .bind(report_id)
        .bind(recipient.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(m,)| m))
    }

    /// A user's email preference (immediate unless they chose otherwise).
    pub async fn email_preference(&self, user_id: i64) -> Result<EmailPreference> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT email FROM notification_prefs WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Ok(EmailPreference::Immediate),
            Some((s,)) => EmailPreference::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("email preference {s:?}"))),
        }
    }

    pub async fn set_email_preference(
        &self,
        user_id: i64,
        pref: EmailPreference,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.bookkeeping_guard().await;
        sqlx::query(
            "INSERT INTO notification_prefs (user_id, email, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(pref.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_insert(e, "no such user"))?;
        Ok(())
    }

    /// Keeps a notice for the user's next daily digest.
    pub async fn add_digest_item(
        &self,
        user_id: i64,
        report_id: Option<i64>,
        kind: &str,
        message: &str,
        at: UnixMillis,
    ) -> Result<()> {
        let _g = self.bookkeeping_guard().await;
        sqlx::query(
            "INSERT INTO notification_digest (user_id, report_id, kind, message, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(report_id)
        .bind(kind.to_owned())
        .bind(message.to_owned())
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Users with digest items waiting, and their items, oldest first.
    pub async fn pending_digests(&self) -> Result<Vec<(i64, Vec<DigestItem>)>> {
        let items: Vec<DigestItem> = sqlx::query_as(
            "SELECT id, user_id, report_id, kind, message, at FROM notification_digest \
             ORDER BY user_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(i64, Vec<DigestItem>)> = Vec::new();
        for it in items {
            match out.last_mut() {
                Some((u, v)) if *u == it.user_id => v.push(it),
                _ => out.push((it.user_id, vec![it])),
            }
        }
        Ok(out)
    }

    /// Queues a user's digest email and removes the items it covers (up to
    /// `last_item_id`) in one transaction: an item is in exactly one digest.
    pub async fn enqueue_digest(
        &self,
        user_id: i64,
        last_item_id: i64,
        mail: &NewOutbox,
        now: UnixMillis,
    ) -> Result<i64> {
        let _g = self.bookkeeping_guard().await;
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO outbox (channel, target, subject, body, headers, message_id, report_id, \
             user_id, kind, dedupe_key, state, attempts, next_attempt_at, created_at, queued_at) \
             VALUES ('email', $1, $2, $3, $4, $5, NULL, $6, 'digest', NULL, 'queued', 0, $7, $7, $7) \
             RETURNING id",
        )
        .bind(mail.target.clone())
        .bind(mail.subject.clone())
        .bind(mail.body.clone())
        .bind(if mail.headers.is_empty() {
            "{}".to_owned()
        } else {
            mail.headers.clone()
        })
        .bind(mail.message_id.clone())
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM notification_digest WHERE user_id = $1 AND id <= $2")
            .bind(user_id)
            .bind(last_item_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}

impl Store {
    /// Forgets sent rows (and their delivery log) older than `before`;
    /// failed and dead ones stay for admins. Returns how many went.
    pub async fn purge_sent_outbox(&self, before: UnixMillis) -> Result<u64> {
        let _g = self.bookkeeping_guard().await;
        let done = sqlx::query("DELETE FROM outbox WHERE state = 'sent' AND sent_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Claims the announcement of a report's breach of a response target:
    /// `true` the first time only, so the team hears of it once.
    pub async fn claim_breach_notice(
        &self,
        report_id: i64,
        target: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        let _g = self.bookkeeping_guard().await;
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO breach_notices (report_id, target, notified_at) VALUES ($1, $2, $3) \
             ON CONFLICT (report_id, target) DO NOTHING RETURNING report_id",
        )
        .bind(report_id)
        .bind(target.to_owned())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
