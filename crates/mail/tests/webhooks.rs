#![allow(clippy::unwrap_used)]
//! Slack and generic webhooks against a real HTTP receiver on 127.0.0.1
//! (an axum server in this test), on SQLite and PostgreSQL: signatures that
//! verify, one call per event however many team members were told, a
//! receiver answering 500 then 200 (retried, same delivery id, both tries
//! in the delivery log), Slack's payload shape, chosen events only, the
//! resolved and breached events.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rampart_core::{ReportState, Role, Severity};
use rampart_mail::webhooks::{Endpoint, EndpointKind, WebhookNotifier, verify_signature};
use rampart_mail::worker::DeliveryWorker;
use rampart_programme::input::{CheckedReport, ProgrammeInput};
use rampart_programme::{Actor, Service};
use rampart_store::testkit;
use std::sync::{Arc, Mutex};

const SECRET: &str = "whsec-0123456789abcdef";

#[derive(Clone, Debug)]
struct Call {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<Call>>>,
    /// Answer 500 to this many calls on /siem first.
    fail_first: Arc<Mutex<usize>>,
}

async fn siem(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    r.calls.lock().unwrap().push(Call {
        path: "/siem".into(),
        headers,
        body,
    });
    let mut f = r.fail_first.lock().unwrap();
    if *f > 0 {
        *f -= 1;
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "database is restarting".into(),
        );
    }
    (StatusCode::OK, "{\"accepted\":true}".into())
}

async fn slack(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    r.calls.lock().unwrap().push(Call {
        path: "/slack".into(),
        headers,
        body,
    });
    (StatusCode::OK, "ok".into())
}

async fn start_receiver() -> (String, Receiver) {
    let r = Receiver::default();
    let app = Router::new()
        .route("/siem", post(siem))
        .route("/slack", post(slack))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), r)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn report(title: &str, severity: Option<Severity>) -> CheckedReport {
    CheckedReport {
        title: title.into(),
        description: "d".into(),
        steps: String::new(),
        impact: String::new(),
        asset: None,
        cwe: None,
        cvss_vector: None,
        severity,
    }
}

#[tokio::test]
async fn webhooks_are_signed_retried_logged_and_sent_once_per_event() {
    for ts in testkit::all().await {
        let store = &ts.store;
        let label = ts.label;
        let (base, receiver) = start_receiver().await;
        let endpoints = vec![
            Endpoint {
                name: "siem".into(),
                url: format!("{base}/siem"),
                kind: EndpointKind::Generic,
                secret: SECRET.into(),
                events: vec![
                    "report.new".into(),
                    "finding.critical_high".into(),
                    "report.resolved".into(),
                    "response_target.breached".into(),
                ],
                programmes: vec![],
            },
            Endpoint {
                name: "chat".into(),
                url: format!("{base}/slack"),
                kind: EndpointKind::Slack,
                secret: String::new(),
                // Slack hears of new reports only.
                events: vec!["report.new".into()],
                programmes: vec![],
            },
            // Another programme's endpoint hears nothing of this one.
            Endpoint {
                name: "blog-team".into(),
                url: format!("{base}/slack"),
                kind: EndpointKind::Slack,
                secret: String::new(),
                events: vec![],
                programmes: vec!["blog".into()],
            },
        ];
        let hooks = WebhookNotifier {
            store: store.clone(),
            endpoints: Arc::new(endpoints.clone()),
            public_url: "https://security.rampart.test".into(),
            wake: Arc::default(),
        };
        let service = Service::new(store.clone()).with_notifier(Arc::new(hooks.clone()));
        let p = service
            .create_programme(
                &ProgrammeInput {
                    name: "Shop <&>".into(),
                    slug: "shop".into(),
                    visibility: "public".into(),
                    ..Default::default()
                },
                now_ms(),
            )
            .await
            .unwrap();
        // Three team members are told of each new report: still one call.
        let mut team = Vec::new();
        for i in 0..3 {
            team.push(
                store
                    .create_user(&format!("t{i}@rampart.test"), Role::Triager, None, now_ms())
                    .await
                    .unwrap(),
            );
        }
        let researcher = store
            .create_user("r@researcher.test", Role::Researcher, None, now_ms())
            .await
            .unwrap();
        let high = service
            .submit_report(
                &p,
                researcher.id,
                &report("RCE in <upload>", Some(Severity::High)),
                "web",
                now_ms(),
            )
            .await
            .unwrap();
        let low = service
            .submit_report(
                &p,
                researcher.id,
                &report("Verbose banner", Some(Severity::Low)),
                "web",
                now_ms() + 1,
            )
            .await
            .unwrap();
        // siem: new ×2, critical/high ×1; slack: new ×2.
        let rows = store.list_outbox(None, 100).await.unwrap();
        assert_eq!(rows.len(), 5, "{label}: {rows:#?}");

        *receiver.fail_first.lock().unwrap() = 1;
        let mut w = DeliveryWorker::new(store.clone());
        w.endpoints = endpoints
            .iter()
            .map(|e| (e.name.clone(), e.clone()))
            .collect();
        let t0 = now_ms();
        let round = w.run_once_at(&|| t0).await.unwrap();
        assert_eq!((round.sent, round.failed), (4, 1), "{label}");
        // The failed one is retried when due, not before.
        assert_eq!(w.run_once_at(&|| t0 + 1_000).await.unwrap().sent, 0);
        let round = w.run_once_at(&|| t0 + 60_000).await.unwrap();
        assert_eq!((round.sent, round.failed), (1, 0), "{label}");

        let calls = receiver.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 6, "{label}: five rows, one of them twice");
        let now_s = now_ms() / 1000;
        for c in calls.iter().filter(|c| c.path == "/siem") {
            let h = |k: &str| c.headers.get(k).unwrap().to_str().unwrap().to_owned();
            assert_eq!(h("content-type"), "application/json");
            assert!(
                verify_signature(
                    SECRET,
                    &h("x-rampart-timestamp"),
                    &c.body,
                    &h("x-rampart-signature"),
                    now_s
                ),
                "{label}: signature"
            );
            assert!(!verify_signature(
                "wrong-secret-wrong",
                &h("x-rampart-timestamp"),
                &c.body,
                &h("x-rampart-signature"),
                now_s
            ));
            let v: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            assert_eq!(v["event"], h("x-rampart-event"));
            assert!(
                v["report"]["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://security.rampart.test/reports/")
            );
        }
        // The retried call carried the same delivery id and body.
        let siem: Vec<&Call> = calls.iter().filter(|c| c.path == "/siem").collect();
        let delivery = |c: &Call| c.headers["x-rampart-delivery"].to_str().unwrap().to_owned();
        let retried = siem.last().unwrap();
        assert_eq!(delivery(siem[0]), delivery(retried), "{label}");
        assert_eq!(siem[0].body, retried.body, "{label}");
        let id: i64 = delivery(retried).parse().unwrap();
        let log = store.outbox_attempts(id).await.unwrap();
        assert_eq!(
            log.iter()
                .map(|a| (a.ok, a.status_code))
                .collect::<Vec<_>>(),
            [(false, Some(500)), (true, Some(200))],
            "{label}"
        );
        assert!(
            log[0].detail.contains("database is restarting"),
            "{label}: {:?}",
            log[0].detail
        );
        assert!(log[1].detail.contains("accepted"), "{label}");
        assert!(log.iter().all(|a| a.duration_ms >= 0));

        // Distinct deliveries per event: two new reports, one of them high.
        let mut per_event: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            Default::default();
        for c in &siem {
            let v: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            per_event
                .entry(v["event"].as_str().unwrap().to_owned())
                .or_default()
                .insert(delivery(c));
        }
        let counts: Vec<(String, usize)> = per_event
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        assert_eq!(
            counts,
            [
                ("finding.critical_high".to_owned(), 1),
                ("report.new".to_owned(), 2)
            ],
            "{label}"
        );
        for c in calls.iter().filter(|c| c.path == "/slack") {
            assert!(
                c.headers.get("x-rampart-signature").is_none(),
                "Slack is not signed"
            );
            let v: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            let text = v["text"].as_str().unwrap();
            assert!(text.contains("New report to Shop"), "{label}: {text}");
            assert_eq!(v["blocks"][0]["type"], "section");
            assert_eq!(v["blocks"][0]["text"]["type"], "mrkdwn");
            let md = v["blocks"][0]["text"]["text"].as_str().unwrap();
            assert!(
                !md.contains("<upload>") && !md.contains("<&>"),
                "{label}: escaped: {md}"
            );
        }
        receiver.calls.lock().unwrap().clear();

        // Resolved: one call to the SIEM; Slack did not choose it.
        let actor = Actor {
            user_id: team[0].id,
            role: Role::Triager,
        };
        let high = service
            .change_state(&high, actor, ReportState::Triaged, "", None, now_ms())
            .await
            .unwrap();
        service
            .change_state(
                &high,
                actor,
                ReportState::Resolved,
                "fixed",
                None,
                now_ms() + 1,
            )
            .await
            .unwrap();
        // Breaches: a week later the low report has had no first response.
        let later = now_ms() + 30 * 86_400_000;
        w.webhooks = Some(hooks.clone());
        let announced = w.announce_breaches(later).await.unwrap();
        assert!(announced >= 1, "{label}");
        assert_eq!(
            w.announce_breaches(later + 1).await.unwrap(),
            0,
            "{label}: once"
        );
        let round = w.run_once_at(&|| later).await.unwrap();
        assert_eq!(round.sent, 1 + announced, "{label}");
        let calls = receiver.calls.lock().unwrap().clone();
        assert!(calls.iter().all(|c| c.path == "/siem"), "{label}");
        let bodies: Vec<serde_json::Value> = calls
            .iter()
            .map(|c| serde_json::from_slice(&c.body).unwrap())
            .collect();
        assert_eq!(
            bodies
                .iter()
                .filter(|b| b["event"] == "report.resolved")
                .count(),
            1,
            "{label}"
        );
        let breach: Vec<_> = bodies
            .iter()
            .filter(|b| b["event"] == "response_target.breached")
            .collect();
        assert_eq!(breach.len(), announced, "{label}");
        assert!(
            breach.iter().all(|b| b["report"]["id"] == low.id),
            "{label}: the resolved one breaches nothing"
        );
    }
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_then_given_up() {
    for ts in testkit::all().await {
        let store = &ts.store;
        // A port nobody listens on: bind, note it, close.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let ep = Endpoint {
            name: "down".into(),
            url: format!("http://127.0.0.1:{port}/hook"),
            kind: EndpointKind::Generic,
            secret: SECRET.into(),
            events: vec![],
            programmes: vec![],
        };
        let hooks = WebhookNotifier {
            store: store.clone(),
            endpoints: Arc::new(vec![ep.clone()]),
            public_url: "https://x.test".into(),
            wake: Arc::default(),
        };
        let service = Service::new(store.clone()).with_notifier(Arc::new(hooks));
        let p = service
            .create_programme(
                &ProgrammeInput {
                    name: "P".into(),
                    slug: "pp".into(),
                    visibility: "public".into(),
                    ..Default::default()
                },
                now_ms(),
            )
            .await
            .unwrap();
        store
            .create_user("a@rampart.test", Role::Admin, None, now_ms())
            .await
            .unwrap();
        let r = store
            .create_user("r@x.test", Role::Researcher, None, now_ms())
            .await
            .unwrap();
        service
            .submit_report(&p, r.id, &report("t", None), "web", now_ms())
            .await
            .unwrap();
        let mut w = DeliveryWorker::new(store.clone());
        w.endpoints.insert(ep.name.clone(), ep);
        let t0 = now_ms();
        let mut t = t0;
        let mut tries = 0;
        loop {
            let round = w.run_once_at(&|| t).await.unwrap();
            tries += round.failed + round.dead;
            if round.dead == 1 {
                break;
            }
            t += 3_600_000;
            assert!(t < t0 + 2 * 86_400_000, "{}: never given up", ts.label);
        }
        let row = &store.list_outbox(Some("dead"), 10).await.unwrap()[0];
        assert!(
            row.last_error.contains("could not reach"),
            "{}: {}",
            ts.label,
            row.last_error
        );
        assert_eq!(store.outbox_attempts(row.id).await.unwrap().len(), tries);
        assert!(
            (20..=30).contains(&tries),
            "{}: {tries} tries in a day of hourly rounds",
            ts.label
        );
        // An admin's retry puts it back in the queue.
        store.retry_outbox(row.id, t).await.unwrap();
        assert_eq!(store.outbox_row(row.id).await.unwrap().state, "queued");
    }
}
