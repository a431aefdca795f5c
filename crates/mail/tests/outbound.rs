#![allow(clippy::unwrap_used)]
//! Mail out against real servers on 127.0.0.1 (scripts/mail-services.sh:
//! Postfix delivering by LMTP into Dovecot's Maildirs), on SQLite and
//! PostgreSQL:
//!
//! - the programme's notices become mail in the researcher's and the team's
//!   mailboxes, threaded (Message-ID, In-Reply-To, References, Reply-To with
//!   a verifying token, `[#ID]` subject), over plain SMTP, STARTTLS with AUTH
//!   and implicit TLS with AUTH;
//! - the outage: an SMTP server of the test's own is stopped, notifications
//!   are queued and fail, it is started again, and every message arrives in
//!   the mailbox exactly once (two workers draining the queue together).
//!
//! Without the mail servers these tests skip, unless RAMPART_REQUIRE_MAIL=1
//! or CI is set (then a missing server is a failure).

use rampart_core::{ReportState, Role, Severity};
use rampart_mail::outbound::{EmailNotifier, OutboundConfig};
use rampart_mail::reply::{REPLY_KEY_NAME, ReplyKey, parse_reply_address};
use rampart_mail::smtp::{SmtpConfig, SmtpSecurity, SmtpSender};
use rampart_mail::worker::DeliveryWorker;
use rampart_programme::input::{CheckedReport, ProgrammeInput};
use rampart_programme::{Actor, Service};
use rampart_store::{Programme, Store, testkit};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

struct MailEnv {
    host: String,
    port: u16,
    submission_port: u16,
    smtps_port: u16,
    password: String,
    ca: PathBuf,
    maildir_root: PathBuf,
}

fn mail_env() -> Option<MailEnv> {
    let var = |k: &str| std::env::var(k).ok();
    let Some(host) = var("RAMPART_TEST_SMTP_HOST") else {
        let required = var("RAMPART_REQUIRE_MAIL").as_deref() == Some("1") || var("CI").is_some();
        assert!(
            !required,
            "RAMPART_TEST_SMTP_HOST is not set; run `eval \"$(scripts/test-services.sh)\"`"
        );
        eprintln!("skipping: no test mail servers (run scripts/test-services.sh)");
        return None;
    };
    let port = |k: &str| var(k).and_then(|p| p.parse().ok()).unwrap();
    Some(MailEnv {
        host,
        port: port("RAMPART_TEST_SMTP_PORT"),
        submission_port: port("RAMPART_TEST_SMTP_SUBMISSION_PORT"),
        smtps_port: port("RAMPART_TEST_SMTPS_PORT"),
        password: var("RAMPART_TEST_MAIL_PASSWORD").unwrap(),
        ca: var("RAMPART_TEST_MAIL_CA").unwrap().into(),
        maildir_root: var("RAMPART_TEST_MAILDIR_ROOT").unwrap().into(),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A local part no other test (or earlier run) uses: its own mailbox.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", rampart_mail::reply::random_hex(5).unwrap())
}

/// Every message delivered to `address` (new and cur), as raw bytes.
fn mailbox(env: &MailEnv, address: &str) -> Vec<Vec<u8>> {
    let (local, domain) = address.split_once('@').unwrap();
    let base = env.maildir_root.join(domain).join(local).join("Maildir");
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(base.join(sub)) {
            for e in rd.flatten() {
                out.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Waits until `address` holds `n` messages (delivery is asynchronous:
/// Postfix queues, then hands over to Dovecot), then a little longer, so
/// a message delivered twice would show.
async fn wait_for(env: &MailEnv, address: &str, n: usize) -> Vec<Vec<u8>> {
    for _ in 0..300 {
        if mailbox(env, address).len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    mailbox(env, address)
}

struct Parsed {
    message_id: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    subject: String,
    reply_to: Option<String>,
    from: String,
    auto_submitted: Option<String>,
    body: String,
}

fn parse(raw: &[u8]) -> Parsed {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    let ids = |v: &mail_parser::HeaderValue| -> Vec<String> {
        match v {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            _ => vec![],
        }
    };
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_owned)
    };
    Parsed {
        message_id: m.message_id().unwrap().to_owned(),
        in_reply_to: ids(m.in_reply_to()).into_iter().next(),
        references: ids(m.references()),
        subject: m.subject().unwrap_or_default().to_owned(),
        reply_to: addr(m.reply_to()),
        from: addr(m.from()).unwrap(),
        auto_submitted: m.header_raw("Auto-Submitted").map(|s| s.trim().to_owned()),
        body: m.body_text(0).unwrap_or_default().into_owned(),
    }
}

fn sender(env: &MailEnv, security: SmtpSecurity, port: u16, user: Option<&str>) -> SmtpSender {
    SmtpSender::new(&SmtpConfig {
        host: env.host.clone(),
        port,
        security,
        username: user.map(str::to_owned),
        password: user.map(|_| env.password.clone()),
        ca_file: Some(env.ca.clone()),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

async fn programme(service: &Service, slug: &str) -> Programme {
    service
        .create_programme(
            &ProgrammeInput {
                name: format!("Shop {slug}"),
                slug: slug.into(),
                visibility: "public".into(),
                email: Some("security@rampart.test".into()),
                ..Default::default()
            },
            now_ms(),
        )
        .await
        .unwrap()
}

fn checked(title: &str, severity: Option<Severity>) -> CheckedReport {
    CheckedReport {
        title: title.into(),
        description: "Search reflects the q parameter unescaped.".into(),
        steps: String::new(),
        impact: String::new(),
        asset: None,
        cwe: None,
        cvss_vector: None,
        severity,
    }
}

fn notifier(store: &Store) -> EmailNotifier {
    EmailNotifier::new(
        store.clone(),
        OutboundConfig {
            from: "Rampart <security@rampart.test>".into(),
            public_url: "https://security.rampart.test".into(),
            site_name: "Rampart".into(),
        },
    )
}

#[tokio::test]
async fn notices_reach_the_mailboxes_threaded_over_every_kind_of_connection() {
    let Some(env) = mail_env() else { return };
    for ts in testkit::all().await {
        let store = &ts.store;
        let label = ts.label;
        let email = notifier(store);
        let service = Service::new(store.clone()).with_notifier(Arc::new(email.clone()));
        let p = programme(&service, "shop").await;
        let alice = format!("{}@researcher.test", unique("alice"));
        let triage = format!("{}@rampart.test", unique("triage"));
        let quiet = format!("{}@rampart.test", unique("quiet"));
        let researcher = store
            .create_user(&alice, Role::Researcher, None, now_ms())
            .await
            .unwrap();
        let triager = store
            .create_user(&triage, Role::Triager, None, now_ms())
            .await
            .unwrap();
        let q = store
            .create_user(&quiet, Role::Triager, None, now_ms())
            .await
            .unwrap();
        store
            .set_email_preference(q.id, rampart_store::EmailPreference::None, now_ms())
            .await
            .unwrap();

        let report = service
            .submit_report(
                &p,
                researcher.id,
                &checked("XSS in search", None),
                "email",
                now_ms(),
            )
            .await
            .unwrap();
        let actor = Actor {
            user_id: triager.id,
            role: Role::Triager,
        };
        service
            .comment(
                &report,
                actor,
                "Confirmed, thank you. A fix is on its way.",
                false,
                now_ms(),
            )
            .await
            .unwrap();
        service
            .comment(
                &report,
                actor,
                "internal: blame the search team",
                true,
                now_ms(),
            )
            .await
            .unwrap();
        let report = store.report(report.id).await.unwrap();
        service
            .change_state(&report, actor, ReportState::Triaged, "", None, now_ms())
            .await
            .unwrap();

        // Three connection kinds, one round each: whatever is due goes out.
        let kinds = [
            (SmtpSecurity::None, env.port, None),
            (
                SmtpSecurity::StartTls,
                env.submission_port,
                Some("rampart@rampart.test"),
            ),
            (
                SmtpSecurity::Tls,
                env.smtps_port,
                Some("rampart@rampart.test"),
            ),
        ];
        let queued = store.list_outbox(Some("queued"), 100).await.unwrap().len();
        assert_eq!(
            queued, 4,
            "{label}: ack, comment, state for alice; new report for triage"
        );
        for (i, (security, port, user)) in kinds.into_iter().enumerate() {
            let mut w = DeliveryWorker::new(store.clone());
            w.smtp = Some(sender(&env, security, port, user));
            w.batch = 1;
            // One row per kind: claim one, send it, stop.
            let rows = store.claim_outbox(now_ms(), 60_000, 1).await.unwrap();
            assert_eq!(rows.len(), 1, "{label}: row {i}");
            let ok = w.smtp.as_ref().unwrap().send(&rows[0]).await;
            let ok = ok.unwrap_or_else(|e| panic!("{label} {security:?}: {e:?}"));
            assert_eq!(ok.status_code, Some(250), "{label} {security:?}");
            store
                .mark_outbox_sent(
                    &rows[0],
                    &rampart_store::AttemptLog {
                        duration_ms: 1,
                        status_code: ok.status_code,
                        detail: ok.detail,
                    },
                    now_ms(),
                )
                .await
                .unwrap();
        }
        let mut w = DeliveryWorker::new(store.clone());
        w.smtp = Some(sender(
            &env,
            SmtpSecurity::StartTls,
            env.submission_port,
            Some("rampart@rampart.test"),
        ));
        let round = w.run_once().await.unwrap();
        assert_eq!((round.sent, round.failed, round.dead), (1, 0, 0), "{label}");

        let inbox = wait_for(&env, &alice, 3).await;
        assert_eq!(inbox.len(), 3, "{label}: ack, public comment, state change");
        let mut mails: Vec<Parsed> = inbox.iter().map(|m| parse(m)).collect();
        mails.sort_by_key(|m| {
            if m.body.contains("Thank you for your report") {
                0
            } else if m.body.contains("Confirmed") {
                1
            } else {
                2
            }
        });
        let [ack, comment, state] = &mails[..] else {
            panic!("three mails")
        };
        let subject = format!("[#{}] XSS in search", report.id);
        for m in &mails {
            assert_eq!(m.subject, subject, "{label}");
            assert_eq!(m.from, "security@rampart.test", "{label}");
            assert!(
                m.message_id.starts_with(&format!("r{}.", report.id))
                    && m.message_id.ends_with("@rampart.test"),
                "{label}: {}",
                m.message_id
            );
            // The reply address routes an answer back to this report.
            let ra = parse_reply_address(m.reply_to.as_deref().unwrap()).unwrap();
            assert_eq!(ra.report_id, report.id);
            let key = store
                .mail_secret(REPLY_KEY_NAME, String::new, now_ms())
                .await
                .unwrap();
            assert!(
                ReplyKey::from_stored(&key).verify(report.id, &ra.token),
                "{label}"
            );
            // Replies naming it thread through mail_sent.
            assert_eq!(
                store
                    .report_for_sent_messages(std::slice::from_ref(&m.message_id))
                    .await
                    .unwrap(),
                Some(report.id),
                "{label}"
            );
            assert!(
                !m.body.contains("blame"),
                "{label}: an internal note leaked"
            );
        }
        assert_eq!(ack.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(
            ack.in_reply_to, None,
            "{label}: the acknowledgement starts the thread"
        );
        for later in [comment, state] {
            assert_eq!(
                later.in_reply_to.as_deref(),
                Some(ack.message_id.as_str()),
                "{label}"
            );
            assert_eq!(later.references, vec![ack.message_id.clone()], "{label}");
            assert_eq!(later.auto_submitted.as_deref(), Some("auto-generated"));
        }
        assert!(
            comment
                .body
                .contains("Confirmed, thank you. A fix is on its way."),
            "{label}: {}",
            comment.body
        );
        assert!(comment.body.contains("The team wrote"), "{label}");
        for m in &mails {
            assert!(
                !m.body.contains(&triage),
                "{label}: a team address leaked to the researcher"
            );
        }
        assert!(state.body.contains("Triaged"), "{label}: {}", state.body);
        // The researcher has no password: the acknowledgement carries a
        // claim link to choose one.
        assert!(ack.body.contains("claim your account"), "{label}");
        assert!(
            ack.body
                .contains("https://security.rampart.test/set-password/"),
            "{label}: {}",
            ack.body
        );

        let team = wait_for(&env, &triage, 1).await;
        assert_eq!(team.len(), 1, "{label}");
        let t = parse(&team[0]);
        assert!(t.body.contains("New report"), "{label}: {}", t.body);
        assert!(
            t.body.contains("account page"),
            "{label}: the team mail says how to opt out"
        );
        assert!(mailbox(&env, &quiet).is_empty(), "{label}: chose no mail");
        // Sent rows carry the server's answer in the delivery log.
        for row in store.list_outbox(None, 100).await.unwrap() {
            assert_eq!(row.state, "sent", "{label}");
            let a = store.outbox_attempts(row.id).await.unwrap();
            assert_eq!(a.len(), 1);
            assert!(a[0].ok && a[0].status_code == Some(250), "{label}: {a:?}");
        }
    }
}

#[tokio::test]
async fn a_team_member_on_the_daily_digest_gets_one_mail() {
    let Some(env) = mail_env() else { return };
    for ts in testkit::all().await {
        let store = &ts.store;
        let email = notifier(store);
        let service = Service::new(store.clone()).with_notifier(Arc::new(email.clone()));
        let p = programme(&service, "shop").await;
        let digest = format!("{}@rampart.test", unique("digest"));
        let d = store
            .create_user(&digest, Role::Admin, None, now_ms())
            .await
            .unwrap();
        store
            .set_email_preference(d.id, rampart_store::EmailPreference::Daily, now_ms())
            .await
            .unwrap();
        let r = store
            .create_user(
                &format!("{}@researcher.test", unique("r")),
                Role::Researcher,
                None,
                now_ms(),
            )
            .await
            .unwrap();
        for t in ["One", "Two", "Three"] {
            service
                .submit_report(&p, r.id, &checked(t, None), "web", now_ms())
                .await
                .unwrap();
        }
        assert_eq!(
            email.queue_digests(now_ms()).await.unwrap(),
            1,
            "{}",
            ts.label
        );
        assert_eq!(
            email.queue_digests(now_ms()).await.unwrap(),
            0,
            "{}: items taken",
            ts.label
        );
        let mut w = DeliveryWorker::new(store.clone());
        w.smtp = Some(sender(&env, SmtpSecurity::None, env.port, None));
        w.run_once().await.unwrap();
        let got = wait_for(&env, &digest, 1).await;
        assert_eq!(got.len(), 1, "{}", ts.label);
        let m = parse(&got[0]);
        assert!(m.subject.contains("3 notifications"), "{}", m.subject);
        for t in ["One", "Two", "Three"] {
            assert!(
                m.body.contains(t),
                "{}: {t} missing in {}",
                ts.label,
                m.body
            );
        }
    }
}

/// `postfix -c DIR stop|start` for the test's own instance.
fn postfix(conf: &str, action: &str) {
    let out = std::process::Command::new("postfix")
        .args(["-c", conf, action])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "postfix {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

#[tokio::test]
async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice() {
    let Some(env) = mail_env() else { return };
    // An SMTP server of this test's own, so stopping it disturbs no other test.
    const PORT: u16 = 2531;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/mail-services.sh"
    );
    let out = std::process::Command::new("bash")
        .args([script, "extra-smtp", "outbox-outage", &PORT.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mail-services.sh extra-smtp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    for ts in testkit::all().await {
        let store = &ts.store;
        let label = ts.label;
        let email = notifier(store);
        let service = Service::new(store.clone()).with_notifier(Arc::new(email.clone()));
        let p = programme(&service, "shop").await;
        let triager = store
            .create_user(
                &format!("{}@rampart.test", unique("t")),
                Role::Triager,
                None,
                now_ms(),
            )
            .await
            .unwrap();
        store
            .set_email_preference(triager.id, rampart_store::EmailPreference::None, now_ms())
            .await
            .unwrap();

        postfix(&conf, "stop");
        for _ in 0..50 {
            if !port_open(PORT) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!port_open(PORT), "{label}: the server is down");

        // Notifications while the server is down: acknowledgements of four
        // reports from four researchers, and three public comments each.
        const RESEARCHERS: usize = 4;
        const COMMENTS: usize = 3;
        let mut addresses = Vec::new();
        for i in 0..RESEARCHERS {
            let a = format!("{}@researcher.test", unique(&format!("outage{i}")));
            let u = store
                .create_user(&a, Role::Researcher, None, now_ms())
                .await
                .unwrap();
            let r = service
                .submit_report(
                    &p,
                    u.id,
                    &checked(&format!("Bug {i}"), None),
                    "email",
                    now_ms(),
                )
                .await
                .unwrap();
            for c in 0..COMMENTS {
                service
                    .comment(
                        &r,
                        Actor {
                            user_id: triager.id,
                            role: Role::Triager,
                        },
                        &format!("Update {c} on bug {i}"),
                        false,
                        now_ms() + c as i64,
                    )
                    .await
                    .unwrap();
            }
            addresses.push(a);
        }
        let total = RESEARCHERS * (1 + COMMENTS);
        assert_eq!(
            store.list_outbox(None, 1000).await.unwrap().len(),
            total,
            "{label}"
        );

        let worker = |w: &mut DeliveryWorker| {
            w.smtp = Some(
                SmtpSender::new(&SmtpConfig {
                    host: env.host.clone(),
                    port: PORT,
                    security: SmtpSecurity::None,
                    username: None,
                    password: None,
                    ca_file: None,
                    timeout: Duration::from_secs(5),
                })
                .unwrap(),
            );
        };
        let mut a = DeliveryWorker::new(store.clone());
        worker(&mut a);
        let mut b = DeliveryWorker::new(store.clone());
        worker(&mut b);

        // Down: every try fails and is rescheduled, nothing is lost.
        let t0 = now_ms();
        let round = a.run_once_at(&|| t0).await.unwrap();
        assert_eq!(
            (round.sent, round.failed, round.dead),
            (0, total, 0),
            "{label}"
        );
        // An hour of outage later (clock moved on): still failing, backing off.
        let round = a.run_once_at(&|| t0 + 3_600_000).await.unwrap();
        assert_eq!(round.failed, total, "{label}");
        for row in store.list_outbox(None, 1000).await.unwrap() {
            assert_eq!((row.state.as_str(), row.attempts), ("failed", 2), "{label}");
            assert!(
                row.last_error.to_lowercase().contains("connect"),
                "{label}: {}",
                row.last_error
            );
            assert!(row.next_attempt_at > t0 + 3_600_000, "{label}: backoff");
        }
        for addr in &addresses {
            assert!(mailbox(&env, addr).is_empty(), "{label}");
        }

        // Back up: two workers drain the queue together.
        postfix(&conf, "start");
        for _ in 0..100 {
            if port_open(PORT) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let later = t0 + 2 * 3_600_000;
        let clock = move || later;
        let (ra, rb) = tokio::join!(a.run_once_at(&clock), b.run_once_at(&clock));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.sent + rb.sent, total, "{label}: {ra:?} {rb:?}");
        assert_eq!(ra.failed + rb.failed + ra.dead + rb.dead, 0, "{label}");
        // Nothing is left to send.
        assert_eq!(a.run_once_at(&|| later + 86_400_000).await.unwrap().sent, 0);

        let mut ids = HashSet::new();
        for addr in &addresses {
            let got = wait_for(&env, addr, 1 + COMMENTS).await;
            assert_eq!(
                got.len(),
                1 + COMMENTS,
                "{label}: {addr} got each message exactly once"
            );
            for m in &got {
                assert!(
                    ids.insert(parse(m).message_id),
                    "{label}: a Message-ID arrived twice"
                );
            }
        }
        assert_eq!(ids.len(), total, "{label}");
        for row in store.list_outbox(None, 1000).await.unwrap() {
            assert_eq!((row.state.as_str(), row.attempts), ("sent", 3), "{label}");
            let log = store.outbox_attempts(row.id).await.unwrap();
            assert_eq!(
                log.iter().map(|a| a.ok).collect::<Vec<_>>(),
                [false, false, true]
            );
        }
    }
}

/// Figures for docs/mail.md: `cargo test -p rampart-mail --test outbound
/// -- --ignored --nocapture throughput`. Queues 300 mails, sends them with
/// one worker through Postfix, and waits until Dovecot holds all 300.
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn throughput() {
    let Some(env) = mail_env() else { return };
    for ts in testkit::all().await {
        let store = &ts.store;
        let email = notifier(store);
        let service = Service::new(store.clone());
        let p = programme(&service, "shop").await;
        let to = format!("{}@researcher.test", unique("bulk"));
        let u = store
            .create_user(&to, Role::Researcher, None, now_ms())
            .await
            .unwrap();
        let r = service
            .submit_report(&p, u.id, &checked("Bulk", None), "web", now_ms())
            .await
            .unwrap();
        const N: usize = 300;
        let started = std::time::Instant::now();
        for i in 0..N {
            email
                .queue_report_mail(
                    &r,
                    &p,
                    &to,
                    Some(u.id),
                    "comment",
                    &format!("message {i}"),
                    "auto-generated",
                    None,
                    None,
                    now_ms(),
                )
                .await
                .unwrap();
        }
        let queued = started.elapsed();
        let mut w = DeliveryWorker::new(store.clone());
        w.smtp = Some(sender(&env, SmtpSecurity::None, env.port, None));
        let started = std::time::Instant::now();
        let round = w.run_once().await.unwrap();
        let sent = started.elapsed();
        assert_eq!(round.sent, N);
        let got = wait_for(&env, &to, N).await;
        assert_eq!(got.len(), N);
        let delivered = started.elapsed();
        println!(
            "{}: queue {N} in {queued:?} ({:.0}/s); SMTP-accepted in {sent:?} ({:.0}/s); all in the mailbox after {delivered:?} (incl. 1.5 s settle)",
            ts.label,
            N as f64 / queued.as_secs_f64(),
            N as f64 / sent.as_secs_f64(),
        );
    }
}
