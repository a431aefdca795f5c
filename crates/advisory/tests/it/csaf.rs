use crate::fixtures::{api_idor, stored_xss};
use crate::schema::csaf_errors;
use rampart_advisory::{Advisory, Affected, check_csaf, csaf_filename, to_csaf};
use serde_json::{Value, json};

fn tests_failed(doc: &Value) -> Vec<&'static str> {
    check_csaf(doc).into_iter().map(|v| v.test).collect()
}

#[test]
fn stored_xss_snapshot() {
    insta::assert_json_snapshot!("csaf_stored_xss", to_csaf(&stored_xss()));
}

#[test]
fn api_idor_snapshot() {
    insta::assert_json_snapshot!("csaf_api_idor", to_csaf(&api_idor()));
}

#[test]
fn both_reports_are_valid_csaf() {
    for advisory in [stored_xss(), api_idor()] {
        let doc = to_csaf(&advisory);
        assert_eq!(csaf_errors(&doc), Vec::<String>::new(), "{}", advisory.id);
        assert_eq!(check_csaf(&doc), Vec::new(), "{}", advisory.id);
    }
}

#[test]
fn the_schema_check_can_fail_inside_the_referenced_cvss_schema() {
    let mut doc = to_csaf(&stored_xss());
    // Resolved through the locally registered FIRST schema, not the network.
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["attackVector"] = "INTERNET".into();
    doc["document"]["tracking"]["status"] = "published".into();
    let errors = csaf_errors(&doc);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/vulnerabilities/0/scores/0/cvss_v3")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/document/tracking/status")),
        "{errors:?}"
    );
}

#[test]
fn cvss31_scores_match_the_vector() {
    let doc = to_csaf(&stored_xss());
    let score = &doc["vulnerabilities"][0]["scores"][0];
    assert_eq!(score["cvss_v3"]["version"], "3.1");
    assert_eq!(score["cvss_v3"]["baseScore"], 5.4);
    assert_eq!(score["cvss_v3"]["baseSeverity"], "MEDIUM");
    assert_eq!(score["cvss_v3"]["scope"], "CHANGED");
    assert_eq!(doc["document"]["aggregate_severity"]["text"], "Medium");
}

#[test]
fn cvss4_goes_to_a_note_because_csaf_2_0_cannot_score_it() {
    let doc = to_csaf(&api_idor());
    let vulnerability = &doc["vulnerabilities"][0];
    assert!(vulnerability.get("scores").is_none());
    let note = vulnerability["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .find(|n| n["title"] == "CVSS v4.0")
        .expect("a CVSS v4.0 note");
    assert_eq!(note["category"], "other");
    let text = note["text"].as_str().expect("text");
    assert!(
        text.contains("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"),
        "{text}"
    );
    assert!(text.contains("(High)"), "{text}");
    assert_eq!(doc["document"]["aggregate_severity"]["text"], "High");
}

#[test]
fn product_tree_and_status_follow_the_versions() {
    let doc = to_csaf(&stored_xss());
    let shop = &doc["product_tree"]["branches"][0]["branches"][0];
    assert_eq!(doc["product_tree"]["branches"][0]["name"], "Acme Ltd");
    assert_eq!(shop["name"], "Acme Shop");
    assert_eq!(shop["branches"][0]["category"], "product_version_range");
    assert_eq!(shop["branches"][0]["name"], "vers:semver/>=2.3.0|<2.4.1");
    assert_eq!(
        shop["branches"][0]["product"]["name"],
        "Acme Shop from 2.3.0 before 2.4.1"
    );
    assert_eq!(shop["branches"][1]["name"], "2.4.1");
    let status = &doc["vulnerabilities"][0]["product_status"];
    assert_eq!(status["known_affected"], json!(["CSAFPID-0001"]));
    // The fixed release and the hosted shop, fixed in place.
    assert_eq!(status["fixed"], json!(["CSAFPID-0002", "CSAFPID-0003"]));
    let remediations = &doc["vulnerabilities"][0]["remediations"];
    assert_eq!(
        remediations[0]["details"],
        "Update Acme Shop to version 2.4.1 or later."
    );
    assert_eq!(remediations[0]["product_ids"], json!(["CSAFPID-0001"]));
    assert_eq!(remediations[1]["product_ids"], json!(["CSAFPID-0003"]));
}

#[test]
fn tracking_records_the_revision() {
    let doc = to_csaf(&api_idor());
    let tracking = &doc["document"]["tracking"];
    assert_eq!(tracking["id"], "RAMPART-acme-2026-0007");
    assert_eq!(tracking["status"], "final");
    assert_eq!(tracking["version"], "2");
    assert_eq!(tracking["initial_release_date"], "2026-03-02T09:30:00Z");
    assert_eq!(tracking["current_release_date"], "2026-04-14T16:05:00Z");
    assert_eq!(
        tracking["revision_history"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn cve_aliases_and_cwe_are_carried() {
    let doc = to_csaf(&stored_xss());
    let vulnerability = &doc["vulnerabilities"][0];
    assert_eq!(vulnerability["cve"], "CVE-2026-31337");
    assert_eq!(
        vulnerability["cwe"],
        json!({
            "id": "CWE-79",
            "name": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
        })
    );
}

#[test]
fn unknown_cwe_is_left_out_of_csaf_and_reported() {
    let mut advisory = stored_xss();
    advisory.cwe = Some(999_999);
    let doc = to_csaf(&advisory);
    assert!(doc["vulnerabilities"][0].get("cwe").is_none());
    assert_eq!(csaf_errors(&doc), Vec::<String>::new());
    assert!(
        rampart_advisory::review(&advisory)
            .iter()
            .any(|n| n.field == "cwe")
    );
}

#[test]
fn an_advisory_without_products_names_the_programme() {
    let advisory = Advisory {
        affected: Vec::new(),
        ..api_idor()
    };
    let doc = to_csaf(&advisory);
    let product = &doc["product_tree"]["branches"][0]["branches"][0];
    assert_eq!(product["name"], "Acme bug bounty");
    assert_eq!(
        doc["vulnerabilities"][0]["product_status"]["known_affected"],
        json!(["CSAFPID-0001"])
    );
    assert_eq!(csaf_errors(&doc), Vec::<String>::new());
    assert_eq!(check_csaf(&doc), Vec::new());
}

#[test]
fn unfixed_products_get_the_teams_remediation_or_none_available() {
    let mut advisory = stored_xss();
    advisory.affected = vec![Affected {
        versions: vec!["3.0.0".into()],
        last_affected: Some("3.0.2".into()),
        ..Affected::product("Acme POS")
    }];
    advisory.remediation = None;
    let doc = to_csaf(&advisory);
    let remediation = &doc["vulnerabilities"][0]["remediations"][0];
    assert_eq!(remediation["category"], "none_available");
    assert_eq!(
        remediation["product_ids"],
        json!(["CSAFPID-0001", "CSAFPID-0002"])
    );
    assert_eq!(
        doc["product_tree"]["branches"][0]["branches"][0]["branches"][1]["name"],
        "vers:generic/<=3.0.2"
    );
    assert_eq!(csaf_errors(&doc), Vec::<String>::new());
}

#[test]
fn filename_follows_the_tracking_id() {
    let doc = to_csaf(&stored_xss());
    let id = doc["document"]["tracking"]["id"].as_str().expect("id");
    assert_eq!(csaf_filename(id), "rampart-acme-2026-0001.json");
}

// The mandatory tests must be able to fail: each is shown failing on a broken document.

#[test]
fn check_6_1_1_missing_product_definition() {
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["product_status"]["known_affected"] = json!(["CSAFPID-9999"]);
    let violations = check_csaf(&doc);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].test, "6.1.1");
    assert_eq!(
        violations[0].path,
        "/vulnerabilities/0/product_status/known_affected/0"
    );
}

#[test]
fn check_6_1_2_multiple_product_definition() {
    let mut doc = to_csaf(&stored_xss());
    doc["product_tree"]["full_product_names"] =
        json!([{ "name": "Duplicate", "product_id": "CSAFPID-0001" }]);
    assert_eq!(tests_failed(&doc), ["6.1.2"]);
}

#[test]
fn check_6_1_6_contradicting_product_status() {
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["product_status"]["fixed"] = json!(["CSAFPID-0001"]);
    let violations = check_csaf(&doc);
    assert_eq!(tests_failed(&doc), ["6.1.6"], "{violations:?}");
    assert!(
        violations[0].message.contains("both affected and fixed"),
        "{}",
        violations[0]
    );
}

#[test]
fn check_6_1_7_multiple_scores_per_product() {
    let mut doc = to_csaf(&stored_xss());
    let score = doc["vulnerabilities"][0]["scores"][0].clone();
    doc["vulnerabilities"][0]["scores"] = json!([score.clone(), score]);
    assert_eq!(tests_failed(&doc), ["6.1.7"]);
}

#[test]
fn check_6_1_8_invalid_cvss() {
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["vectorString"] =
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L".into();
    assert_eq!(tests_failed(&doc), ["6.1.8"]);
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["version"] = "3.0".into();
    assert_eq!(tests_failed(&doc), ["6.1.8"]);
}

#[test]
fn check_6_1_9_invalid_cvss_computation() {
    let mut doc = to_csaf(&stored_xss());
    let cvss = &mut doc["vulnerabilities"][0]["scores"][0]["cvss_v3"];
    cvss["baseScore"] = json!(9.8);
    cvss["baseSeverity"] = "CRITICAL".into();
    let violations = check_csaf(&doc);
    assert_eq!(
        violations.iter().map(|v| v.test).collect::<Vec<_>>(),
        ["6.1.9", "6.1.9"],
        "{violations:?}"
    );
    assert!(
        violations[0].message.contains("computes to 5.4"),
        "{}",
        violations[0]
    );
}

#[test]
fn check_6_1_10_inconsistent_cvss() {
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["attackVector"] = "LOCAL".into();
    assert_eq!(tests_failed(&doc), ["6.1.10"]);
}

#[test]
fn check_6_1_11_cwe() {
    let mut doc = to_csaf(&stored_xss());
    doc["vulnerabilities"][0]["cwe"]["name"] = "Cross-site Scripting".into();
    assert_eq!(tests_failed(&doc), ["6.1.11"]);
    doc["vulnerabilities"][0]["cwe"]["id"] = "CWE-999999".into();
    assert_eq!(tests_failed(&doc), ["6.1.11"]);
}

#[test]
fn checks_of_the_revision_history() {
    let revision = |number: &str, date: &str| json!({ "date": date, "number": number, "summary": "Revision." });
    let with_history = |history: Value, version: &str| {
        let mut doc = to_csaf(&api_idor());
        doc["document"]["tracking"]["revision_history"] = history;
        doc["document"]["tracking"]["version"] = version.into();
        tests_failed(&doc)
    };
    let (march, april, may) = (
        "2026-03-02T09:30:00Z",
        "2026-04-14T16:05:00Z",
        "2026-05-01T08:00:00+02:00",
    );
    assert_eq!(
        with_history(json!([revision("1", march), revision("2", april)]), "2"),
        Vec::<&str>::new()
    );
    // 6.1.14: numbers must grow with the dates.
    assert_eq!(
        with_history(
            json!([
                revision("1.0.0", march),
                revision("1.2.0", april),
                revision("1.1.0", may)
            ]),
            "1.1.0"
        ),
        ["6.1.14"]
    );
    // 6.1.16: the version is the latest revision's number.
    assert_eq!(
        with_history(json!([revision("1", march), revision("2", april)]), "1"),
        ["6.1.16"]
    );
    // 6.1.21: no gaps, and the history starts at 0 or 1.
    assert_eq!(
        with_history(json!([revision("1", march), revision("3", may)]), "3"),
        ["6.1.21"]
    );
    assert_eq!(
        with_history(json!([revision("2", march), revision("3", april)]), "3"),
        ["6.1.21"]
    );
    // 6.1.22: a number appears once.
    assert_eq!(
        with_history(
            json!([
                revision("1", march),
                revision("2", april),
                revision("2", may)
            ]),
            "2"
        ),
        ["6.1.22"]
    );
}

#[test]
fn checks_of_the_security_advisory_profile() {
    let mut doc = to_csaf(&api_idor());
    doc["vulnerabilities"][0]
        .as_object_mut()
        .expect("object")
        .remove("notes");
    assert_eq!(tests_failed(&doc), ["6.1.27.5"]);
    doc["vulnerabilities"][0]
        .as_object_mut()
        .expect("object")
        .remove("product_status");
    assert_eq!(tests_failed(&doc), ["6.1.27.5", "6.1.27.6"]);
    let mut doc = to_csaf(&api_idor());
    doc["vulnerabilities"] = json!([]);
    doc.as_object_mut().expect("object").remove("product_tree");
    assert_eq!(tests_failed(&doc), ["6.1.27.4", "6.1.27.11"]);
}

#[test]
fn markdown_and_html_are_carried_as_text() {
    let mut advisory = stored_xss();
    advisory.summary = "<script>alert(1)</script>\n\n**Impact:** staff sessions".into();
    advisory.title = "<b>Stored XSS</b>".into();
    let doc = to_csaf(&advisory);
    assert_eq!(doc["document"]["title"], "<b>Stored XSS</b>");
    assert_eq!(
        doc["document"]["notes"][0]["text"],
        "<script>alert(1)</script>\n\n**Impact:** staff sessions"
    );
    let details = doc["vulnerabilities"][0]["notes"][1]["text"]
        .as_str()
        .expect("details");
    assert!(details.contains("`<img src=x onerror=alert(document.domain)>`"));
    assert_eq!(csaf_errors(&doc), Vec::<String>::new());
}
