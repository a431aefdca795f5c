#![allow(clippy::unwrap_used)]
//! The .eml corpus in testdata/, taken in order through the real intake on
//! every backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set).
//! Each message's expected outcome is in testdata/README.md and below.

use rampart_core::Role;
use rampart_mail::intake::{Intake, IntakeConfig, Outcome};
use rampart_mail::rules::ThreadedBy;
use rampart_mail::{DnsRecords, Envelope, SenderChecks, files::FileStore};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::{ReportFilter, Store, testkit};

const T0: i64 = 1_800_000_000_000;

fn eml(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn programme(service: &Service, slug: &str, email: &str) -> i64 {
    service
        .create_programme(
            &ProgrammeInput {
                name: format!("Programme {slug}"),
                slug: slug.into(),
                visibility: "public".into(),
                email: Some(email.into()),
                ..Default::default()
            },
            T0,
        )
        .await
        .unwrap()
        .id
}

async fn report_count(store: &Store) -> usize {
    store
        .list_reports(&ReportFilter::default())
        .await
        .unwrap()
        .len()
}

async fn comments(store: &Store, report_id: i64) -> Vec<String> {
    store
        .report_events(report_id, true)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "comment")
        .map(|e| e.body)
        .collect()
}

#[tokio::test]
async fn corpus_on_every_backend() {
    for ts in testkit::all().await {
        run_corpus(&ts.store, ts.label).await;
    }
}

async fn run_corpus(store: &Store, label: &str) {
    let service = Service::new(store.clone());
    store
        .create_user("triager@shop.test", Role::Triager, None, T0)
        .await
        .unwrap();
    let shop = programme(&service, "shop", "security@shop.test").await;
    let blog = programme(&service, "blog", "security@blog.test").await;
    let files_dir = tempfile::tempdir().unwrap();
    let intake = Intake {
        service: service.clone(),
        files: FileStore::new(files_dir.path()),
        checks: Some(SenderChecks::offline(DnsRecords::offline()).unwrap()),
        config: IntakeConfig {
            max_message_bytes: 16 * 1024,
            max_attachment_bytes: 1024 * 1024,
            default_programme: Some("shop".into()),
            max_reports_per_hour: 20,
            ..Default::default()
        },
    };
    let env = Envelope::default();
    let mut now = T0;
    let mut take = |raw: String| {
        now += 60_000;
        let at = now;
        let intake = &intake;
        let env = &env;
        async move { intake.take(raw.as_bytes(), env, at).await.unwrap() }
    };

    // 01: a new report from a sender Rampart has never seen.
    let r = take(eml("01-new-report.eml")).await;
    let Outcome::NewReport { report_id: first } = r.outcome else {
        panic!("{label}: 01 {:?}", r.outcome)
    };
    let report = store.report(first).await.unwrap();
    assert_eq!(report.programme_id, shop, "{label}");
    assert_eq!(report.received_via, "email");
    assert_eq!(report.title, "Stored XSS in the profile name");
    assert!(report.description.contains("rendered without escaping"));
    assert!(
        report
            .description
            .contains("onerror=alert(document.domain)"),
        "quoted-printable decoded: {}",
        report.description
    );
    let alice = store.user_by_email("alice@researchers.test").await.unwrap();
    assert_eq!(alice.id, report.researcher_id);
    assert_eq!(alice.role, Role::Researcher);
    assert_eq!(
        alice.password_hash, None,
        "unregistered: claims the account later"
    );
    let thread = store.report_events(first, false).await.unwrap();
    assert_eq!(thread[0].kind, "ack", "acknowledged like a web report");
    assert_eq!(thread.len(), 1, "the researcher sees no internal note");
    let team = store.report_events(first, true).await.unwrap();
    let note = team
        .iter()
        .find(|e| e.kind == "note")
        .expect("a note for the team");
    assert!(note.internal && note.author_id.is_none());
    assert!(
        note.body.contains("Alice Example <alice@researchers.test>"),
        "{}",
        note.body
    );
    assert!(
        note.body.contains("SPF none, DKIM none, DMARC none"),
        "{}",
        note.body
    );
    assert!(report.finding_id.is_some(), "also a finding");
    let record = store.mail_intake(r.intake_id).await.unwrap();
    assert_eq!(record.outcome, "new_report");
    assert_eq!(record.report_id, Some(first));
    assert_eq!(record.message_id, "first-report.1@researchers.test");
    assert_eq!(
        (
            record.spf.as_str(),
            record.dkim.as_str(),
            record.dmarc.as_str()
        ),
        ("none", "none", "none")
    );

    let fill = |s: String, reply: &str, sent: &str| {
        s.replace("{{REPORT}}", &first.to_string())
            .replace("{{REPLY_ADDRESS}}", reply)
            .replace("{{SENT_ID}}", sent)
    };
    let reply_address = intake
        .reply_address("security@shop.test", first, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(reply_address.starts_with(&format!("security+r{first}-")));
    let sent_id = rampart_mail::reply::new_message_id(first, "rampart.shop.test").unwrap();
    store
        .record_sent_message(&sent_id, first, T0)
        .await
        .unwrap();

    // 02: the researcher answers with the subject token.
    let r = take(fill(
        eml("02-reply-subject-token.eml"),
        &reply_address,
        &sent_id,
    ))
    .await;
    assert!(
        matches!(r.outcome, Outcome::Comment { report_id, by: ThreadedBy::SubjectToken, .. } if report_id == first),
        "{label}: 02 {:?}",
        r.outcome
    );
    assert!(comments(store, first).await[0].contains("order confirmation page"));

    // 03: someone else uses the subject token: a report of their own.
    let before = report_count(store).await;
    let r = take(fill(
        eml("03-reply-token-other-sender.eml"),
        &reply_address,
        &sent_id,
    ))
    .await;
    let Outcome::NewReport {
        report_id: mallorys,
    } = r.outcome
    else {
        panic!("{label}: 03 {:?}", r.outcome)
    };
    assert_ne!(mallorys, first);
    assert!(
        r.flags.contains(&"thread_refused_other_sender".to_owned()),
        "{:?}",
        r.flags
    );
    assert_eq!(report_count(store).await, before + 1);
    assert_eq!(
        comments(store, first).await.len(),
        1,
        "nothing written into alice's report"
    );

    // 04: a colleague writes to the report's reply address.
    let r = take(fill(eml("04-reply-address.eml"), &reply_address, &sent_id)).await;
    assert!(
        matches!(r.outcome, Outcome::Comment { report_id, by: ThreadedBy::ReplyAddress, .. } if report_id == first),
        "{label}: 04 {:?}",
        r.outcome
    );
    let c = comments(store, first).await;
    assert!(
        c[1].contains("Carol Colleague <carol@researchers.test>"),
        "{}",
        c[1]
    );
    assert!(
        r.flags
            .contains(&"other_sender_via_reply_address".to_owned())
    );
    assert!(
        store.user_by_email("carol@researchers.test").await.is_err(),
        "a reply creates no account"
    );

    // 05: In-Reply-To a message Rampart sent.
    let r = take(fill(eml("05-in-reply-to.eml"), &reply_address, &sent_id)).await;
    assert!(
        matches!(r.outcome, Outcome::Comment { report_id, by: ThreadedBy::InReplyTo, .. } if report_id == first),
        "{label}: 05 {:?}",
        r.outcome
    );

    // 06, 07, 08: auto-reply, bounce and a second delivery create nothing.
    let count = report_count(store).await;
    let thread_len = store.report_events(first, true).await.unwrap().len();
    for (file, want) in [
        ("06-auto-reply.eml", "ignored"),
        ("07-bounce.eml", "ignored"),
        ("08-duplicate.eml", "duplicate"),
    ] {
        let r = take(fill(eml(file), &reply_address, &sent_id)).await;
        assert_eq!(r.outcome.as_str(), want, "{label}: {file} {:?}", r.outcome);
    }
    assert_eq!(report_count(store).await, count);
    assert_eq!(
        store.report_events(first, true).await.unwrap().len(),
        thread_len
    );
    let bounce = store
        .mail_intake_by_message_id("bounce.7@mx.researchers.test")
        .await
        .unwrap();
    assert_eq!(bounce.outcome, "ignored");
    assert!(
        bounce.detail.contains("Auto-Submitted") || bounce.detail.contains("mail system"),
        "{}",
        bounce.detail
    );

    // 09: HTML-only mail becomes text.
    let r = take(eml("09-html-only.eml")).await;
    let Outcome::NewReport { report_id } = r.outcome else {
        panic!("{label}: 09 {:?}", r.outcome)
    };
    let html = store.report(report_id).await.unwrap();
    assert_eq!(html.title, "Open redirect on /login?next=");
    assert!(
        html.description.contains("Fish & chips <3"),
        "{}",
        html.description
    );
    assert!(
        html.description
            .contains("https://shop.test/login?next=https://evil.test")
    );
    for markup in ["<p>", "<script", "alert(", "onerror", "<img", "color: red"] {
        assert!(
            !html.description.contains(markup),
            "{markup} in {}",
            html.description
        );
    }
    assert!(r.flags.contains(&"html_converted".to_owned()));

    // 10: attachments are kept (an executable is refused and said so).
    let r = take(eml("10-attachments.eml")).await;
    let Outcome::NewReport { report_id } = r.outcome else {
        panic!("{label}: 10 {:?}", r.outcome)
    };
    let files = store.report_attachments(report_id, true).await.unwrap();
    let mut names: Vec<_> = files
        .iter()
        .map(|f| (f.filename.as_str(), f.content_type.as_str()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("request.txt", "text/plain"),
            ("screenshot.png", "image/png")
        ]
    );
    let png = files
        .iter()
        .find(|f| f.filename == "screenshot.png")
        .unwrap();
    let bytes = intake.files.get(&png.sha256).await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "decoded from base64");
    assert_eq!(png.size, bytes.len() as i64);
    assert_eq!(r.attachments_kept, 2);
    assert_eq!(r.attachments_refused.len(), 1);
    assert!(r.attachments_refused[0].starts_with("poc.exe"));
    assert!(
        store
            .report(report_id)
            .await
            .unwrap()
            .description
            .contains("Attachments not kept:\n- poc.exe")
    );

    // 11: over the size limit: refused with an explanation, nothing stored.
    let count = report_count(store).await;
    let r = take(eml("11-oversized.eml")).await;
    let Outcome::Refused { bounce, .. } = &r.outcome else {
        panic!("{label}: 11 {:?}", r.outcome)
    };
    assert!(
        bounce.contains("\"Huge crash dump\"")
            && bounce.contains("35 KB")
            && bounce.contains("16 KB"),
        "{bounce}"
    );
    let record = store.mail_intake(r.intake_id).await.unwrap();
    assert_eq!(record.outcome, "refused");
    assert!(
        record.detail.contains("over the 16384 byte limit"),
        "{}",
        record.detail
    );
    assert_eq!(report_count(store).await, count);
    assert!(store.user_by_email("frank@researchers.test").await.is_err());

    // 12: a guessed reply token reaches nobody's report.
    let r = take(fill(
        eml("12-bad-reply-token.eml"),
        &reply_address,
        &sent_id,
    ))
    .await;
    assert!(
        matches!(r.outcome, Outcome::NewReport { report_id } if report_id != first),
        "{:?}",
        r.outcome
    );
    assert!(r.flags.contains(&"bad_reply_token".to_owned()));
    assert_eq!(comments(store, first).await.len(), 3);

    // 13 and 14: the programme from the address, else the default one.
    let r = take(eml("13-other-programme.eml")).await;
    let id = r.outcome.report_id().unwrap();
    assert_eq!(store.report(id).await.unwrap().programme_id, blog);
    assert!(
        r.flags.is_empty(),
        "a +r address elsewhere is no reply address: {:?}",
        r.flags
    );
    let r = take(eml("14-no-programme.eml")).await;
    let id = r.outcome.report_id().unwrap();
    assert_eq!(store.report(id).await.unwrap().programme_id, shop);

    // 15: our own mail coming back is a loop, not a comment.
    let before = comments(store, first).await.len();
    let r = take(fill(eml("15-own-mail-loop.eml"), &reply_address, &sent_id)).await;
    assert!(
        matches!(&r.outcome, Outcome::Ignored { reason } if reason.contains("loop")),
        "{:?}",
        r.outcome
    );
    assert_eq!(comments(store, first).await.len(), before);

    // The record of everything taken: one row per Message-ID.
    let all = store.recent_mail_intake(100).await.unwrap();
    assert_eq!(all.len(), 14, "{label}: 15 files, one duplicate");
    assert!(all.iter().all(|m| m.outcome != "processing"));
}

#[tokio::test]
async fn a_failed_apply_releases_the_claim_and_refusals_are_final() {
    for ts in testkit::all().await {
        let store = &ts.store;
        let service = Service::new(store.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut intake = Intake {
            service: service.clone(),
            files: FileStore::new(dir.path()),
            checks: None,
            config: IntakeConfig::default(),
        };
        let env = Envelope::default();

        // No programme at all: refused, and final for that Message-ID.
        let raw = eml("01-new-report.eml");
        let r = intake.take(raw.as_bytes(), &env, T0).await.unwrap();
        assert_eq!(r.outcome.as_str(), "refused", "{}", ts.label);
        let again = intake.take(raw.as_bytes(), &env, T0).await.unwrap();
        assert_eq!(again.outcome.as_str(), "duplicate");

        // An apply that fails half-way (attachments cannot be written)
        // stores nothing and leaves no claim: the next delivery is taken.
        programme(&service, "shop", "security@shop.test").await;
        let blocker = dir.path().join("not-a-directory");
        std::fs::write(&blocker, b"x").unwrap();
        intake.files = FileStore::new(blocker.join("attachments"));
        let raw = eml("10-attachments.eml");
        let err = intake.take(raw.as_bytes(), &env, T0).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(
            store
                .mail_intake_by_message_id("attachments.10@researchers.test")
                .await
                .is_err()
        );
        assert_eq!(report_count(store).await, 0);
        intake.files = FileStore::new(dir.path().join("attachments"));
        let r = intake.take(raw.as_bytes(), &env, T0).await.unwrap();
        assert_eq!(r.outcome.as_str(), "new_report");

        // A copy arriving while another delivery is being applied is told
        // to come back later (not dropped as a duplicate).
        store
            .claim_mail("in-flight.1@researchers.test", T0)
            .await
            .unwrap()
            .unwrap();
        let raw = eml("01-new-report.eml").replace(
            "first-report.1@researchers.test",
            "in-flight.1@researchers.test",
        );
        let err = intake.take(raw.as_bytes(), &env, T0).await.unwrap_err();
        assert!(
            err.is_temporary() && err.to_string().contains("another delivery"),
            "{err}"
        );

        // The per-sender hourly limit applies to mail as to the web form.
        intake.config.max_reports_per_hour = 1;
        let second = eml("10-attachments.eml").replace("attachments.10@", "attachments.10b@");
        let r = intake
            .take(second.as_bytes(), &env, T0 + 1000)
            .await
            .unwrap();
        let Outcome::Refused { bounce, .. } = &r.outcome else {
            panic!("{}: {:?}", ts.label, r.outcome)
        };
        assert!(bounce.contains("in the last hour"), "{bounce}");
        let third = second.replace("attachments.10b@", "attachments.10c@");
        let r = intake
            .take(third.as_bytes(), &env, T0 + 3_600_001 + 1000)
            .await
            .unwrap();
        assert_eq!(r.outcome.as_str(), "new_report", "an hour later");

        // Hostile text (NUL and escape characters in encoded words, an
        // address with a NUL) is cleaned, not a database error and not a
        // temporary failure the MTA would retry for days.
        let hostile = "From: =?utf-8?q?Nul=00Name?= <nul@researchers.test>\r\n\
             To: security@shop.test, =?utf-8?q?x?= <a\u{0}b@shop.test>\r\n\
             Subject: =?utf-8?q?XSS=00_in=1B[31m_search?=\r\n\
             Message-ID: <hostile.1@researchers.test>\r\n\r\nbody\u{0} with NUL\r\n";
        let r = intake
            .take(hostile.as_bytes(), &env, T0 + 5000)
            .await
            .unwrap();
        let Outcome::NewReport { report_id } = r.outcome else {
            panic!("{}: {:?}", ts.label, r.outcome)
        };
        let hr = store.report(report_id).await.unwrap();
        assert_eq!(hr.title, "XSS in[31m search");
        assert_eq!(hr.description, "body with NUL");

        // An unreadable message is an error and claims nothing.
        let err = intake.take(b"", &env, T0).await.unwrap_err();
        assert!(!err.is_temporary());
        assert!(err.to_string().contains("empty"));
        assert_eq!(store.recent_mail_intake(10).await.unwrap().len(), 6);
    }
}
