//! The delivery worker: claims due outbox rows, sends each by its channel
//! (SMTP, webhook, Slack), logs the try and marks the row sent, failed
//! (retried with backoff) or dead. It also queues the daily digests and
//! announces response-target breaches. `rampart serve` runs one; several
//! (on one PostgreSQL database) never send the same row at once.

use crate::outbound::{DeliveryError, DeliveryOk, EmailNotifier, RetryPolicy, jitter};
use crate::smtp::SmtpSender;
use crate::webhooks::{EVENT_TARGET_BREACHED, Endpoint, HttpSender, WebhookNotifier};
use rampart_core::UnixMillis;
use rampart_programme::clock::{ClockState, clocks};
use rampart_store::{
    AttemptLog, CHANNEL_EMAIL, CHANNEL_SLACK, CHANNEL_WEBHOOK, OutboxRow, ReportFilter, Store,
    StoreError,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a claim is held. Longer than any single try (SMTP and HTTP
/// time out well before), so a slow but living worker keeps its rows.
pub const LEASE_MS: i64 = 5 * 60_000;

/// How long sent rows stay in the outbox (and its delivery log).
pub const SENT_KEPT_MS: i64 = 30 * 86_400_000;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

/// What became of one try.
enum Outcome {
    Sent,
    Failed,
    Dead,
    /// The claim ran out meanwhile; another worker owns the row now.
    Lost,
}

/// The worker.
pub struct DeliveryWorker {
    pub store: Store,
    /// `None`: email rows wait (no SMTP server configured).
    pub smtp: Option<SmtpSender>,
    pub http: HttpSender,
    pub endpoints: HashMap<String, Endpoint>,
    pub policy: RetryPolicy,
    pub batch: i64,
    /// Rows of a batch tried at the same time.
    pub concurrency: usize,
    /// Woken by the notifiers when they queue something.
    pub wake: Arc<tokio::sync::Notify>,
    /// For digests and breach mail; `None` without email.
    pub email: Option<EmailNotifier>,
    pub webhooks: Option<WebhookNotifier>,
}

fn now_ms() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl DeliveryWorker {
    pub fn new(store: Store) -> Self {
        DeliveryWorker {
            store,
            smtp: None,
            http: HttpSender::default(),
            endpoints: HashMap::new(),
            policy: RetryPolicy::default(),
            batch: 32,
            concurrency: 8,
            wake: Arc::default(),
            email: None,
            webhooks: None,
        }
    }

    async fn try_row(&self, row: &OutboxRow, now: UnixMillis) -> Result<DeliveryOk, DeliveryError> {
        match row.channel.as_str() {
            CHANNEL_EMAIL => match &self.smtp {
                Some(s) => s.send(row).await,
                None => Err(DeliveryError {
                    permanent: false,
                    status_code: None,
                    detail:
                        "no SMTP server is configured ([smtp] host in the settings); the mail waits"
                            .into(),
                }),
            },
            CHANNEL_WEBHOOK | CHANNEL_SLACK => match self.endpoints.get(&row.target) {
                Some(ep) => self.http.send(row, ep, now).await,
                None => Err(DeliveryError {
                    permanent: true,
                    status_code: None,
                    detail: format!(
                        "no webhook named {:?} in the settings any more; add it back and retry",
                        row.target
                    ),
                }),
            },
            other => Err(DeliveryError {
                permanent: true,
                status_code: None,
                detail: format!("unknown channel {other:?}"),
            }),
        }
    }

    /// Claims and tries every due row once (in batches). `now` is read
    /// from `clock` so tests can move time.
    pub async fn run_once_at(
        &self,
        clock: &(dyn Fn() -> UnixMillis + Send + Sync),
    ) -> Result<Round, StoreError> {
        let mut round = Round::default();
        loop {
            let rows = self
                .store
                .claim_outbox(clock(), LEASE_MS, self.batch)
                .await?;
            if rows.is_empty() {
                return Ok(round);
            }
            // Rows of a batch go out side by side over the SMTP pool and
            // HTTP: one try waits mostly on the network (lettre's writes
            // meet TCP's delayed ACK, about 40 ms a message on loopback).
            let mut outcomes: Vec<Result<Outcome, StoreError>> = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(self.concurrency.max(1)) {
                // Built before awaiting, so the spawned run stays `Send`.
                let tries: Vec<_> = chunk.iter().map(|row| self.process(row, clock)).collect();
                outcomes.extend(futures_util::future::join_all(tries).await);
            }
            for o in outcomes {
                match o? {
                    Outcome::Sent => round.sent += 1,
                    Outcome::Failed => round.failed += 1,
                    Outcome::Dead => round.dead += 1,
                    Outcome::Lost => {}
                }
            }
        }
    }

    /// Tries one claimed row and records what happened.
    async fn process(
        &self,
        row: &OutboxRow,
        clock: &(dyn Fn() -> UnixMillis + Send + Sync),
    ) -> Result<Outcome, StoreError> {
        let started = Instant::now();
        let result = self.try_row(row, clock()).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let now = clock();
        match result {
            Ok(ok) => {
                let log = AttemptLog {
                    duration_ms,
                    status_code: ok.status_code,
                    detail: ok.detail,
                };
                Ok(if self.store.mark_outbox_sent(row, &log, now).await? {
                    Outcome::Sent
                } else {
                    Outcome::Lost
                })
            }
            Err(e) => {
                let retry = if e.permanent {
                    None
                } else {
                    self.policy
                        .next_attempt(row.attempts, row.queued_at, now, jitter())
                };
                let log = AttemptLog {
                    duration_ms,
                    status_code: e.status_code,
                    detail: e.detail.clone(),
                };
                tracing::warn!(
                    outbox = row.id,
                    channel = %row.channel,
                    attempts = row.attempts,
                    error = %e.detail,
                    given_up = retry.is_none(),
                    "Delivery failed"
                );
                if !self
                    .store
                    .mark_outbox_failed(row, &e.detail, retry, &log, now)
                    .await?
                {
                    return Ok(Outcome::Lost);
                }
                Ok(if retry.is_some() {
                    Outcome::Failed
                } else {
                    Outcome::Dead
                })
            }
        }
    }

    pub async fn run_once(&self) -> Result<Round, StoreError> {
        self.run_once_at(&now_ms).await
    }

    /// Announces each open report's newly breached response targets: mail
    /// to the team and the `response_target.breached` webhook event, once
    /// per report and target.
    pub async fn announce_breaches(&self, now: UnixMillis) -> Result<usize, StoreError> {
        if self.email.is_none() && self.webhooks.is_none() {
            return Ok(0);
        }
        let mut announced = 0;
        for p in self.store.list_programmes(false).await? {
            let open = self
                .store
                .list_reports(&ReportFilter {
                    programme_id: Some(p.id),
                    open_only: true,
                    ..Default::default()
                })
                .await?;
            for r in open {
                for c in clocks(&r, &p.targets, now) {
                    if !matches!(c.state, ClockState::Breached { .. }) {
                        continue;
                    }
                    let target = c.target.label();
                    if !self.store.claim_breach_notice(r.id, target, now).await? {
                        continue;
                    }
                    announced += 1;
                    if let Some(m) = &self.email {
                        m.queue_breach(&r, &p, target, now).await?;
                    }
                    if let Some(w) = &self.webhooks {
                        let message = format!(
                            "Report #{} breached its {} target",
                            r.id,
                            target.to_lowercase()
                        );
                        w.queue_event(EVENT_TARGET_BREACHED, &r, &p, &message, target, now)
                            .await?;
                    }
                }
            }
        }
        Ok(announced)
    }

    /// Runs until the process ends: sends as soon as something is queued
    /// (or every few seconds for retries), checks breaches every minute and
    /// queues digests once a day.
    pub async fn run(self) {
        let mut last_breach_check = 0;
        let mut last_digest = now_ms();
        loop {
            match self.run_once().await {
                Ok(r) if r.sent + r.failed + r.dead > 0 => {
                    tracing::info!(
                        sent = r.sent,
                        failed = r.failed,
                        dead = r.dead,
                        "Outbox round"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Outbox round failed; trying again shortly"),
            }
            let now = now_ms();
            if now - last_breach_check >= 60_000 {
                last_breach_check = now;
                if let Err(e) = self.announce_breaches(now).await {
                    tracing::warn!(error = %e, "Could not check response-target breaches");
                }
            }
            if now - last_digest >= 86_400_000 {
                last_digest = now;
                // Sent rows are kept a month for the admin's delivery log.
                if let Err(e) = self.store.purge_sent_outbox(now - SENT_KEPT_MS).await {
                    tracing::warn!(error = %e, "Could not purge old outbox rows");
                }
                if let Some(m) = &self.email {
                    match m.queue_digests(now).await {
                        Ok(n) if n > 0 => tracing::info!(digests = n, "Queued daily digests"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "Could not queue digests"),
                    }
                }
            }
            // Retries come due on their own; five seconds is their latency.
            let _ = tokio::time::timeout(Duration::from_secs(5), self.wake.notified()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send + 'static>(_: &T) {}

    #[tokio::test]
    async fn the_worker_can_be_spawned() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::connect(&Store::sqlite_url_for(dir.path()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // `rampart serve` spawns it: its future must be Send.
        let run = DeliveryWorker::new(store).run();
        assert_send(&run);
    }
}
