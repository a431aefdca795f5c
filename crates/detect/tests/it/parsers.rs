//! No input may panic a parser: arbitrary bytes, and damaged versions of
//! real records, go through every format with and without a format hint.

use proptest::prelude::*;
use rampart_detect::{Engine, EngineConfig, Format};

const SAMPLES: &[&str] = &[
    r#"{"Records":[{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"requestParameters":{"name":"t"},"sourceIPAddress":"1.2.3.4","eventTime":"2024-01-01T00:00:00Z"}]}"#,
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1 eni-1 10.0.0.1 8.8.8.8 1 22 6 1 40 1 2 ACCEPT OK\n",
    r#"{"query_name":"a.example.","answers":[{"Rdata":"169.254.169.254","Type":"A"}],"srcaddr":"10.0.0.1","query_timestamp":"2024-01-01T00:00:00Z"}"#,
    r#"{"QueryResultRows":[[{"eventName":"ListUsers"},{"userIdentity":"{\"type\":\"IAMUser\"}"}]]}"#,
];

fn run(bytes: &[u8], hint: Option<Format>) {
    let cfg = EngineConfig {
        format_hint: hint,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg);
    e.process_bytes("fuzz", bytes);
    let _ = e.finish();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("write");
    enc.finish().expect("finish")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for hint in [None, Some(Format::CloudTrail), Some(Format::VpcFlow), Some(Format::Route53)] {
            run(&bytes, hint);
        }
    }

    #[test]
    fn damaged_samples_never_panic(which in 0..SAMPLES.len(), cut in 0usize..400, flip in 0usize..400, byte in any::<u8>(), gz in any::<bool>()) {
        let mut b = SAMPLES[which].as_bytes().to_vec();
        if !b.is_empty() {
            let i = flip % b.len();
            b[i] = byte;
        }
        b.truncate(cut.min(b.len()));
        let input = if gz { let g = gzip(&b); g[..g.len() - (cut % 8).min(g.len())].to_vec() } else { b };
        for hint in [None, Some(Format::CloudTrail), Some(Format::VpcFlow), Some(Format::Route53)] {
            run(&input, hint);
        }
    }

    #[test]
    fn arbitrary_text_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,120}", 0..20)) {
        let text = lines.join("\n");
        for hint in [None, Some(Format::CloudTrail), Some(Format::VpcFlow), Some(Format::Route53)] {
            run(text.as_bytes(), hint);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Rule, suppression and list files are parsers too.
    #[test]
    fn rule_and_list_files_never_panic(text in "[ -~\n]{0,400}", cut in 0usize..600) {
        let _ = rampart_detect::sigma::Rule::parse("fuzz.yml", &text);
        let _ = rampart_detect::suppress::Suppressions::load("fuzz.yml", &text);
        let mut d = Vec::new();
        rampart_detect::intel::ThreatIntel::default().add_list("fuzz.txt", &text, &mut d);
        rampart_detect::intel::TrustedList::default().add_list("fuzz.txt", &text, &mut d);
        // A real rule, damaged.
        let rule = "title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName|contains|all: [a, b]\n    requestParameters.x|re: '^a.+'\n  f:\n    - kw\n  condition: (sel or 1 of f*) and not all of them\n";
        let damaged: String = rule.chars().take(cut).chain(text.chars()).collect();
        let _ = rampart_detect::sigma::Rule::parse("fuzz.yml", &damaged);
    }
}

#[test]
fn samples_parse_cleanly() {
    for (i, s) in SAMPLES.iter().enumerate() {
        let mut e = Engine::new(EngineConfig::default());
        e.process_bytes("s", s.as_bytes());
        let r = e.finish();
        assert!(r.diagnostics.is_empty(), "sample {i}: {:?}", r.diagnostics);
        assert_eq!(
            r.stats.cloudtrail_events + r.stats.flow_records + r.stats.dns_queries,
            1,
            "sample {i}: {:?}",
            r.stats
        );
    }
}

#[test]
fn real_samples_from_the_corpus() {
    use crate::corpus;
    let mut e = Engine::new(EngineConfig::default());
    for f in [
        "aws/elastic-integrations-samples/vpcflow-v2-default-samples.log",
        "aws/elastic-integrations-samples/vpcflow-v5-all-fields.log",
        "aws/elastic-integrations-samples/route53-resolver-query-logs.jsonl",
    ] {
        e.process_bytes(f, &std::fs::read(corpus(f)).expect("read"));
    }
    let r = e.finish();
    assert!(
        r.stats.flow_records >= 5 && r.stats.dns_queries == 10,
        "{:?} {:?}",
        r.stats,
        r.diagnostics
    );
}

#[test]
fn truncated_gzip_keeps_what_was_readable() {
    let body: String = (0..500).map(|i| format!("{{\"eventName\":\"StopLogging\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventID\":\"e{i}\",\"requestParameters\":{{\"name\":\"t{i}\"}}}}\n")).collect();
    let gz = gzip(body.as_bytes());
    let mut e = Engine::new(EngineConfig::default());
    e.process_bytes("cut.json.gz", &gz[..gz.len() * 2 / 3]);
    let r = e.finish();
    assert!(r.stats.cloudtrail_events > 100, "{:?}", r.stats);
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.kind == rampart_detect::DiagnosticKind::Truncated),
        "{:?}",
        r.diagnostics
    );
}
