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

// --- The credential chain of profiles, against moto's STS and S3. ---

use rampart_detect::s3::{AwsCredentials, AwsEnvironment};

/// Who STS says these credentials are (`GetCallerIdentity`, signed as any
/// client would): moto answers an assumed role's keys with the role
/// session's ARN, which shows the keys really came from AssumeRole.
fn caller_arn(endpoint: &str, c: &AwsCredentials) -> String {
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let host = rampart_aws_sign::host_of(endpoint).expect("host");
    let amz_date = rampart_aws_sign::amz_date_now();
    let authorization = rampart_aws_sign::sign_v4(&rampart_aws_sign::SigningInput {
        method: "POST",
        host: &host,
        path: "/",
        query: "",
        content_type: rampart_aws_sign::FORM_CONTENT_TYPE,
        amz_date: &amz_date,
        payload: body.as_bytes(),
        service: "sts",
        region: "us-east-1",
        key_id: &c.access_key_id,
        secret: &c.secret_access_key,
        session_token: c.session_token.as_deref(),
    });
    let mut request = ureq::post(format!("{}/", endpoint.trim_end_matches('/')))
        .header("Content-Type", rampart_aws_sign::FORM_CONTENT_TYPE)
        .header("X-Amz-Date", &amz_date)
        .header("Authorization", &authorization);
    if let Some(token) = &c.session_token {
        request = request.header("X-Amz-Security-Token", token);
    }
    let mut response = request.send(body).expect("GetCallerIdentity");
    let text = response.body_mut().read_to_string().expect("answer");
    rampart_aws_sign::xml_text(&text, "Arn").unwrap_or_else(|| panic!("no Arn in {text}"))
}

/// An AWS environment of only a config file (no credentials file, no keys),
/// STS at moto.
fn profile_env(dir: &std::path::Path, config: &str, endpoint: &str) -> Vec<(String, String)> {
    let config_file = dir.join("config");
    std::fs::write(&config_file, config).expect("write config");
    vec![
        ("AWS_CONFIG_FILE".into(), config_file.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            dir.join("no-credentials").display().to_string(),
        ),
        ("AWS_ENDPOINT_URL_STS".into(), endpoint.to_owned()),
    ]
}

fn with_profile(mut vars: Vec<(String, String)>, profile: &str) -> AwsEnvironment {
    vars.push(("AWS_PROFILE".into(), profile.into()));
    AwsEnvironment::from_vars(vars)
}

/// No endpoint given for S3 in the options: only the region and moto.
fn chain_opts(endpoint: &str) -> S3Options {
    S3Options {
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        credentials: None,
    }
}

/// A bucket with one CloudTrail object, seeded with static keys.
fn seeded_bucket(endpoint: &str, tag: &str) -> (String, String) {
    let bucket = unique_bucket(tag);
    create_bucket(endpoint, &bucket);
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/a.json".to_owned();
    let seed = S3Source::open(&format!("s3://{bucket}"), &opts(endpoint)).expect("open");
    let body = format!(
        "{{\"Records\":[{}]}}",
        event("StopLogging", "111122223333", "us-east-1", 1)
    );
    seed.put(&key, body.into_bytes()).expect("put");
    (bucket, key)
}

const CHAIN_CONFIG: &str = "\
[profile base]
aws_access_key_id = AKIAIOSFODNN7BASEKEY
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYBASEKEY
region = us-east-1

[profile reader]
role_arn = arn:aws:iam::123456789012:role/reader
source_profile = base
role_session_name = rampart-reader
external_id = ext-1
duration_seconds = 900

[profile auditor]
role_arn = arn:aws:iam::210987654321:role/auditor
source_profile = reader
role_session_name = rampart-auditor
";

#[test]
fn a_profile_that_assumes_a_role_reads_a_bucket() {
    let Some(endpoint) = moto() else { return };
    let (bucket, key) = seeded_bucket(&endpoint, "role");
    let dir = tempfile::tempdir().expect("tmp");
    let vars = profile_env(dir.path(), CHAIN_CONFIG, &endpoint);

    let src = S3Source::open_in(
        &format!("s3://{bucket}/AWSLogs/"),
        &chain_opts(&endpoint),
        &with_profile(vars.clone(), "reader"),
    )
    .expect("open with the role");
    assert_eq!(
        src.credentials_origin(),
        Some(
            "profile reader: role arn:aws:iam::123456789012:role/reader assumed with profile base"
        )
    );
    let objects = src.list().expect("list with the role's keys");
    assert_eq!(
        objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        [&key]
    );
    assert!(src.get(&key).expect("get").starts_with(b"{\"Records\""));
    let creds = src.current_credentials().expect("credentials");
    assert_ne!(creds.access_key_id, "AKIAIOSFODNN7BASEKEY");
    assert!(creds.session_token.is_some());
    assert_eq!(
        caller_arn(&endpoint, &creds),
        "arn:aws:sts::123456789012:assumed-role/reader/rampart-reader"
    );

    // Chained: auditor's source is reader, itself a role of base.
    let chained = S3Source::open_in(
        &format!("s3://{bucket}"),
        &chain_opts(&endpoint),
        &with_profile(vars, "auditor"),
    )
    .expect("open with the chained role");
    assert_eq!(chained.list().expect("list").len(), 1);
    assert_eq!(
        caller_arn(
            &endpoint,
            &chained.current_credentials().expect("credentials")
        ),
        "arn:aws:sts::210987654321:assumed-role/auditor/rampart-auditor"
    );
}

#[test]
fn a_chosen_profile_assumes_its_role_with_the_environments_keys() {
    let Some(endpoint) = moto() else { return };
    let (bucket, _) = seeded_bucket(&endpoint, "envrole");
    let dir = tempfile::tempdir().expect("tmp");
    let mut vars = profile_env(
        dir.path(),
        "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\ncredential_source = Environment\nrole_session_name = ci-run\n",
        &endpoint,
    );
    vars.push(("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7ENVKEY0".into()));
    vars.push(("AWS_SECRET_ACCESS_KEY".into(), "envsecret".into()));
    // Through AWS_PROFILE the environment's keys win, as in the AWS CLI…
    let plain = S3Source::open_in(
        &format!("s3://{bucket}"),
        &chain_opts(&endpoint),
        &with_profile(vars.clone(), "ci"),
    )
    .expect("open");
    assert_eq!(plain.credentials_origin(), None);
    assert_eq!(
        plain.current_credentials().expect("keys").access_key_id,
        "AKIAIOSFODNN7ENVKEY0"
    );
    // …while a chosen profile (`--profile`) assumes its role with them.
    let chosen = S3Source::open_in(
        &format!("s3://{bucket}"),
        &chain_opts(&endpoint),
        &AwsEnvironment::from_vars(vars).with_profile("ci"),
    )
    .expect("open with the role");
    assert_eq!(chosen.list().expect("list").len(), 1);
    assert_eq!(
        caller_arn(
            &endpoint,
            &chosen.current_credentials().expect("credentials")
        ),
        "arn:aws:sts::123456789012:assumed-role/ci/ci-run"
    );
}

/// Writes an executable shell script (the test's stand-in for a real
/// credential helper such as `aws configure export-credentials`).
fn script(path: &std::path::Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn a_credential_process_profile_reads_a_bucket_and_is_run_again_near_expiry() {
    let Some(endpoint) = moto() else { return };
    let (bucket, key) = seeded_bucket(&endpoint, "process");
    let dir = tempfile::tempdir().expect("tmp");
    // A directory with a space: the command line is split as the AWS CLI
    // splits it (quotes), with no shell in between.
    let tools = dir.path().join("my tools");
    std::fs::create_dir(&tools).expect("mkdir");
    let helper = tools.join("creds.sh");
    let runs = dir.path().join("runs");
    // Each run counts itself and gives credentials that expire 8 seconds
    // later: well inside the ten-minute margin, so they are refreshed half
    // their lifetime ahead (about 4 s after each run), not on every use.
    script(
        &helper,
        &format!(
            "echo x >> '{runs}'\nn=$(wc -l < '{runs}' | tr -d ' ')\n\
             expires=$(date -u -d \"@$(( $(date +%s) + 8 ))\" +%Y-%m-%dT%H:%M:%SZ)\n\
             printf '{{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS%s%s\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \"Expiration\": \"%s\"}}' \"$1\" \"$n\" \"$expires\"",
            runs = runs.display()
        ),
    );
    let config = format!(
        "[profile helper]\ncredential_process = \"{}\" KEY\n",
        helper.display()
    );
    let vars = profile_env(dir.path(), &config, &endpoint);
    let src = S3Source::open_in(
        &format!("s3://{bucket}"),
        &chain_opts(&endpoint),
        &with_profile(vars, "helper"),
    )
    .expect("open with credential_process");
    assert_eq!(
        src.credentials_origin(),
        Some("profile helper: credential_process")
    );
    assert_eq!(
        src.current_credentials().expect("current").access_key_id,
        "AKIAPROCESSKEY1"
    );
    assert_eq!(src.list().expect("list").len(), 1);
    assert!(src.get(&key).expect("get").starts_with(b"{\"Records\""));
    assert_eq!(
        src.current_credentials().expect("current").access_key_id,
        "AKIAPROCESSKEY1",
        "short-lived credentials are not fetched again on every use"
    );
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(
        src.current_credentials().expect("refreshed").access_key_id,
        "AKIAPROCESSKEY2",
        "past half their lifetime they are fetched again"
    );
    assert_eq!(src.list().expect("list with new credentials").len(), 1);
}

#[test]
fn a_failing_credential_process_is_a_clear_error() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let helper = dir.path().join("expired.sh");
    script(
        &helper,
        "echo 'Error loading SSO Token: Token for corp does not exist' >&2\nexit 255",
    );
    let bad_json = dir.path().join("chatty.sh");
    script(&bad_json, "echo 'Please log in first'");
    let config = format!(
        "[profile broken]\ncredential_process = {}\n[profile chatty]\ncredential_process = {}\n",
        helper.display(),
        bad_json.display()
    );
    let vars = profile_env(dir.path(), &config, &endpoint);
    let open = |profile: &str| {
        S3Source::open_in(
            "s3://rampart-any-bucket",
            &chain_opts(&endpoint),
            &with_profile(vars.clone(), profile),
        )
        .expect_err("no credentials")
        .to_string()
    };
    let e = open("broken");
    assert!(
        e.contains("the credential_process of the AWS profile \"broken\" failed"),
        "{e}"
    );
    assert!(e.contains("ended with exit status: 255"), "{e}");
    assert!(e.contains("Token for corp does not exist"), "{e}");
    let e = open("chatty");
    assert!(e.contains("printed something that is not JSON"), "{e}");
}

#[test]
fn a_cyclic_source_profile_is_a_clear_error() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let config = "\
[profile red]
role_arn = arn:aws:iam::123456789012:role/red
source_profile = blue
[profile blue]
role_arn = arn:aws:iam::123456789012:role/blue
source_profile = green
[profile green]
role_arn = arn:aws:iam::123456789012:role/green
source_profile = red
";
    let vars = profile_env(dir.path(), config, &endpoint);
    let e = S3Source::open_in(
        "s3://rampart-any-bucket",
        &chain_opts(&endpoint),
        &with_profile(vars, "red"),
    )
    .expect_err("a loop")
    .to_string();
    assert!(e.contains("loop (red → blue → green → red)"), "{e}");
}

#[test]
fn a_role_sts_refuses_is_a_clear_error() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    // STS (moto as AWS) refuses a session name longer than 64 characters.
    let config = format!(
        "[profile base]\naws_access_key_id = AKIAIOSFODNN7BASEKEY\naws_secret_access_key = s\n\
         [profile odd]\nrole_arn = arn:aws:iam::123456789012:role/odd\nsource_profile = base\nrole_session_name = {}\n",
        "s".repeat(70)
    );
    let vars = profile_env(dir.path(), &config, &endpoint);
    let e = S3Source::open_in(
        "s3://rampart-any-bucket",
        &chain_opts(&endpoint),
        &with_profile(vars.clone(), "odd"),
    )
    .expect_err("refused")
    .to_string();
    assert!(
        e.contains("could not assume arn:aws:iam::123456789012:role/odd"),
        "{e}"
    );
    assert!(e.contains("STS refused (ValidationError"), "{e}");
    // Nothing listens on port 9: the message says where STS was looked for.
    let mut unreachable = vars;
    unreachable.retain(|(k, _)| k != "AWS_ENDPOINT_URL_STS");
    unreachable.push(("AWS_ENDPOINT_URL_STS".into(), "http://127.0.0.1:9".into()));
    let config = "[profile base]\naws_access_key_id = AKIAIOSFODNN7BASEKEY\naws_secret_access_key = s\n\
                  [profile reader]\nrole_arn = arn:aws:iam::123456789012:role/reader\nsource_profile = base\n";
    std::fs::write(dir.path().join("config"), config).expect("write");
    let e = S3Source::open_in(
        "s3://rampart-any-bucket",
        &chain_opts(&endpoint),
        &with_profile(unreachable, "reader"),
    )
    .expect_err("unreachable")
    .to_string();
    assert!(
        e.contains("could not reach STS at http://127.0.0.1:9"),
        "{e}"
    );
}

#[test]
fn a_profile_with_a_web_identity_token_file_assumes_its_role() {
    let Some(endpoint) = moto() else { return };
    let (bucket, _) = seeded_bucket(&endpoint, "webid");
    let dir = tempfile::tempdir().expect("tmp");
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n").expect("write token");
    let config = format!(
        "[profile pod]\nrole_arn = arn:aws:iam::123456789012:role/pod\nweb_identity_token_file = {}\nrole_session_name = pod-1\n",
        token.display()
    );
    let vars = profile_env(dir.path(), &config, &endpoint);
    let src = S3Source::open_in(
        &format!("s3://{bucket}"),
        &chain_opts(&endpoint),
        &with_profile(vars, "pod"),
    )
    .expect("open with the web identity role");
    assert!(
        src.credentials_origin().is_some_and(|o| o.contains(
            "role arn:aws:iam::123456789012:role/pod assumed with the web identity token"
        )),
        "{:?}",
        src.credentials_origin()
    );
    assert_eq!(src.list().expect("list").len(), 1);
    assert_eq!(
        caller_arn(&endpoint, &src.current_credentials().expect("credentials")),
        "arn:aws:sts::123456789012:assumed-role/pod/pod-1"
    );
}
