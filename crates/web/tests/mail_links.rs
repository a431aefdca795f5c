#![allow(clippy::unwrap_used)]
//! Links Rampart mails, on SQLite and PostgreSQL: "Forgot your password?"
//! (same answer for every address, one outbox row only for a real account,
//! the link working once, rate limits, the audit log), the address
//! verification mailed at sign-up, and the claim-your-account link in the
//! acknowledgement for a researcher without a password.

mod harness;

use axum::http::StatusCode;
use harness::{App, Browser, PASSWORD, T0, csrf_of};
use rampart_core::Role;
use rampart_mail::outbound::{EmailNotifier, OutboundConfig};
use rampart_programme::Service;
use rampart_programme::input::{CheckedReport, ProgrammeInput};
use rampart_store::{OutboxRow, testkit};
use std::sync::Arc;

const NEW_PASSWORD: &str = "a different passphrase entirely";

async fn outbox_of_kind(app: &App, kind: &str) -> Vec<OutboxRow> {
    let mut rows: Vec<OutboxRow> = app
        .store
        .list_outbox(None, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect();
    rows.sort_by_key(|r| r.id);
    rows
}

/// The reset mail is queued in the background (so the answer's timing
/// does not depend on the address): wait until `n` rows are there, then a
/// little longer so that an extra one would show.
async fn settle(app: &App, kind: &str, n: usize) -> Vec<OutboxRow> {
    for _ in 0..200 {
        if outbox_of_kind(app, kind).await.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    outbox_of_kind(app, kind).await
}

/// The path of the first `http://127.0.0.1:8080/<prefix>/<token>` link in a body.
fn link_path(body: &str, prefix: &str) -> String {
    let marker = format!("http://127.0.0.1:8080/{prefix}/");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {prefix} link in: {body}"));
    let token: String = body[start + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{body}");
    format!("/{prefix}/{token}")
}

async fn ask_reset(app: &App, email: &str) -> harness::Resp {
    let mut b = Browser::default();
    let page = app.get(&mut b, "/forgot-password").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    app.post_form(
        &mut b,
        "/forgot-password",
        &[("csrf", &csrf), ("email", email)],
    )
    .await
}

async fn sign_in(app: &App, email: &str, password: &str) -> StatusCode {
    let mut b = Browser::default();
    let page = app.get(&mut b, "/login").await;
    let csrf = csrf_of(&page.body);
    app.post_form(
        &mut b,
        "/login",
        &[("csrf", &csrf), ("email", email), ("password", password)],
    )
    .await
    .status
}

/// Sets the password through a set-password link; returns the status.
async fn use_set_password_link(app: &App, path: &str, password: &str) -> StatusCode {
    let mut b = Browser::default();
    let page = app.get(&mut b, "/login").await;
    let csrf = csrf_of(&page.body);
    app.post_form(
        &mut b,
        path,
        &[
            ("csrf", &csrf),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await
    .status
}

#[tokio::test]
async fn forgot_password_mails_a_one_time_link_to_real_accounts_only() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let alice = app.user("alice@example.com", Role::Researcher).await;
        let off = app.user("off@example.com", Role::Researcher).await;
        app.store.set_disabled(off, true, T0).await.unwrap();

        // The sign-in page leads to the form, which works without scripts.
        let mut b = Browser::default();
        let login = app.get(&mut b, "/login").await;
        assert!(login.body.contains("href=\"/forgot-password\""), "{label}");

        // Without the CSRF token: refused, nothing queued.
        let r = app
            .post_form(
                &mut b,
                "/forgot-password",
                &[("email", "alice@example.com")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");

        let unknown = ask_reset(&app, "nobody@example.com").await;
        let disabled = ask_reset(&app, "off@example.com").await;
        let known = ask_reset(&app, "Alice@Example.com").await;
        assert_eq!(known.status, StatusCode::OK, "{label}: {}", known.body);
        assert_eq!(unknown.status, known.status, "{label}");
        assert_eq!(disabled.status, known.status, "{label}");
        // Byte for byte the same page.
        assert_eq!(unknown.body, known.body, "{label}");
        assert_eq!(disabled.body, known.body, "{label}");
        assert!(
            known.body.contains("If that address has an account"),
            "{label}"
        );

        let rows = settle(&app, "password_reset", 1).await;
        assert_eq!(rows.len(), 1, "{label}: exactly one row, for alice");
        let row = &rows[0];
        assert_eq!(row.target, "alice@example.com", "{label}");
        assert_eq!(row.user_id, Some(alice), "{label}");
        assert_eq!(row.channel, "email", "{label}");
        assert_eq!(row.state, "queued", "{label}: no SMTP here, so it waits");

        // Every request is in the audit log, with what was done.
        let audit = app.store.list_audit(1, 100).await.unwrap();
        let asked: Vec<_> = audit
            .items
            .iter()
            .filter(|e| e.action == "user.password_reset_requested")
            .collect();
        assert_eq!(asked.len(), 3, "{label}");
        assert!(
            asked
                .iter()
                .any(|e| e.detail.contains("no such account") && e.actor_id.is_none()),
            "{label}"
        );
        assert!(
            asked
                .iter()
                .any(|e| e.detail.contains("disabled") && e.actor_id == Some(off)),
            "{label}"
        );
        assert!(
            asked
                .iter()
                .any(|e| e.detail.contains("mailed") && e.actor_id == Some(alice)),
            "{label}"
        );

        // The link sets the password once, and not twice.
        let path = link_path(&row.body, "set-password");
        let mut b = Browser::default();
        let form = app.get(&mut b, &path).await;
        assert_eq!(form.status, StatusCode::OK, "{label}");
        assert!(form.body.contains("alice@example.com"), "{label}");
        assert_eq!(
            use_set_password_link(&app, &path, NEW_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{label}"
        );
        assert_eq!(
            sign_in(&app, "alice@example.com", NEW_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{label}"
        );
        assert_eq!(
            sign_in(&app, "alice@example.com", PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "{label}: the old password is gone"
        );
        assert_eq!(
            use_set_password_link(&app, &path, "yet another long passphrase").await,
            StatusCode::NOT_FOUND,
            "{label}: a used link is gone"
        );
        assert_eq!(
            app.get(&mut b, &path).await.status,
            StatusCode::NOT_FOUND,
            "{label}"
        );
    }
}

#[tokio::test]
async fn reset_links_expire_after_an_hour() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("alice@example.com", Role::Researcher).await;
    ask_reset(&app, "alice@example.com").await;
    let rows = settle(&app, "password_reset", 1).await;
    let path = link_path(&rows[0].body, "set-password");
    app.clock.advance_ms(3_600_001);
    assert_eq!(
        use_set_password_link(&app, &path, NEW_PASSWORD).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn reset_requests_are_rate_limited_per_client_and_per_address() {
    for s in testkit::all().await {
        let label = s.label;
        // Per address: three mails an hour, however many clients ask.
        let app = App::new(s).await;
        app.user("alice@example.com", Role::Researcher).await;
        for _ in 0..5 {
            let r = ask_reset(&app, "alice@example.com").await;
            assert_eq!(r.status, StatusCode::OK, "{label}");
        }
        let rows = settle(&app, "password_reset", 3).await;
        assert_eq!(rows.len(), 3, "{label}");
    }

    // Per client address: the sign-up budget, then 429 (unknown addresses
    // count the same as real ones).
    let config = rampart_web::WebConfig {
        signups_per_hour: 2,
        ..Default::default()
    };
    let app = App::with_config(testkit::sqlite().await, config).await;
    assert_eq!(
        ask_reset(&app, "a@example.com").await.status,
        StatusCode::OK
    );
    assert_eq!(
        ask_reset(&app, "b@example.com").await.status,
        StatusCode::OK
    );
    let r = ask_reset(&app, "c@example.com").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

#[tokio::test]
async fn sign_up_mails_a_link_that_verifies_the_address_once() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let mut b = Browser::default();
        let page = app.get(&mut b, "/signup").await;
        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(
                &mut b,
                "/signup",
                &[
                    ("csrf", &csrf),
                    ("email", "newbie@example.com"),
                    ("handle", "newbie"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{label}: {}", r.body);
        let user = app.store.user_by_email("newbie@example.com").await.unwrap();
        assert!(
            !app.store
                .researcher_profile(user.id)
                .await
                .unwrap()
                .email_verified,
            "{label}"
        );
        let rows = outbox_of_kind(&app, "verify_email").await;
        assert_eq!(rows.len(), 1, "{label}");
        assert_eq!(rows[0].target, "newbie@example.com", "{label}");
        let path = link_path(&rows[0].body, "verify-email");

        // Opening the link only shows a button (mail scanners open links).
        let mut v = Browser::default();
        let page = app.get(&mut v, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{label}");
        assert!(page.body.contains("newbie@example.com"), "{label}");
        assert!(
            !app.store
                .researcher_profile(user.id)
                .await
                .unwrap()
                .email_verified,
            "{label}"
        );
        let r = app.post_form(&mut v, &path, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}: CSRF-checked");
        let csrf = csrf_of(&page.body);
        let r = app.post_form(&mut v, &path, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::OK, "{label}: {}", r.body);
        assert!(r.body.contains("confirmed"), "{label}");
        assert!(
            app.store
                .researcher_profile(user.id)
                .await
                .unwrap()
                .email_verified,
            "{label}"
        );
        let again = app.post_form(&mut v, &path, &[("csrf", &csrf)]).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{label}: single use");
        let audit = app.store.list_audit(1, 100).await.unwrap();
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.action == "user.email_verified" && e.actor_id == Some(user.id)),
            "{label}"
        );
        assert_eq!(
            app.get(&mut v, "/verify-email/0000").await.status,
            StatusCode::NOT_FOUND,
            "{label}"
        );
    }
}

#[tokio::test]
async fn acknowledgements_carry_a_claim_link_only_for_researchers_without_a_password() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let store = app.store.store.clone();
        let email = EmailNotifier::new(
            store.clone(),
            OutboundConfig {
                from: "Rampart <security@rampart.test>".into(),
                // Where the test app's links point (WebConfig's default).
                public_url: "http://127.0.0.1:8080".into(),
                site_name: "Rampart".into(),
            },
        );
        let service = Service::new(store.clone()).with_notifier(Arc::new(email));
        let p = service
            .create_programme(
                &ProgrammeInput {
                    name: "Shop".into(),
                    slug: "shop".into(),
                    visibility: "public".into(),
                    email: Some("security@rampart.test".into()),
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap();
        // As mail intake makes them: an account with no password.
        let mailed = store
            .create_user("mailed@researcher.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let registered = app.user("web@researcher.test", Role::Researcher).await;
        for (uid, title) in [(mailed.id, "By mail"), (registered, "On the web")] {
            service
                .submit_report(
                    &p,
                    uid,
                    &CheckedReport {
                        title: title.into(),
                        description: "Search reflects the q parameter unescaped.".into(),
                        steps: String::new(),
                        impact: String::new(),
                        asset: None,
                        cwe: None,
                        cvss_vector: None,
                        severity: None,
                    },
                    "email",
                    T0,
                )
                .await
                .unwrap();
        }
        let acks = outbox_of_kind(&app, "acknowledged").await;
        let ack_of = |to: &str| {
            acks.iter()
                .find(|r| r.target == to)
                .unwrap_or_else(|| panic!("{label}: no acknowledgement to {to}: {acks:?}"))
        };
        let registered_ack = ack_of("web@researcher.test");
        assert!(
            !registered_ack.body.contains("/set-password/"),
            "{label}: {}",
            registered_ack.body
        );
        let mailed_ack = ack_of("mailed@researcher.test");
        assert!(
            mailed_ack.body.contains("claim your account"),
            "{label}: {}",
            mailed_ack.body
        );
        let path = link_path(&mailed_ack.body, "set-password");
        let mut b = Browser::default();
        let form = app.get(&mut b, &path).await;
        assert_eq!(form.status, StatusCode::OK, "{label}");
        assert!(form.body.contains("mailed@researcher.test"), "{label}");
        assert_eq!(
            use_set_password_link(&app, &path, NEW_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{label}"
        );
        assert_eq!(
            sign_in(&app, "mailed@researcher.test", NEW_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{label}: the account is claimed"
        );
        assert_eq!(
            use_set_password_link(&app, &path, "yet another long passphrase").await,
            StatusCode::NOT_FOUND,
            "{label}"
        );
    }
}

#[tokio::test]
async fn the_account_page_mails_a_new_verification_link_until_verified() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let uid = app.user("late@example.com", Role::Researcher).await;
        let mut b = app.login("late@example.com").await;
        let page = app.get(&mut b, "/account").await;
        assert!(
            page.body.contains("action=\"/account/verify-email\""),
            "{label}"
        );
        let r = app.post_form(&mut b, "/account/verify-email", &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}: CSRF-checked");
        assert!(
            outbox_of_kind(&app, "verify_email").await.is_empty(),
            "{label}"
        );
        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(&mut b, "/account/verify-email", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{label}: {}", r.body);
        let rows = outbox_of_kind(&app, "verify_email").await;
        assert_eq!(rows.len(), 1, "{label}");
        assert_eq!(rows[0].user_id, Some(uid), "{label}");
        let path = link_path(&rows[0].body, "verify-email");
        let confirm = app.get(&mut b, &path).await;
        let r = app
            .post_form(&mut b, &path, &[("csrf", &csrf_of(&confirm.body))])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{label}: {}", r.body);
        let page = app.get(&mut b, "/account").await;
        assert!(!page.body.contains("/account/verify-email"), "{label}");
        // Asking again once verified mails nothing.
        let r = app
            .post_form(
                &mut b,
                "/account/verify-email",
                &[("csrf", &csrf_of(&page.body))],
            )
            .await;
        assert!(r.body.contains("already confirmed"), "{label}");
        assert_eq!(
            outbox_of_kind(&app, "verify_email").await.len(),
            1,
            "{label}"
        );
    }
}
