#![allow(clippy::unwrap_used)]
//! `POST /api/v1/mail/inbound` on SQLite and PostgreSQL: the outcomes a mail
//! gate maps to exit statuses, who may hand mail in, and the envelope
//! parameters as the OpenAPI document states them.

mod harness;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use harness::{App, Resp, T0};
use rampart_core::Role;
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::{ReportFilter, testkit};

fn eml(name: &str) -> String {
    let path = format!("{}/../mail/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn post(app: &App, token: &str, query: &str, content_type: &str, body: String) -> Resp {
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/mail/inbound{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn with_programme(app: &App) {
    Service::new(app.store.store.clone())
        .create_programme(
            &ProgrammeInput {
                name: "Shop".into(),
                slug: "shop".into(),
                visibility: "public".into(),
                email: Some("security@shop.test".into()),
                ..Default::default()
            },
            T0,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_triager_token_hands_mail_in() {
    for s in testkit::all().await {
        let label = s.label;
        let app = App::with_config(
            s,
            rampart_web::WebConfig {
                mail: rampart_web::MailInConfig {
                    max_message_bytes: 16 * 1024,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await;
        with_programme(&app).await;
        let triager = app.user("triager@shop.test", Role::Triager).await;
        let token = app.token(Some(triager), "reports:write").await;

        let r = post(
            &app,
            &token,
            "?client_ip=unknown&sender=alice%40researchers.test",
            "message/rfc822",
            eml("01-new-report.eml"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{label}: {}", r.body);
        let j = r.json();
        assert_eq!(j["outcome"], "new_report", "{label}: {j}");
        assert_eq!(j["spf"], "none", "no client address: no SPF");
        let id = j["report_id"].as_i64().unwrap();
        let report = app.store.report(id).await.unwrap();
        assert_eq!(report.received_via, "email");
        assert_eq!(report.title, "Stored XSS in the profile name");

        // The same Message-ID again: a duplicate, nothing new.
        let r = post(
            &app,
            &token,
            "",
            "application/octet-stream",
            eml("08-duplicate.eml"),
        )
        .await;
        assert_eq!(
            (r.status, r.json()["outcome"].as_str()),
            (StatusCode::OK, Some("duplicate")),
            "{}",
            r.body
        );
        assert_eq!(r.json()["previous_outcome"], "new_report");

        // Automatic mail: ignored.
        for f in ["06-auto-reply.eml", "07-bounce.eml"] {
            let r = post(
                &app,
                &token,
                "",
                "message/rfc822",
                eml(f).replace("{{REPORT}}", "1"),
            )
            .await;
            assert_eq!(r.json()["outcome"], "ignored", "{f}: {}", r.body);
            assert!(r.json()["reason"].as_str().is_some());
        }
        assert_eq!(
            app.store
                .list_reports(&ReportFilter::default())
                .await
                .unwrap()
                .len(),
            1,
            "{label}"
        );

        // Over the limit: refused, with the text for the bounce.
        let r = post(&app, &token, "", "message/rfc822", eml("11-oversized.eml")).await;
        let j = r.json();
        assert_eq!(
            (r.status, j["outcome"].as_str()),
            (StatusCode::OK, Some("refused")),
            "{j}"
        );
        assert!(
            j["bounce"]
                .as_str()
                .unwrap()
                .contains("Thank you for writing"),
            "{j}"
        );
        // A gate that stopped reading at its limit says how large the whole was.
        let head = "From: Bob <bob@researchers.test>\r\nTo: security@shop.test\r\nSubject: Big video\r\nMessage-ID: <big.2@researchers.test>\r\n\r\nsee attached\r\n";
        let r = post(
            &app,
            &token,
            "?size=99000000",
            "message/rfc822",
            head.into(),
        )
        .await;
        assert_eq!(r.json()["outcome"], "refused", "{}", r.body);
        // No MTA bounces mail taken over HTTP: the server mails each sender
        // the explanation, threaded under the refused message.
        let refusals: Vec<_> = app
            .store
            .list_outbox(None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == rampart_mail::refusal::REFUSAL_KIND)
            .collect();
        let mut to: Vec<_> = refusals.iter().map(|r| r.target.as_str()).collect();
        to.sort();
        assert_eq!(
            to,
            ["bob@researchers.test", "frank@researchers.test"],
            "{label}"
        );
        let frank = refusals
            .iter()
            .find(|r| r.target == "frank@researchers.test")
            .unwrap();
        assert!(frank.body.contains("Thank you for writing"), "{label}");
        assert!(
            frank.headers.contains("oversized.11@researchers.test"),
            "{label}: {}",
            frank.headers
        );

        // Not a message: an outcome (the gate turns it into 65), nothing stored.
        for junk in [
            "",
            "garbage without headers",
            "Subject: no sender\r\n\r\nhi",
        ] {
            let r = post(&app, &token, "", "message/rfc822", junk.into()).await;
            let j = r.json();
            assert_eq!(
                (r.status, j["outcome"].as_str()),
                (StatusCode::OK, Some("not_a_message")),
                "{junk:?}: {j}"
            );
            assert!(
                j["reason"].as_str().is_some() && j["intake_id"].is_null(),
                "{j}"
            );
        }
    }
}

#[tokio::test]
async fn only_triagers_and_admins_with_reports_write() {
    let app = App::new(testkit::sqlite().await).await;
    with_programme(&app).await;
    let msg = eml("01-new-report.eml");
    for (role, scopes, needle) in [
        (
            Role::Researcher,
            "all",
            "researcher role cannot hand in mail",
        ),
        (Role::Engineer, "all", "engineer role cannot hand in mail"),
        (Role::Triager, "findings:read", "reports:write"),
    ] {
        let u = app
            .user(&format!("{}@shop.test", role.as_str()), role)
            .await;
        let t = app.token(Some(u), scopes).await;
        let r = post(&app, &t, "", "message/rfc822", msg.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}: {}", r.body);
        assert!(r.body.contains(needle), "{role:?}: {}", r.body);
    }
    let admin = app.user("admin@shop.test", Role::Admin).await;
    let t = app.token(Some(admin), "all").await;
    let r = post(&app, &t, "", "message/rfc822", msg.clone()).await;
    assert_eq!(r.json()["outcome"], "new_report", "{}", r.body);

    // No token at all.
    let r = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/mail/inbound")
                .header(header::CONTENT_TYPE, "message/rfc822")
                .body(Body::from(msg))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn envelope_parameters_are_checked_as_documented() {
    let app = App::new(testkit::sqlite().await).await;
    with_programme(&app).await;
    let t = app.token(None, "all").await;
    let msg = || eml("01-new-report.eml");
    for (query, field) in [
        ("?colour=red", "colour"),
        ("?size=-1", ""),
        ("?size=9007199254740992", "size"),
        (&format!("?helo={}", "h".repeat(256)), "helo"),
        ("?sender=a%00b", "sender"),
    ] {
        let r = post(&app, &t, query, "message/rfc822", msg()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.json()["field"], field, "{query}: {}", r.body);
        }
    }
    let r = post(&app, &t, "", "application/json", msg()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("message/rfc822"), "{}", r.body);
    // No content type: no body (it is required), even with bytes.
    let r = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/mail/inbound")
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .body(Body::from(msg()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // At the limits: accepted.
    let q = format!("?helo={}&client_ip=192.0.2.1&size=0", "h".repeat(255));
    let r = post(&app, &t, &q, "message/rfc822", msg()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The document describes the operation as served.
    let doc = app
        .send(
            Request::builder()
                .uri("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    let op = &doc["paths"]["/api/v1/mail/inbound"]["post"];
    let content = op["requestBody"]["content"].as_object().unwrap();
    assert!(
        content.contains_key("message/rfc822") && content.contains_key("application/octet-stream")
    );
    for code in ["200", "400", "401", "403", "429", "503"] {
        assert!(op["responses"][code].is_object(), "{code} documented");
    }
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["client_ip", "helo", "sender", "size"]);
}

/// A programme key made by GnuPG (as an admin would), or `None` without gpg.
fn gpg_key(user_id: &str) -> Option<String> {
    let have = std::process::Command::new("gpg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let required = std::env::var("CI").is_ok_and(|v| !v.is_empty())
            || std::env::var("RAMPART_REQUIRE_MAIL").as_deref() == Ok("1");
        assert!(
            !required,
            "gpg is required here: run scripts/test-services.sh"
        );
        eprintln!("skipping: no gpg");
        return None;
    }
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&[
        "--quick-gen-key",
        user_id,
        "future-default",
        "default",
        "never",
    ]);
    Some(String::from_utf8(run(&["--armor", "--export-secret-keys"])).unwrap())
}

#[tokio::test]
async fn a_programme_key_is_published() {
    let Some(secret) = gpg_key("Shop Security <security@shop.test>") else {
        return;
    };
    let key = rampart_mail::pgp::ProgrammeKey::from_armored("shop", &secret, "").unwrap();
    let fingerprint = key.fingerprint().to_owned();
    let public = key.public_armored().to_owned();
    let app = App::with_config(
        testkit::sqlite().await,
        rampart_web::WebConfig {
            public_url: "https://security.shop.test".into(),
            mail: rampart_web::MailInConfig {
                pgp: rampart_mail::pgp::Keyring::new(vec![key]),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    with_programme(&app).await;
    let get = |path: &str| {
        app.send(
            Request::builder()
                .uri(path.to_owned())
                .body(Body::empty())
                .unwrap(),
        )
    };
    let r = get("/programs/shop/pgp-key.asc").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/pgp-keys");
    assert_eq!(r.body, public);
    assert!(r.body.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!r.body.contains("PRIVATE"), "never the secret part");

    let r = get("/.well-known/security.txt").await;
    assert!(
        r.body
            .contains("Encryption: https://security.shop.test/programs/shop/pgp-key.asc"),
        "{}",
        r.body
    );
    let r = get("/programs/shop").await;
    assert!(r.body.contains("mailto:security@shop.test"), "{}", r.body);
    assert!(r.body.contains(&fingerprint[..4]) && r.body.contains(&fingerprint[36..]));

    // A programme without a key (or one the caller cannot see) has none.
    Service::new(app.store.store.clone())
        .create_programme(
            &ProgrammeInput {
                name: "Blog".into(),
                slug: "blog".into(),
                visibility: "private".into(),
                ..Default::default()
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        get("/programs/blog/pgp-key.asc").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/programs/nope/pgp-key.asc").await.status,
        StatusCode::NOT_FOUND
    );
    let r = get("/.well-known/security.txt").await;
    assert_eq!(r.body.matches("Encryption:").count(), 1, "{}", r.body);
}
