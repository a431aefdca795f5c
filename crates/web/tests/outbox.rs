#![allow(clippy::unwrap_used)]
//! The admin outbox pages on SQLite and PostgreSQL: the queue with counts
//! and failures, a row's delivery log, retrying a given-up row (CSRF
//! checked, audited), and nobody but admins seeing any of it.

mod harness;

use axum::http::StatusCode;
use harness::{App, csrf_of};
use rampart_core::Role;
use rampart_store::{AttemptLog, NewOutbox, testkit};

const T0: i64 = 1_800_000_000_000;

#[tokio::test]
async fn admins_see_the_queue_and_retry_what_was_given_up() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        app.user("admin@example.com", Role::Admin).await;
        app.user("triager@example.com", Role::Triager).await;
        let store = &app.store;
        let dead = store
            .enqueue_outbox(
                &NewOutbox {
                    channel: "webhook".into(),
                    target: "siem".into(),
                    subject: "report.new".into(),
                    body: "{\"event\":\"report.new\",\"x\":\"<script>alert(1)</script>\"}".into(),
                    kind: "report.new".into(),
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap()
            .unwrap();
        let row = store.claim_outbox(T0, 60_000, 10).await.unwrap().remove(0);
        store
            .mark_outbox_failed(
                &row,
                "answered 500: <b>down</b>",
                None,
                &AttemptLog {
                    duration_ms: 42,
                    status_code: Some(500),
                    detail: "answered 500: <b>down</b>".into(),
                },
                T0,
            )
            .await
            .unwrap();
        store
            .enqueue_outbox(
                &NewOutbox {
                    channel: "email".into(),
                    target: "alice@researcher.test".into(),
                    subject: "[#1] waiting".into(),
                    body: "hi".into(),
                    kind: "comment".into(),
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap();

        let mut t = app.login("triager@example.com").await;
        for path in ["/admin/outbox", &format!("/admin/outbox/{dead}")] {
            assert_eq!(
                app.get(&mut t, path).await.status,
                StatusCode::FORBIDDEN,
                "{label}"
            );
        }

        let mut b = app.login("admin@example.com").await;
        let page = app.get(&mut b, "/admin/outbox").await;
        assert_eq!(page.status, StatusCode::OK, "{label}");
        assert!(page.headers.contains_key("content-security-policy"));
        for want in [
            "webhook dead: 1",
            "email queued: 1",
            "alice@researcher.test",
            "Retry now",
            "answered 500:",
        ] {
            assert!(page.body.contains(want), "{label}: {want} missing");
        }
        assert!(
            !page.body.contains("<b>down"),
            "{label}: errors are escaped"
        );
        let only_dead = app.get(&mut b, "/admin/outbox?state=dead").await;
        assert!(!only_dead.body.contains("alice@researcher.test"), "{label}");

        let detail = app.get(&mut b, &format!("/admin/outbox/{dead}")).await;
        assert_eq!(detail.status, StatusCode::OK);
        assert!(
            detail.body.contains("42 ms") && detail.body.contains(">500<"),
            "{label}"
        );
        assert!(
            !detail.body.contains("<script>alert(1)"),
            "{label}: bodies are escaped"
        );
        assert_eq!(
            app.get(&mut b, "/admin/outbox/999999").await.status,
            StatusCode::NOT_FOUND
        );

        // Without the CSRF token nothing happens.
        let r = app
            .post_form(
                &mut b,
                &format!("/admin/outbox/{dead}/retry"),
                &[("csrf", "forged")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
        assert_eq!(store.outbox_row(dead).await.unwrap().state, "dead");

        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(
                &mut b,
                &format!("/admin/outbox/{dead}/retry"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{label}: {}", r.body);
        assert_eq!(r.location(), "/admin/outbox?done=retried");
        assert_eq!(store.outbox_row(dead).await.unwrap().state, "queued");
        // Queued again: not retryable twice.
        let r = app
            .post_form(
                &mut b,
                &format!("/admin/outbox/{dead}/retry"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{label}");
        let audit = app.get(&mut b, "/admin/audit").await;
        assert!(audit.body.contains("outbox.retry"), "{label}");
        let tcsrf = csrf_of(&app.get(&mut t, "/account").await.body);
        let r = app
            .post_form(
                &mut t,
                &format!("/admin/outbox/{dead}/retry"),
                &[("csrf", &tcsrf)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{label}: triagers cannot retry"
        );
    }
}

#[tokio::test]
async fn team_members_choose_how_mail_reaches_them() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let tid = app.user("triager@example.com", Role::Triager).await;
        app.user("r@example.com", Role::Researcher).await;
        let mut b = app.login("triager@example.com").await;
        let page = app.get(&mut b, "/account").await;
        assert!(page.body.contains("Email notifications"), "{label}");
        assert!(
            page.body.contains(r#"value="immediate" checked"#),
            "{label}"
        );
        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(
                &mut b,
                "/account/notifications",
                &[("csrf", &csrf), ("email", "daily")],
            )
            .await;
        assert_eq!(
            r.location(),
            "/account?done=notifications",
            "{label}: {}",
            r.body
        );
        assert_eq!(
            app.store.email_preference(tid).await.unwrap(),
            rampart_store::EmailPreference::Daily
        );
        let page = app.get(&mut b, "/account").await;
        assert!(page.body.contains(r#"value="daily" checked"#), "{label}");
        let r = app
            .post_form(
                &mut b,
                "/account/notifications",
                &[("csrf", &csrf), ("email", "hourly")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{label}");
        let r = app
            .post_form(
                &mut b,
                "/account/notifications",
                &[("csrf", "forged"), ("email", "none")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
        assert_eq!(
            app.store.email_preference(tid).await.unwrap(),
            rampart_store::EmailPreference::Daily
        );
        // Researchers do not see the choice and cannot post it.
        let mut rb = app.login("r@example.com").await;
        let page = app.get(&mut rb, "/account").await;
        assert!(!page.body.contains("Email notifications"), "{label}");
        let r = app
            .post_form(
                &mut rb,
                "/account/notifications",
                &[("csrf", &csrf_of(&page.body)), ("email", "none")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{label}");
    }
}
