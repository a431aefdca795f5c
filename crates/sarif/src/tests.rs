use super::*;
use proptest::prelude::*;

fn codeql_like() -> String {
    r#"{
      "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
      "version": "2.1.0",
      "runs": [{
        "tool": {"driver": {"name": "CodeQL", "rules": [
          {"id": "js/xss", "shortDescription": {"text": "Client-side cross-site scripting"},
           "fullDescription": {"text": "Writing user input directly to the DOM allows XSS."},
           "defaultConfiguration": {"level": "error"},
           "properties": {"tags": ["security", "external/cwe/cwe-079"], "security-severity": "6.1"}},
          {"id": "js/unused", "shortDescription": {"text": "Unused variable"},
           "defaultConfiguration": {"level": "note"}}
        ]}},
        "versionControlProvenance": [{"repositoryUri": "https://github.com/acme/shop"}],
        "results": [
          {"ruleId": "js/xss", "ruleIndex": 0, "message": {"text": "Cross-site scripting from user input."},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/search.js"}, "region": {"startLine": 42}}}],
           "partialFingerprints": {"primaryLocationLineHash": "abc123:1"}},
          {"ruleId": "js/unused", "message": {"text": "Unused variable x."},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.js"}}}]}
        ]
      }]
    }"#
    .to_owned()
}

#[test]
fn reads_codeql_style_results() {
    let f = read_findings(codeql_like().as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].title, "Client-side cross-site scripting");
    assert_eq!(
        f[0].severity,
        Severity::Medium,
        "security-severity 6.1 is medium"
    );
    assert_eq!(f[0].cwe, Some(79));
    assert_eq!(f[0].asset.as_deref(), Some("https://github.com/acme/shop"));
    assert_eq!(f[0].location.as_deref(), Some("src/search.js:42"));
    assert_eq!(f[0].rule_id.as_deref(), Some("CodeQL/js/xss"));
    assert!(
        f[0].description
            .as_deref()
            .unwrap_or("")
            .contains("directly to the DOM")
    );
    assert_eq!(
        f[1].severity,
        Severity::Low,
        "note level from the rule default"
    );
    assert_eq!(f[1].location.as_deref(), Some("src/a.js"));
}

#[test]
fn tool_fingerprints_survive_line_moves() {
    let a = read_findings(codeql_like().as_bytes(), &ReadOptions::default()).unwrap();
    let moved = codeql_like().replace("\"startLine\": 42", "\"startLine\": 50");
    let b = read_findings(moved.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    let other_asset = ReadOptions {
        asset: Some("other".into()),
        ..Default::default()
    };
    let c = read_findings(codeql_like().as_bytes(), &other_asset).unwrap();
    assert_ne!(
        a[0].fingerprint, c[0].fingerprint,
        "same code in another repo is another finding"
    );
    assert_eq!(c[0].asset.as_deref(), Some("other"));
}

#[test]
fn errors_name_the_path() {
    let cases = [
        ("{", "line 1"),
        ("[]", "$"),
        (r#"{"runs":[]}"#, "version"),
        (r#"{"version":"2.0.0","runs":[]}"#, "version"),
        (r#"{"version":"2.1.0"}"#, "runs"),
        (r#"{"version":"2.1.0","runs":[{}]}"#, "runs[0].tool"),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{}}]}"#,
            "runs[0].tool.driver",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}"#,
            "runs[0].tool.driver.name",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"ruleId":"x"}]}]}"#,
            "runs[0].results[0].message",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"message":{"text":"  "}}]}]}"#,
            "runs[0].results[0].message.text",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":7}}}]}"#,
            "runs[0].tool.driver.name",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{}]}}}]}"#,
            "runs[0].tool.driver.rules[0].id",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"level":"loud","message":{"text":"m"}}]}]}"#,
            "runs[0].results[0].level",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"ruleId":5,"message":{"text":"m"}}]}]}"#,
            "runs[0].results[0].ruleId",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"region":{"startLine":0}}}]}]}]}"#,
            "runs[0].results[0].locations[0].physicalLocation.region.startLine",
        ),
        (
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t\u0000"}}}]}"#,
            "runs[0].tool.driver.name",
        ),
    ];
    for (doc, path) in cases {
        let err = read_findings(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert!(err.path.starts_with(path), "{doc}: got {err}");
    }
}

#[test]
fn empty_run_is_valid() {
    let doc = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[]}]}"#;
    assert!(
        read_findings(doc.as_bytes(), &ReadOptions::default())
            .unwrap()
            .is_empty()
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_findings(&bytes, &ReadOptions::default());
    }

    #[test]
    fn arbitrary_json_shapes_never_panic(level in ".{0,10}", line in any::<i64>(), sev in ".{0,8}", idx in any::<u64>()) {
        let doc = serde_json::json!({"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r","properties":{"security-severity":sev}}]}},
            "results":[{"ruleId":"r","ruleIndex":idx,"level":level,"message":{"text":"m"},
            "locations":[{"physicalLocation":{"artifactLocation":{"uri":"u"},"region":{"startLine":line}}}]}]}]});
        let _ = read_findings(doc.to_string().as_bytes(), &ReadOptions::default());
    }
}
