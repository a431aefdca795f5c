//! `rampart detect --sigma` with a Sigma correlation rule, through the real
//! binary: the rule and its correlation in two `--sigma` directories.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;

const FAILED_LOGIN: &str = "\
title: Failed console login
name: failed_console_login
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ConsoleLogin
    responseElements.ConsoleLogin: Failure
  condition: selection
";

const BRUTE_FORCE: &str = "\
title: Console brute force
correlation:
  type: event_count
  rules: [failed_console_login]
  group-by: [sourceIPAddress]
  timespan: 10m
  condition: {gte: 5}
level: high
";

fn failed_login(minute: u32, ip: &str, id: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},"eventTime":"2024-05-01T10:{minute:02}:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"{ip}","responseElements":{{"ConsoleLogin":"Failure"}},"eventID":"{id}","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}}"#
    )
}

#[test]
fn a_correlation_in_another_sigma_dir_raises_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (corr, rules) = (dir.path().join("corr"), dir.path().join("rules"));
    std::fs::create_dir_all(&corr).unwrap();
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(corr.join("brute.yml"), BRUTE_FORCE).unwrap();
    std::fs::write(rules.join("failed.yml"), FAILED_LOGIN).unwrap();
    let mut records: Vec<String> = (0..5)
        .map(|i| failed_login(i, "198.51.100.1", &format!("a{i}")))
        .collect();
    records.extend((0..4).map(|i| failed_login(i, "198.51.100.2", &format!("b{i}"))));
    let log = dir.path().join("trail.json");
    std::fs::write(&log, format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();

    let out = Command::cargo_bin("rampart")
        .unwrap()
        .args(["detect", "--format", "json", "--sigma"])
        .arg(&corr)
        .arg("--sigma")
        .arg(&rules)
        .arg(&log)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("not loaded"), "{stderr}");
    let findings: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sigma: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["type"].as_str().unwrap().starts_with("Sigma:"))
        .collect();
    assert_eq!(sigma.len(), 1, "{findings:#?}");
    let f = sigma[0];
    assert_eq!(f["type"], "Sigma:Console brute force");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["count"], 5);
    assert_eq!(f["resource"]["id"], "sourceIPAddress=198.51.100.1");
    assert_eq!(f["evidence"]["event_ids"].as_array().unwrap().len(), 5);

    // Without the rules' directory the correlation is reported by title.
    let out = Command::cargo_bin("rampart")
        .unwrap()
        .args(["detect", "--format", "json", "--sigma"])
        .arg(&corr)
        .arg(&log)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("Sigma correlation \"Console brute force\" not loaded")
            && stderr.contains("failed_console_login"),
        "{stderr}"
    );
}
