#![allow(clippy::unwrap_used)]
//! The programme and report API on SQLite and PostgreSQL: the contract in
//! the issue, and the negative paths (other researchers' reports, private
//! programmes, internal notes, URL guessing).

mod harness;

use axum::http::{Method, StatusCode};
use harness::App;
use rampart_core::Role;
use rampart_store::testkit;
use serde_json::json;

const PROGRAM: &str = r##"{
  "name": "Acme Shop", "slug": "acme", "visibility": "private",
  "policy": "# Policy\nOnly test accounts you own.",
  "scope": [
    {"type": "wildcard_domain", "identifier": "*.acme.test", "in_scope": true, "max_severity": "critical"},
    {"type": "domain", "identifier": "blog.acme.test", "in_scope": false, "note": "Third party"}
  ],
  "bounties": {"critical": 3000, "high": 1000, "medium": 300, "low": 100},
  "budget": 5000, "email": "security@acme.test"
}"##;

/// Errors of `doc` against a schema shipped in rampart-advisory's testdata,
/// resolving the CVSS schemas the CSAF schema refers to locally.
fn schema_errors(schema: &str, doc: &serde_json::Value) -> Vec<String> {
    let load = |p: &str| -> serde_json::Value {
        let full = format!("{}/../advisory/testdata/{p}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap()
    };
    let mut registry = jsonschema::Registry::new();
    for v in ["2.0", "3.0", "3.1"] {
        registry = registry
            .add(
                format!("https://www.first.org/cvss/cvss-v{v}.json"),
                load(&format!("csaf/referenced/cvss-v{v}.json")),
            )
            .unwrap();
    }
    let registry = registry.prepare().unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load(schema))
        .unwrap();
    validator.iter_errors(doc).map(|e| e.to_string()).collect()
}

struct Cast {
    admin: String,
    triager: String,
    alice: String,
    bob: String,
    engineer: String,
}

async fn cast(app: &App) -> Cast {
    let admin = app.user("admin@acme.test", Role::Admin).await;
    let triager = app.user("tri@acme.test", Role::Triager).await;
    let alice = app.user("alice@r.test", Role::Researcher).await;
    let bob = app.user("bob@r.test", Role::Researcher).await;
    let engineer = app.user("eng@acme.test", Role::Engineer).await;
    Cast {
        admin: app.token(Some(admin), "all").await,
        triager: app.token(Some(triager), "all").await,
        alice: app.token(Some(alice), "all").await,
        bob: app.token(Some(bob), "all").await,
        engineer: app.token(Some(engineer), "all").await,
    }
}

async fn post(app: &App, path: &str, token: &str, body: serde_json::Value) -> harness::Resp {
    app.api(Method::POST, path, token, Some(body.to_string()))
        .await
}

/// Creates the private programme and lets Alice in through an invitation.
async fn programme_with_alice(app: &App, c: &Cast) {
    let r = app
        .api(
            Method::POST,
            "/api/v1/programs",
            &c.admin,
            Some(PROGRAM.into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let inv = post(
        app,
        "/api/v1/programs/acme/invitations",
        &c.triager,
        json!({"email": "alice@r.test"}),
    )
    .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.body);
    let url = inv.json()["accept_url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap();
    // Bob cannot use Alice's link, and learns nothing from trying.
    let stolen = post(
        app,
        &format!("/api/v1/invitations/{token}/accept"),
        &c.bob,
        json!({}),
    )
    .await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let ok = post(
        app,
        &format!("/api/v1/invitations/{token}/accept"),
        &c.alice,
        json!({}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["program"], "acme");
}

#[tokio::test]
async fn the_programme_contract_and_private_visibility() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let c = cast(&app).await;
        // Only admins create programmes.
        let r = app
            .api(
                Method::POST,
                "/api/v1/programs",
                &c.triager,
                Some(PROGRAM.into()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        programme_with_alice(&app, &c).await;
        let p = app
            .api(Method::GET, "/api/v1/programs/acme", &c.admin, None)
            .await;
        let p = p.json();
        assert_eq!(p["scope"][0]["max_severity"], "critical");
        assert_eq!(p["bounties"]["high"], 1000);
        assert_eq!(p["targets"]["first_response_days"], 1);
        assert_eq!(p["budget"], 5000);
        assert_eq!(p["spent"], 0);
        // Alice (invited) sees it, without the budget; Bob gets a 404.
        let a = app
            .api(Method::GET, "/api/v1/programs/acme", &c.alice, None)
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.json().get("budget").is_none());
        let b = app
            .api(Method::GET, "/api/v1/programs/acme", &c.bob, None)
            .await;
        assert_eq!(b.status, StatusCode::NOT_FOUND);
        let list = app.api(Method::GET, "/api/v1/programs", &c.bob, None).await;
        assert_eq!(list.json().as_array().unwrap().len(), 0);
        let sub = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.bob,
            json!({"title": "x", "description": "y"}),
        )
        .await;
        assert_eq!(
            sub.status,
            StatusCode::NOT_FOUND,
            "no submission to a hidden programme"
        );
        // Launch: public for everyone, with its history.
        let l = post(&app, "/api/v1/programs/acme/launch", &c.admin, json!({})).await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.body);
        let b = app
            .api(Method::GET, "/api/v1/programs/acme", &c.bob, None)
            .await;
        assert_eq!(b.json()["visibility"], "public");
        // Bad input names the field.
        let bad = app
            .api(
                Method::POST,
                "/api/v1/programs",
                &c.admin,
                Some(PROGRAM.replace("\"acme\"", "\"Acme Shop!\"")),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.json()["field"], "slug");
        let dup = app
            .api(
                Method::POST,
                "/api/v1/programs",
                &c.admin,
                Some(PROGRAM.into()),
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn a_report_from_submission_to_bounty_through_the_api() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let c = cast(&app).await;
        programme_with_alice(&app, &c).await;
        let r = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            json!({
                "title": "IDOR on /api/orders/{id}",
                "description": "Any user can read any order by changing the id.",
                "asset": "api.acme.test",
                "cwe": 639,
                "cvss_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"
            }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let report = r.json();
        let id = report["id"].as_i64().unwrap();
        assert_eq!(report["state"], "new");
        assert_eq!(report["turn"], "team");
        assert_eq!(report["severity"], "high");
        assert_eq!(report["out_of_scope"], false);
        assert!(
            report.get("assignee_id").is_none(),
            "team-only fields hidden"
        );
        let ack = &report["thread"][0];
        assert_eq!(ack["kind"], "ack");
        assert!(ack["body"].as_str().unwrap().contains(&format!("#{id}")));

        let path = |p: &str| format!("/api/v1/reports/{id}{p}");
        // Team asks for more, with an internal note on the side.
        let nmi = post(
            &app,
            &path("/state"),
            &c.triager,
            json!({"state": "needs_more_info", "reason": "Which account did you use?"}),
        )
        .await;
        assert_eq!(nmi.status, StatusCode::OK, "{}", nmi.body);
        assert_eq!(nmi.json()["turn"], "researcher");
        let note = post(
            &app,
            &path("/comments"),
            &c.triager,
            json!({"body": "INTERNAL: check the audit log", "internal": true}),
        )
        .await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
        // Alice answers; the report comes back to the team.
        let answer = post(
            &app,
            &path("/comments"),
            &c.alice,
            json!({"body": "Two test accounts, ids 7 and 8."}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED);
        let seen = app.api(Method::GET, &path(""), &c.alice, None).await.json();
        assert_eq!(seen["state"], "new");
        let thread = seen["thread"].as_array().unwrap();
        assert!(
            thread
                .iter()
                .all(|e| !e["body"].as_str().unwrap().contains("INTERNAL")),
            "internal notes never reach the researcher"
        );
        assert!(thread.iter().any(|e| e["author"] == "Security team"));
        // Researchers may not write internal notes or triage.
        let sneaky = post(
            &app,
            &path("/comments"),
            &c.alice,
            json!({"body": "x", "internal": true}),
        )
        .await;
        assert_eq!(sneaky.status, StatusCode::CONFLICT);
        let self_triage = post(&app, &path("/state"), &c.alice, json!({"state": "triaged"})).await;
        assert_eq!(self_triage.status, StatusCode::CONFLICT);
        assert!(
            self_triage.body.contains("researchers answer"),
            "{}",
            self_triage.body
        );

        for (state, token) in [
            ("triaged", &c.triager),
            ("retesting", &c.triager),
            ("resolved", &c.alice),
        ] {
            let r = post(&app, &path("/state"), token, json!({"state": state})).await;
            assert_eq!(r.status, StatusCode::OK, "{state}: {}", r.body);
        }
        let sev = post(
            &app,
            &path("/severity"),
            &c.triager,
            json!({"cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"}),
        )
        .await;
        assert_eq!(sev.json()["final_severity"], "medium");
        assert_eq!(
            sev.json()["severity"],
            "high",
            "the researcher's estimate is kept"
        );
        let award = post(
            &app,
            &path("/bounty"),
            &c.triager,
            json!({"amount": 1000, "bonus": 100}),
        )
        .await;
        assert_eq!(award.status, StatusCode::CREATED, "{}", award.body);
        let over = post(&app, &path("/bounty"), &c.triager, json!({"amount": 4000})).await;
        assert_eq!(over.status, StatusCode::CONFLICT);
        assert!(over.body.contains("budget"), "{}", over.body);
        let self_award = post(&app, &path("/bounty"), &c.alice, json!({"amount": 5})).await;
        assert_eq!(self_award.status, StatusCode::FORBIDDEN);
        let mine = app.api(Method::GET, &path(""), &c.alice, None).await.json();
        assert_eq!(mine["state"], "resolved");
        assert_eq!(mine["bounties"][0]["amount"], 1000);
        assert_eq!(mine["bounties"][0]["status"], "pending");
        // Disclosure: the team proposes a redacted write-up, the researcher agrees.
        let early = post(
            &app,
            &path("/disclosure"),
            &c.alice,
            json!({"summary": "x"}),
        )
        .await;
        assert_eq!(
            early.status,
            StatusCode::CONFLICT,
            "the write-up is the team's"
        );
        let without = post(&app, &path("/disclosure"), &c.triager, json!({})).await;
        assert_eq!(without.status, StatusCode::CONFLICT);
        assert!(
            without.body.contains("write-up (summary)"),
            "{}",
            without.body
        );
        let ask = post(
            &app,
            &path("/disclosure"),
            &c.triager,
            json!({"summary": "IDOR on the orders API let any user read any order. Fixed by an owner check."}),
        )
        .await;
        assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);
        assert_eq!(ask.json()["disclosure"], "requested_by_team");
        let agree = post(&app, &path("/disclosure"), &c.alice, json!({})).await;
        assert_eq!(agree.json()["disclosure"], "disclosed", "{}", agree.body);
        let url = agree.json()["url"].as_str().unwrap().to_owned();
        assert!(url.ends_with(&format!("/programs/acme/disclosed/{id}")));
        let again = post(&app, &path("/disclosure"), &c.alice, json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let public_path = url.trim_start_matches("http://127.0.0.1:8080");
        let page = app
            .send(
                axum::http::Request::builder()
                    .uri(public_path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        // The programme is private: strangers see nothing until launch.
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        post(&app, "/api/v1/programs/acme/launch", &c.admin, json!({})).await;
        let page = app
            .send(
                axum::http::Request::builder()
                    .uri(public_path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Fixed by an owner check."));
        assert!(!page.body.contains("INTERNAL"), "notes never published");
        // The advisory exports are valid against the official schemas.
        let get = |p: String| {
            app.send(
                axum::http::Request::builder()
                    .uri(p)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
        };
        let osv = get(format!("{public_path}/osv.json")).await.json();
        assert_eq!(osv["id"], format!("x_RAMPART-acme-{id}"));
        // The team's final vector (3.1 here) is the one published.
        assert_eq!(osv["severity"][0]["type"], "CVSS_V3");
        let problems = schema_errors("osv/schema.json", &osv);
        assert!(problems.is_empty(), "OSV: {problems:?}");
        let csaf = get(format!("{public_path}/csaf.json")).await.json();
        assert_eq!(csaf["document"]["csaf_version"], "2.0");
        let problems = schema_errors("csaf/csaf_json_schema.json", &csaf);
        assert!(problems.is_empty(), "CSAF: {problems:?}");
        assert!(rampart_advisory::check_csaf(&csaf).is_empty());
        assert!(
            !page
                .body
                .contains("Any user can read any order by changing the id."),
            "only the chosen write-up"
        );
        let notes = app
            .api(Method::GET, "/api/v1/notifications", &c.alice, None)
            .await
            .json();
        assert!(
            notes
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "bounty_awarded")
        );
    }
}

#[tokio::test]
async fn researchers_never_see_each_others_reports() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let c = cast(&app).await;
        programme_with_alice(&app, &c).await;
        post(&app, "/api/v1/programs/acme/launch", &c.admin, json!({})).await;
        let r = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            json!({"title": "SQL injection in search", "description": "' OR 1=1 --", "asset": "blog.acme.test"}),
        )
        .await;
        let report = r.json();
        assert_eq!(report["out_of_scope"], true, "flagged, but taken");
        let id = report["id"].as_i64().unwrap();
        // Bob guesses URLs: every one is a 404, like a report that does not exist.
        for path in [
            format!("/api/v1/reports/{id}"),
            format!("/api/v1/reports/{}", id + 1000),
        ] {
            let r = app.api(Method::GET, &path, &c.bob, None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        }
        for (p, body) in [
            ("comments", json!({"body": "hi"})),
            ("state", json!({"state": "resolved"})),
        ] {
            let r = post(&app, &format!("/api/v1/reports/{id}/{p}"), &c.bob, body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}");
        }
        let list = app
            .api(Method::GET, "/api/v1/reports", &c.bob, None)
            .await
            .json();
        assert_eq!(list.as_array().unwrap().len(), 0);
        // An engineer sees only reports assigned to them.
        let e = app
            .api(
                Method::GET,
                &format!("/api/v1/reports/{id}"),
                &c.engineer,
                None,
            )
            .await;
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        // The team sees it.
        let t = app
            .api(Method::GET, "/api/v1/reports", &c.triager, None)
            .await
            .json();
        assert_eq!(t.as_array().unwrap().len(), 1);
        // Duplicates: Bob's report of the same bug follows Alice's, read-only.
        let bobs = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.bob,
            json!({"title": "SQLi on blog search", "description": "search param injectable"}),
        )
        .await
        .json();
        let bid = bobs["id"].as_i64().unwrap();
        let d = post(
            &app,
            &format!("/api/v1/reports/{bid}/state"),
            &c.triager,
            json!({"state": "duplicate", "duplicate_of": id, "reason": "Reported before"}),
        )
        .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.body);
        let follow = app
            .api(Method::GET, &format!("/api/v1/reports/{id}"), &c.bob, None)
            .await;
        assert_eq!(follow.status, StatusCode::OK);
        let write = post(
            &app,
            &format!("/api/v1/reports/{id}/comments"),
            &c.bob,
            json!({"body": "me too"}),
        )
        .await;
        assert_eq!(write.status, StatusCode::CONFLICT, "followers read only");
        // Invalid state names and ids are 400s that name the field.
        let bad = post(
            &app,
            &format!("/api/v1/reports/{id}/state"),
            &c.triager,
            json!({"state": "closed"}),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let bad_id = app
            .api(Method::GET, "/api/v1/reports/abc", &c.triager, None)
            .await;
        assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn submissions_are_rate_limited_per_researcher() {
    let config = rampart_web::WebConfig {
        reports_per_hour: 2,
        ..Default::default()
    };
    let app = App::with_config(testkit::sqlite().await, config).await;
    let c = cast(&app).await;
    programme_with_alice(&app, &c).await;
    let body = json!({"title": "t", "description": "d"});
    for _ in 0..2 {
        let r = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            body.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = post(&app, "/api/v1/programs/acme/reports", &c.alice, body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn duplicate_suggestions_are_ranked_for_the_team_only() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let c = cast(&app).await;
        programme_with_alice(&app, &c).await;
        post(&app, "/api/v1/programs/acme/launch", &c.admin, json!({})).await;
        let first = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            json!({"title": "Open redirect via next parameter on login", "description": "https://shop.acme.test/login?next=https://evil.example redirects after sign-in.", "asset": "shop.acme.test", "cwe": 601}),
        )
        .await
        .json();
        post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            json!({"title": "Stored XSS in order notes", "description": "Order notes render HTML.", "asset": "shop.acme.test", "cwe": 79}),
        )
        .await;
        let second = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.bob,
            json!({"title": "Unvalidated redirect after login", "description": "GET /login?next=//attacker.test sends users to the attacker once signed in.", "asset": "shop.acme.test"}),
        )
        .await
        .json();
        let path = format!("/api/v1/reports/{}/duplicates", second["id"]);
        let r = app.api(Method::GET, &path, &c.triager, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let list = r.json();
        assert_eq!(list[0]["report_id"], first["id"], "{list}");
        assert_eq!(list[0]["kind"], "report");
        assert!(!list[0]["reasons"].as_array().unwrap().is_empty());
        // Researchers never see other people's reports, not even as suggestions.
        let r = app.api(Method::GET, &path, &c.bob, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

/// Findings of the security review, each pinned by a test.
#[tokio::test]
async fn review_findings_stay_fixed() {
    for s in testkit::all().await {
        let app = App::new(s).await;
        let c = cast(&app).await;
        programme_with_alice(&app, &c).await;
        post(&app, "/api/v1/programs/acme/launch", &c.admin, json!({})).await;
        // A token (even an admin's) cannot post to the web forms: scopes
        // are the API's, and forms need a browser session.
        let narrow = app.token(None, "findings:write").await;
        let r = app
            .send(
                axum::http::Request::builder()
                    .method(Method::POST)
                    .uri("/admin/programs/acme/launch")
                    .header("authorization", format!("Bearer {narrow}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from(""))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // Engineers see neither budgets nor suggestions about other reports.
        let p = app
            .api(Method::GET, "/api/v1/programs/acme", &c.engineer, None)
            .await
            .json();
        assert!(p.get("budget").is_none() && p.get("spent").is_none(), "{p}");
        let a = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.alice,
            json!({"title": "SSRF in the image proxy", "description": "GET /proxy?url=http://169.254.169.254/ returns metadata.", "asset": "shop.acme.test"}),
        )
        .await
        .json();
        let b = post(
            &app,
            "/api/v1/programs/acme/reports",
            &c.bob,
            json!({"title": "Image proxy SSRF", "description": "/proxy?url= fetches internal addresses.", "asset": "shop.acme.test"}),
        )
        .await
        .json();
        let (aid, bid) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
        let r = app
            .api(
                Method::GET,
                &format!("/api/v1/reports/{aid}/duplicates"),
                &c.engineer,
                None,
            )
            .await;
        assert_ne!(r.status, StatusCode::OK);
        // A follower sees the original's thread but not its awards, and
        // the original's researcher only as "Researcher".
        post(
            &app,
            &format!("/api/v1/reports/{aid}/state"),
            &c.triager,
            json!({"state": "triaged"}),
        )
        .await;
        post(
            &app,
            &format!("/api/v1/reports/{aid}/comments"),
            &c.alice,
            json!({"body": "Also works with IPv6"}),
        )
        .await;
        post(
            &app,
            &format!("/api/v1/reports/{aid}/bounty"),
            &c.triager,
            json!({"amount": 1000}),
        )
        .await;
        post(
            &app,
            &format!("/api/v1/reports/{bid}/state"),
            &c.triager,
            json!({"state": "duplicate", "duplicate_of": aid}),
        )
        .await;
        let seen = app
            .api(Method::GET, &format!("/api/v1/reports/{aid}"), &c.bob, None)
            .await
            .json();
        assert_eq!(seen["bounties"].as_array().unwrap().len(), 0, "{seen}");
        assert!(
            seen["thread"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["author"] == "Researcher")
        );
        let notes = app
            .api(Method::GET, "/api/v1/notifications", &c.bob, None)
            .await
            .json();
        assert!(
            !notes
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "bounty_awarded")
        );
        // Invitation tokens that are not 64 hex digits are simply unknown.
        let r = post(
            &app,
            "/api/v1/invitations/null%0D%0Ax/accept",
            &c.alice,
            json!({}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}
