//! The web application end to end through its router: sign-in, CSRF,
//! sessions, two-factor, tokens, findings, authorisation and headers, on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod harness;

use axum::http::{Method, StatusCode, header};
use harness::{App, Browser, PASSWORD, T0, csrf_of};
use rampart_core::Role;
use rampart_store::testkit;

fn sarif(results: usize) -> String {
    let rs: Vec<String> = (0..results)
        .map(|i| {
            format!(
                r#"{{"ruleId":"R{r}","level":"error","message":{{"text":"Problem {i}"}},
                "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/f{i}.rs"}},"region":{{"startLine":{line}}}}}}}]}}"#,
                r = i % 3,
                line = i + 1
            )
        })
        .collect();
    format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"demo","rules":[{{"id":"R0"}},{{"id":"R1"}},{{"id":"R2"}}]}}}},"results":[{}]}}]}}"#,
        rs.join(",")
    )
}

#[tokio::test]
async fn wrong_password_is_refused_and_audited() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        app.user("admin@example.com", Role::Admin).await;
        let mut b = Browser::default();
        let page = app.get(&mut b, "/login").await;
        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(
                &mut b,
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", "admin@example.com"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("incorrect"), "{}", r.body);
        assert!(
            r.body.contains("value=\"admin@example.com\""),
            "the form keeps what was typed"
        );
        assert!(
            !b.cookies.keys().any(|k| k.contains("session")),
            "no session on failure"
        );
        let audit = app.store.list_audit(1, 10).await.unwrap();
        assert!(audit.items.iter().any(|e| e.action == "user.login_failed"));
        // An unknown account gets exactly the same answer.
        let r2 = app
            .post_form(
                &mut b,
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", "nobody@example.com"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(r2.status, StatusCode::UNAUTHORIZED);
        assert!(r2.body.contains("incorrect"));
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_with_the_right_password() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("a@example.com", Role::Triager).await;
    let mut b = Browser::default();
    let csrf = csrf_of(&app.get(&mut b, "/login").await.body);
    for _ in 0..5 {
        app.post_form(
            &mut b,
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "a@example.com"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    }
    let r = app
        .post_form(
            &mut b,
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "a@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "locked");
    app.clock.advance_ms(61_000);
    let r = app
        .post_form(
            &mut b,
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "a@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the lock lifts after a minute: {}",
        r.body
    );
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let app = App::new(testkit::sqlite().await).await;
    let mut b = Browser::default();
    let csrf = csrf_of(&app.get(&mut b, "/login").await.body);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = app
            .post_form(
                &mut b,
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", "x@example.com"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        statuses.push(r.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn state_changes_without_the_csrf_token_are_refused() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        app.user("admin@example.com", Role::Admin).await;
        // Before signing in: a login form posted without the token.
        let mut anon = Browser::default();
        app.get(&mut anon, "/login").await;
        let r = app
            .post_form(
                &mut anon,
                "/login",
                &[("email", "admin@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Signed in: every state-changing form needs the session's token.
        let mut b = app.login("admin@example.com").await;
        for path in [
            "/logout",
            "/account/2fa/start",
            "/account/tokens",
            "/admin/users",
            "/findings/1/status",
        ] {
            let r = app.post_form(&mut b, path, &[("name", "x")]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} without token");
            let r = app
                .post_form(&mut b, path, &[("csrf", &"0".repeat(64)), ("name", "x")])
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with a wrong token");
        }
        // The browser's own signal for cross-site requests is honoured too.
        let page = app.get(&mut b, "/account").await;
        let csrf = csrf_of(&page.body);
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/logout")
            .header(header::COOKIE, b.cookie_header())
            .header("sec-fetch-site", "cross-site")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!("csrf={csrf}")))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
        // Still signed in after all that.
        assert_eq!(app.get(&mut b, "/account").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn sessions_expire_and_logout_ends_them() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        app.user("t@example.com", Role::Triager).await;
        let mut b = app.login("t@example.com").await;
        assert_eq!(app.get(&mut b, "/findings").await.status, StatusCode::OK);
        // Twelve idle hours later the session is gone.
        app.clock.advance_ms(12 * 3_600_000 + 1);
        let r = app.get(&mut b, "/findings").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            r.location().starts_with("/login?next=%2Ffindings"),
            "{}",
            r.location()
        );
        assert!(r.location().contains("expired=1"));
        let login = app.get(&mut b, r.location()).await;
        assert!(login.body.contains("Your session has ended"));

        let mut b = app.login("t@example.com").await;
        let csrf = csrf_of(&app.get(&mut b, "/account").await.body);
        let cookie_before = b.cookie_header();
        let r = app.post_form(&mut b, "/logout", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // Replaying the old cookie does not work: the session is deleted server-side.
        let req = axum::http::Request::builder()
            .uri("/account")
            .header(header::COOKIE, cookie_before)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn totp_enrolment_and_second_factor_login() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let uid = app.user("admin@example.com", Role::Admin).await;
        let mut b = app.login("admin@example.com").await;
        let csrf = csrf_of(&app.get(&mut b, "/account").await.body);
        let r = app
            .post_form(&mut b, "/account/2fa/start", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.location(), "/account/2fa");
        let page = app.get(&mut b, "/account/2fa").await;
        assert!(page.body.contains("otpauth://totp/"), "{}", page.body);
        let secret = app
            .store
            .user_by_id(uid)
            .await
            .unwrap()
            .totp_secret
            .unwrap();
        let totp = rampart_auth::Totp::new(&secret, "Rampart", "admin@example.com").unwrap();
        let now_s = (T0 / 1000) as u64;
        let bad = app
            .post_form(
                &mut b,
                "/account/2fa/confirm",
                &[("csrf", &csrf), ("code", "000000")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = app
            .post_form(
                &mut b,
                "/account/2fa/confirm",
                &[("csrf", &csrf), ("code", &totp.code_at(now_s))],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        let codes: Vec<String> = ok
            .body
            .split("<li>")
            .skip(1)
            .filter_map(|s| s.split("</li>").next())
            .map(str::to_owned)
            .filter(|c| c.len() == 11)
            .collect();
        assert_eq!(codes.len(), 10, "{}", ok.body);

        // Sign out, sign in: the password alone is not enough.
        app.post_form(&mut b, "/logout", &[("csrf", &csrf)]).await;
        let mut b = app.login("admin@example.com").await;
        let r = app.get(&mut b, "/findings").await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "half-signed-in sessions reach nothing"
        );
        let page = app.get(&mut b, "/login/2fa").await;
        let csrf2 = csrf_of(&page.body);
        // The code used for enrolment cannot be replayed.
        let replay = app
            .post_form(
                &mut b,
                "/login/2fa",
                &[("csrf", &csrf2), ("code", &totp.code_at(now_s))],
            )
            .await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
        app.clock.advance_ms(30_000);
        let r = app
            .post_form(
                &mut b,
                "/login/2fa",
                &[
                    ("csrf", &csrf2),
                    ("code", &totp.code_at(now_s + 30)),
                    ("next", "/findings"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/findings");
        assert_eq!(app.get(&mut b, "/findings").await.status, StatusCode::OK);

        // A recovery code works once.
        let mut c = app.login("admin@example.com").await;
        let csrf3 = csrf_of(&app.get(&mut c, "/login/2fa").await.body);
        let r = app
            .post_form(
                &mut c,
                "/login/2fa",
                &[("csrf", &csrf3), ("code", &codes[0].to_uppercase())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let mut d = app.login("admin@example.com").await;
        let csrf4 = csrf_of(&app.get(&mut d, "/login/2fa").await.body);
        let r = app
            .post_form(
                &mut d,
                "/login/2fa",
                &[("csrf", &csrf4), ("code", &codes[0])],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn tokens_are_created_in_the_ui_shown_once_and_respect_scopes() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        app.user("t@example.com", Role::Triager).await;
        let mut b = app.login("t@example.com").await;
        let csrf = csrf_of(&app.get(&mut b, "/account").await.body);
        let r = app
            .post_form(
                &mut b,
                "/account/tokens",
                &[("csrf", &csrf), ("name", "ci"), ("scope", "findings:read")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let start = r.body.find("rmp_at_").expect("token shown");
        let token = r.body[start..start + 71].to_owned();
        assert!(
            !app.get(&mut b, "/account").await.body.contains(&token),
            "shown once only"
        );

        let me = app.api(Method::GET, "/api/v1/me", &token, None).await;
        assert_eq!(me.json()["role"], "triager");
        assert_eq!(
            app.api(Method::GET, "/api/v1/findings", &token, None)
                .await
                .status,
            StatusCode::OK
        );
        // Without findings:write, ingestion is refused and says why.
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings/sarif",
                &token,
                Some(sarif(1)),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("findings:write")
        );
        // Unknown tokens are 401.
        let r = app
            .api(Method::GET, "/api/v1/findings", "rmp_at_nope", None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));

        // A token never exceeds its owner's role.
        let eng = app.user("e@example.com", Role::Engineer).await;
        let eng_all = app.token(Some(eng), "all").await;
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings/sarif",
                &eng_all,
                Some(sarif(1)),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let researcher = app.user("r@example.com", Role::Researcher).await;
        let r_all = app
            .api(
                Method::GET,
                "/api/v1/findings",
                &app.token(Some(researcher), "all").await,
                None,
            )
            .await;
        assert_eq!(r_all.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn sarif_posted_twice_changes_counts_not_rows() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let token = app.token(None, "findings:write findings:read").await;
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings/sarif?asset=shop",
                &token,
                Some(sarif(25)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["created"], 25);
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings/sarif?asset=shop",
                &token,
                Some(sarif(25)),
            )
            .await;
        assert_eq!(
            (r.json()["created"].as_i64(), r.json()["updated"].as_i64()),
            (Some(0), Some(25))
        );
        let list = app
            .api(
                Method::GET,
                "/api/v1/findings?asset=shop&per_page=100",
                &token,
                None,
            )
            .await
            .json();
        assert_eq!(list["total"], 25);
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["occurrences"] == 2)
        );
        let audit = app.store.list_audit(1, 10).await.unwrap();
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.action == "findings.ingest" && e.actor == "token:test")
        );
    }
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let app = App::new(testkit::sqlite().await).await;
    let token = app.token(None, "all").await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("/api/v1/findings", "{not json".into(), ""),
        (
            "/api/v1/findings",
            r#"{"findings":[{"source":"x","title":"t","severity":"severe"}]}"#.into(),
            "findings[0].severity",
        ),
        (
            "/api/v1/findings",
            r#"{"findings":[{"source":"x","title":" ","severity":"low"}]}"#.into(),
            "findings[0].title",
        ),
        (
            "/api/v1/findings",
            r#"{"findings":[{"source":"Bad Source","title":"t","severity":"low"}]}"#.into(),
            "findings[0].source",
        ),
        (
            "/api/v1/findings",
            r#"{"findings":[{"source":"x","title":"t","severity":"low","cvss_vector":"9.8"}]}"#
                .into(),
            "findings[0].cvss_vector",
        ),
        (
            "/api/v1/findings/sarif",
            r#"{"version":"2.1.0","runs":[{"tool":{}}]}"#.into(),
            "runs[0].tool.driver",
        ),
    ];
    for (path, body, field) in cases {
        let r = app
            .api(Method::POST, path, &token, Some(body.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let j = r.json();
        assert!(j["error"].as_str().is_some());
        if !field.is_empty() {
            assert_eq!(j["field"], field, "{body}: {j}");
        }
    }
    assert_eq!(
        app.api(Method::GET, "/api/v1/findings?severity=loud", &token, None)
            .await
            .json()["field"],
        "severity"
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/findings/abc", &token, None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/findings/999", &token, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Nothing from the refused batches was stored.
    assert_eq!(
        app.api(Method::GET, "/api/v1/findings", &token, None)
            .await
            .json()["total"],
        0
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let config = rampart_web::WebConfig {
        max_upload_bytes: 10_000,
        ..Default::default()
    };
    let app = App::with_config(testkit::sqlite().await, config).await;
    let token = app.token(None, "all").await;
    let big = sarif(200);
    assert!(big.len() > 10_000);
    let r = app
        .api(Method::POST, "/api/v1/findings/sarif", &token, Some(big))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("larger"));
}

#[tokio::test]
async fn engineers_see_only_what_is_assigned_to_them() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let eng = app.user("eng@example.com", Role::Engineer).await;
        let other = app.user("other@example.com", Role::Engineer).await;
        let svc = app.token(None, "all").await;
        let ids = app
            .api(Method::POST, "/api/v1/findings/sarif", &svc, Some(sarif(3)))
            .await
            .json()["ids"]
            .clone();
        let (mine, theirs, nobody) = (
            ids[0].as_i64().unwrap(),
            ids[1].as_i64().unwrap(),
            ids[2].as_i64().unwrap(),
        );
        app.store.assign_finding(mine, Some(eng), T0).await.unwrap();
        app.store
            .assign_finding(theirs, Some(other), T0)
            .await
            .unwrap();

        let mut b = app.login("eng@example.com").await;
        assert_eq!(
            app.get(&mut b, &format!("/findings/{mine}")).await.status,
            StatusCode::OK
        );
        for id in [theirs, nobody] {
            let r = app.get(&mut b, &format!("/findings/{id}")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "finding {id}");
            assert!(!r.body.contains("Problem"), "no hint of the content");
        }
        let list = app.get(&mut b, "/findings").await;
        assert!(list.body.contains(&format!("/findings/{mine}")));
        assert!(!list.body.contains(&format!("/findings/{theirs}")));
        assert!(!list.body.contains(&format!("/findings/{nobody}")));
        // Asking for someone else's or unassigned work shows nothing more.
        for q in ["assignee=none", &format!("assignee={other}")] {
            let list = app.get(&mut b, &format!("/findings?{q}")).await;
            assert!(!list.body.contains(&format!("/findings/{theirs}")), "{q}");
            assert!(!list.body.contains(&format!("/findings/{nobody}")), "{q}");
        }
        // Changing someone else's finding is refused the same way.
        let csrf = csrf_of(&app.get(&mut b, "/account").await.body);
        let r = app
            .post_form(
                &mut b,
                &format!("/findings/{theirs}/status"),
                &[("csrf", &csrf), ("status", "resolved")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Their own: allowed, and recorded.
        let r = app
            .post_form(
                &mut b,
                &format!("/findings/{mine}/status"),
                &[("csrf", &csrf), ("status", "in_progress")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.get(&mut b, &format!("/findings/{mine}")).await;
        assert!(
            page.body.contains("open → in_progress"),
            "history shows the change"
        );
        // Engineers cannot assign.
        let r = app
            .post_form(
                &mut b,
                &format!("/findings/{mine}/assign"),
                &[("csrf", &csrf), ("assignee", &other.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Same over the API with the engineer's token.
        let t = app.token(Some(eng), "findings:read").await;
        assert_eq!(
            app.api(Method::GET, &format!("/api/v1/findings/{theirs}"), &t, None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.api(Method::GET, "/api/v1/findings", &t, None)
                .await
                .json()["total"],
            1
        );
    }
}

#[tokio::test]
async fn researchers_and_anonymous_users_never_see_findings() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("r@example.com", Role::Researcher).await;
    let svc = app.token(None, "all").await;
    app.api(Method::POST, "/api/v1/findings/sarif", &svc, Some(sarif(1)))
        .await;
    let mut b = app.login("r@example.com").await;
    assert_eq!(
        app.get(&mut b, "/findings").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&mut b, "/findings/1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&mut b, "/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&mut b, "/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );
    let mut anon = Browser::default();
    let r = app.get(&mut anon, "/findings/1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .send(
            axum::http::Request::builder()
                .uri("/api/v1/findings")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn first_admin_setup_link_works_once() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let state = rampart_web::AppState::new(app.store.store.clone(), Default::default())
            .with_clock(std::sync::Arc::new(app.clock.clone()));
        let link = rampart_web::first_admin_link(&state)
            .await
            .unwrap()
            .unwrap();
        let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
        let mut b = Browser::default();
        let page = app.get(&mut b, &path).await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = csrf_of(&page.body);
        // Invalid input keeps what was typed and says what to fix.
        let r = app
            .post_form(
                &mut b,
                &path,
                &[
                    ("csrf", &csrf),
                    ("email", "boss@example.com"),
                    ("password", "short"),
                    ("confirm", "short"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("value=\"boss@example.com\""));
        assert!(r.body.contains("at least 12 characters"));
        let r = app
            .post_form(
                &mut b,
                &path,
                &[
                    ("csrf", &csrf),
                    ("email", "boss@example.com"),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            app.get(&mut b, "/admin/users").await.status,
            StatusCode::OK,
            "signed in as admin"
        );
        let mut other = Browser::default();
        assert_eq!(
            app.get(&mut other, &path).await.status,
            StatusCode::NOT_FOUND,
            "used up"
        );
        assert!(
            rampart_web::first_admin_link(&state)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn admins_create_users_who_set_their_own_password() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("admin@example.com", Role::Admin).await;
    let mut b = app.login("admin@example.com").await;
    let csrf = csrf_of(&app.get(&mut b, "/admin/users").await.body);
    let bad = app
        .post_form(
            &mut b,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "not-an-email"),
                ("role", "engineer"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("value=\"not-an-email\""));
    let r = app
        .post_form(
            &mut b,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "new@example.com"),
                ("role", "engineer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let start = r.body.find("/set-password/").unwrap();
    let path = r.body[start..start + 14 + 64].to_owned();
    let mut nb = Browser::default();
    let page = app.get(&mut nb, &path).await;
    let c2 = csrf_of(&page.body);
    let r = app
        .post_form(
            &mut nb,
            &path,
            &[("csrf", &c2), ("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert_eq!(r.location(), "/login?reset=1");
    app.login("new@example.com").await;
    let audit = app.get(&mut b, "/admin/audit").await;
    assert!(audit.body.contains("user.create") && audit.body.contains("user.password_set"));
}

#[tokio::test]
async fn security_headers_are_on_every_route() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("admin@example.com", Role::Admin).await;
    let mut b = app.login("admin@example.com").await;
    let token = app.token(None, "all").await;
    app.api(
        Method::POST,
        "/api/v1/findings/sarif",
        &token,
        Some(sarif(1)),
    )
    .await;
    let paths = [
        "/",
        "/login",
        "/login/2fa",
        "/account",
        "/account/2fa",
        "/findings",
        "/findings/1",
        "/findings/999",
        "/admin/users",
        "/admin/audit",
        "/healthz",
        "/metrics",
        "/static/app.css",
        "/static/app.js",
        "/api/v1/openapi.json",
        "/api/v1/findings",
        "/api/v1/me",
        "/setup/nope",
        "/set-password/nope",
        "/no/such/page",
        "/programs",
        "/programs/nope",
        "/programs/nope/report",
        "/reports",
        "/reports/1",
        "/notifications",
        "/signup",
        "/invitations/nope",
        "/admin/programs/new",
        "/.well-known/security.txt",
        "/static/cvss.js",
        "/api/v1/programs",
        "/api/v1/reports",
    ];
    let mut anon = Browser::default();
    for path in paths {
        for browser in [&mut b, &mut anon] {
            let r = app.get(browser, path).await;
            let h = &r.headers;
            let csp = h
                .get(header::CONTENT_SECURITY_POLICY)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert!(
                csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "{path}: {csp}"
            );
            assert!(!csp.contains("unsafe-inline"), "{path}");
            assert_eq!(
                h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
                "nosniff",
                "{path}"
            );
            assert!(h.contains_key(header::REFERRER_POLICY), "{path}");
            assert!(
                !h.contains_key(header::STRICT_TRANSPORT_SECURITY),
                "{path}: no HSTS over plain HTTP"
            );
            assert!(r.status.as_u16() < 500, "{path}: {}", r.status);
        }
    }
    // With TLS in front, HSTS appears and cookies are Secure with the __Host- prefix.
    let tls = App::with_config(
        testkit::sqlite().await,
        rampart_web::WebConfig {
            hsts: true,
            secure_cookies: true,
            ..Default::default()
        },
    )
    .await;
    let r = tls.get(&mut Browser::default(), "/login").await;
    assert!(r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-rampart_csrf=") && cookie.contains("; Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn pages_contain_no_inline_script_or_style() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("admin@example.com", Role::Admin).await;
    let mut b = app.login("admin@example.com").await;
    let token = app.token(None, "all").await;
    app.api(
        Method::POST,
        "/api/v1/findings/sarif",
        &token,
        Some(sarif(2)),
    )
    .await;
    for path in [
        "/login",
        "/account",
        "/findings",
        "/findings/1",
        "/admin/users",
        "/admin/audit",
    ] {
        let body = app.get(&mut b, path).await.body;
        assert!(
            !body.contains("<script>") && !body.contains("style=") && !body.contains("<style"),
            "{path}"
        );
        assert!(
            !body.contains(" onclick=") && !body.contains(" onload="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let app = App::new(testkit::sqlite().await).await;
    let token = app.token(None, "all").await;
    let doc = app
        .send(
            axum::http::Request::builder()
                .uri("/api/v1/openapi.json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for must in [
        "/api/v1/findings",
        "/api/v1/findings/sarif",
        "/api/v1/findings/{id}",
    ] {
        assert!(paths.contains_key(must), "{must} documented");
    }
    for (path, ops) in paths {
        for (method, _) in ops.as_object().unwrap() {
            let concrete = path.replace("{id}", "1");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m == Method::POST).then(|| "{}".to_owned());
            let r = app.api(m.clone(), &concrete, &token, body).await;
            assert!(
                r.status != StatusCode::METHOD_NOT_ALLOWED
                    && !(r.status == StatusCode::NOT_FOUND
                        && r.body.contains("not found")
                        && concrete.matches('/').count() < 4
                        && !concrete.ends_with("/1")),
                "{method} {path} is documented but not served: {} {}",
                r.status,
                r.body
            );
        }
    }
}

#[tokio::test]
async fn api_edge_cases_found_by_fuzzing() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let token = app.token(None, "all").await;
        // Without a token a POST is 401 (not a CSRF 403): there is no cookie to forge.
        let r = app
            .send(
                axum::http::Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/findings")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(r#"{"findings":[]}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // NUL characters are refused with 400 on every backend, never a 500.
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings",
                &token,
                Some(
                    r#"{"findings":[{"source":"manual","title":"a\u0000b","severity":"high"}]}"#
                        .into(),
                ),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{}: {}",
            app.store.label,
            r.body
        );
        assert_eq!(r.json()["field"], "findings[0].title");
        for q in ["q=%00", "asset=%00", "source=%00"] {
            let r = app
                .api(Method::GET, &format!("/api/v1/findings?{q}"), &token, None)
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        }
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings/sarif?asset=%00",
                &token,
                Some(sarif(1)),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Whole-number floats count as integers, as JSON Schema says.
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings",
                &token,
                Some(
                    r#"{"findings":[{"source":"manual","title":"x","severity":"low","cwe":79.0}]}"#
                        .into(),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let id = r.json()["ids"][0].as_i64().unwrap();
        // Assigning to a user who does not exist is 404, like a missing finding.
        let r = app
            .api(
                Method::POST,
                &format!("/api/v1/findings/{id}/assignee"),
                &token,
                Some(r#"{"assignee_id":4242}"#.into()),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // An engineer is told it is the role, not the scope, that forbids ingestion.
        let eng = app.user("e@example.com", Role::Engineer).await;
        let t = app.token(Some(eng), "all").await;
        let r = app
            .api(
                Method::POST,
                "/api/v1/findings",
                &t,
                Some(r#"{"findings":[]}"#.into()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("engineer role")
        );
    }
}
