//! `rampart cvss`, driven through the real binary.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;

fn rampart() -> Command {
    Command::cargo_bin("rampart").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = rampart()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn prints_score_and_rating_of_a_3_1_vector() {
    assert_eq!(
        stdout_of(&["cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"]),
        "6.1 Medium (CVSS 3.1 base score)\nCVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N\n"
    );
}

#[test]
fn prints_temporal_and_environmental_scores_when_given() {
    assert_eq!(
        stdout_of(&[
            "cvss",
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H/E:P/RL:O/CR:H/MAV:N"
        ]),
        "7.8 High (CVSS 3.1 base score)\n7.0 High (temporal score)\n7.9 High (environmental score)\n\
         CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H/E:P/RL:O/CR:H/MAV:N\n"
    );
}

#[test]
fn json_output_of_a_4_0_vector() {
    let out = stdout_of(&[
        "cvss",
        "--format",
        "json",
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "version": "4.0",
            "vector": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
            "score": 5.2,
            "severity": "medium",
            "nomenclature": "CVSS-BT",
            "base_score": 7.7
        })
    );
}

#[test]
fn reads_the_vector_from_stdin() {
    let out = rampart()
        .args(["cvss", "-"])
        .write_stdin("  CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .starts_with("10.0 Critical (CVSS 4.0 score, CVSS-B)\n")
    );
}

#[test]
fn invalid_vector_exits_1_naming_the_metric() {
    let out = rampart()
        .args([
            "cvss",
            "--format",
            "json",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for scripts to misread"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: invalid CVSS vector: A (Availability) cannot be `Q`: CVSS 3.1 allows H, L, N\n"
    );
    let out = rampart()
        .args([
            "cvss",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("lacks the mandatory base metric: SA (Subsequent System Availability)")
    );
}

#[test]
fn missing_vector_is_a_usage_error() {
    rampart().arg("cvss").assert().code(2);
}

#[test]
fn help_has_examples() {
    let help = stdout_of(&["cvss", "--help"]);
    assert!(help.contains("rampart cvss --format json CVSS:4.0/"));
}
