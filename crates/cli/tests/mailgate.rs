//! `rampart mailgate`, driven the way an MTA's pipe transport drives it:
//! one message on standard input, the outcome in the exit status.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use rampart_core::{DEFAULT_SAFE_HARBOUR, ResponseTargets, Visibility};
use rampart_store::{ProgrammeSettings, ReportFilter, Store};

fn rampart() -> Command {
    let mut c = Command::cargo_bin("rampart").unwrap();
    c.env_remove("RAMPART_DATABASE_URL")
        .env_remove("RAMPART_CONFIG");
    c
}

fn eml(name: &str) -> String {
    let path = format!("{}/../mail/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn with_programme(url: &str) -> Store {
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
                email: Some("security@shop.test".into()),
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
