#![allow(clippy::unwrap_used)]
//! Refusals mailed back by an intake that takes mail over IMAP or HTTP (no
//! MTA there to bounce it), on both engines: the polite explanation is an
//! outbox email to the sender, In-Reply-To the refused message; never for
//! automatic mail, the null sender or a mailer daemon; at most one per
//! sender per hour; never by the pipe's intake (its MTA bounces).

use rampart_core::Role;
use rampart_mail::intake::{Intake, IntakeConfig, Outcome};
use rampart_mail::outbound::{EmailNotifier, OutboundConfig};
use rampart_mail::refusal::{REFUSAL_KIND, RefusalMail};
use rampart_mail::smtp::build_message;
use rampart_mail::{Envelope, files::FileStore};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::{OutboxRow, Store, testkit};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn mail(from: &str, to: &str, id: &str, extra: &str, body_len: usize) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Big PoC\r\nMessage-ID: <{id}>\r\n{extra}\r\n{}\r\n",
        "A".repeat(body_len)
    )
}

async fn refusal_rows(s: &Store) -> Vec<OutboxRow> {
    let mut v: Vec<OutboxRow> = s
        .list_outbox(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == REFUSAL_KIND)
        .collect();
    v.sort_by_key(|r| r.id);
    v
}

#[tokio::test]
async fn refusals_are_mailed_once_an_hour_and_never_to_robots() {
    for ts in testkit::all().await {
        let label = ts.label;
        let store = &ts.store;
        let service = Service::new(store.clone());
        store
            .create_user("triager@shop.test", Role::Triager, None, T0)
            .await
            .unwrap();
        service
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
        // Two programmes: mail to neither's address has no default to go to.
        service
            .create_programme(
                &ProgrammeInput {
                    name: "Blog".into(),
                    slug: "blog".into(),
                    visibility: "public".into(),
                    email: Some("security@blog.test".into()),
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap();
        let mailer = EmailNotifier::new(
            store.clone(),
            OutboundConfig {
                from: "Rampart <security@rampart.test>".into(),
                public_url: "https://security.rampart.test".into(),
                site_name: "Rampart".into(),
            },
        );
        let files = tempfile::tempdir().unwrap();
        let config = IntakeConfig {
            max_message_bytes: 4096,
            default_programme: None,
            refusals: Some(RefusalMail { mailer }),
            ..Default::default()
        };
        let intake = Intake {
            service: service.clone(),
            files: FileStore::new(files.path()),
            checks: None,
            config: config.clone(),
        };
        let env = Envelope::default();

        // Too large, from a person: refused, and the refusal is queued to her.
        let raw = mail(
            "Alice <alice@researchers.test>",
            "security@shop.test",
            "big1@researchers.test",
            "",
            8000,
        );
        let r = intake.take(raw.as_bytes(), &env, T0).await.unwrap();
        let Outcome::Refused { bounce, .. } = &r.outcome else {
            panic!("{label}: {:?}", r.outcome)
        };
        let rows = refusal_rows(store).await;
        assert_eq!(rows.len(), 1, "{label}");
        let row = &rows[0];
        assert_eq!(row.target, "alice@researchers.test", "{label}");
        assert_eq!(row.subject, "Not taken: Big PoC", "{label}");
        assert_eq!(row.body.trim_end(), bounce.trim_end(), "{label}");
        let built = String::from_utf8(build_message(row).unwrap().formatted()).unwrap();
        for want in [
            "In-Reply-To: <big1@researchers.test>",
            "References: <big1@researchers.test>",
            "Auto-Submitted: auto-replied",
            "From: Rampart <security@rampart.test>",
            "To: alice@researchers.test",
        ] {
            assert!(built.contains(want), "{label}: {want} missing in\n{built}");
        }

        // The same message again: a duplicate, nothing more.
        intake.take(raw.as_bytes(), &env, T0 + MIN).await.unwrap();
        // Another refused message from her within the hour: no second mail.
        let raw2 = mail(
            "alice@researchers.test",
            "security@shop.test",
            "big2@researchers.test",
            "",
            8000,
        );
        let r = intake
            .take(raw2.as_bytes(), &env, T0 + 2 * MIN)
            .await
            .unwrap();
        assert!(matches!(r.outcome, Outcome::Refused { .. }), "{label}");
        assert_eq!(refusal_rows(store).await.len(), 1, "{label}: one an hour");

        // To no programme's address, from someone else: refused and answered.
        let raw3 = mail(
            "bob@researchers.test",
            "info@elsewhere.test",
            "x3@researchers.test",
            "",
            10,
        );
        let r = intake
            .take(raw3.as_bytes(), &env, T0 + 3 * MIN)
            .await
            .unwrap();
        assert!(
            matches!(r.outcome, Outcome::Refused { .. }),
            "{label}: {:?}",
            r.outcome
        );
        let rows = refusal_rows(store).await;
        assert_eq!(rows.len(), 2, "{label}");
        assert_eq!(rows[1].target, "bob@researchers.test");
        assert!(
            rows[1].body.contains("security.txt"),
            "{label}: {}",
            rows[1].body
        );

        // Robots: an auto-reply (ignored, not refused), a mailer daemon, the
        // null sender, a no-reply address: nothing is mailed to any of them.
        let robots = [
            (
                mail(
                    "carol@researchers.test",
                    "info@elsewhere.test",
                    "r1@x.test",
                    "Auto-Submitted: auto-replied\r\n",
                    10,
                ),
                None,
            ),
            (
                mail(
                    "MAILER-DAEMON@mx.researchers.test",
                    "info@elsewhere.test",
                    "r2@x.test",
                    "",
                    10,
                ),
                None,
            ),
            (
                mail(
                    "dave@researchers.test",
                    "info@elsewhere.test",
                    "r3@x.test",
                    "",
                    10,
                ),
                Some(String::new()),
            ),
            (
                mail(
                    "noreply@researchers.test",
                    "info@elsewhere.test",
                    "r4@x.test",
                    "",
                    10,
                ),
                None,
            ),
            (
                mail(
                    "erin@researchers.test",
                    "info@elsewhere.test",
                    "r5@x.test",
                    "Return-Path: <>\r\n",
                    10,
                ),
                None,
            ),
        ];
        for (i, (raw, mail_from)) in robots.iter().enumerate() {
            let env = Envelope {
                mail_from: mail_from.clone(),
                ..Default::default()
            };
            intake
                .take(raw.as_bytes(), &env, T0 + (10 + i as i64) * MIN)
                .await
                .unwrap();
        }
        assert_eq!(
            refusal_rows(store).await.len(),
            2,
            "{label}: nothing to robots"
        );

        // An hour after Alice's refusal, another one may go to her.
        let raw4 = mail(
            "alice@researchers.test",
            "security@shop.test",
            "big4@researchers.test",
            "",
            8000,
        );
        intake
            .take(raw4.as_bytes(), &env, T0 + 61 * MIN)
            .await
            .unwrap();
        let rows = refusal_rows(store).await;
        assert_eq!(rows.len(), 3, "{label}");
        assert!(
            build_message(&rows[2])
                .unwrap()
                .formatted()
                .windows(30)
                .any(|w| w == b"In-Reply-To: <big4@researchers")
        );

        // The pipe's intake (no refusal mail: the MTA bounces) queues nothing.
        let pipe = Intake {
            service: service.clone(),
            files: FileStore::new(files.path()),
            checks: None,
            config: IntakeConfig {
                refusals: None,
                ..config.clone()
            },
        };
        let raw5 = mail(
            "frank@researchers.test",
            "info@elsewhere.test",
            "p5@x.test",
            "",
            10,
        );
        let r = pipe
            .take(raw5.as_bytes(), &env, T0 + 70 * MIN)
            .await
            .unwrap();
        assert!(matches!(r.outcome, Outcome::Refused { .. }), "{label}");
        assert_eq!(
            refusal_rows(store).await.len(),
            3,
            "{label}: the pipe mails nothing"
        );
    }
}
