#![allow(clippy::unwrap_used)]
//! IMAP intake against the real servers `scripts/mail-services.sh` starts:
//! messages go in by SMTP through Postfix, Postfix delivers them by LMTP into
//! Dovecot, and Rampart takes them over IMAP (STARTTLS, IMAPS and clear text
//! on loopback). Each test uses its own mailbox address, so tests running in
//! parallel never see each other's mail.
//!
//! Without the servers' environment (RAMPART_TEST_IMAP_PORT …) the tests skip,
//! unless CI or RAMPART_REQUIRE_MAIL is set: then a missing server fails them.

use futures_util::TryStreamExt;
use lettre::AsyncTransport;
use rampart_mail::imap::{self, After, ImapConfig, MessageResult, TlsMode};
use rampart_mail::intake::{Intake, IntakeConfig, Outcome};
use rampart_mail::{DnsRecords, SenderChecks, files::FileStore};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::{ReportFilter, Store, testkit};
use std::time::{Duration, Instant};

#[path = "support/gnupg.rs"]
mod gnupg;

struct MailEnv {
    smtp_host: String,
    smtp_port: u16,
    imap_host: String,
    imap_port: u16,
    imaps_port: u16,
    password: String,
    ca: Vec<u8>,
    maildir_root: std::path::PathBuf,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The test servers, or `None` (skip) when they are not configured and
/// nothing requires them.
fn mail_env() -> Option<MailEnv> {
    let got = (|| {
        Some(MailEnv {
            smtp_host: var("RAMPART_TEST_SMTP_HOST")?,
            smtp_port: var("RAMPART_TEST_SMTP_PORT")?.parse().ok()?,
            imap_host: var("RAMPART_TEST_IMAP_HOST")?,
            imap_port: var("RAMPART_TEST_IMAP_PORT")?.parse().ok()?,
            imaps_port: var("RAMPART_TEST_IMAPS_PORT")?.parse().ok()?,
            password: var("RAMPART_TEST_MAIL_PASSWORD")?,
            ca: std::fs::read(var("RAMPART_TEST_MAIL_CA")?).ok()?,
            maildir_root: var("RAMPART_TEST_MAILDIR_ROOT")?.into(),
        })
    })();
    if got.is_none() {
        assert!(
            var("CI").is_none() && var("RAMPART_REQUIRE_MAIL").as_deref() != Some("1"),
            "the mail test servers are required here (CI or RAMPART_REQUIRE_MAIL=1) but \
             RAMPART_TEST_* is not set: run eval \"$(scripts/test-services.sh)\""
        );
        eprintln!("skipping: no mail test servers (eval \"$(scripts/test-services.sh)\")");
    }
    got
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!("{prefix}-{}", hex::encode(b))
}

/// Sends one raw message through Postfix.
async fn send(env: &MailEnv, from: &str, to: &str, raw: &str) {
    let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(
        env.smtp_host.as_str(),
    )
    .port(env.smtp_port)
    .build();
    let envelope = lettre::address::Envelope::new(
        if from.is_empty() {
            None
        } else {
            Some(from.parse().unwrap())
        },
        vec![to.parse().unwrap()],
    )
    .unwrap();
    transport
        .send_raw(&envelope, raw.replace('\n', "\r\n").as_bytes())
        .await
        .unwrap();
}

/// Waits until Dovecot holds `n` messages for `address` (in its Maildir).
async fn wait_for_delivery(env: &MailEnv, address: &str, n: usize) {
    let (local, domain) = address.split_once('@').unwrap();
    let md = env.maildir_root.join(domain).join(local).join("Maildir");
    let start = Instant::now();
    loop {
        let count: usize = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(md.join(d)).ok())
            .map(|rd| rd.count())
            .sum();
        if count >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{address}: {count} of {n} messages delivered after 30 s; see /tmp/rampart-test-mail/postfix/maillog"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config(env: &MailEnv, user: &str, tls: TlsMode) -> ImapConfig {
    let mut c = ImapConfig::new(&env.imap_host, user, &env.password);
    c.tls = tls;
    c.port = match tls {
        TlsMode::Imaps => env.imaps_port,
        _ => env.imap_port,
    };
    c.ca_pem = Some(env.ca.clone());
    c.timeout = Duration::from_secs(20);
    c
}

struct Setup {
    store: testkit::TestStore,
    intake: Intake,
    mailbox: String,
    _files: tempfile::TempDir,
}

async fn setup() -> Setup {
    let store = testkit::sqlite().await;
    let service = Service::new(store.store.clone());
    let mailbox = format!("{}@rampart.test", unique("security"));
    service
        .create_programme(
            &ProgrammeInput {
                name: "Shop".into(),
                slug: "shop".into(),
                visibility: "public".into(),
                email: Some(mailbox.clone()),
                ..Default::default()
            },
            1_800_000_000_000,
        )
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let intake = Intake {
        service,
        files: FileStore::new(files.path()),
        checks: Some(SenderChecks::offline(DnsRecords::offline()).unwrap()),
        config: IntakeConfig {
            default_programme: None,
            ..Default::default()
        },
    };
    Setup {
        store,
        intake,
        mailbox,
        _files: files,
    }
}

async fn reports(store: &Store) -> Vec<rampart_store::Report> {
    store.list_reports(&ReportFilter::default()).await.unwrap()
}

fn report_mail(from: &str, to: &str, subject: &str, message_id: &str) -> String {
    format!(
        "From: Alice <{from}>\nTo: {to}\nSubject: {subject}\nMessage-ID: <{message_id}>\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\nThe search page reflects the q parameter.\n"
    )
}

/// Sends `from`'s report mail with `subject` and `message_id` to `mailbox`.
async fn send_report(env: &MailEnv, from: &str, mailbox: &str, subject: &str, message_id: &str) {
    send(
        env,
        from,
        mailbox,
        &report_mail(from, mailbox, subject, message_id),
    )
    .await;
}

/// Flags of every message in a folder, by UID.
async fn flags(cfg: &ImapConfig, folder: &str) -> Vec<(u32, Vec<String>)> {
    let mut mb = imap::connect(cfg).await.unwrap();
    let s = mb.session();
    s.select(folder).await.unwrap();
    let fetched: Vec<_> = s
        .uid_fetch("1:*", "(UID FLAGS)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut out: Vec<(u32, Vec<String>)> = fetched
        .iter()
        .filter_map(|f| {
            Some((
                f.uid?,
                f.flags().map(|fl| format!("{fl:?}")).collect::<Vec<_>>(),
            ))
        })
        .collect();
    out.sort();
    mb.logout().await;
    out
}

#[tokio::test]
async fn smtp_to_dovecot_to_reports_once_each() {
    let Some(env) = mail_env() else { return };
    let s = setup().await;
    let alice = format!("{}@researcher.test", unique("alice"));
    let report_id = format!("{}@researcher.test", unique("r"));
    send_report(
        &env,
        &alice,
        &s.mailbox,
        "Reflected XSS in search",
        &report_id,
    )
    .await;
    // The same Message-ID again (a client that sent twice): a duplicate.
    send_report(
        &env,
        &alice,
        &s.mailbox,
        "Reflected XSS in search",
        &report_id,
    )
    .await;
    // An out-of-office answer: never a report.
    let ooo = format!(
        "From: Bob <bob@researcher.test>\nTo: {}\nSubject: Out of office\nAuto-Submitted: auto-replied\n\
         Message-ID: <{}@researcher.test>\n\nI am away until Monday.\n",
        s.mailbox,
        unique("ooo")
    );
    send(&env, "bob@researcher.test", &s.mailbox, &ooo).await;
    // A bounce: the null return path.
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@researcher.test>\nTo: {}\nSubject: Undelivered Mail Returned to Sender\n\
         Message-ID: <{}@researcher.test>\n\nThis is the mail system.\n",
        s.mailbox,
        unique("bounce")
    );
    send(&env, "", &s.mailbox, &bounce).await;
    wait_for_delivery(&env, &s.mailbox, 4).await;

    let cfg = config(&env, &s.mailbox, TlsMode::Starttls);
    let summary = imap::run_once(&s.intake, &cfg).await.unwrap();
    let outcomes: Vec<&str> = summary
        .items
        .iter()
        .map(|i| match &i.result {
            MessageResult::Taken(r) => r.outcome.as_str(),
            MessageResult::NotMail(e) | MessageResult::Left(e) => panic!("{e}"),
        })
        .collect();
    assert_eq!(outcomes, ["new_report", "duplicate", "ignored", "ignored"]);
    let all = reports(&s.store).await;
    assert_eq!(all.len(), 1, "one report from four messages");
    assert_eq!(all[0].title, "Reflected XSS in search");
    assert_eq!(all[0].received_via, "email");
    assert!(all[0].description.contains("reflects the q parameter"));
    let researcher = s.store.user_by_id(all[0].researcher_id).await.unwrap();
    assert_eq!(researcher.email, alice);

    // Every message is marked, none deleted.
    let marked = flags(&cfg, "INBOX").await;
    assert_eq!(marked.len(), 4);
    for (uid, f) in &marked {
        assert!(f.iter().any(|x| x == "Seen"), "{uid}: {f:?}");
        assert!(f.iter().any(|x| x.contains("RampartTaken")), "{uid}: {f:?}");
    }

    // A second pass takes nothing twice.
    let again = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert!(again.items.is_empty(), "{:?}", again.items);
    assert_eq!(reports(&s.store).await.len(), 1);

    // A message a person has already read (\Seen) is still taken: only the
    // keyword says "taken".
    let second = format!("{}@researcher.test", unique("r"));
    send_report(
        &env,
        &alice,
        &s.mailbox,
        "Open redirect on /logout",
        &second,
    )
    .await;
    wait_for_delivery(&env, &s.mailbox, 5).await;
    {
        let mut mb = imap::connect(&cfg).await.unwrap();
        let session = mb.session();
        session.select("INBOX").await.unwrap();
        let _: Vec<_> = session
            .store("5", "+FLAGS.SILENT (\\Seen)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        mb.logout().await;
    }
    let third = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert_eq!(third.items.len(), 1);
    assert_eq!(reports(&s.store).await.len(), 2);
}

#[tokio::test]
async fn imaps_and_move_to_a_folder() {
    let Some(env) = mail_env() else { return };
    let s = setup().await;
    let alice = format!("{}@researcher.test", unique("alice"));
    for subject in ["SQL injection in /api/orders", "IDOR on invoices"] {
        let id = format!("{}@researcher.test", unique("m"));
        send_report(&env, &alice, &s.mailbox, subject, &id).await;
    }
    wait_for_delivery(&env, &s.mailbox, 2).await;
    let mut cfg = config(&env, &s.mailbox, TlsMode::Imaps);
    cfg.after = After::Move("Rampart/Taken".into());
    let summary = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert_eq!(summary.items.len(), 2);
    assert_eq!(reports(&s.store).await.len(), 2);
    assert!(flags(&cfg, "INBOX").await.is_empty(), "moved out of INBOX");
    let moved = flags(&cfg, "Rampart/Taken").await;
    assert_eq!(moved.len(), 2);
    assert!(moved.iter().all(|(_, f)| f.iter().any(|x| x == "Seen")));
    assert!(
        imap::run_once(&s.intake, &cfg)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn clear_text_on_loopback_and_delete() {
    let Some(env) = mail_env() else { return };
    let s = setup().await;
    let alice = format!("{}@researcher.test", unique("alice"));
    let id = format!("{}@researcher.test", unique("d"));
    send_report(&env, &alice, &s.mailbox, "CSRF on email change", &id).await;
    wait_for_delivery(&env, &s.mailbox, 1).await;
    let mut cfg = config(&env, &s.mailbox, TlsMode::NoneLoopbackOnly);
    cfg.after = After::Delete;
    let summary = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert_eq!(summary.items.len(), 1);
    assert_eq!(reports(&s.store).await.len(), 1);
    assert!(flags(&cfg, "INBOX").await.is_empty(), "expunged");
}

#[tokio::test]
async fn a_temporary_failure_leaves_the_message_for_the_next_pass() {
    let Some(env) = mail_env() else { return };
    let mut s = setup().await;
    let alice = format!("{}@researcher.test", unique("alice"));
    let id = format!("{}@researcher.test", unique("t"));
    let raw = format!(
        "From: Alice <{alice}>\nTo: {to}\nSubject: Proof of concept attached\nMessage-ID: <{id}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\
         Content-Type: text/plain\n\nSee the attached request.\n--b\n\
         Content-Type: text/plain; name=\"request.txt\"\nContent-Disposition: attachment; filename=\"request.txt\"\n\n\
         GET /admin HTTP/1.1\n--b--\n",
        to = s.mailbox
    );
    send(&env, &alice, &s.mailbox, &raw).await;
    wait_for_delivery(&env, &s.mailbox, 1).await;
    let cfg = config(&env, &s.mailbox, TlsMode::Starttls);

    // The attachment store cannot be written (its parent is a file): the
    // intake fails temporarily, nothing is stored, the message stays unmarked.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let good = std::mem::replace(
        &mut s.intake.files,
        FileStore::new(blocker.path().join("attachments")),
    );
    let first = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert_eq!(first.left(), 1, "{:?}", first.items);
    assert!(reports(&s.store).await.is_empty());
    let f = flags(&cfg, "INBOX").await;
    assert!(
        f[0].1
            .iter()
            .all(|x| !x.contains("RampartTaken") && x != "Seen"),
        "left unmarked: {f:?}"
    );

    // The disk is back: the next pass takes it.
    s.intake.files = good;
    let second = imap::run_once(&s.intake, &cfg).await.unwrap();
    let [item] = &second.items[..] else {
        panic!("{:?}", second.items)
    };
    let MessageResult::Taken(r) = &item.result else {
        panic!("{:?}", item.result)
    };
    assert!(
        matches!(r.outcome, Outcome::NewReport { .. }),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.attachments_kept, 1);
}

#[tokio::test]
async fn idle_takes_new_mail_as_it_arrives() {
    let Some(env) = mail_env() else { return };
    let s = setup().await;
    let mut cfg = config(&env, &s.mailbox, TlsMode::Imaps);
    // Far longer than the test: only IDLE can wake the watcher in time.
    cfg.poll_interval = Duration::from_secs(600);
    let mb = imap::connect(&cfg).await.unwrap();
    assert!(mb.has_idle(), "Dovecot offers IDLE");
    mb.logout().await;

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let passes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = passes.clone();
    let store = s.store.store.clone();
    let intake = std::sync::Arc::new(s.intake);
    let watcher = {
        let intake = intake.clone();
        let cfg = cfg.clone();
        tokio::spawn(async move {
            imap::watch(
                &intake,
                &cfg,
                async {
                    let _ = stop_rx.await;
                },
                move |_| {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                },
            )
            .await;
        })
    };
    // The first (empty) pass, then the watcher is in IDLE.
    let start = Instant::now();
    while passes.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no first pass");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alice = format!("{}@researcher.test", unique("alice"));
    let id = format!("{}@researcher.test", unique("i"));
    let sent = Instant::now();
    send_report(&env, &alice, &s.mailbox, "Subdomain takeover of docs", &id).await;
    loop {
        if reports(&store).await.len() == 1 {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(20),
            "IDLE did not wake the watcher"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("SMTP → Dovecot → IDLE → report in {:?}", sent.elapsed());
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("the watcher stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn wrong_password_and_untrusted_certificate_say_so() {
    let Some(env) = mail_env() else { return };
    let mut cfg = config(&env, "alice@researcher.test", TlsMode::Imaps);
    cfg.password = "not-the-password".into();
    let e = imap::connect(&cfg).await.err().unwrap().to_string();
    assert!(
        e.contains("refused the login for alice@researcher.test"),
        "{e}"
    );

    let mut cfg = config(&env, "alice@researcher.test", TlsMode::Starttls);
    cfg.ca_pem = None;
    let e = imap::connect(&cfg).await.err().unwrap().to_string();
    assert!(e.contains("TLS with the IMAP server"), "{e}");
    assert!(e.contains("CA file"), "{e}");
}

/// A figure for docs/mail.md, not a check: `cargo test -p rampart-mail --test imap --
/// --ignored --nocapture`. 100 messages by SMTP, then one pass over them.
#[tokio::test]
#[ignore = "a measurement"]
async fn measure_one_pass_over_a_hundred_messages() {
    let Some(env) = mail_env() else { return };
    let mut s = setup().await;
    // One sender, a hundred reports: past the per-sender hourly limit.
    s.intake.config.max_reports_per_hour = 0;
    let alice = format!("{}@researcher.test", unique("alice"));
    let sent = Instant::now();
    for i in 0..100 {
        let id = format!("{}@researcher.test", unique("b"));
        send_report(
            &env,
            &alice,
            &s.mailbox,
            &format!("Finding number {i}"),
            &id,
        )
        .await;
    }
    wait_for_delivery(&env, &s.mailbox, 100).await;
    eprintln!(
        "100 messages through Postfix into Dovecot: {:?}",
        sent.elapsed()
    );
    let cfg = config(&env, &s.mailbox, TlsMode::Imaps);
    let started = Instant::now();
    let summary = imap::run_once(&s.intake, &cfg).await.unwrap();
    let took = started.elapsed();
    assert_eq!(summary.items.len(), 100);
    assert_eq!(reports(&s.store).await.len(), 100);
    eprintln!(
        "one IMAPS pass, 100 new reports into SQLite: {took:?} ({:?} per message)",
        took / 100
    );
    let started = Instant::now();
    let again = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert!(again.items.is_empty());
    eprintln!(
        "an empty pass (connect, TLS, login, search): {:?}",
        started.elapsed()
    );
}

/// GnuPG in a fresh home: the programme key (armoured secret) and a
/// PGP/MIME body encrypted to it. `None` without gpg (skipped, as above).
fn gpg_encrypted(entity: &str) -> Option<(String, String)> {
    if !gnupg::have_gpg() {
        return None;
    }
    let (home, secret) = gnupg::new_key("Shop Security <security@shop.test>", "future-default", "");
    let armored = gnupg::encrypt(home.path(), "security@shop.test", entity.as_bytes());
    Some((secret, armored))
}

#[tokio::test]
async fn a_pgp_mime_report_through_postfix_and_dovecot_is_read_in_plaintext() {
    let Some(env) = mail_env() else { return };
    let Some((secret, armored)) = gpg_encrypted(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n\
         The password reset token is the user id in base64.\r\n",
    ) else {
        return;
    };
    let mut s = setup().await;
    s.intake.config.pgp = rampart_mail::pgp::Keyring::new(vec![
        rampart_mail::pgp::ProgrammeKey::from_armored("shop", &secret, "").unwrap(),
    ]);
    let alice = format!("{}@researcher.test", unique("alice"));
    let raw = format!(
        "From: Alice <{alice}>\nTo: {to}\nSubject: Predictable reset tokens\n\
         Message-ID: <{id}@researcher.test>\nMIME-Version: 1.0\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n\
         --enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--enc\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{armored}\n--enc--\n",
        to = s.mailbox,
        id = unique("pgp")
    );
    send(&env, &alice, &s.mailbox, &raw).await;
    wait_for_delivery(&env, &s.mailbox, 1).await;
    let summary = imap::run_once(&s.intake, &config(&env, &s.mailbox, TlsMode::Imaps))
        .await
        .unwrap();
    let [item] = &summary.items[..] else {
        panic!("{:?}", summary.items)
    };
    let MessageResult::Taken(r) = &item.result else {
        panic!("{:?}", item.result)
    };
    assert!(
        r.flags.contains(&"pgp_decrypted".to_owned()),
        "{:?}",
        r.flags
    );
    let all = reports(&s.store).await;
    assert_eq!(all[0].title, "Predictable reset tokens");
    assert!(
        all[0].description.contains("user id in base64"),
        "{}",
        all[0].description
    );
}

/// A refusal over IMAP has no MTA to bounce it: the intake queues the
/// explanation, the worker's SMTP sender delivers it through Postfix into
/// the sender's own Dovecot mailbox, In-Reply-To the refused message. An
/// automatic message over the limit is ignored and answered with nothing.
#[tokio::test]
async fn a_refusal_over_imap_reaches_the_sender_and_robots_get_none() {
    let Some(env) = mail_env() else { return };
    let mut s = setup().await;
    let mailer = rampart_mail::outbound::EmailNotifier::new(
        s.store.store.clone(),
        rampart_mail::outbound::OutboundConfig {
            from: "Rampart <rampart@rampart.test>".into(),
            public_url: "https://security.rampart.test".into(),
            site_name: "Rampart".into(),
        },
    );
    s.intake.config.max_message_bytes = 2048;
    s.intake.config.refusals = Some(rampart_mail::refusal::RefusalMail { mailer });
    let alice = format!("{}@researcher.test", unique("alice"));
    let robot = format!("{}@researcher.test", unique("robot"));
    let id = format!("{}@researcher.test", unique("big"));
    let big = "x".repeat(4000);
    let person = report_mail(&alice, &s.mailbox, "Huge log", &id)
        .replace("The search page reflects the q parameter.", &big);
    send(&env, &alice, &s.mailbox, &person).await;
    let away = report_mail(&robot, &s.mailbox, "Out of office", &unique("away"))
        .replace("MIME-Version", "Auto-Submitted: auto-replied\nMIME-Version")
        .replace("The search page reflects the q parameter.", &big);
    send(&env, &robot, &s.mailbox, &away).await;
    wait_for_delivery(&env, &s.mailbox, 2).await;

    let cfg = config(&env, &s.mailbox, TlsMode::Imaps);
    let summary = imap::run_once(&s.intake, &cfg).await.unwrap();
    assert_eq!(summary.items.len(), 2);
    let rows: Vec<_> = s
        .store
        .list_outbox(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == rampart_mail::refusal::REFUSAL_KIND)
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "one refusal, none to the auto-reply: {rows:?}"
    );
    assert_eq!(rows[0].target, alice);

    let sender = rampart_mail::smtp::SmtpSender::new(&rampart_mail::smtp::SmtpConfig {
        host: env.smtp_host.clone(),
        port: env.smtp_port,
        security: rampart_mail::smtp::SmtpSecurity::None,
        username: None,
        password: None,
        ca_file: None,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    sender.send(&rows[0]).await.unwrap();
    wait_for_delivery(&env, &alice, 1).await;
    let (local, domain) = alice.split_once('@').unwrap();
    let md = env.maildir_root.join(domain).join(local).join("Maildir");
    let file = ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(md.join(d)).ok())
        .flat_map(|rd| rd.flatten())
        .next()
        .unwrap();
    let raw = std::fs::read(file.path()).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(m.subject(), Some("Not taken: Huge log"));
    assert_eq!(m.in_reply_to().as_text(), Some(id.as_str()));
    assert_eq!(
        m.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    let body = m.body_text(0).unwrap();
    assert!(body.contains("Thank you for writing"), "{body}");
    // No second refusal to her within the hour, whatever she sends.
    let again = report_mail(&alice, &s.mailbox, "Huge log again", &unique("big2"))
        .replace("The search page reflects the q parameter.", &big);
    send(&env, &alice, &s.mailbox, &again).await;
    wait_for_delivery(&env, &s.mailbox, 3).await;
    imap::run_once(&s.intake, &cfg).await.unwrap();
    let n = s
        .store
        .list_outbox(None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.kind == rampart_mail::refusal::REFUSAL_KIND)
        .count();
    assert_eq!(n, 1);
}
