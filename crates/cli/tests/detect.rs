//! `rampart detect`, driven through the real binary over the real Stratus Red
//! Team detonation logs and generated inputs, and pushed to a real server.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn rampart() -> Command {
    Command::cargo_bin("rampart").unwrap()
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora")
        .join(rel)
}

fn stratus() -> PathBuf {
    corpus("aws/stratus-red-team-detonation-logs")
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn json_findings_over_the_stratus_logs() {
    let out = rampart()
        .args(["detect", "--format", "json"])
        .arg(stratus())
        .assert()
        .code(0)
        .get_output()
        .clone();
    let findings = json_lines(&out.stdout);
    assert!(findings.len() >= 35, "{}", findings.len());
    for f in &findings {
        for key in [
            "type",
            "severity",
            "account_id",
            "region",
            "count",
            "first_seen",
            "last_seen",
            "resource",
            "evidence",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    let types: Vec<&str> = findings
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    for t in [
        "Stealth:IAMUser/CloudTrailLoggingDisabled",
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
        "InitialAccess:IAMUser/ConsoleLoginWithoutMFA",
    ] {
        assert!(types.contains(&t), "{t} not in {types:?}");
    }
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("35 files") && stderr.contains("0 input problems"),
        "{stderr}"
    );
}

#[test]
fn text_report_groups_by_account_and_severity() {
    let out = rampart()
        .args(["detect"])
        .arg(stratus().join("aws.defense-evasion.cloudtrail-stop.json"))
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("ACCOUNT"), "{text}");
    assert!(
        text.contains("143434273843")
            && text.contains("LOW      Stealth:IAMUser/CloudTrailLoggingDisabled"),
        "{text}"
    );
}

#[test]
fn stdin_gzip_hints_and_bad_records() {
    use std::io::Write;
    let body = "{\"eventName\":\"StopLogging\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"recipientAccountId\":\"111122223333\",\"awsRegion\":\"eu-west-1\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"requestParameters\":{\"name\":\"t\"}}\nnot json\n";
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let out = rampart()
        .args([
            "detect",
            "-",
            "--format",
            "json",
            "--format-hint",
            "cloudtrail",
        ])
        .write_stdin(gz)
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert_eq!(json_lines(&out.stdout).len(), 1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("<stdin> line 2"), "{stderr}");
}

#[test]
fn errors_exit_2_with_the_fix() {
    let err = rampart()
        .args(["detect", "/nonexistent/logs"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("does not exist"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("mute.yml");
    std::fs::write(&bad, "rules:\n  - reason: ''\n    match: {type: x}\n").unwrap();
    let err = rampart()
        .args(["detect"])
        .arg(stratus())
        .arg("--suppress")
        .arg(&bad)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("reason"));
    rampart().args(["detect"]).assert().code(2);
}

#[test]
fn suppression_archives_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mute = dir.path().join("mute.yml");
    std::fs::write(&mute, "rules:\n  - reason: change window for the trail migration\n    match:\n      type: Stealth:IAMUser/CloudTrailLoggingDisabled\n").unwrap();
    let log = stratus().join("aws.defense-evasion.cloudtrail-stop.json");
    let out = rampart()
        .args(["detect", "--format", "json", "--suppress"])
        .arg(&mute)
        .arg(&log)
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert!(
        json_lines(&out.stdout)
            .iter()
            .all(|f| f["type"] != "Stealth:IAMUser/CloudTrailLoggingDisabled")
    );
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("1 suppressed")
    );
    let out = rampart()
        .args([
            "detect",
            "--format",
            "json",
            "--show-suppressed",
            "--suppress",
        ])
        .arg(&mute)
        .arg(&log)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let archived: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|f| f["archived"] == true)
        .collect();
    assert_eq!(archived.len(), 1);
    assert!(
        archived[0]["suppressed_by"]
            .as_str()
            .unwrap()
            .contains("trail migration")
    );
}

#[test]
fn sigma_rules_and_threat_lists() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("ours.txt");
    std::fs::write(&list, "# incident 42\n86.245.153.234\n").unwrap();
    let out = rampart()
        .args(["detect", "--format", "json", "--sigma"])
        .arg(corpus("sigma-aws/rules"))
        .arg("--threat-list")
        .arg(&list)
        .arg(stratus().join("aws.defense-evasion.cloudtrail-stop.json"))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let findings = json_lines(&out.stdout);
    let types: Vec<&str> = findings
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert!(types.iter().any(|t| t.starts_with("Sigma:")), "{types:?}");
    assert!(
        types.contains(&"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom"),
        "{types:?}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("57 Sigma rules") || stderr.contains("Sigma rules)"),
        "{stderr}"
    );
}

#[test]
fn help_teaches() {
    let out = rampart()
        .args(["detect", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(out).unwrap();
    assert!(
        help.contains("Examples:")
            && help.contains("--threat-list")
            && help.contains("kind: tor-exit")
    );
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data_dir: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("RAMPART_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains("is serving on") || Instant::now() > deadline {
            break;
        }
    }
    let base = format!("http://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, base }
}

#[test]
fn push_is_idempotent_against_a_real_server() {
    let data = tempfile::tempdir().unwrap();
    let token_out = rampart()
        .args([
            "token",
            "create",
            "--name",
            "detect",
            "--scope",
            "findings:write",
            "--data-dir",
        ])
        .arg(data.path())
        .env_remove("RAMPART_DATABASE_URL")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let token = String::from_utf8(token_out).unwrap().trim().to_owned();
    let server = start_server(data.path());
    let push = || {
        let out = rampart()
            .args(["detect", "--push", &server.base, "--token", &token])
            .arg(stratus())
            .assert()
            .code(0)
            .get_output()
            .stderr
            .clone();
        String::from_utf8(out).unwrap()
    };
    let first = push();
    assert!(
        first.contains("pushed ") && !first.contains(" 0 new"),
        "{first}"
    );
    let second = push();
    assert!(second.contains(" 0 new,"), "{second}");
}

#[test]
fn state_dir_learns_quietly_and_persists() {
    let state = tempfile::tempdir().unwrap();
    let out = rampart()
        .args(["detect", "--format", "json", "--state"])
        .arg(state.path())
        .arg(stratus())
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("baseline in"), "{stderr}");
    assert!(state.path().join("baseline.json").exists());
    let before = json_lines(&out.stdout).len();
    // A second run over the same logs: the baseline (now spanning months of
    // detonations) has seen every call, so no anomaly is added.
    let again = rampart()
        .args(["detect", "--format", "json", "--state"])
        .arg(state.path())
        .arg(stratus())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_lines(&again).len(), before);
    std::fs::write(state.path().join("baseline.json"), "{broken").unwrap();
    let err = rampart()
        .args(["detect", "--state"])
        .arg(state.path())
        .arg(stratus())
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("move it away"));
}
