#![allow(clippy::unwrap_used)]
//! The programme's pages as a browser uses them (forms with CSRF tokens,
//! cookies), on SQLite and PostgreSQL: security.txt against RFC 9116,
//! sign-up, invitations, the report form keeping what was typed, Markdown
//! that cannot carry script, and the negative paths by URL guessing.

mod harness;

use axum::http::{Method, StatusCode};
use harness::{App, Browser, csrf_of};
use rampart_core::Role;
use rampart_store::testkit;

const PROGRAM: &str = r##"{
  "name": "Acme Shop", "slug": "acme", "visibility": "private",
  "summary": "The web shop and its API.",
  "policy": "# Policy\n\nOnly test **your own** accounts. <script>alert('policy')</script>",
  "scope": [
    {"type": "wildcard_domain", "identifier": "*.acme.test", "in_scope": true, "max_severity": "critical"},
    {"type": "domain", "identifier": "blog.acme.test", "in_scope": false, "note": "Third party"}
  ],
  "bounties": {"critical": 3000, "high": 1000, "medium": 300, "low": 100},
  "email": "security@acme.test"
}"##;

async fn setup(app: &App) -> (String, Browser) {
    let admin = app.user("admin@acme.test", Role::Admin).await;
    let token = app.token(Some(admin), "all").await;
    let r = app
        .api(
            Method::POST,
            "/api/v1/programs",
            &token,
            Some(PROGRAM.into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let browser = app.login("admin@acme.test").await;
    (token, browser)
}

/// Signs a researcher up through the form; returns their signed-in browser.
async fn sign_up(app: &App, email: &str, handle: &str) -> Browser {
    let mut b = Browser::default();
    let page = app.get(&mut b, "/signup").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    let r = app
        .post_form(
            &mut b,
            "/signup",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("handle", handle),
                ("password", harness::PASSWORD),
                ("thanks", "1"),
                ("next", "/programs"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with("/login?next="), "{}", r.location());
    app.login(email).await
}

#[tokio::test]
async fn security_txt_follows_rfc_9116() {
    // RFC 9116 requires https URIs, so Rampart must be reached over https.
    let config = rampart_web::WebConfig {
        public_url: "https://security.acme.test".into(),
        security_txt: rampart_web::SecurityTxtConfig {
            preferred_languages: vec!["en".into(), "de".into()],
            hiring: Some("https://acme.test/jobs".into()),
            encryption: Some("https://security.acme.test/pgp-key.txt".into()),
            expires_days: 60,
        },
        ..Default::default()
    };
    let app = App::with_config(testkit::sqlite().await, config).await;
    let (token, _) = setup(&app).await;
    let mut anon = Browser::default();
    // A private programme is not advertised.
    let before = app.get(&mut anon, "/.well-known/security.txt").await;
    assert!(!before.body.contains("/programs/acme"), "{}", before.body);
    app.api(
        Method::POST,
        "/api/v1/programs/acme/launch",
        &token,
        Some("{}".into()),
    )
    .await;
    let r = app.get(&mut anon, "/.well-known/security.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let problems = rampart_core::securitytxt::check(&r.body, harness::T0);
    assert!(problems.is_empty(), "{problems:?}\n{}", r.body);
    assert!(
        r.body
            .contains("Contact: https://security.acme.test/programs/acme/report\n")
    );
    assert!(r.body.contains("Contact: mailto:security@acme.test\n"));
    assert!(
        r.body
            .contains("Policy: https://security.acme.test/programs/acme\n")
    );
    assert_eq!(r.body.matches("Expires:").count(), 1);
    assert!(r.body.contains("Preferred-Languages: en, de\n"));
    assert!(r.body.contains("Hiring: https://acme.test/jobs\n"));
    assert!(
        r.body
            .contains("Encryption: https://security.acme.test/pgp-key.txt\n")
    );
    let legacy = app.get(&mut anon, "/security.txt").await;
    assert_eq!(legacy.status, StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn private_programmes_are_invisible_until_invited() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let (_, mut admin) = setup(&app).await;
        let mut anon = Browser::default();
        for path in ["/programs/acme", "/programs/acme/report"] {
            let r = app.get(&mut anon, path).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::SEE_OTHER,
                "{path}: {}",
                r.status
            );
            assert!(!r.body.contains("Acme Shop"), "{path} leaks the name");
        }
        let list = app.get(&mut anon, "/programs").await;
        assert!(!list.body.contains("Acme Shop"));

        let mut mallory = sign_up(&app, "mallory@r.test", "mallory").await;
        assert_eq!(
            app.get(&mut mallory, "/programs/acme").await.status,
            StatusCode::NOT_FOUND
        );
        // The admin invites Alice on the programme page.
        let page = app.get(&mut admin, "/programs/acme").await;
        assert!(
            page.body
                .contains("Only test <strong>your own</strong> accounts")
        );
        assert!(
            !page.body.contains("<script>alert"),
            "policy Markdown is escaped"
        );
        let csrf = csrf_of(&page.body);
        let r = app
            .post_form(
                &mut admin,
                "/admin/programs/acme/invite",
                &[("csrf", &csrf), ("email", "alice@r.test")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let marker = "/invitations/";
        let start = r.body.find(marker).unwrap() + marker.len();
        let token = &r.body[start..start + 64];
        let link = format!("/invitations/{token}");
        // Mallory cannot use Alice's link.
        assert_eq!(
            app.get(&mut mallory, &link).await.status,
            StatusCode::NOT_FOUND
        );
        let mut alice = sign_up(&app, "alice@r.test", "alice").await;
        let inv = app.get(&mut alice, &link).await;
        assert!(inv.body.contains("Acme Shop"), "{}", inv.body);
        let csrf = csrf_of(&inv.body);
        let r = app
            .post_form(&mut alice, &link, &[("csrf", &csrf), ("answer", "accept")])
            .await;
        assert_eq!(r.location(), "/programs/acme");
        let p = app.get(&mut alice, "/programs/acme").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains("Submit a report"));
        assert!(p.body.contains("3,000 USD"), "bounty table shown");
        assert_eq!(
            app.get(&mut mallory, "/programs/acme").await.status,
            StatusCode::NOT_FOUND,
            "still hidden from the uninvited"
        );
    }
}

#[tokio::test]
async fn the_report_form_keeps_what_was_typed_and_the_thread_hides_notes() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let (token, mut admin) = setup(&app).await;
        app.api(
            Method::POST,
            "/api/v1/programs/acme/launch",
            &token,
            Some("{}".into()),
        )
        .await;
        let mut alice = sign_up(&app, "alice@r.test", "alice").await;
        let form = app.get(&mut alice, "/programs/acme/report").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("data-cvss-calculator"));
        assert!(form.body.contains("CWE-79 "), "weakness suggestions");
        let csrf = csrf_of(&form.body);
        let xss = "<img src=x onerror=alert(1)>";
        let fields = |vector: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("title", format!("Stored XSS {xss}")),
                ("asset", "shop.acme.test".into()),
                ("weakness", "CWE-79 Improper Neutralization".into()),
                ("cvss_vector", vector.into()),
                (
                    "description",
                    format!("Payload: {xss}\n\n[click](javascript:alert(2))"),
                ),
                ("steps", "1. Open the profile".into()),
                ("impact", "Session theft".into()),
            ]
        };
        // A bad vector: the form comes back with the error and every field kept.
        let bad = fields("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L");
        let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_multipart(
                &mut alice,
                "/programs/acme/report",
                &pairs,
                &[("attachments", "poc.png", b"\x89PNG fake image")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("field--invalid"), "{}", r.body);
        assert!(
            r.body.contains("(Availability)") || r.body.contains("A ("),
            "names the metric: {}",
            r.body
        );
        assert!(r.body.contains("1. Open the profile"));
        assert!(r.body.contains("Session theft"));
        assert!(
            r.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "typed text kept, escaped: {}",
            r.body
        );
        assert!(!r.body.contains(xss));

        let good = fields("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N");
        // The file from the failed attempt is offered again, already uploaded.
        assert!(r.body.contains("poc.png"), "staged file kept");
        let marker = "name=\"staged\" value=\"";
        let at = r.body.find(marker).expect("staged checkbox") + marker.len();
        let staged_id: String = r.body[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let mut pairs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("staged", &staged_id));
        // An executable is refused with the reason, and nothing is lost.
        let refused = app
            .post_multipart(
                &mut alice,
                "/programs/acme/report",
                &pairs,
                &[("attachments", "tool.exe", b"MZ")],
            )
            .await;
        assert!(
            refused
                .body
                .contains("tool.exe: files of this type are not accepted"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains("poc.png"));
        let r = app
            .post_multipart(&mut alice, "/programs/acme/report", &pairs, &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let report_path = r.location().to_owned();
        let page = app.get(&mut alice, &report_path).await;
        assert!(
            page.body.contains("Thank you for your report #"),
            "acknowledged"
        );
        assert!(!page.body.contains(xss), "title and description escaped");
        assert!(!page.body.contains("javascript:alert(2)"));
        assert!(page.body.contains("CWE-79: Improper Neutralization"));
        // The attachment is there, downloadable by Alice, as a download.
        let marker = "/files/";
        let at = page.body.find(marker).expect("attachment link") + marker.len();
        let file_id: String = page.body[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let file_path = format!("{report_path}/files/{file_id}");
        let dl = app.get(&mut alice, &file_path).await;
        assert_eq!(dl.status, StatusCode::OK);
        assert_eq!(dl.body, "\u{fffd}PNG fake image");
        assert_eq!(
            dl.headers.get("content-type").unwrap(),
            "application/octet-stream"
        );
        assert!(
            dl.headers
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(dl.headers.get("x-content-type-options").unwrap(), "nosniff");

        // The team writes an internal note and asks for more information.
        let team_view = app.get(&mut admin, &report_path).await;
        let csrf_a = csrf_of(&team_view.body);
        let posted = app
            .post_multipart(
                &mut admin,
                &format!("{report_path}/comment"),
                &[
                    ("csrf", &csrf_a),
                    ("body", "SECRET triage note"),
                    ("internal", "1"),
                ],
                &[("attachments", "internal-notes.txt", b"team only")],
            )
            .await;
        assert!(
            posted.location().ends_with("#thread-end"),
            "{}",
            posted.body
        );
        let r = app
            .post_form(
                &mut admin,
                &format!("{report_path}/state"),
                &[
                    ("csrf", &csrf_a),
                    ("state", "needs_more_info"),
                    ("reason", "Which browser did you use?"),
                ],
            )
            .await;
        assert!(r.body.contains("Needs more info"), "{}", r.body);
        let team_view = app.get(&mut admin, &report_path).await;
        assert!(
            team_view.body.contains("SECRET triage note"),
            "{}",
            team_view.body
        );
        assert!(team_view.body.contains("Internal note"));
        let researcher_view = app.get(&mut alice, &report_path).await;
        assert!(!researcher_view.body.contains("SECRET triage note"));
        assert!(researcher_view.body.contains("Which browser did you use?"));
        assert!(researcher_view.body.contains("Security team"));

        // Another researcher guessing the URL gets a 404, as for no report.
        let mut mallory = sign_up(&app, "mallory@r.test", "mallory").await;
        let r = app.get(&mut mallory, &report_path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.get(&mut mallory, &file_path).await.status,
            StatusCode::NOT_FOUND,
            "nor its files"
        );
        // The internal note's file is the team's only.
        let team_page = app.get(&mut admin, &report_path).await.body;
        assert!(team_page.contains("internal-notes.txt"));
        let at = team_page.rfind("/files/").unwrap() + "/files/".len();
        let note_file: String = team_page[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let note_path = format!("{report_path}/files/{note_file}");
        assert_eq!(app.get(&mut admin, &note_path).await.status, StatusCode::OK);
        assert_eq!(
            app.get(&mut alice, &note_path).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(
            !app.get(&mut alice, &report_path)
                .await
                .body
                .contains("internal-notes.txt")
        );
        assert!(!r.body.contains("Stored XSS"));
        let csrf_m = csrf_of(&app.get(&mut mallory, "/reports").await.body);
        let r = app
            .post_multipart(
                &mut mallory,
                &format!("{report_path}/comment"),
                &[("csrf", &csrf_m), ("body", "hi")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let inbox = app.get(&mut admin, "/reports").await;
        assert!(inbox.body.contains("Triage inbox"));
        assert!(inbox.body.contains("Stored XSS"));
        let mine = app.get(&mut mallory, "/reports").await;
        assert!(!mine.body.contains("Stored XSS"));
        // Notifications reached Alice.
        let n = app.get(&mut alice, "/notifications").await;
        assert!(n.body.contains("is now Needs more info"), "{}", n.body);
    }
}

#[tokio::test]
async fn admins_create_programmes_in_the_browser_and_errors_keep_the_form() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("admin@acme.test", Role::Admin).await;
    let mut admin = app.login("admin@acme.test").await;
    let form = app.get(&mut admin, "/admin/programs/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("name", "Widgets"),
        ("slug", "Widgets Inc"),
        ("visibility", "private"),
        (
            "scope",
            "url https://widgets.test critical | Main site\n- domain old.widgets.test",
        ),
        ("bounty_critical", "2,000"),
        ("bounty_high", "800"),
        ("bounty_medium", "200"),
        ("bounty_low", "50"),
        ("budget", "10000"),
        ("currency", "EUR"),
        ("policy", "Be kind."),
    ];
    let r = app.post_form(&mut admin, "/admin/programs", &fields).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("field--invalid"));
    assert!(r.body.contains("Main site"), "scope text kept");
    fields[2] = ("slug", "widgets");
    let r = app.post_form(&mut admin, "/admin/programs", &fields).await;
    assert_eq!(r.location(), "/programs/widgets", "{}", r.body);
    let page = app.get(&mut admin, "/programs/widgets").await;
    assert!(page.body.contains("2,000 EUR"));
    assert!(page.body.contains("old.widgets.test"));
    // Researchers and triagers cannot reach the admin pages.
    app.user("tri@acme.test", Role::Triager).await;
    let mut tri = app.login("tri@acme.test").await;
    assert_eq!(
        app.get(&mut tri, "/admin/programs/new").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_team_assigns_links_templates_and_exports_bounties() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let (token, mut admin) = setup(&app).await;
        app.api(
            Method::POST,
            "/api/v1/programs/acme/launch",
            &token,
            Some("{}".into()),
        )
        .await;
        let engineer = app.user("eng@acme.test", Role::Engineer).await;
        let mut eng = app.login("eng@acme.test").await;
        let alice = app.user("alice@r.test", Role::Researcher).await;
        let alice_token = app.token(Some(alice), "all").await;
        let r = app
            .api(
                Method::POST,
                "/api/v1/programs/acme/reports",
                &alice_token,
                Some(
                    r#"{"title":"=HYPERLINK(\"http://evil\")","description":"CSV injection in the title","asset":"shop.acme.test","cvss_vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}"#
                        .into(),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["id"].as_i64().unwrap();
        let path = format!("/reports/{id}");
        assert_eq!(app.get(&mut eng, &path).await.status, StatusCode::NOT_FOUND);
        let page = app.get(&mut admin, &path).await;
        let csrf = csrf_of(&page.body);
        assert!(
            page.body.contains("Need more information"),
            "templates offered"
        );
        let r = app
            .post_form(
                &mut admin,
                &format!("{path}/assign"),
                &[("csrf", &csrf), ("assignee", &engineer.to_string())],
            )
            .await;
        assert!(r.body.contains("Assignment saved."), "{}", r.body);
        assert_eq!(
            app.get(&mut eng, &path).await.status,
            StatusCode::OK,
            "assigned engineers see it"
        );
        let bad = app
            .post_form(
                &mut admin,
                &format!("{path}/tracker"),
                &[("csrf", &csrf), ("tracker_url", "javascript:alert(1)")],
            )
            .await;
        assert!(bad.body.contains("must be an http(s) address"));
        let ok = app
            .post_form(
                &mut admin,
                &format!("{path}/tracker"),
                &[
                    ("csrf", &csrf),
                    ("tracker_url", "https://jira.acme.test/browse/SEC-7"),
                ],
            )
            .await;
        assert!(ok.body.contains("https://jira.acme.test/browse/SEC-7"));
        // A template posted without a message sends the template's text.
        let templates = app.get(&mut admin, "/admin/templates").await;
        assert!(templates.body.contains("Fixed, please retest"));
        // The first real option of the template menu (after "No template").
        let menu = &page.body[page.body.find("name=\"template\"").unwrap()..];
        let tid: String = menu
            .split("<option value=\"")
            .nth(2)
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let posted = app
            .post_multipart(
                &mut admin,
                &format!("{path}/comment"),
                &[("csrf", &csrf), ("body", ""), ("template", &tid)],
                &[],
            )
            .await;
        assert!(
            posted.location().ends_with("#thread-end"),
            "{}",
            posted.body
        );
        let thread = app.get(&mut admin, &path).await.body;
        assert!(
            rampart_programme::DEFAULT_TEMPLATES
                .iter()
                .any(|(_, body)| thread.contains(body)),
            "a template's text was posted"
        );
        // Bounty, payout, and the finance export with formulas defused.
        let tri = app
            .api(
                Method::POST,
                &format!("/api/v1/reports/{id}/state"),
                &token,
                Some(r#"{"state":"triaged"}"#.into()),
            )
            .await;
        assert_eq!(tri.status, StatusCode::OK);
        let b = app
            .api(
                Method::POST,
                &format!("/api/v1/reports/{id}/bounty"),
                &token,
                Some(r#"{"amount":3000}"#.into()),
            )
            .await;
        let bid = b.json()["id"].as_i64().unwrap();
        let paid = app
            .post_form(
                &mut admin,
                &format!("{path}/bounties/{bid}/paid"),
                &[("csrf", &csrf), ("reference", "wire 42")],
            )
            .await;
        assert!(paid.body.contains("Marked as paid."), "{}", paid.body);
        let csv = app
            .get(&mut admin, "/admin/programs/acme/bounties.csv")
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with("award_id,report_id,report_title,"));
        assert!(
            csv.body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{}",
            csv.body
        );
        assert!(csv.body.contains(",paid,"));
        assert!(csv.body.contains("\"wire 42\""));
        assert_eq!(
            app.get(&mut eng, "/admin/programs/acme/bounties.csv")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn researchers_choose_their_handle_and_whether_they_are_thanked() {
    let app = App::new(testkit::sqlite().await).await;
    let mut alice = sign_up(&app, "alice@r.test", "alice").await;
    let page = app.get(&mut alice, "/account").await;
    assert!(page.body.contains("Public profile"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let r = app
        .post_form(
            &mut alice,
            "/account/profile",
            &[("csrf", &csrf), ("handle", "ada_l")],
        )
        .await;
    assert_eq!(r.location(), "/account?done=profile");
    let id = app.store.user_by_email("alice@r.test").await.unwrap().id;
    let p = app.store.researcher_profile(id).await.unwrap();
    assert_eq!(p.handle.as_deref(), Some("ada_l"));
    assert!(!p.show_in_thanks, "unticked means not named");
    // A handle already taken is refused.
    let mut bob = sign_up(&app, "bob@r.test", "bobby").await;
    let csrf = csrf_of(&app.get(&mut bob, "/account").await.body);
    let r = app
        .post_form(
            &mut bob,
            "/account/profile",
            &[("csrf", &csrf), ("handle", "ADA_L")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn signing_up_with_a_taken_address_answers_like_a_new_one() {
    let app = App::new(testkit::sqlite().await).await;
    app.user("alice@r.test", Role::Researcher).await;
    let mut b = Browser::default();
    let page = app.get(&mut b, "/signup").await;
    let csrf = csrf_of(&page.body);
    let taken = app
        .post_form(
            &mut b,
            "/signup",
            &[
                ("csrf", &csrf),
                ("email", "alice@r.test"),
                ("handle", "someone"),
                ("password", harness::PASSWORD),
                ("next", "/programs"),
            ],
        )
        .await;
    let mut b2 = Browser::default();
    let page = app.get(&mut b2, "/signup").await;
    let csrf = csrf_of(&page.body);
    let fresh = app
        .post_form(
            &mut b2,
            "/signup",
            &[
                ("csrf", &csrf),
                ("email", "new@r.test"),
                ("handle", "newbie"),
                ("password", harness::PASSWORD),
                ("next", "/programs"),
            ],
        )
        .await;
    assert_eq!(taken.status, fresh.status);
    assert_eq!(taken.location(), fresh.location());
}
