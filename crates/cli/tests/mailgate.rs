//! `rampart mailgate`, driven the way an MTA's pipe transport drives it:
//! one message on standard input, the outcome in the exit status.
#![allow(clippy::unwrap_used)]

use rampart_core::{DEFAULT_SAFE_HARBOUR, ResponseTargets, Visibility};
use rampart_store::{ProgrammeSettings, ReportFilter, Store};

mod common;
use common::{rampart, start_server, token_for};

fn eml(name: &str) -> String {
    let path = format!("{}/../mail/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn with_programme(url: &str) -> Store {
    with_programme_at(url, "security@shop.test").await
}

async fn with_programme_at(url: &str, email: &str) -> Store {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    store
        .create_programme(
            &ProgrammeSettings {
                slug: "shop".into(),
                name: "Shop".into(),
                summary: String::new(),
                policy: String::new(),
                rules: String::new(),
                safe_harbour: DEFAULT_SAFE_HARBOUR.into(),
                visibility: Visibility::Public,
                email: Some(email.into()),
                currency: "USD".into(),
                bounties: Default::default(),
                budget: None,
                targets: ResponseTargets::default(),
                pause_on_breach: false,
                needs_info_close_days: 30,
                scope: vec![],
            },
            1_800_000_000_000,
        )
        .await
        .unwrap();
    store
}

fn gate(target: &[String], stdin: String, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = rampart()
        .arg("mailgate")
        .args(target)
        .args(["--sender-checks", "offline", "--format", "json"])
        .args(extra)
        .write_stdin(stdin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text} / {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), json)
}

async fn the_story(target: Vec<String>, store: &Store, attachments: &std::path::Path) {
    let (code, j) = gate(&target, eml("01-new-report.eml"), &[]);
    assert_eq!(
        (code, j["outcome"].as_str()),
        (0, Some("new_report")),
        "{j}"
    );
    let report_id = j["report_id"].as_i64().unwrap();
    let report = store.report(report_id).await.unwrap();
    assert_eq!(report.received_via, "email");

    // The MTA delivers it again: taken once.
    let (code, j) = gate(&target, eml("08-duplicate.eml"), &[]);
    assert_eq!((code, j["outcome"].as_str()), (0, Some("duplicate")), "{j}");

    // A reply by subject token from the researcher.
    let reply = eml("02-reply-subject-token.eml").replace("{{REPORT}}", &report_id.to_string());
    let (code, j) = gate(&target, reply, &[]);
    assert_eq!((code, j["outcome"].as_str()), (0, Some("comment")), "{j}");
    assert_eq!(j["threaded_by"], "subject_token");
    assert_eq!(j["report_id"].as_i64(), Some(report_id));

    // Auto-replies and bounces: exit 0 (handled), nothing created.
    for file in ["06-auto-reply.eml", "07-bounce.eml"] {
        let (code, j) = gate(&target, eml(file).replace("{{REPORT}}", "1"), &[]);
        assert_eq!(
            (code, j["outcome"].as_str()),
            (0, Some("ignored")),
            "{file}: {j}"
        );
    }

    // Attachments land in the data directory.
    let (code, j) = gate(&target, eml("10-attachments.eml"), &[]);
    assert_eq!((code, j["attachments_kept"].as_i64()), (0, Some(2)), "{j}");
    let files = store
        .report_attachments(j["report_id"].as_i64().unwrap(), true)
        .await
        .unwrap();
    for f in &files {
        assert!(attachments.join(&f.sha256[..2]).join(&f.sha256).exists());
    }

    // Over the limit: refused with the explanation for the bounce (69).
    let (code, j) = gate(&target, eml("11-oversized.eml"), &["--max-bytes", "16384"]);
    assert_eq!((code, j["outcome"].as_str()), (69, Some("refused")), "{j}");
    assert!(
        j["bounce"]
            .as_str()
            .unwrap()
            .contains("Thank you for writing")
    );

    // Not a message: 65, and nothing claimed.
    let (code, j) = gate(&target, "garbage without headers".into(), &[]);
    assert_eq!(
        (code, j["error"].as_str()),
        (65, Some("not_a_message")),
        "{j}"
    );

    let reports = store.list_reports(&ReportFilter::default()).await.unwrap();
    assert_eq!(reports.len(), 2, "01 and 10 only");
}

#[tokio::test]
async fn mailgate_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_programme(&Store::sqlite_url_for(dir.path())).await;
    let target = vec!["--data-dir".into(), dir.path().display().to_string()];
    the_story(target, &store, &dir.path().join("attachments")).await;

    // Text output for people: one line per message.
    let out = rampart()
        .args(["mailgate", "--data-dir"])
        .arg(dir.path())
        .args(["--sender-checks", "offline"])
        .write_stdin(eml("14-no-programme.eml"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("mailgate_text_new_report", String::from_utf8(out).unwrap());

    // The refusal text itself on stdout, for the MTA's bounce.
    let out = rampart()
        .args(["mailgate", "--data-dir"])
        .arg(dir.path())
        .args(["--max-bytes", "100", "--sender-checks", "off"])
        .write_stdin(eml("13-other-programme.eml"))
        .assert()
        .code(69)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Thank you for writing to us."), "{text}");
}

#[tokio::test]
async fn mailgate_on_postgres() {
    let Some(url) = rampart_store::testkit::fresh_postgres_url().await else {
        return;
    };
    let store = with_programme(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let target = vec![
        "--database-url".into(),
        url.clone(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ];
    the_story(target, &store, &dir.path().join("attachments")).await;
}

#[test]
fn mailgate_help_teaches_the_mta_setup() {
    let out = rampart()
        .args(["mailgate", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for word in [
        "Examples:",
        "Postfix",
        "75",
        "69",
        "--client-ip",
        "--default-programme",
    ] {
        assert!(text.contains(word), "mailgate --help mentions {word}");
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_a_temporary_failure() {
    let out = rampart()
        .args([
            "mailgate",
            "--database-url",
            "sqlite:///nonexistent-rampart-dir/sub/x.db",
            "--sender-checks",
            "off",
        ])
        .write_stdin(eml("01-new-report.eml"))
        .assert()
        .code(75)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("could not open the database"));
}

// --- `--url`: the message handed to a running server -----------------------------------------

#[tokio::test]
async fn mailgate_hands_mail_to_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_programme(&Store::sqlite_url_for(dir.path())).await;
    let token = token_for(dir.path(), "triager@shop.test", "triager", "reports:write");
    let token_file = dir.path().join("mailgate-token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let server = start_server(&[
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--public-url".into(),
        "http://127.0.0.1".into(),
    ]);
    let target = vec![
        "--url".into(),
        server.base.clone(),
        "--token-file".into(),
        token_file.display().to_string(),
    ];
    // The same story as straight into the database, exit statuses and all.
    the_story(target.clone(), &store, &dir.path().join("attachments")).await;

    // Text output: the refusal text itself for the MTA's bounce.
    let out = rampart()
        .arg("mailgate")
        .args(&target)
        .args(["--max-bytes", "100"])
        .write_stdin(eml("13-other-programme.eml"))
        .assert()
        .code(69)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Thank you for writing to us."), "{text}");

    // A researcher's token may not hand mail in: temporary (75), so the MTA
    // keeps the message while the token is fixed.
    let researcher = token_for(dir.path(), "r@researchers.test", "researcher", "all");
    let (code, j) = gate(
        &[
            "--url".into(),
            server.base.clone(),
            "--token".into(),
            researcher,
        ],
        eml("09-html-only.eml"),
        &[],
    );
    assert_eq!((code, j["error"].as_str()), (75, Some("token")), "{j}");
    assert!(
        j["message"].as_str().unwrap().contains("researcher role"),
        "{j}"
    );
    let (code, j) = gate(
        &[
            "--url".into(),
            server.base.clone(),
            "--token".into(),
            "rampart_nope".into(),
        ],
        eml("09-html-only.eml"),
        &[],
    );
    assert_eq!((code, j["error"].as_str()), (75, Some("token")), "{j}");
    drop(server);

    // The server is down: 75, the MTA retries.
    let (code, j) = gate(&target, eml("09-html-only.eml"), &[]);
    assert_eq!(
        (code, j["error"].as_str()),
        (75, Some("unreachable")),
        "{j}"
    );

    // Not a URL, or no token: usage errors, said plainly.
    let out = rampart()
        .args(["mailgate", "--url", "security.example.com", "--token", "t"])
        .write_stdin(eml("01-new-report.eml"))
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("is not a URL"));
    let out = rampart()
        .args(["mailgate", "--url", "http://127.0.0.1:9"])
        .env_remove("RAMPART_MAILGATE_TOKEN")
        .write_stdin(eml("01-new-report.eml"))
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("--url needs a token"));
}

// --- `--imap` and `[mail.imap]` against the real Postfix and Dovecot ---------------------------

struct MailEnv {
    smtp_port: u16,
    imap_port: u16,
    password: String,
    ca: String,
}

fn mail_env() -> Option<MailEnv> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let got = (|| {
        Some(MailEnv {
            smtp_port: var("RAMPART_TEST_SMTP_PORT")?.parse().ok()?,
            imap_port: var("RAMPART_TEST_IMAP_PORT")?.parse().ok()?,
            password: var("RAMPART_TEST_MAIL_PASSWORD")?,
            ca: var("RAMPART_TEST_MAIL_CA")?,
        })
    })();
    if got.is_none() {
        assert!(
            var("CI").is_none() && var("RAMPART_REQUIRE_MAIL").as_deref() != Some("1"),
            "the mail test servers are required here (CI or RAMPART_REQUIRE_MAIL=1): run eval \"$(scripts/test-services.sh)\""
        );
        eprintln!("skipping: no mail test servers (eval \"$(scripts/test-services.sh)\")");
    }
    got
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// One message through Postfix, by plain SMTP.
fn smtp_send(port: u16, from: &str, to: &str, raw: &str) {
    use std::io::{BufRead, BufReader, Write};
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(
            line.starts_with(code),
            "SMTP: expected {code}, got {line:?}"
        );
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    expect("220");
    for (cmd, code) in [
        ("EHLO test.researcher.test".to_owned(), "250"),
        (format!("MAIL FROM:<{from}>"), "250"),
        (format!("RCPT TO:<{to}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        write!(w, "{cmd}\r\n").unwrap();
        expect(code);
    }
    for line in raw.lines() {
        let dot = if line.starts_with('.') { "." } else { "" };
        write!(w, "{dot}{line}\r\n").unwrap();
    }
    write!(w, ".\r\n").unwrap();
    expect("250");
    write!(w, "QUIT\r\n").unwrap();
}

fn new_report_to(mailbox: &str, from: &str, subject: &str) -> String {
    format!(
        "From: Researcher <{from}>\nTo: {mailbox}\nSubject: {subject}\nMessage-ID: <{}@researcher.test>\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0000\n\nSteps to reproduce follow.\n",
        unique("m")
    )
}

async fn programme_at(dir: &std::path::Path, mailbox: &str) -> Store {
    with_programme_at(&Store::sqlite_url_for(dir), mailbox).await
}

async fn wait_for_reports(store: &Store, n: usize) -> Vec<rampart_store::Report> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let all = store.list_reports(&ReportFilter::default()).await.unwrap();
        if all.len() >= n {
            return all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {n} reports after 30 s",
            all.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn mailgate_imap_once_takes_each_message_once() {
    let Some(env) = mail_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mailbox = format!("{}@rampart.test", unique("security"));
    let store = programme_at(dir.path(), &mailbox).await;
    let alice = format!("{}@researcher.test", unique("alice"));
    smtp_send(
        env.smtp_port,
        &alice,
        &mailbox,
        &new_report_to(&mailbox, &alice, "Path traversal in /download"),
    );
    let auto = format!(
        "From: {alice}\nTo: {mailbox}\nSubject: Automatic reply\nAuto-Submitted: auto-replied\nMessage-ID: <{}@researcher.test>\n\nAway.\n",
        unique("ooo")
    );
    smtp_send(env.smtp_port, &alice, &mailbox, &auto);
    let url = format!(
        "imap://{}@127.0.0.1:{}/INBOX",
        mailbox.replace('@', "%40"),
        env.imap_port
    );
    let pass = || {
        let out = rampart()
            .args(["mailgate", "--data-dir"])
            .arg(dir.path())
            .args([
                "--imap",
                &url,
                "--imap-ca",
                &env.ca,
                "--once",
                "--sender-checks",
                "offline",
                "--format",
                "json",
            ])
            .env("RAMPART_IMAP_PASSWORD", &env.password)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let j: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), j)
    };
    // Postfix → Dovecot takes a moment; pass until both messages were seen.
    let mut outcomes = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while outcomes.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{outcomes:?}");
        let (code, j) = pass();
        assert_eq!((code, j["left"].as_i64()), (0, Some(0)), "{j}");
        for m in j["messages"].as_array().unwrap() {
            outcomes.push(m["outcome"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    outcomes.sort();
    assert_eq!(outcomes, ["ignored", "new_report"]);
    let (code, j) = pass();
    assert_eq!(
        (code, j["taken"].as_i64()),
        (0, Some(0)),
        "nothing twice: {j}"
    );
    let reports = wait_for_reports(&store, 1).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].title, "Path traversal in /download");

    // Wrong password: 75 (try again later), said plainly.
    let out = rampart()
        .args(["mailgate", "--data-dir"])
        .arg(dir.path())
        .args(["--imap", &url, "--imap-ca", &env.ca, "--once"])
        .env("RAMPART_IMAP_PASSWORD", "wrong")
        .assert()
        .code(75)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&out).contains("refused the login"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn serve_takes_mail_from_the_configured_mailbox() {
    let Some(env) = mail_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mailbox = format!("{}@rampart.test", unique("security"));
    let store = programme_at(dir.path(), &mailbox).await;
    let password_file = dir.path().join("imap-password");
    std::fs::write(&password_file, format!("{}\n", env.password)).unwrap();
    let config = dir.path().join("rampart.toml");
    std::fs::write(
        &config,
        format!(
            "[mail]\nsender_checks = \"offline\"\n\n[mail.imap]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\n\
             username = \"{mailbox}\"\npassword_file = \"{}\"\nca_file = \"{}\"\nafter = \"move:Rampart/Taken\"\npoll_seconds = 600\n",
            env.imap_port,
            password_file.display(),
            env.ca
        ),
    )
    .unwrap();
    let _server = start_server(&[
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--config".into(),
        config.display().to_string(),
    ]);
    // poll_seconds = 600: only IDLE brings the message in within the wait.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let bob = format!("{}@researcher.test", unique("bob"));
    smtp_send(
        env.smtp_port,
        &bob,
        &mailbox,
        &new_report_to(&mailbox, &bob, "Account takeover via reset link"),
    );
    let reports = wait_for_reports(&store, 1).await;
    assert_eq!(reports[0].title, "Account takeover via reset link");
    assert_eq!(reports[0].received_via, "email");
}

/// Every message delivered to `address` (Maildir new and cur), raw.
fn delivered(address: &str) -> Vec<String> {
    let root = std::env::var("RAMPART_TEST_MAILDIR_ROOT").unwrap();
    let (local, domain) = address.split_once('@').unwrap();
    let base = std::path::Path::new(&root)
        .join(domain)
        .join(local)
        .join("Maildir");
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(base.join(sub)) {
            for e in rd.flatten() {
                out.push(String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned());
            }
        }
    }
    out
}

/// Waits until a message delivered to `address` satisfies `want`.
fn wait_for_mail(address: &str, what: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(m) = delivered(address).into_iter().find(|m| want(m)) {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {what} for {address} after 60 s; mailbox holds {:#?}",
            delivered(address)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A header's value (unfolded), from a raw message.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\n\n").next().unwrap_or("").replace("\r\n", "\n");
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut()
            && (line.starts_with(' ') || line.starts_with('\t'))
        {
            v.push(' ');
            v.push_str(line.trim());
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_owned());
        }
    }
    value
}

/// Issue 3's story end to end, with nothing faked: a researcher's mail goes
/// through Postfix into the security@ mailbox in Dovecot; `rampart serve`
/// takes it over IMAP and makes a report; the acknowledgement goes out
/// through Postfix into the researcher's own mailbox, in reply to her
/// message; their answer to it
/// becomes a comment on the same report; a triager's public comment reaches
/// them in the same conversation (In-Reply-To and References pointing at the
/// acknowledgement, the report's token in the subject).
#[tokio::test]
async fn a_whole_conversation_by_mail_through_real_servers() {
    let Some(env) = mail_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mailbox = format!("{}@rampart.test", unique("security"));
    let store = programme_at(dir.path(), &mailbox).await;
    let token = token_for(
        dir.path(),
        "triage@rampart.test",
        "triager",
        "reports:write",
    );
    let password_file = dir.path().join("imap-password");
    std::fs::write(&password_file, format!("{}\n", env.password)).unwrap();
    let config = dir.path().join("rampart.toml");
    std::fs::write(
        &config,
        format!(
            "[mail]\nsender_checks = \"offline\"\nfrom = \"Rampart <{mailbox}>\"\n\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\n\
             [mail.imap]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\n\
             username = \"{mailbox}\"\npassword_file = \"{}\"\nca_file = \"{}\"\npoll_seconds = 2\n\n\
             [outbox]\nfirst_retry_seconds = 1\nmax_retry_seconds = 2\n",
            env.smtp_port,
            env.imap_port,
            password_file.display(),
            env.ca
        ),
    )
    .unwrap();
    let server = start_server(&[
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--config".into(),
        config.display().to_string(),
        "--public-url".into(),
        "http://127.0.0.1".into(),
    ]);

    // 1. The report, by SMTP to security@.
    let alice = format!("{}@researcher.test", unique("alice"));
    let first = new_report_to(&mailbox, &alice, "Stored XSS in the invoice notes");
    let first_id = header(&first, "Message-ID").unwrap();
    smtp_send(env.smtp_port, &alice, &mailbox, &first);
    let reports = wait_for_reports(&store, 1).await;
    let report = &reports[0];
    assert_eq!(report.title, "Stored XSS in the invoice notes");
    assert_eq!(report.received_via, "email");
    let token_in_subject = format!("[#{}]", report.id);

    // 2. The acknowledgement, in the researcher's own mailbox.
    let ack = wait_for_mail(&alice, "acknowledgement", |m| {
        header(m, "Subject").is_some_and(|s| s.contains(&token_in_subject))
    });
    let ack_id = header(&ack, "Message-ID").expect("the acknowledgement has a Message-ID");
    // It answers her own message: her client shows one conversation.
    assert_eq!(
        header(&ack, "In-Reply-To").as_deref(),
        Some(first_id.as_str())
    );
    let reply_to = header(&ack, "Reply-To").expect("a reply address");
    let reply_address = reply_to
        .rsplit('<')
        .next()
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    assert!(
        reply_address.contains("+r"),
        "a per-report reply address: {reply_to}"
    );

    // 3. Her answer to it becomes a comment on the same report.
    let answer = format!(
        "From: Alice <{alice}>\nTo: {reply_address}\nSubject: Re: {}\nMessage-ID: <{}@researcher.test>\n\
         In-Reply-To: {ack_id}\nReferences: {ack_id}\nDate: Tue, 1 Dec 2026 11:00:00 +0000\n\n\
         The payload also fires in the PDF export.\n",
        header(&ack, "Subject").unwrap(),
        unique("answer")
    );
    smtp_send(env.smtp_port, &alice, &reply_address, &answer);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let thread = store.report_events(report.id, true).await.unwrap();
        if thread
            .iter()
            .any(|e| e.kind == "comment" && e.body.contains("also fires in the PDF export"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the answer did not become a comment: {thread:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        store
            .list_reports(&ReportFilter::default())
            .await
            .unwrap()
            .len(),
        1,
        "an answer never makes a new report"
    );

    // 4. A triager's public comment reaches her, threaded.
    let response = ureq::post(&format!(
        "{}/api/v1/reports/{}/comments",
        server.base, report.id
    ))
    .header("Authorization", &format!("Bearer {token}"))
    .header("Content-Type", "application/json")
    .send(r#"{"body": "Thanks, we reproduced it and are working on a fix."}"#)
    .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let update = wait_for_mail(&alice, "the triager's comment", |m| {
        m.contains("we reproduced it")
    });
    assert!(
        header(&update, "Subject").is_some_and(|s| s.contains(&token_in_subject)),
        "{update}"
    );
    assert_eq!(
        header(&update, "In-Reply-To").as_deref(),
        Some(ack_id.as_str())
    );
    assert!(
        header(&update, "References").is_some_and(|r| r.contains(&ack_id)),
        "{update}"
    );
    assert_eq!(
        header(&update, "Reply-To").as_deref(),
        Some(reply_to.as_str())
    );
}
