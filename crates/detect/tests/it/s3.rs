//! S3 input against the real moto server on 127.0.0.1 (started by
//! scripts/test-services.sh, which exports RAMPART_TEST_S3_ENDPOINT).

use rampart_detect::s3::{S3Options, S3Source};
use rampart_detect::{DiagnosticKind, Engine, EngineConfig, Input};
use std::io::{Read, Write};
use std::sync::Arc;

/// The moto endpoint, or `None` (with a message) when it is not running and
/// this is not CI; in CI a missing server is a failure, not a skip.
pub fn moto() -> Option<String> {
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

/// Creates a bucket with moto's path-style `PUT /bucket` (moto does not check
/// signatures, and object_store has no bucket calls).
pub fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).expect("connect to moto");
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

pub fn unique_bucket(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("rampart-{tag}-{}-{nanos}", std::process::id())
}

fn opts(endpoint: &str) -> S3Options {
    S3Options {
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        credentials: Some(("testing".into(), "testing".into(), None)),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("write");
    enc.finish().expect("finish")
}

fn event(name: &str, account: &str, region: &str, id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventID":"ev-{id}","eventName":"{name}","eventSource":"cloudtrail.amazonaws.com","eventTime":"2024-01-01T00:{:02}:00Z","awsRegion":"{region}","recipientAccountId":"{account}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/mallory","accountId":"{account}"}},"sourceIPAddress":"198.51.100.7","requestParameters":{{"name":"main-trail"}}}}"#,
        id % 60
    )
}

#[test]
fn objects_under_a_prefix_are_read_with_keys_in_diagnostics() {
    let Some(endpoint) = moto() else { return };
    let bucket = unique_bucket("lib");
    create_bucket(&endpoint, &bucket);
    let src = S3Source::open(&format!("s3://{bucket}/AWSLogs/"), &opts(&endpoint)).expect("open");
    let day = "2024/01/01";
    let gz_key = format!("AWSLogs/111122223333/CloudTrail/us-east-1/{day}/a.json.gz");
    let plain_key = format!("AWSLogs/444455556666/CloudTrail/eu-west-1/{day}/b.json");
    let trunc_key = format!("AWSLogs/111122223333/CloudTrail/us-east-1/{day}/c.json.gz");
    let bad_key = format!("AWSLogs/444455556666/CloudTrail/eu-west-1/{day}/d.jsonl");
    let records = |name: &str, acct: &str, region: &str, n: usize| {
        let evs: Vec<String> = (0..n).map(|i| event(name, acct, region, i)).collect();
        format!("{{\"Records\":[{}]}}", evs.join(","))
    };
    src.put(
        &gz_key,
        gzip(records("StopLogging", "111122223333", "us-east-1", 3).as_bytes()),
    )
    .expect("put");
    src.put(
        &plain_key,
        records("DeleteTrail", "444455556666", "eu-west-1", 2).into_bytes(),
    )
    .expect("put");
    let big = gzip(records("StopLogging", "111122223333", "us-east-1", 400).as_bytes());
    src.put(&trunc_key, big[..big.len() / 2].to_vec())
        .expect("put");
    let lines = format!(
        "{}\n{{\"eventName\": broken\n{}\n",
        event("DeleteTrail", "444455556666", "eu-west-1", 900),
        event("DeleteTrail", "444455556666", "eu-west-1", 901)
    );
    src.put(&bad_key, lines.into_bytes()).expect("put");
    // Outside the prefix: not listed.
    src.put("other/x.json", b"{}".to_vec()).expect("put");

    let objects = src.list().expect("list");
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, [&gz_key, &trunc_key, &plain_key, &bad_key]);
    assert!(objects.iter().all(|o| o.etag.is_some() && o.size > 0));
    assert_eq!(objects[0].name, format!("s3://{bucket}/{gz_key}"));
    // An object's own key as the prefix: that object.
    let one = S3Source::open(&format!("s3://{bucket}/{plain_key}"), &opts(&endpoint))
        .expect("open")
        .list()
        .expect("list");
    assert_eq!(
        one.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        [&plain_key]
    );
    let none = S3Source::open(&format!("s3://{bucket}/AWSLogs/1111"), &opts(&endpoint))
        .expect("open")
        .list()
        .expect("list");
    assert!(none.is_empty(), "a prefix is a folder: {none:?}");

    let inputs: Vec<Input> = objects
        .iter()
        .map(|o| Input {
            name: o.name.clone(),
            size: o.size,
        })
        .collect();
    let read = |name: &str| src.get(src.key_of(name)).map_err(|e| e.to_string());
    let engine = rampart_detect::run_inputs(Arc::new(EngineConfig::default()), inputs, 2, &read);
    let report = engine.finish();
    assert_eq!(report.stats.files, 4);
    // 3 + 2 + 2 valid lines + what the truncated object kept (some, not all 400).
    let kept = report.stats.cloudtrail_events - 7;
    assert!(kept > 0 && kept < 400, "{kept}");
    let stop = report
        .findings
        .iter()
        .find(|f| f.type_name == "Stealth:IAMUser/CloudTrailLoggingDisabled")
        .expect("StopLogging finding");
    assert_eq!(stop.account_id, "111122223333");
    assert_eq!(stop.count, 3 + kept);
    let del = report
        .findings
        .iter()
        .find(|f| f.account_id == "444455556666")
        .expect("DeleteTrail finding");
    assert_eq!(del.region, "eu-west-1");
    assert_eq!(del.count, 4);
    // Findings come grouped by account.
    let accounts: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.account_id.as_str())
        .collect();
    let mut sorted = accounts.clone();
    sorted.sort();
    assert_eq!(accounts, sorted);

    let trunc = report
        .diagnostics
        .iter()
        .find(|d| d.kind == DiagnosticKind::Truncated)
        .expect("truncated gzip reported");
    assert_eq!(trunc.source, format!("s3://{bucket}/{trunc_key}"));
    let bad = report
        .diagnostics
        .iter()
        .find(|d| d.kind == DiagnosticKind::Malformed)
        .expect("malformed record reported");
    assert_eq!(bad.source, format!("s3://{bucket}/{bad_key}"));
    assert_eq!(bad.location.as_deref(), Some("line 2"));
}

#[test]
fn a_missing_bucket_is_an_error_that_says_what_to_check() {
    let Some(endpoint) = moto() else { return };
    let src = S3Source::open("s3://rampart-no-such-bucket-here/x", &opts(&endpoint)).expect("open");
    let e = src.list().expect_err("no bucket").to_string();
    assert!(e.contains("s3://rampart-no-such-bucket-here/x"), "{e}");
    assert!(e.contains("NoSuchBucket"), "{e}");
    assert!(e.contains("check the bucket name"), "{e}");
    let mut engine = Engine::new(EngineConfig::default());
    // A fetch failure is the caller's diagnostic; the engine itself is untouched.
    engine.process_bytes("empty", b"");
    assert_eq!(engine.finish().stats.files, 1);
}
