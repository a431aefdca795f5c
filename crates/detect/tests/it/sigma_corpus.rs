//! SigmaHQ's CloudTrail rules: every rule under `rules/` loads, matches an
//! event built from its own selections, and does not match benign events.
//! Rules Rampart cannot run (`near`, placeholders) are reported by name at
//! load time, never skipped silently; the legacy `| count()` aggregations
//! load as correlations.

use crate::corpus;
use rampart_detect::DiagnosticKind;
use rampart_detect::cloudtrail::CtEvent;
use rampart_detect::sigma::{RuleSet, witness};

const BENIGN: &[&str] = &[
    r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/i-0abc12345678","accountId":"111122223333"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"10.0.1.12","userAgent":"aws-sdk-go/1.44","requestParameters":{"bucketName":"app-assets","key":"logo.png"},"responseElements":null,"eventID":"b1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#,
    r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev","accountId":"111122223333","userName":"dev"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli/2.15","requestParameters":{"instancesSet":{}},"responseElements":null,"eventID":"b2","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#,
];

#[test]
fn every_sigmahq_cloudtrail_rule_loads_and_matches_its_own_selection() {
    let dir = corpus("sigma-aws/rules");
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    let loaded = set.load_dir(&dir, &mut diags).expect("rules dir");
    assert!(diags.is_empty(), "rules that did not load: {diags:#?}");
    assert!(loaded >= 57, "loaded {loaded}");
    // Most rules name their events and are only evaluated for them.
    eprintln!("unindexed Sigma rules: {}", set.unindexed_len());
    assert!(
        set.unindexed_len() <= 6,
        "{} rules run on every event",
        set.unindexed_len()
    );
    let benign: Vec<CtEvent> = BENIGN
        .iter()
        .map(|b| CtEvent::parse(b).expect("benign parses"))
        .collect();
    let mut problems = Vec::new();
    for rule in set.rules() {
        let ev = witness(rule).expect("witness");
        let text = ev.to_string();
        let parsed = CtEvent::parse(&text).expect("witness parses");
        if !rule.matches(&parsed) {
            problems.push(format!(
                "{} does not match its own selection {text}",
                rule.meta.title
            ));
        }
        for b in &benign {
            if rule.matches(b) {
                problems.push(format!("{} matches a benign event", rule.meta.title));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn unsupported_rules_are_reported_by_name() {
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    set.load_dir(&corpus("sigma-aws/unsupported"), &mut diags)
        .expect("dir");
    set.load_dir(&corpus("sigma-aws/rules-placeholder"), &mut diags)
        .expect("dir");
    assert!(!diags.is_empty());
    // Six of the eight old-syntax rules are `| count() [by f] > N`.
    assert_eq!(set.correlations().len(), 6, "{diags:#?}");
    for d in &diags {
        assert_eq!(d.kind, DiagnosticKind::Unsupported);
        assert!(
            d.message.starts_with("Sigma rule \"") && d.message.contains("it uses"),
            "{d}"
        );
    }
    let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
    // The legacy `| count()` rules now load as correlations; `near` does not.
    assert!(
        !messages.iter().any(|m| m.contains("count()")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("near")), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains("|expand")),
        "{messages:?}"
    );
}

#[test]
fn console_login_without_mfa_rule_matches_cloudtrail_spelling() {
    // SigmaHQ writes MFAUsed: 'NO'; CloudTrail writes "No". Equality is
    // case-insensitive in Sigma, so the real detonation log must match.
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    set.load_dir(&corpus("sigma-aws/rules"), &mut diags)
        .expect("dir");
    let log = std::fs::read_to_string(corpus(
        "aws/stratus-red-team-detonation-logs/aws.initial-access.console-login-without-mfa.json",
    ))
    .expect("log");
    let events: Vec<serde_json::Value> = serde_json::from_str(&log).expect("json");
    let text = events[0].to_string();
    let ev = CtEvent::parse(&text).expect("event");
    let mut titles = Vec::new();
    set.matches(&ev, &mut |m| titles.push(m.title.clone()));
    assert!(titles.iter().any(|t| t.contains("MFA")), "{titles:?}");
}
