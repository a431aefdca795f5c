//! `rampart detect`, driven through the real binary over the real Stratus Red
//! Team detonation logs and generated inputs, and pushed to a real server.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;
use common::{rampart, start_server_in, token};

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

#[test]
fn push_is_idempotent_against_a_real_server() {
    let data = tempfile::tempdir().unwrap();
    let token = token(data.path(), "findings:write", None);
    let server = start_server_in(data.path());
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

// --geoip: a real MaxMind DB file, written by the detection crate's test
// writer (198.51.100.0/24 is Paris, 203.0.113.0/24 Sydney, 192.0.2.0/24 Lyon).
#[path = "../../detect/tests/support/mmdb_writer.rs"]
mod mmdb_writer;

const IMPOSSIBLE_TRAVEL: &str = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B";

/// Alice's successful console logins, `(address, minutes after 10:00)`.
fn console_logins(logins: &[(&str, u32)]) -> String {
    let records: Vec<serde_json::Value> = logins
        .iter()
        .enumerate()
        .map(|(i, (ip, minute))| {
            serde_json::json!({
                "eventVersion": "1.09",
                "userIdentity": {"type": "IAMUser", "principalId": "AIDAALICE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
                "eventTime": format!("2024-05-01T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60),
                "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
                "sourceIPAddress": ip, "userAgent": "Mozilla/5.0 Firefox/125.0",
                "requestParameters": null, "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"MFAUsed": "Yes"},
                "eventID": format!("login-{i}"), "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333"
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

fn geo_findings(args: &[&std::ffi::OsStr]) -> (Vec<serde_json::Value>, String) {
    let out = rampart()
        .args(["detect", "--format", "json"])
        .args(args)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let found = json_lines(&out.stdout)
        .into_iter()
        .filter(|f| f["type"] == IMPOSSIBLE_TRAVEL)
        .collect();
    (found, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn geoip_turns_on_console_logins_from_distant_places() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("GeoLite2-City.mmdb");
    std::fs::write(&db, mmdb_writer::test_city_db()).unwrap();
    let csv = dir.path().join("dbip-city-ipv4.csv");
    std::fs::write(
        &csv,
        "198.51.100.0,198.51.100.255,FR,Paris,Ile-de-France,,48.8566,2.3522,75001,Europe/Paris\n\
         203.0.113.0,203.0.113.255,AU,Sydney,New South Wales,,-33.8688,151.2093,2000,Australia/Sydney\n\
         192.0.2.0,192.0.2.255,FR,Lyon,Auvergne-Rhone-Alpes,,45.764,4.8357,69001,Europe/Paris\n",
    )
    .unwrap();
    let travel = dir.path().join("travel.json");
    std::fs::write(
        &travel,
        console_logins(&[("198.51.100.20", 0), ("203.0.113.50", 20)]),
    )
    .unwrap();
    let commute = dir.path().join("commute.json");
    std::fs::write(
        &commute,
        console_logins(&[
            ("198.51.100.20", 0),
            ("198.51.100.21", 5),
            ("192.0.2.10", 30),
        ]),
    )
    .unwrap();

    for file in [&db, &csv] {
        let (found, stderr) =
            geo_findings(&["--geoip".as_ref(), file.as_os_str(), travel.as_os_str()]);
        assert_eq!(found.len(), 1, "{}: {found:?}\n{stderr}", file.display());
        let d = &found[0]["evidence"]["details"];
        assert_eq!(d["first_login_location"], "Paris, FR", "{d}");
        assert_eq!(d["second_login_location"], "Sydney, AU", "{d}");
        assert_eq!(d["hours_apart"], "0.33", "{d}");
        assert_eq!(found[0]["severity"], "medium");
        assert_eq!(found[0]["mitre"]["technique"], "T1078.004");
        assert!(!stderr.contains("note:"), "{stderr}");
        let (found, _) = geo_findings(&["--geoip".as_ref(), file.as_os_str(), commute.as_os_str()]);
        assert!(found.is_empty(), "{}: {found:?}", file.display());
    }

    // Without --geoip: off, and said once.
    let (found, stderr) = geo_findings(&[travel.as_os_str(), commute.as_os_str()]);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(
        stderr
            .matches(&format!("note: {IMPOSSIBLE_TRAVEL} is off"))
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("--geoip FILE"), "{stderr}");
    assert!(stderr.contains("0 input problems"), "{stderr}");
}

#[test]
fn geoip_file_missing_or_damaged_exits_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.json");
    std::fs::write(&log, console_logins(&[("198.51.100.20", 0)])).unwrap();
    let missing = dir.path().join("GeoLite2-City.mmdb");
    let damaged = dir.path().join("damaged.mmdb");
    let whole = mmdb_writer::test_city_db();
    // The metadata at the end survives; the tree it describes does not.
    std::fs::write(&damaged, &whole[whole.len() - 300..]).unwrap();
    let not_geo = dir.path().join("notes.txt");
    std::fs::write(&not_geo, "remember to buy milk\n").unwrap();
    for (file, says) in [
        (&missing, "could not read the GeoIP file"),
        (&damaged, "is damaged"),
        (&not_geo, "line 1 is not an ip-location-db CSV row"),
    ] {
        let err = rampart()
            .args(["detect", "--geoip"])
            .arg(file)
            .arg(&log)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains(says), "{err}");
        assert!(
            err.contains("GeoLite2-City.mmdb") && err.contains("MaxMind"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let help = rampart()
        .args(["detect", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    assert!(
        help.contains("--geoip") && help.contains("GeoLite2") && help.contains("ip-location-db"),
        "{help}"
    );
}
