#![allow(clippy::unwrap_used)]
//! Mail intake records on every backend: Message-ID claims (a duplicate is
//! taken once), outcomes, released claims, sent Message-IDs, secrets.

use rampart_core::{DEFAULT_SAFE_HARBOUR, ResponseTargets, Role, Visibility};
use rampart_store::{MailOutcomeRecord, NewReport, ProgrammeSettings, Store, testkit};

const T0: i64 = 1_800_000_000_000;

async fn a_report(s: &Store) -> i64 {
    let p = s
        .create_programme(
            &ProgrammeSettings {
                slug: "shop".into(),
                name: "Shop".into(),
                summary: String::new(),
                policy: String::new(),
                rules: String::new(),
                safe_harbour: DEFAULT_SAFE_HARBOUR.into(),
                visibility: Visibility::Public,
                email: Some("security@shop.test".into()),
                currency: "USD".into(),
                bounties: Default::default(),
                budget: None,
                targets: ResponseTargets::default(),
                pause_on_breach: false,
                needs_info_close_days: 30,
                scope: vec![],
            },
            T0,
        )
        .await
        .unwrap();
    let u = s
        .create_user("alice@researchers.test", Role::Researcher, None, T0)
        .await
        .unwrap();
    s.create_report(
        &NewReport {
            programme_id: p.id,
            researcher_id: u.id,
            title: "t".into(),
            description: "d".into(),
            received_via: "email".into(),
            ..Default::default()
        },
        |id| format!("ack {id}"),
        T0,
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_message_id_is_claimed_once() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let report = a_report(s).await;
        let id = s
            .claim_mail("a@b.test", T0)
            .await
            .unwrap()
            .expect("first claim");
        assert_eq!(
            s.claim_mail("a@b.test", T0 + 1).await.unwrap(),
            None,
            "{}",
            ts.label
        );
        let pending = s.mail_intake(id).await.unwrap();
        assert_eq!(pending.outcome, "processing");

        s.finish_mail(
            id,
            &MailOutcomeRecord {
                outcome: "new_report".into(),
                sender: "alice@researchers.test".into(),
                subject: "XSS".into(),
                size: 1234,
                report_id: Some(report),
                event_id: None,
                spf: "pass".into(),
                dkim: "fail".into(),
                dmarc: "none".into(),
                flags: vec!["sender_checks_failed".into(), "html_converted".into()],
                detail: "new report".into(),
            },
        )
        .await
        .unwrap();
        let done = s.mail_intake_by_message_id("a@b.test").await.unwrap();
        assert_eq!(done.id, id);
        assert_eq!(done.outcome, "new_report");
        assert_eq!(done.report_id, Some(report));
        assert_eq!(done.flags, "sender_checks_failed,html_converted");
        assert_eq!((done.spf.as_str(), done.dkim.as_str()), ("pass", "fail"));
        assert_eq!(
            s.report_mail_intake(report).await.unwrap(),
            vec![done.clone()]
        );
        // A finished claim is never released.
        s.release_mail(id).await.unwrap();
        assert!(s.mail_intake(id).await.is_ok());
        assert!(matches!(
            s.finish_mail(id + 1000, &MailOutcomeRecord::default())
                .await,
            Err(rampart_store::StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn a_released_claim_can_be_taken_again() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let id = s.claim_mail("x@y.test", T0).await.unwrap().unwrap();
        s.release_mail(id).await.unwrap();
        assert!(s.mail_intake(id).await.is_err(), "{}", ts.label);
        assert!(s.claim_mail("x@y.test", T0).await.unwrap().is_some());
        assert_eq!(s.recent_mail_intake(10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_claim_abandoned_by_a_dead_process_is_taken_over() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let id = s.claim_mail("dead@x.test", T0).await.unwrap().unwrap();
        // Still fresh: a concurrent delivery is a duplicate.
        assert_eq!(
            s.claim_mail("dead@x.test", T0 + 1000).await.unwrap(),
            None,
            "{}",
            ts.label
        );
        // Long past: the redelivery gets the claim.
        let later = T0 + rampart_store::STALE_CLAIM_MS + 1;
        assert_eq!(s.claim_mail("dead@x.test", later).await.unwrap(), Some(id));
        assert_eq!(s.claim_mail("dead@x.test", later + 1).await.unwrap(), None);
        // Finished claims are never taken over, however old.
        s.finish_mail(
            id,
            &MailOutcomeRecord {
                outcome: "ignored".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(s.claim_mail("dead@x.test", later * 2).await.unwrap(), None);
    }
}

#[tokio::test]
async fn sent_message_ids_lead_back_to_their_report() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let report = a_report(s).await;
        s.record_sent_message("r1.abc@rampart.test", report, T0)
            .await
            .unwrap();
        // Recording twice is harmless (a retried send).
        s.record_sent_message("r1.abc@rampart.test", report, T0)
            .await
            .unwrap();
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            s.report_for_sent_messages(&ids(&["other@x", "r1.abc@rampart.test"]))
                .await
                .unwrap(),
            Some(report),
            "{}",
            ts.label
        );
        assert_eq!(
            s.report_for_sent_messages(&ids(&["nope@x"])).await.unwrap(),
            None
        );
        assert_eq!(s.report_for_sent_messages(&[]).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_secret_is_generated_once() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let a = s.mail_secret("k", || "first".into(), T0).await.unwrap();
        let b = s.mail_secret("k", || "second".into(), T0).await.unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("first", "first"), "{}", ts.label);
        let c = s.mail_secret("other", || "third".into(), T0).await.unwrap();
        assert_eq!(c, "third");
    }
}
