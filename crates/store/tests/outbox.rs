#![allow(clippy::unwrap_used)]
//! The durable outbox on every backend: queueing (once per dedupe key),
//! atomic claims (concurrent workers never share a row), leases that run
//! out, outcomes written only by the claim holding the row, retries, dead
//! rows, the delivery log, threading look-ups, preferences and digests.

use rampart_core::Role;
use rampart_store::{
    AttemptLog, EmailPreference, NewOutbox, OutboxRow, Store, StoreError, testkit,
};
use std::collections::HashSet;

const T0: i64 = 1_800_000_000_000;
const LEASE: i64 = 300_000;

fn mail(to: &str, subject: &str) -> NewOutbox {
    NewOutbox {
        channel: "email".into(),
        target: to.into(),
        subject: subject.into(),
        body: "hello".into(),
        kind: "comment".into(),
        ..Default::default()
    }
}

fn log(detail: &str) -> AttemptLog {
    AttemptLog {
        duration_ms: 12,
        status_code: Some(250),
        detail: detail.into(),
    }
}

async fn claim_all(s: &Store, now: i64) -> Vec<OutboxRow> {
    s.claim_outbox(now, LEASE, 100).await.unwrap()
}

#[tokio::test]
async fn queued_rows_are_claimed_once_and_marked_sent() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let a = s
            .enqueue_outbox(&mail("a@x.test", "one"), T0)
            .await
            .unwrap();
        let b = s
            .enqueue_outbox(&mail("b@x.test", "two"), T0 + 1)
            .await
            .unwrap();
        assert!(a.is_some() && b.is_some(), "{}", ts.label);

        // A claim takes no more than asked for.
        let one = s.claim_outbox(T0 + 10, LEASE, 1).await.unwrap();
        assert_eq!(one.len(), 1, "{}", ts.label);
        assert!(
            s.mark_outbox_failed(&one[0], "x", Some(T0), &log("x"), T0 + 10)
                .await
                .unwrap()
        );
        // Not due before it was queued.
        assert!(claim_all(s, T0 - 1).await.is_empty(), "{}", ts.label);
        let got = claim_all(s, T0 + 10).await;
        assert_eq!(
            got.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(),
            ["one", "two"],
            "{}",
            ts.label
        );
        assert!(got.iter().all(|r| r.state == "sending"));
        assert_eq!(
            got.iter().map(|r| r.attempts).collect::<Vec<_>>(),
            [2, 1],
            "{}: the first was tried once before",
            ts.label
        );
        // A second claim finds nothing: both are held.
        assert!(claim_all(s, T0 + 20).await.is_empty(), "{}", ts.label);

        assert!(
            s.mark_outbox_sent(&got[0], &log("250 ok"), T0 + 30)
                .await
                .unwrap()
        );
        let row = s.outbox_row(got[0].id).await.unwrap();
        assert_eq!(row.state, "sent");
        assert_eq!(row.sent_at, Some(T0 + 30));
        let attempts = s.outbox_attempts(got[0].id).await.unwrap();
        assert_eq!(attempts.len(), 2);
        assert!(!attempts[0].ok && attempts[1].ok);
        assert_eq!(attempts[1].status_code, Some(250));
        assert_eq!(attempts[1].detail, "250 ok");
        // Old sent rows can be purged; unsent ones never are.
        assert_eq!(
            s.purge_sent_outbox(T0 + 30).await.unwrap(),
            0,
            "{}",
            ts.label
        );
        // Sent rows are never claimed again, even long after.
        let later = claim_all(s, T0 + 10 * LEASE).await;
        assert_eq!(later.len(), 1, "{}: only the unfinished row", ts.label);
        assert_eq!(later[0].id, got[1].id);
        assert_eq!(
            s.purge_sent_outbox(T0 + 31).await.unwrap(),
            1,
            "{}",
            ts.label
        );
        assert!(
            s.outbox_attempts(got[0].id).await.unwrap().is_empty(),
            "log goes too"
        );
        assert_eq!(
            s.list_outbox(None, 10).await.unwrap().len(),
            1,
            "{}",
            ts.label
        );
    }
}

#[tokio::test]
async fn a_dedupe_key_queues_once() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let mut n = mail("hook", "report.new");
        n.channel = "webhook".into();
        n.dedupe_key = Some("hook:report.new:7".into());
        assert!(s.enqueue_outbox(&n, T0).await.unwrap().is_some());
        assert_eq!(
            s.enqueue_outbox(&n, T0 + 1).await.unwrap(),
            None,
            "{}",
            ts.label
        );
        let mut bad = mail("x", "y");
        bad.channel = "pigeon".into();
        assert!(matches!(
            s.enqueue_outbox(&bad, T0).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.list_outbox(None, 10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn concurrent_workers_never_take_the_same_row() {
    for ts in testkit::all().await {
        let s = ts.store.clone();
        for i in 0..60 {
            s.enqueue_outbox(&mail("a@x.test", &format!("m{i}")), T0)
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s.claim_outbox(T0 + 1, LEASE, 4).await.unwrap();
                    if got.is_empty() {
                        break;
                    }
                    mine.extend(got.into_iter().map(|r| r.id));
                }
                mine
            }));
        }
        let mut seen = HashSet::new();
        let mut total = 0;
        for t in tasks {
            for id in t.await.unwrap() {
                total += 1;
                assert!(seen.insert(id), "{}: row {id} claimed twice", ts.label);
            }
        }
        assert_eq!(total, 60, "{}", ts.label);
    }
}

#[tokio::test]
async fn failures_back_off_then_die_and_an_admin_retries() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let id = s
            .enqueue_outbox(&mail("a@x.test", "s"), T0)
            .await
            .unwrap()
            .unwrap();
        let r = claim_all(s, T0).await.remove(0);
        assert!(
            s.mark_outbox_failed(
                &r,
                "connection refused",
                Some(T0 + 30_000),
                &log("refused"),
                T0
            )
            .await
            .unwrap()
        );
        let row = s.outbox_row(id).await.unwrap();
        assert_eq!(
            (row.state.as_str(), row.next_attempt_at),
            ("failed", T0 + 30_000)
        );
        assert_eq!(row.last_error, "connection refused");
        assert!(claim_all(s, T0 + 29_999).await.is_empty(), "{}", ts.label);
        let r = claim_all(s, T0 + 30_000).await.remove(0);
        assert_eq!(r.attempts, 2);
        assert!(
            s.mark_outbox_failed(&r, "gave up", None, &log("550"), T0 + 30_001)
                .await
                .unwrap()
        );
        assert_eq!(s.outbox_row(id).await.unwrap().state, "dead");
        assert!(
            claim_all(s, T0 + 100 * LEASE).await.is_empty(),
            "{}",
            ts.label
        );
        assert_eq!(s.outbox_attempts(id).await.unwrap().len(), 2);
        let counts = s.outbox_counts().await.unwrap();
        assert_eq!(counts.len(), 1);
        assert_eq!(
            (
                counts[0].channel.as_str(),
                counts[0].state.as_str(),
                counts[0].count
            ),
            ("email", "dead", 1)
        );
        assert_eq!(s.list_outbox(Some("dead"), 10).await.unwrap().len(), 1);

        s.retry_outbox(id, T0 + 200_000).await.unwrap();
        let row = s.outbox_row(id).await.unwrap();
        assert_eq!(
            (row.state.as_str(), row.queued_at),
            ("queued", T0 + 200_000)
        );
        let r = claim_all(s, T0 + 200_000).await.remove(0);
        assert!(matches!(
            s.retry_outbox(id, T0).await,
            Err(StoreError::NotFound)
        ));
        s.mark_outbox_sent(&r, &log("ok"), T0 + 200_001)
            .await
            .unwrap();
        assert!(matches!(
            s.retry_outbox(id, T0).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_claim_writes_nothing() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let id = s
            .enqueue_outbox(&mail("a@x.test", "s"), T0)
            .await
            .unwrap()
            .unwrap();
        let first = claim_all(s, T0).await.remove(0);
        assert!(
            claim_all(s, T0 + LEASE - 1).await.is_empty(),
            "{}",
            ts.label
        );
        // The first worker died (or hangs): after the lease it is resent.
        let second = claim_all(s, T0 + LEASE + 1).await.remove(0);
        assert_eq!(second.attempts, 2);
        // The first worker's late answer is logged but does not count.
        assert!(
            !s.mark_outbox_sent(&first, &log("late"), T0 + LEASE + 2)
                .await
                .unwrap()
        );
        assert!(
            !s.mark_outbox_failed(&first, "late", None, &log("late"), T0 + LEASE + 2)
                .await
                .unwrap()
        );
        assert_eq!(s.outbox_row(id).await.unwrap().state, "sending");
        assert!(
            s.mark_outbox_sent(&second, &log("ok"), T0 + LEASE + 3)
                .await
                .unwrap()
        );
        assert_eq!(s.outbox_row(id).await.unwrap().state, "sent");
    }
}

#[tokio::test]
async fn threads_preferences_and_digests() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let u = s
            .create_user("t@team.test", Role::Triager, None, T0)
            .await
            .unwrap();
        assert_eq!(
            s.first_thread_message_id(1, "a@x.test").await.unwrap(),
            None
        );
        // Threads need a report row; the look-up itself is by (report, recipient).
        assert_eq!(
            s.email_preference(u.id).await.unwrap(),
            EmailPreference::Immediate
        );
        s.set_email_preference(u.id, EmailPreference::Daily, T0)
            .await
            .unwrap();
        assert_eq!(
            s.email_preference(u.id).await.unwrap(),
            EmailPreference::Daily
        );
        s.set_email_preference(u.id, EmailPreference::None, T0 + 1)
            .await
            .unwrap();
        assert_eq!(
            s.email_preference(u.id).await.unwrap(),
            EmailPreference::None
        );
        assert!(
            s.set_email_preference(9_999, EmailPreference::Daily, T0)
                .await
                .is_err()
        );

        s.add_digest_item(u.id, None, "comment", "one", T0)
            .await
            .unwrap();
        s.add_digest_item(u.id, None, "comment", "two", T0 + 1)
            .await
            .unwrap();
        let pending = s.pending_digests().await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, u.id);
        let items = &pending[0].1;
        assert_eq!(
            items.iter().map(|i| i.message.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        // An item arriving after the digest was rendered waits for the next one.
        s.add_digest_item(u.id, None, "comment", "three", T0 + 2)
            .await
            .unwrap();
        let id = s
            .enqueue_digest(u.id, items[1].id, &mail("t@team.test", "Digest"), T0 + 3)
            .await
            .unwrap();
        assert_eq!(s.outbox_row(id).await.unwrap().kind, "digest");
        let left = s.pending_digests().await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].1.len(), 1);
        assert_eq!(left[0].1[0].message, "three");
    }
}
