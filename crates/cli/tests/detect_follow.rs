//! `rampart detect --follow` through the real binary: a watched directory
//! gets new files while it runs; a stop (SIGTERM) and a restart neither
//! miss nor repeat a file.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

fn stratus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/aws/stratus-red-team-detonation-logs")
        .join(format!("aws.{name}.json"))
}

/// The account of the first record of a Stratus log, which is where its
/// findings land.
fn account_of(name: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stratus(name)).unwrap()).unwrap();
    v[0]["recipientAccountId"].as_str().unwrap().to_owned()
}

/// Puts a file into the watched directory the way log shippers do: written
/// beside it, then renamed in, so it appears complete.
fn deliver(dir: &Path, name: &str) {
    let tmp = dir.parent().unwrap().join(format!("{name}.partial"));
    std::fs::copy(stratus(name), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.json"))).unwrap();
}

struct Follow {
    child: Child,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, state: &Path, extra: &[&str]) -> Follow {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args([
            "detect",
            "--format",
            "json",
            "--follow",
            "--poll-interval",
            "0.2",
            "--state",
        ])
        .arg(state)
        .args(extra)
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            if tx.send(l.unwrap()).is_err() {
                return;
            }
        }
    });
    let (etx, stderr) = channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines() {
            if etx.send(l.unwrap()).is_err() {
                return;
            }
        }
    });
    Follow {
        child,
        lines,
        stderr,
    }
}

/// Findings read until one of `account` arrives (or the deadline passes).
fn until_account(f: &Follow, account: &str, seen: &mut Vec<serde_json::Value>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = f
            .lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no finding for {account} within 30 s; got {seen:?}"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let done = v["account_id"] == account;
        seen.push(v);
        if done {
            return;
        }
    }
}

fn wait_exit(f: &mut Follow) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = f.child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "rampart detect --follow did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn accounts(v: &[serde_json::Value]) -> Vec<String> {
    let mut a: Vec<String> = v
        .iter()
        .map(|f| f["account_id"].as_str().unwrap().to_owned())
        .collect();
    a.sort();
    a.dedup();
    a
}

#[test]
fn follow_reads_each_new_file_once_across_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let state = root.path().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b, c, d) = (
        "credential-access.ec2-get-password-data",
        "defense-evasion.cloudtrail-stop",
        "persistence.iam-create-admin-user",
        "exfiltration.ec2-share-ami",
    );
    let (acct_a, acct_b, acct_c, acct_d) =
        (account_of(a), account_of(b), account_of(c), account_of(d));
    deliver(&dir, a);

    let mut f = start(&dir, &state, &[]);
    let mut first = Vec::new();
    // A file there at start, then two delivered while it runs.
    until_account(&f, &acct_a, &mut first);
    deliver(&dir, b);
    until_account(&f, &acct_b, &mut first);
    deliver(&dir, c);
    until_account(&f, &acct_c, &mut first);
    // SIGTERM: stops after the current file, exit 0.
    let kill = Command::new("kill")
        .args(["-TERM", &f.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_exit(&mut f);
    assert_eq!(status.code(), Some(0), "SIGTERM should end --follow with 0");
    // Anything printed after the last wait is part of this run's output too.
    first.extend(
        f.lines
            .try_iter()
            .map(|l| serde_json::from_str(&l).unwrap()),
    );
    let stderr: Vec<String> = f.stderr.try_iter().collect();
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped following: 3 files")),
        "{stderr:?}"
    );
    assert_eq!(accounts(&first), {
        let mut v = vec![acct_a.clone(), acct_b.clone(), acct_c.clone()];
        v.sort();
        v
    });
    let checkpoint = std::fs::read_to_string(state.join("follow.json")).unwrap();
    assert!(
        checkpoint.contains(&format!("logs/{c}.json")),
        "{checkpoint}"
    );
    drop(f);

    // While it is down, one more file arrives; the restart reads that one only.
    deliver(&dir, d);
    let mut f = start(&dir, &state, &["--follow-exit-after-idle", "1.5"]);
    let mut second = Vec::new();
    until_account(&f, &acct_d, &mut second);
    let status = wait_exit(&mut f);
    assert_eq!(status.code(), Some(0));
    second.extend(
        f.lines
            .try_iter()
            .map(|l| serde_json::from_str(&l).unwrap()),
    );
    assert_eq!(accounts(&second), vec![acct_d.clone()], "{second:?}");
    let stderr: Vec<String> = f.stderr.try_iter().collect();
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped following: 1 files")),
        "{stderr:?}"
    );

    // A rewritten file is a new version and is read again; an untouched one is not.
    std::fs::write(
        dir.join(format!("{a}.json")),
        std::fs::read(stratus(a)).unwrap(),
    )
    .unwrap();
    let mut f = start(&dir, &state, &["--follow-exit-after-idle", "3"]);
    assert_eq!(wait_exit(&mut f).code(), Some(0));
    let third: Vec<serde_json::Value> = f
        .lines
        .try_iter()
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    assert_eq!(accounts(&third), vec![acct_a], "{third:?}");
}

#[test]
fn follow_needs_a_state_dir_and_files_to_watch() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args(["detect", "--follow"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--follow needs --state DIR"), "{err}");
    assert!(err.contains("neither misses nor repeats"), "{err}");

    let out = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args(["detect", "--follow", "--state"])
        .arg(dir.path())
        .arg("-")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input (-) cannot be followed"));

    // --poll-interval only makes sense with --follow.
    let out = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args(["detect", "--poll-interval", "1"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn follow_in_text_prints_lines_then_the_table_when_it_stops() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    deliver(&dir, "defense-evasion.cloudtrail-stop");
    deliver(&dir, "exfiltration.ec2-share-ami");
    let out = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args([
            "detect",
            "--format",
            "text",
            "--follow",
            "--poll-interval",
            "0.2",
        ])
        .args(["--follow-exit-after-idle", "1", "--state"])
        .arg(root.path().join("state"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let table = text.find("ACCOUNT ").expect("summary table at the end");
    assert!(
        text[..table].contains("Stealth:IAMUser/CloudTrailLoggingDisabled"),
        "{text}"
    );
    assert!(text[table..].contains("all accounts"), "{text}");
    assert!(
        text[table..].contains(&account_of("exfiltration.ec2-share-ami")),
        "{text}"
    );
}

/// A CloudTrail file of `n` GetSecretValue calls by one user, one minute
/// apart from `minute`, each for a different secret.
fn secret_reads(first: usize, n: usize) -> String {
    let records: Vec<serde_json::Value> = (first..first + n)
        .map(|i| {
            serde_json::json!({
                "eventVersion": "1.08",
                "eventTime": format!("2026-11-30T10:{i:02}:00Z"),
                "eventSource": "secretsmanager.amazonaws.com",
                "eventName": "GetSecretValue",
                "awsRegion": "eu-west-1",
                "sourceIPAddress": "203.0.113.7",
                "userAgent": "aws-cli/2.15.0",
                "userIdentity": {
                    "type": "IAMUser",
                    "principalId": "AIDAEXAMPLEREADER",
                    "arn": "arn:aws:iam::111122223333:user/reader",
                    "accountId": "111122223333",
                    "userName": "reader"
                },
                "requestParameters": {"secretId": format!("prod/db-{i}")},
                "responseElements": null,
                "eventID": format!("00000000-0000-4000-8000-{i:012}"),
                "eventType": "AwsApiCall",
                "recipientAccountId": "111122223333"
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

#[test]
fn a_threshold_window_spanning_a_restart_still_adds_up() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let state = root.path().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let bulk = "CredentialAccess:SecretsManager/BulkSecretRetrieval";
    let run = || {
        let mut f = start(&dir, &state, &["--follow-exit-after-idle", "1"]);
        assert_eq!(wait_exit(&mut f).code(), Some(0));
        f.lines
            .try_iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap())
            .collect::<Vec<_>>()
    };
    // Six of the ten reads an hour the rule needs: nothing yet.
    std::fs::write(dir.join("a.json"), secret_reads(0, 6)).unwrap();
    let first = run();
    assert!(first.iter().all(|f| f["type"] != bulk), "{first:?}");
    let checkpoint = std::fs::read_to_string(state.join("follow.json")).unwrap();
    assert!(checkpoint.contains("\"windows\""), "{checkpoint}");
    // Six more in the same hour after the restart: the window remembered the
    // first six, so the rule fires, once, counting the twelve.
    std::fs::write(dir.join("b.json"), secret_reads(6, 6)).unwrap();
    let second = run();
    let hits: Vec<_> = second.iter().filter(|f| f["type"] == bulk).collect();
    assert_eq!(hits.len(), 1, "{second:?}");
    let evidence = &hits[0]["evidence"];
    assert_eq!(
        evidence["details"]["distinct_in_window"], "12",
        "{evidence}"
    );
    assert!(
        evidence["event_ids"]
            .to_string()
            .contains("00000000-0000-4000-8000-000000000000"),
        "the first run's events are part of it: {evidence}"
    );
    // A third run over nothing new raises nothing again.
    let third = run();
    assert!(third.iter().all(|f| f["type"] != bulk), "{third:?}");
}
