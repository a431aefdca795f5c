//! Sigma correlation rules and legacy aggregations, from rule files on disk
//! through the engine to findings.

use rampart_detect::sigma::{CorrelationState, RuleSet};
use rampart_detect::{DiagnosticKind, Engine, EngineConfig, Finding, Report};
use std::path::Path;

const FAILED_LOGIN: &str = "\
title: Failed console login
name: failed_console_login
id: 0b1c2d3e-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ConsoleLogin
    responseElements.ConsoleLogin: Failure
  condition: selection
level: low
";

const BRUTE_FORCE: &str = "\
title: Console brute force
id: 0b1c2d3e-0000-4000-8000-000000000002
correlation:
  type: event_count
  rules:
    - failed_console_login
  group-by:
    - sourceIPAddress
  timespan: 10m
  condition:
    gte: 5
level: high
tags:
  - attack.credential-access
  - attack.t1110
";

/// `minutes` after 2024-05-01T10:00:00Z, as CloudTrail writes it.
fn at(minutes: u32) -> String {
    format!(
        "2024-05-01T{:02}:{:02}:{:02}Z",
        10 + minutes / 60,
        minutes % 60,
        0
    )
}

fn event(name: &str, minutes: u32, user: &str, ip: &str, id: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333","userName":"{user}"}},"eventTime":"{}","eventSource":"iam.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"aws-cli/2","eventID":"{id}","eventType":"AwsApiCall","recipientAccountId":"111122223333"{extra}}}"#,
        at(minutes)
    )
}

fn failed_login(minutes: u32, ip: &str, id: &str) -> String {
    event(
        "ConsoleLogin",
        minutes,
        "alice",
        ip,
        id,
        r#","responseElements":{"ConsoleLogin":"Failure"}"#,
    )
}

fn lines(events: &[String]) -> Vec<u8> {
    events.join("\n").into_bytes()
}

fn rules_in(dir: &Path, files: &[(&str, &str)]) -> (RuleSet, Vec<rampart_detect::Diagnostic>) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write rule");
    }
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    set.load_dir(dir, &mut diags).expect("load");
    (set, diags)
}

fn run(set: RuleSet, events: &[String]) -> Report {
    let mut e = Engine::new(EngineConfig {
        sigma: set,
        ..EngineConfig::default()
    });
    e.process_bytes("events.jsonl", &lines(events));
    e.finish()
}

fn sigma_findings<'r>(r: &'r Report, type_name: &str) -> Vec<&'r Finding> {
    r.findings
        .iter()
        .filter(|f| f.type_name == type_name)
        .collect()
}

#[test]
fn brute_force_needs_five_failures_within_ten_minutes_per_address() {
    let dir = tempfile::tempdir().expect("tmp");
    // Rule and correlation in one multi-document file.
    let text = format!("{FAILED_LOGIN}---\n{BRUTE_FORCE}");
    let (set, diags) = rules_in(dir.path(), &[("brute.yml", &text)]);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.correlations().len(), 1);
    let mut events = Vec::new();
    // 198.51.100.1: five failures in four minutes (fires).
    for i in 0..5 {
        events.push(failed_login(i, "198.51.100.1", &format!("a{i}")));
    }
    // 198.51.100.2: four failures (does not).
    for i in 0..4 {
        events.push(failed_login(i, "198.51.100.2", &format!("b{i}")));
    }
    // 198.51.100.3: five failures spread over two hours (does not).
    for i in 0..5 {
        events.push(failed_login(i * 30, "198.51.100.3", &format!("c{i}")));
    }
    let r = run(set, &events);
    let hits = sigma_findings(&r, "Sigma:Console brute force");
    assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    let f = hits[0];
    assert_eq!(f.resource.id, "sourceIPAddress=198.51.100.1");
    assert_eq!(f.count, 5);
    assert_eq!(f.severity, rampart_core::Severity::High);
    assert_eq!(f.account_id, "111122223333");
    assert_eq!(f.region, "us-east-1");
    assert_eq!(f.first_seen, "2024-05-01T10:00:00Z");
    assert_eq!(f.last_seen, "2024-05-01T10:04:00Z");
    let ids: Vec<&str> = f.evidence.event_ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["a0", "a1", "a2", "a3", "a4"]);
    assert_eq!(f.evidence.details["events_in_timespan"], "5");
    assert_eq!(
        f.evidence.details["group_by"],
        "sourceIPAddress=198.51.100.1"
    );
    assert_eq!(f.mitre.technique, "T1110");
    assert_eq!(f.mitre.tactics, ["Credential Access"]);
    assert_eq!(f.origin, "sigma");
    // The base rule feeds the correlation only (generate is false).
    assert!(sigma_findings(&r, "Sigma:Failed console login").is_empty());
}

#[test]
fn later_failures_in_the_episode_add_to_the_finding_and_generate_keeps_base_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    let correlation = format!("{BRUTE_FORCE}generate: true\n");
    // The correlation sits in another file than its rule.
    let (set, diags) = rules_in(
        dir.path(),
        &[("a_corr.yml", &correlation), ("b_rule.yml", FAILED_LOGIN)],
    );
    assert!(diags.is_empty(), "{diags:?}");
    let events: Vec<String> = (0..8)
        .map(|i| failed_login(i, "198.51.100.1", &format!("a{i}")))
        .collect();
    let r = run(set, &events);
    let hits = sigma_findings(&r, "Sigma:Console brute force");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 8);
    assert_eq!(hits[0].evidence.event_ids.len(), 8);
    let base = sigma_findings(&r, "Sigma:Failed console login");
    assert_eq!(base.len(), 1);
    assert_eq!(base[0].count, 8);
}

const CREATE_USER: &str = "\
title: User created
name: create_user
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: CreateUser
  condition: selection
";

const ATTACH_POLICY: &str = "\
title: Policy attached to a user
name: attach_user_policy
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: AttachUserPolicy
  condition: selection
";

fn temporal(kind: &str) -> String {
    format!(
        "title: New user given a policy ({kind})
correlation:
  type: {kind}
  rules:
    - create_user
    - attach_user_policy
  group-by:
    - userIdentity.arn
  timespan: 10m
level: high
"
    )
}

#[test]
fn temporal_and_temporal_ordered() {
    let dir = tempfile::tempdir().expect("tmp");
    let (set, diags) = rules_in(
        dir.path(),
        &[
            ("base.yml", &format!("{CREATE_USER}---\n{ATTACH_POLICY}")),
            ("temporal.yml", &temporal("temporal")),
            ("ordered.yml", &temporal("temporal_ordered")),
        ],
    );
    assert!(diags.is_empty(), "{diags:?}");
    let events = vec![
        // bob: in order, 5 minutes apart: both fire.
        event("CreateUser", 0, "bob", "192.0.2.1", "b1", ""),
        event("AttachUserPolicy", 5, "bob", "192.0.2.1", "b2", ""),
        // carol: the policy first, then the user: only the unordered one.
        event("AttachUserPolicy", 0, "carol", "192.0.2.2", "c1", ""),
        event("CreateUser", 3, "carol", "192.0.2.2", "c2", ""),
        // dave: in order but 30 minutes apart: neither.
        event("CreateUser", 0, "dave", "192.0.2.3", "d1", ""),
        event("AttachUserPolicy", 30, "dave", "192.0.2.3", "d2", ""),
        // erin creates, frank attaches: different groups, neither.
        event("CreateUser", 0, "erin", "192.0.2.4", "e1", ""),
        event("AttachUserPolicy", 1, "frank", "192.0.2.4", "f1", ""),
    ];
    let r = run(set, &events);
    let who = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = sigma_findings(&r, t)
            .iter()
            .map(|f| f.resource.id.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        who("Sigma:New user given a policy (temporal)"),
        [
            "userIdentity.arn=arn:aws:iam::111122223333:user/bob",
            "userIdentity.arn=arn:aws:iam::111122223333:user/carol"
        ]
    );
    assert_eq!(
        who("Sigma:New user given a policy (temporal_ordered)"),
        ["userIdentity.arn=arn:aws:iam::111122223333:user/bob"]
    );
    let ordered = sigma_findings(&r, "Sigma:New user given a policy (temporal_ordered)")[0];
    let ids: Vec<&str> = ordered
        .evidence
        .event_ids
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(ids, ["b1", "b2"]);
    assert_eq!(ordered.evidence.details["rules_matched_in_timespan"], "2");
    assert_eq!(
        ordered.principal(),
        Some("arn:aws:iam::111122223333:user/bob")
    );
    assert!(sigma_findings(&r, "Sigma:User created").is_empty());
}

#[test]
fn value_count_of_distinct_calls_per_user() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = "\
title: IAM call
name: iam_call
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: iam.amazonaws.com
  condition: selection
---
title: Many kinds of IAM calls
correlation:
  type: value_count
  rules: [iam_call]
  group-by: [userIdentity.arn]
  timespan: 1h
  condition:
    field: eventName
    gte: 3
";
    let (set, diags) = rules_in(dir.path(), &[("v.yml", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let mut events = Vec::new();
    for (i, name) in ["ListUsers", "ListRoles", "ListUsers", "ListPolicies"]
        .iter()
        .enumerate()
    {
        events.push(event(
            name,
            i as u32,
            "gina",
            "192.0.2.9",
            &format!("g{i}"),
            "",
        ));
    }
    for i in 0..6 {
        events.push(event(
            "ListUsers",
            i,
            "hank",
            "192.0.2.9",
            &format!("h{i}"),
            "",
        ));
    }
    let r = run(set, &events);
    let hits = sigma_findings(&r, "Sigma:Many kinds of IAM calls");
    assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        hits[0].resource.id,
        "userIdentity.arn=arn:aws:iam::111122223333:user/gina"
    );
    assert_eq!(hits[0].evidence.details["distinct_values_in_timespan"], "3");
    assert_eq!(hits[0].evidence.details["counted_field"], "eventName");
}

#[test]
fn fewer_than_is_decided_when_the_window_closes_or_the_run_ends() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = format!(
        "{FAILED_LOGIN}---
title: A few failures
correlation:
  type: event_count
  rules: [failed_console_login]
  group-by: [sourceIPAddress]
  timespan: 10m
  condition:
    gte: 2
    lt: 4
"
    );
    let (set, diags) = rules_in(dir.path(), &[("few.yml", &text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let mut events = Vec::new();
    // .1: three in the first window (matches when .1's next event, an hour
    // later, closes it); that later one alone does not match at the end.
    for i in 0..3 {
        events.push(failed_login(i, "198.51.100.1", &format!("a{i}")));
    }
    events.push(failed_login(60, "198.51.100.1", "a9"));
    // .2: five (too many); .3: one (too few); .4: two, decided at the end.
    for i in 0..5 {
        events.push(failed_login(i, "198.51.100.2", &format!("b{i}")));
    }
    events.push(failed_login(0, "198.51.100.3", "c0"));
    events.push(failed_login(61, "198.51.100.4", "d0"));
    events.push(failed_login(62, "198.51.100.4", "d1"));
    let r = run(set, &events);
    let mut hits: Vec<(String, u64)> = sigma_findings(&r, "Sigma:A few failures")
        .iter()
        .map(|f| (f.resource.id.clone(), f.count))
        .collect();
    hits.sort();
    assert_eq!(
        hits,
        [
            ("sourceIPAddress=198.51.100.1".to_owned(), 3),
            ("sourceIPAddress=198.51.100.4".to_owned(), 2)
        ]
    );
}

#[test]
fn legacy_count_aggregation_runs_as_a_correlation() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = "\
title: Macie evasion burst
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: [ArchiveFindings, DeleteMember, DisableMacie]
  timeframe: 10m
  condition: selection | count() by sourceIPAddress > 2
level: medium
";
    let (set, diags) = rules_in(dir.path(), &[("legacy.yml", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let mut events = Vec::new();
    for i in 0..3 {
        events.push(event(
            "DisableMacie",
            i,
            "ivy",
            "203.0.113.5",
            &format!("m{i}"),
            "",
        ));
    }
    for i in 0..2 {
        events.push(event(
            "DeleteMember",
            i,
            "ivy",
            "203.0.113.6",
            &format!("n{i}"),
            "",
        ));
    }
    let r = run(set, &events);
    let hits = sigma_findings(&r, "Sigma:Macie evasion burst");
    assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    assert_eq!(hits[0].resource.id, "sourceIPAddress=203.0.113.5");
    assert_eq!(hits[0].count, 3);
}

#[test]
fn load_problems_name_the_correlation() {
    let dir = tempfile::tempdir().expect("tmp");
    let unknown = "\
title: Refers to nothing
correlation:
  type: event_count
  rules: [no_such_rule]
  group-by: [sourceIPAddress]
  timespan: 5m
  condition: {gte: 3}
";
    let sum = "\
title: Sums bytes
correlation:
  type: value_sum
  rules: [failed_console_login]
  timespan: 5m
  condition: {gte: 3, field: bytes}
";
    let odd = "\
title: Odd field
correlation:
  type: event_count
  rules: [failed_console_login]
  timespan: 5m
  window: tumbling
  condition: {gte: 3}
";
    let (set, diags) = rules_in(
        dir.path(),
        &[
            ("base.yml", FAILED_LOGIN),
            ("unknown.yml", unknown),
            ("sum.yml", sum),
            ("odd.yml", odd),
        ],
    );
    assert!(set.correlations().is_empty());
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(diags.iter().all(|d| d.kind == DiagnosticKind::Unsupported));
    let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    let has = |a: &str, b: &str| text.iter().any(|t| t.contains(a) && t.contains(b));
    assert!(has("\"Refers to nothing\"", "no_such_rule"), "{text:?}");
    assert!(has("\"Sums bytes\"", "value_sum"), "{text:?}");
    assert!(has("\"Odd field\"", "\"window\""), "{text:?}");
    // The base rule, no longer claimed by a correlation, raises its own findings.
    assert!(set.rules()[0].is_standalone());
}

#[test]
fn a_reference_into_a_later_directory_resolves_and_withdraws_its_report() {
    let corr_dir = tempfile::tempdir().expect("tmp");
    let rule_dir = tempfile::tempdir().expect("tmp");
    std::fs::write(corr_dir.path().join("c.yml"), BRUTE_FORCE).expect("write");
    std::fs::write(rule_dir.path().join("r.yml"), FAILED_LOGIN).expect("write");
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    set.load_dir(corr_dir.path(), &mut diags).expect("load");
    assert_eq!(diags.len(), 1, "{diags:?}");
    set.load_dir(rule_dir.path(), &mut diags).expect("load");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.correlations().len(), 1);
    assert!(!set.rules()[0].is_standalone());
}

#[test]
fn window_state_survives_a_checkpoint_and_shards_merge() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = format!("{FAILED_LOGIN}---\n{BRUTE_FORCE}");
    let (set, _) = rules_in(dir.path(), &[("brute.yml", &text)]);
    let cfg = std::sync::Arc::new(EngineConfig {
        sigma: set,
        ..EngineConfig::default()
    });
    // Three failures, a checkpoint, two more in a new engine: one match.
    let mut first = Engine::shared(cfg.clone());
    let early: Vec<String> = (0..3)
        .map(|i| failed_login(i, "198.51.100.1", &format!("a{i}")))
        .collect();
    first.process_bytes("one.jsonl", &lines(&early));
    let saved = serde_json::to_string(first.correlation_state()).expect("serialize");
    assert!(first.finish().findings.is_empty());
    let restored: CorrelationState = serde_json::from_str(&saved).expect("deserialize");
    assert_eq!(restored.groups(), 1);
    let mut second = Engine::shared(cfg.clone());
    second.restore_correlation_state(restored);
    let late: Vec<String> = (3..5)
        .map(|i| failed_login(i, "198.51.100.1", &format!("a{i}")))
        .collect();
    second.process_bytes("two.jsonl", &lines(&late));
    let r = second.finish();
    assert_eq!(sigma_findings(&r, "Sigma:Console brute force").len(), 1);

    // The same through the engine's checkpoint (`--follow`'s WindowState).
    let mut first = Engine::shared(cfg.clone());
    first.process_bytes("one.jsonl", &lines(&early));
    let _ = first.flush();
    let saved = serde_json::to_string(&first.window_state()).expect("serialize");
    let restored: rampart_detect::engine::WindowState =
        serde_json::from_str(&saved).expect("deserialize");
    let mut second = Engine::shared(cfg.clone());
    second.restore_window_state(restored);
    second.process_bytes("two.jsonl", &lines(&late));
    let r = second.finish();
    assert_eq!(sigma_findings(&r, "Sigma:Console brute force").len(), 1);

    // Two accounts' logs on two threads: each account's group matches on
    // its own shard, and the merged report has both.
    let logs = tempfile::tempdir().expect("tmp");
    let mut files = Vec::new();
    for account in ["111111111111", "222222222222"] {
        let d = logs
            .path()
            .join(format!("AWSLogs/{account}/CloudTrail/us-east-1/2024/05/01"));
        std::fs::create_dir_all(&d).expect("mkdir");
        let evs: Vec<String> = (0..5)
            .map(|i| {
                failed_login(i, "198.51.100.1", &format!("{account}-{i}"))
                    .replace("\"111122223333\"", &format!("\"{account}\""))
            })
            .collect();
        let f = d.join("events.json");
        std::fs::write(&f, lines(&evs)).expect("write");
        files.push(f);
    }
    let r = rampart_detect::run_files(cfg, files, 2).finish();
    let mut accounts: Vec<&str> = sigma_findings(&r, "Sigma:Console brute force")
        .iter()
        .map(|f| f.account_id.as_str())
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["111111111111", "222222222222"]);
}

const SUCCESSFUL_LOGIN: &str = "\
title: Successful console login
name: successful_console_login
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ConsoleLogin
    responseElements.ConsoleLogin: Success
  condition: selection
";

/// The specification's own example: many failed logins, then a success of
/// the same user, as chained correlations.
const FAILURES_THEN_SUCCESS: &str = "\
title: Failures then a successful login
correlation:
  type: temporal_ordered
  rules:
    - many_failed_logins
    - successful_console_login
  group-by:
    - userIdentity.arn
  timespan: 1h
level: critical
---
title: Many failed logins
name: many_failed_logins
correlation:
  type: event_count
  rules:
    - failed_console_login
  group-by:
    - userIdentity.arn
  timespan: 10m
  condition:
    gte: 5
";

fn login(minutes: u32, user: &str, outcome: &str, id: &str) -> String {
    event(
        "ConsoleLogin",
        minutes,
        user,
        "198.51.100.7",
        id,
        &format!(r#","responseElements":{{"ConsoleLogin":"{outcome}"}}"#),
    )
}

#[test]
fn chained_correlations_follow_the_specification_example() {
    let dir = tempfile::tempdir().expect("tmp");
    let base = format!("{FAILED_LOGIN}---\n{SUCCESSFUL_LOGIN}");
    let (set, diags) = rules_in(
        dir.path(),
        &[("base.yml", &base), ("chain.yml", FAILURES_THEN_SUCCESS)],
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.correlations().len(), 2);
    let mut events = Vec::new();
    // alice: five failures, then a success: the chain matches.
    for i in 0..5 {
        events.push(login(i, "alice", "Failure", &format!("a{i}")));
    }
    events.push(login(7, "alice", "Success", "a-ok"));
    // bob: a success first, then five failures: out of order.
    events.push(login(0, "bob", "Success", "b-ok"));
    for i in 1..6 {
        events.push(login(i, "bob", "Failure", &format!("b{i}")));
    }
    // carol: five failures, no success.
    for i in 0..5 {
        events.push(login(i, "carol", "Failure", &format!("c{i}")));
    }
    let r = run(set, &events);
    let hits = sigma_findings(&r, "Sigma:Failures then a successful login");
    assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    let f = hits[0];
    assert_eq!(
        f.resource.id,
        "userIdentity.arn=arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(f.severity, rampart_core::Severity::Critical);
    let ids: Vec<&str> = f.evidence.event_ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["a-ok", "a0", "a1", "a2", "a3", "a4"]);
    // The inner correlation and the base rules only feed the outer one.
    assert!(sigma_findings(&r, "Sigma:Many failed logins").is_empty());
    assert!(sigma_findings(&r, "Sigma:Failed console login").is_empty());
    assert!(sigma_findings(&r, "Sigma:Successful console login").is_empty());
    assert_eq!(r.findings.iter().filter(|f| f.origin == "sigma").count(), 1);
}

#[test]
fn chains_that_cannot_run_are_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    let cycle = "\
title: Loop A
name: loop_a
correlation:
  type: temporal
  rules: [loop_b, failed_console_login]
  timespan: 5m
---
title: Loop B
name: loop_b
correlation:
  type: temporal
  rules: [loop_a, failed_console_login]
  timespan: 5m
";
    let ungrouped = FAILURES_THEN_SUCCESS.replace(
        "    - userIdentity.arn\n  timespan: 10m",
        "    - sourceIPAddress\n  timespan: 10m",
    );
    let (set, diags) = rules_in(
        dir.path(),
        &[
            (
                "base.yml",
                &format!("{FAILED_LOGIN}---\n{SUCCESSFUL_LOGIN}"),
            ),
            ("cycle.yml", cycle),
            ("ungrouped.yml", &ungrouped),
        ],
    );
    let text: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
    assert_eq!(diags.len(), 3, "{text:#?}");
    for title in ["Loop A", "Loop B"] {
        assert!(
            text.iter()
                .any(|t| t.contains(&format!("{title:?}")) && t.contains("cycle")),
            "{text:#?}"
        );
    }
    assert!(
        text.iter()
            .any(|t| t.contains("\"Failures then a successful login\"")
                && t.contains("\"userIdentity.arn\"")
                && t.contains("does not group by it")),
        "{text:#?}"
    );
    // Only the inner correlation of the broken chain loads; it stands alone.
    let titles: Vec<&str> = set
        .correlations()
        .iter()
        .map(|c| c.meta.title.as_str())
        .collect();
    assert_eq!(titles, ["Many failed logins"]);
}

#[test]
fn a_flood_of_groups_is_capped_and_reported_once() {
    // Two more distinct addresses than a correlation holds groups, all in
    // one minute: the last two are not counted, and one diagnostic says so.
    // The cap (`MAX_GROUPS` in sigma/correlation.rs), as documented.
    let max_groups = 100_000;
    let extra = 2;
    let mut events: Vec<String> = (0..max_groups + extra)
        .map(|n| {
            let ip = format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
            failed_login(0, &ip, &format!("f{n}"))
        })
        .collect();
    // A group held before the table filled still counts to a match.
    for i in 0..4 {
        events.push(failed_login(1, "10.0.0.0", &format!("g{i}")));
    }
    let mut set = RuleSet::default();
    let mut diags = Vec::new();
    set.load_str(
        "b.yml",
        &format!("{FAILED_LOGIN}---\n{BRUTE_FORCE}"),
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let r = run(set, &events);
    let capped: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("most groups"))
        .collect();
    assert_eq!(capped.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(capped[0].source, "0b1c2d3e-0000-4000-8000-000000000002");
    assert!(
        capped[0].message.contains(&format!("{extra} events")),
        "{}",
        capped[0].message
    );
    let hits = sigma_findings(&r, "Sigma:Console brute force");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].resource.id, "sourceIPAddress=10.0.0.0");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn brute_force_set() -> RuleSet {
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        set.load_str(
            "b.yml",
            &format!("{FAILED_LOGIN}---\n{BRUTE_FORCE}"),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        set
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// In time order, a group matches exactly when some five of its
        /// failures fall within ten minutes.
        #[test]
        fn event_count_matches_the_sliding_window_oracle(
            mut events in proptest::collection::vec((0u8..4, 0u32..180), 0..60)
        ) {
            events.sort_by_key(|(_, m)| *m);
            let lines: Vec<String> = events
                .iter()
                .enumerate()
                .map(|(n, (ip, m))| failed_login(*m, &format!("198.51.100.{ip}"), &format!("e{n}")))
                .collect();
            let r = run(brute_force_set(), &lines);
            for ip in 0u8..4 {
                let times: Vec<u32> = events.iter().filter(|(i, _)| *i == ip).map(|(_, m)| *m).collect();
                let oracle = times.windows(5).any(|w| w[4] - w[0] <= 10);
                let resource = format!("sourceIPAddress=198.51.100.{ip}");
                let raised = r.findings.iter().any(|f| f.resource.id == resource);
                prop_assert_eq!(raised, oracle, "{} {:?}", ip, times);
            }
        }

        /// In any order, when every event lies within two timespans of the
        /// newest (here 0 to 20 minutes), a group matches exactly when some
        /// five of its failures fall within ten minutes, as in time order.
        #[test]
        fn event_count_in_any_order_within_two_timespans_matches_the_oracle(
            events in proptest::collection::vec((0u8..3, 0u32..=20), 0..40)
                .prop_shuffle()
        ) {
            let lines: Vec<String> = events
                .iter()
                .enumerate()
                .map(|(n, (ip, m))| failed_login(*m, &format!("198.51.100.{ip}"), &format!("e{n}")))
                .collect();
            let r = run(brute_force_set(), &lines);
            for ip in 0u8..3 {
                let mut times: Vec<u32> = events.iter().filter(|(i, _)| *i == ip).map(|(_, m)| *m).collect();
                times.sort_unstable();
                let oracle = times.windows(5).any(|w| w[4] - w[0] <= 10);
                let resource = format!("sourceIPAddress=198.51.100.{ip}");
                let raised = r.findings.iter().any(|f| f.resource.id == resource);
                prop_assert_eq!(raised, oracle, "{} {:?}", ip, events);
            }
        }

        /// In any order and under any condition, nothing panics and every
        /// match's count meets the condition.
        #[test]
        fn any_order_any_condition_never_panics(
            events in proptest::collection::vec((0u8..3, 0u32..300, any::<bool>()), 0..80),
            op in prop::sample::select(vec!["gt", "gte", "lt", "lte", "eq", "neq"]),
            n in 0u64..6,
        ) {
            let text = format!(
                "{FAILED_LOGIN}---\n{SUCCESSFUL_LOGIN}---\ntitle: Mixed\ncorrelation:\n  type: event_count\n  rules: [failed_console_login, successful_console_login]\n  group-by: [sourceIPAddress]\n  timespan: 15m\n  condition: {{{op}: {n}}}\n---\n{}",
                temporal("temporal_ordered").replace("create_user", "failed_console_login").replace("attach_user_policy", "successful_console_login")
            );
            let mut set = RuleSet::default();
            let mut diags = Vec::new();
            set.load_str("m.yml", &text, &mut diags);
            let lines: Vec<String> = events
                .iter()
                .enumerate()
                .map(|(i, (ip, m, ok))| {
                    let outcome = if *ok { "Success" } else { "Failure" };
                    event("ConsoleLogin", *m, "alice", &format!("203.0.113.{ip}"), &format!("e{i}"),
                        &format!(r#","responseElements":{{"ConsoleLogin":"{outcome}"}}"#))
                })
                .collect();
            let r = run(set, &lines);
            let holds = |k: u64| match op {
                "gt" => k > n,
                "gte" => k >= n,
                "lt" => k < n,
                "lte" => k <= n,
                "eq" => k == n,
                _ => k != n,
            };
            for f in &r.findings {
                prop_assert!(f.evidence.event_ids.len() <= 20);
                if f.type_name == "Sigma:Mixed" {
                    let k: u64 = f.evidence.details["events_in_timespan"].parse().expect("count");
                    prop_assert!(holds(k), "{} {} {}", op, n, k);
                }
            }
        }
    }
}
