//! Behavioural baselines: a learning run raises nothing; afterwards, what the
//! baseline never saw raises the GuardDuty anomaly types, and only for
//! principals and instances it knows.

use rampart_detect::baseline::{Baseline, LEARNING_SECS};
use rampart_detect::{Engine, EngineConfig, Report};
use serde_json::json;

const T0: i64 = 1_714_557_600;

fn stamp(secs: i64) -> String {
    time_string(secs)
}

fn time_string(secs: i64) -> String {
    let days = secs.div_euclid(86_400) - 19_844; // days after 2024-05-01
    let rem = secs.rem_euclid(86_400);
    format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}Z",
        days + 1,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn call(user: &str, source: &str, name: &str, secs: i64) -> serde_json::Value {
    json!({"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":format!("arn:aws:iam::111122223333:user/{user}"),"accountId":"111122223333","userName":user},
           "eventTime":stamp(secs),"eventSource":format!("{source}.amazonaws.com"),"eventName":name,"awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.20",
           "requestParameters":{},"eventID":format!("{user}-{name}-{secs}"),"eventType":"AwsApiCall","recipientAccountId":"111122223333"})
}

fn flow(port: u16, bytes: u64, secs: i64) -> String {
    format!(
        "2 111122223333 eni-0web 10.0.1.10 198.18.7.7 44000 {port} 6 100 {bytes} {secs} {} ACCEPT OK\n",
        secs + 60
    )
}

fn run(baseline: Baseline, ct: Vec<serde_json::Value>, flows: String) -> Report {
    let mut e = Engine::new(EngineConfig {
        baseline: Some(baseline),
        ..EngineConfig::default()
    });
    e.process_bytes(
        "AWSLogs/111122223333/CloudTrail/eu-west-1/x.json",
        json!({"Records": ct}).to_string().as_bytes(),
    );
    e.process_bytes(
        "AWSLogs/111122223333/vpcflowlogs/eu-west-1/x.log",
        flows.as_bytes(),
    );
    e.finish()
}

#[test]
fn learning_is_silent_then_new_behaviour_is_found() {
    let week = LEARNING_SECS + 3600;
    let ordinary = |t: i64| {
        vec![
            call("alice", "iam", "ListUsers", t),
            call("alice", "ec2", "DescribeInstances", t + 1),
            call("alice", "iam", "DeleteSecurityGroupRule", t + 2),
        ]
    };
    let mut ct = ordinary(T0);
    ct.extend(ordinary(T0 + week));
    let flows = flow(443, 50_000, T0) + &flow(443, 60_000, T0 + week);
    let first = run(Baseline::default(), ct, flows);
    assert!(first.findings.is_empty(), "{:?}", first.findings);
    let learned = first.baseline.expect("baseline kept");
    assert!(learned.mature());

    let later = T0 + week + 86_400;
    let ct = vec![
        call("alice", "ec2", "DeleteSecurityGroup", later),
        call("alice", "iam", "ListUsers", later + 5),
        call("mallory", "ec2", "DeleteSecurityGroup", later + 6),
    ];
    let flows = flow(6667, 1_000, later) + &flow(443, 2_000_000_000, later + 60);
    let second = run(learned.clone(), ct, flows);
    let types: Vec<&str> = second
        .findings
        .iter()
        .map(|f| f.type_name.as_str())
        .collect();
    assert!(
        types.contains(&"Impact:IAMUser/AnomalousBehavior"),
        "{types:?}"
    );
    assert!(
        types.contains(&"Behavior:EC2/NetworkPortUnusual"),
        "{types:?}"
    );
    assert!(
        types.contains(&"Behavior:EC2/TrafficVolumeUnusual"),
        "{types:?}"
    );
    let impact: Vec<_> = second
        .findings
        .iter()
        .filter(|f| f.type_name == "Impact:IAMUser/AnomalousBehavior")
        .collect();
    assert_eq!(
        impact.len(),
        1,
        "only alice is known to the baseline: {impact:?}"
    );
    assert!(
        impact[0]
            .evidence
            .principals
            .iter()
            .any(|p| p.ends_with("user/alice"))
    );

    // The next run has learned the new behaviour.
    let third = run(
        second.baseline.expect("baseline"),
        vec![call("alice", "ec2", "DeleteSecurityGroup", later + 3600)],
        flow(6667, 1_000, later + 3600),
    );
    assert!(third.findings.is_empty(), "{:?}", third.findings);
}

/// A long-running engine (`--follow`) learns at each flush as consecutive
/// runs do: a new call is flagged once, not again after the flush, and a
/// learning baseline turns mature mid-stream.
#[test]
fn a_flushed_engine_goes_on_from_what_it_learned() {
    let week = LEARNING_SECS + 3600;
    let mut e = Engine::new(EngineConfig {
        baseline: Some(Baseline::default()),
        ..EngineConfig::default()
    });
    let name = "AWSLogs/111122223333/CloudTrail/eu-west-1/x.json";
    let feed = |e: &mut Engine, calls: Vec<serde_json::Value>| {
        e.process_bytes(name, json!({ "Records": calls }).to_string().as_bytes());
    };
    feed(&mut e, vec![call("alice", "iam", "ListUsers", T0)]);
    feed(&mut e, vec![call("alice", "iam", "ListUsers", T0 + week)]);
    let learning = e.flush();
    assert!(learning.findings.is_empty());
    assert!(learning.baseline.expect("kept").mature());
    // Mature now: alice's new call is flagged...
    let later = T0 + week + 60;
    feed(
        &mut e,
        vec![call("alice", "ec2", "DeleteSecurityGroup", later)],
    );
    let flagged = e.flush();
    assert_eq!(
        flagged
            .findings
            .iter()
            .map(|f| f.type_name.as_str())
            .collect::<Vec<_>>(),
        ["Impact:IAMUser/AnomalousBehavior"]
    );
    // ...and known after that flush.
    feed(
        &mut e,
        vec![call("alice", "ec2", "DeleteSecurityGroup", later + 60)],
    );
    let after = e.flush();
    assert!(after.findings.is_empty(), "{:?}", after.findings);
    let kept = after.baseline.expect("kept");
    assert!(
        kept.principals["111122223333|arn:aws:iam::111122223333:user/alice"]
            .apis
            .contains("ec2:DeleteSecurityGroup")
    );
}

fn call_from(user: &str, name: &str, ip: &str, region: &str, secs: i64) -> serde_json::Value {
    let mut c = call(user, "ec2", name, secs);
    c["sourceIPAddress"] = json!(ip);
    c["awsRegion"] = json!(region);
    c["eventID"] = json!(format!("{user}-{name}-{secs}-{ip}"));
    c
}

/// A call the principal knows, made from a network or a region its baseline
/// never saw, is an anomaly of the call's family; the same call from home is
/// not, and a new network in the same /16 is home.
#[test]
fn a_known_call_from_a_new_network_or_region_is_found() {
    let week = LEARNING_SECS + 3600;
    let home = |t: i64| {
        vec![
            call_from(
                "alice",
                "DeleteSecurityGroup",
                "198.51.100.20",
                "eu-west-1",
                t,
            ),
            call_from(
                "alice",
                "DescribeInstances",
                "198.51.100.21",
                "eu-west-1",
                t + 1,
            ),
        ]
    };
    let mut ct = home(T0);
    ct.extend(home(T0 + week));
    let first = run(Baseline::default(), ct, String::new());
    assert!(first.findings.is_empty(), "{:?}", first.findings);
    let learned = first.baseline.expect("baseline kept");

    let later = T0 + week + 86_400;
    let quiet = run(
        learned.clone(),
        vec![
            call_from(
                "alice",
                "DeleteSecurityGroup",
                "198.51.7.9",
                "eu-west-1",
                later,
            ),
            // Discovery from somewhere new is everyday: never flagged for place alone.
            call_from(
                "alice",
                "DescribeInstances",
                "203.0.113.9",
                "ap-south-1",
                later + 1,
            ),
        ],
        String::new(),
    );
    assert!(quiet.findings.is_empty(), "{:?}", quiet.findings);

    let away = run(
        learned,
        vec![
            call_from(
                "alice",
                "DeleteSecurityGroup",
                "203.0.113.9",
                "eu-west-1",
                later,
            ),
            call_from(
                "alice",
                "DeleteSecurityGroup",
                "198.51.100.20",
                "ap-south-1",
                later + 60,
            ),
        ],
        String::new(),
    );
    let anomalies: Vec<_> = away
        .findings
        .iter()
        .filter(|f| f.type_name.ends_with("IAMUser/AnomalousBehavior"))
        .collect();
    assert!(!anomalies.is_empty(), "{:?}", away.findings);
    let details: Vec<String> = anomalies
        .iter()
        .flat_map(|f| f.evidence.details.iter().map(|(k, v)| format!("{k}={v}")))
        .collect();
    assert!(
        details.iter().any(|d| d == "new_network=203.0.0.0/16"),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d == "new_region=ap-south-1"),
        "{details:?}"
    );
}
