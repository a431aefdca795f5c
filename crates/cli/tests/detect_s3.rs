//! `rampart detect s3://…` through the real binary against the real moto
//! server on 127.0.0.1 (scripts/test-services.sh starts it and exports
//! RAMPART_TEST_S3_ENDPOINT): the Stratus Red Team logs delivered in the
//! AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ layout, gzipped and
//! not, with a truncated gzip and a malformed record; and --follow on a
//! prefix.
#![allow(clippy::unwrap_used)]

use rampart_detect::s3::{S3Options, S3Source};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The moto endpoint, or `None` (with a message) when it is not running and
/// this is not CI; in CI a missing server fails the test.
fn moto() -> Option<String> {
    match std::env::var("RAMPART_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but RAMPART_TEST_S3_ENDPOINT is not: run scripts/test-services.sh")
        }
        _ => {
            eprintln!(
                "skipping: RAMPART_TEST_S3_ENDPOINT is not set (eval \"$(scripts/test-services.sh)\" starts moto)"
            );
            None
        }
    }
}

/// moto's path-style `PUT /bucket` (moto does not check signatures; the
/// S3 client has no bucket calls).
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

fn bucket(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("rampart-cli-{tag}-{}-{nanos}", std::process::id())
}

fn store(endpoint: &str, bucket: &str) -> S3Source {
    S3Source::open(
        &format!("s3://{bucket}"),
        &S3Options {
            endpoint: Some(endpoint.to_owned()),
            region: Some("us-east-1".into()),
            credentials: Some(("testing".into(), "testing".into(), None)),
        },
    )
    .unwrap()
}

/// A fresh bucket and a client for it.
fn new_bucket(endpoint: &str, tag: &str) -> (String, S3Source) {
    let b = bucket(tag);
    create_bucket(endpoint, &b);
    let s3 = store(endpoint, &b);
    (b, s3)
}

/// The Stratus Red Team detonation logs, in name order.
fn stratus_logs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(stratus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn stratus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/aws/stratus-red-team-detonation-logs")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A Stratus log as CloudTrail delivers it: `{"Records":[…]}` under
/// AWSLogs/<account>/CloudTrail/<region>/2024/07/30/, gzipped when `gz`.
fn delivered(file: &Path, gz: bool) -> (String, Vec<u8>) {
    let records: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let first = &records[0];
    let account = first["recipientAccountId"].as_str().unwrap();
    let region = first["awsRegion"].as_str().unwrap();
    let stem = file.file_stem().unwrap().to_string_lossy();
    let body = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
    let key = format!(
        "AWSLogs/{account}/CloudTrail/{region}/2024/07/30/{account}_CloudTrail_{region}_{stem}.json{}",
        if gz { ".gz" } else { "" }
    );
    (key, if gz { gzip(&body) } else { body })
}

/// The binary with test credentials only (never the machine's), so nothing
/// falls through to a real credential source.
fn rampart(endpoint_env: Option<&str>) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("rampart"));
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_REGION", "us-east-1");
    if let Some(e) = endpoint_env {
        c.env("AWS_ENDPOINT_URL", e);
    }
    c
}

fn key_pairs(stdout: &[u8]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                f["account_id"].as_str().unwrap().to_owned(),
                f["type"].as_str().unwrap().to_owned(),
                f["fingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn detect_over_an_s3_prefix_matches_the_local_run_and_names_keys() {
    let Some(endpoint) = moto() else { return };
    let (b, s3) = new_bucket(&endpoint, "run");
    let files = stratus_logs();
    for (i, f) in files.iter().enumerate() {
        let (key, body) = delivered(f, i % 2 == 0);
        s3.put(&key, body).unwrap();
    }
    // Damage: a truncated gzip of a real log and a JSON-lines object with a
    // malformed second record.
    let (_, whole) = delivered(&files[0], true);
    let trunc_key = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/30/truncated.json.gz";
    s3.put(trunc_key, whole[..whole.len() / 2].to_vec())
        .unwrap();
    let bad_key = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/30/bad.jsonl";
    s3.put(
        bad_key,
        b"{\"eventName\":\"ListBuckets\",\"eventSource\":\"s3.amazonaws.com\",\"eventTime\":\"2024-07-30T00:00:00Z\",\"recipientAccountId\":\"111122223333\"}\n{\"eventName\": nope\n".to_vec(),
    )
    .unwrap();

    let out = rampart(None)
        .args(["detect", "--format", "json", "--s3-endpoint", &endpoint])
        .arg(format!("s3://{b}/AWSLogs/"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The same findings as over the local copies.
    let local = Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args(["detect", "--format", "json"])
        .arg(stratus_dir())
        .output()
        .unwrap();
    let from_s3 = key_pairs(&out.stdout);
    let from_files = key_pairs(&local.stdout);
    assert!(from_files.len() >= 35);
    // The truncated copy of files[0] adds to counts, not to the set of findings.
    assert_eq!(
        from_s3.iter().map(|p| (&p.0, &p.1)).collect::<Vec<_>>(),
        from_files.iter().map(|p| (&p.0, &p.1)).collect::<Vec<_>>()
    );
    assert!(
        stderr.contains(&format!("warning: s3://{b}/{trunc_key} after ")),
        "{stderr}"
    );
    assert!(stderr.contains("gzip stream is truncated"), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: s3://{b}/{bad_key} line 2: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{} files,", files.len() + 2)),
        "{stderr}"
    );
    // Many accounts: grouped by account, worst first within an account.
    let order: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                f["account_id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
    };
    for w in order.windows(2) {
        assert!(
            w[0].0 < w[1].0 || (w[0].0 == w[1].0 && rank(&w[0].1) <= rank(&w[1].1)),
            "{order:?}"
        );
    }

    // Endpoint from AWS_ENDPOINT_URL, text report: one row per account and a total.
    let out = rampart(Some(&endpoint))
        .args(["detect", "--format", "text"])
        .arg(format!("s3://{b}/AWSLogs/"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ACCOUNT "), "{text}");
    assert!(text.contains("all accounts"), "{text}");
    let accounts: std::collections::BTreeSet<&String> = from_files.iter().map(|p| &p.0).collect();
    for a in &accounts {
        assert!(
            text.lines().any(|l| l.starts_with(a.as_str())),
            "{a} row missing"
        );
    }
    // Then the findings, under one header per account, in account order.
    let headers: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Account "))
        .collect();
    assert_eq!(
        headers,
        accounts.iter().map(|a| a.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn s3_errors_exit_2_with_what_to_check() {
    let Some(endpoint) = moto() else { return };
    let out = rampart(None)
        .args([
            "detect",
            "--s3-endpoint",
            &endpoint,
            "s3://rampart-missing-bucket-x/AWSLogs/",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("listing s3://rampart-missing-bucket-x/AWSLogs failed"),
        "{err}"
    );
    assert!(err.contains("check the bucket name"), "{err}");
    let out = rampart(None)
        .args(["detect", "s3://Not_A_Bucket/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("write s3://bucket"));
    // An empty prefix is a warning, not an error.
    let b = bucket("empty");
    create_bucket(&endpoint, &b);
    let out = rampart(None)
        .args(["detect", "--s3-endpoint", &endpoint])
        .arg(format!("s3://{b}/AWSLogs/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no objects under"));
}

#[test]
fn follow_an_s3_prefix_reads_each_object_once() {
    let Some(endpoint) = moto() else { return };
    let b = bucket("follow");
    create_bucket(&endpoint, &b);
    let s3 = store(&endpoint, &b);
    let state = tempfile::tempdir().unwrap();
    let logs = stratus_dir();
    let one = delivered(&logs.join("aws.defense-evasion.cloudtrail-stop.json"), true);
    let two = delivered(&logs.join("aws.exfiltration.ec2-share-ami.json"), false);
    let account = |k: &str| k.split('/').nth(1).unwrap().to_owned();
    s3.put(&one.0, one.1.clone()).unwrap();
    let run = |idle: &str| {
        rampart(None)
            .args([
                "detect",
                "--format",
                "json",
                "--follow",
                "--poll-interval",
                "0.3",
            ])
            .args([
                "--follow-exit-after-idle",
                idle,
                "--s3-endpoint",
                &endpoint,
                "--state",
            ])
            .arg(state.path())
            .arg(format!("s3://{b}/AWSLogs"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = run("3");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["account_id"], account(&one.0).as_str());
    // A new object while it runs is picked up by the next listing.
    s3.put(&two.0, two.1.clone()).unwrap();
    let mut rest = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for l in lines {
        rest.push(serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap());
        assert!(Instant::now() < deadline);
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!rest.is_empty());
    assert!(
        rest.iter()
            .all(|f| f["account_id"] == account(&two.0).as_str()),
        "{rest:?}"
    );
    // Restarted: both objects are in the checkpoint, nothing is read again.
    let out = run("1").wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped following: 0 files"));
}

#[test]
fn aws_profile_picks_a_role_profile_over_the_environments_keys() {
    let Some(endpoint) = moto() else { return };
    let (b, s3) = new_bucket(&endpoint, "profile");
    let files = stratus_logs();
    let (key, body) = delivered(&files[0], true);
    s3.put(&key, body).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile base]\naws_access_key_id = AKIAIOSFODNN7BASEKEY\naws_secret_access_key = basesecret\n\
         [profile reader]\nrole_arn = arn:aws:iam::123456789012:role/reader\nsource_profile = base\n\
         [profile loop-a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = loop-b\n\
         [profile loop-b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = loop-a\n",
    )
    .unwrap();
    let run = |profile: &str| {
        rampart(None)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
            .env("AWS_ENDPOINT_URL_STS", &endpoint)
            .args(["detect", "--format", "json", "--s3-endpoint", &endpoint])
            .args(["--aws-profile", profile])
            .arg(format!("s3://{b}/AWSLogs/"))
            .output()
            .unwrap()
    };
    // The role is assumed through moto's STS and its keys read the bucket.
    let out = run("reader");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !key_pairs(&out.stdout).is_empty(),
        "findings from the object"
    );
    // The profile is really what is used: a cyclic one stops the run,
    // although the environment holds working keys.
    let out = run("loop-a");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loop-a") && err.contains("loop-b"), "{err}");
    let out = run("nobody");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nobody"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
