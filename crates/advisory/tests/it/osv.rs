use crate::fixtures::{api_idor, stored_xss};
use crate::schema::{osv_errors, osv_errors_all};
use rampart_advisory::{Affected, Package, Reference, ReferenceKind, review, to_osv};

#[test]
fn stored_xss_snapshot() {
    insta::assert_json_snapshot!("osv_stored_xss", to_osv(&stored_xss()));
}

#[test]
fn api_idor_snapshot() {
    insta::assert_json_snapshot!("osv_api_idor", to_osv(&api_idor()));
}

#[test]
fn both_reports_are_valid_osv() {
    for advisory in [stored_xss(), api_idor()] {
        let doc = to_osv(&advisory);
        assert_eq!(osv_errors(&doc), Vec::<String>::new(), "{}", advisory.id);
        assert!(review(&advisory).is_empty(), "{:?}", review(&advisory));
    }
}

#[test]
fn the_only_schema_complaint_is_the_unregistered_id_prefix() {
    let mut doc = to_osv(&stored_xss());
    let all = osv_errors_all(&doc);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("/id: "), "{all:?}");
    // With the prefix of a registered database the same document passes untouched.
    doc["id"] = "OSV-2026-0001".into();
    assert_eq!(osv_errors_all(&doc), Vec::<String>::new());
}

#[test]
fn the_schema_check_can_fail() {
    let mut doc = to_osv(&stored_xss());
    // OSV's CVSS_V3 pattern checks metric names and values, not completeness.
    doc["severity"][0]["score"] = "CVSS:3.1/AV:Q/AC:L".into();
    doc["references"][0]["type"] = "BLOG".into();
    doc["published"] = "2 March 2026".into();
    let errors = osv_errors(&doc);
    assert!(
        errors.iter().any(|e| e.starts_with("/severity/0/score")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/references/0/type")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/published")),
        "{errors:?}"
    );

    let mut doc = to_osv(&api_idor());
    doc["severity"][0]["score"] = "CVSS:4.0/AV:N/AC:L".into();
    let errors = osv_errors(&doc);
    assert!(
        errors.iter().any(|e| e.starts_with("/severity/0/score")),
        "{errors:?}"
    );
}

#[test]
fn cvss_versions_map_to_severity_types() {
    let xss = to_osv(&stored_xss());
    assert_eq!(xss["severity"][0]["type"], "CVSS_V3");
    assert_eq!(
        xss["severity"][0]["score"],
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"
    );
    let idor = to_osv(&api_idor());
    assert_eq!(idor["severity"][0]["type"], "CVSS_V4");
    assert_eq!(idor["database_specific"]["severity"], "HIGH");
}

#[test]
fn vectors_are_normalised_into_the_order_osv_requires() {
    let mut advisory = api_idor();
    // Any order is valid CVSS; OSV's CVSS_V4 pattern wants specification order.
    advisory.cvss_vector =
        Some("CVSS:4.0/SA:N/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/E:A/U:Amber".into());
    let doc = to_osv(&advisory);
    assert_eq!(
        doc["severity"][0]["score"],
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:A/U:Amber"
    );
    assert_eq!(osv_errors(&doc), Vec::<String>::new());
}

#[test]
fn invalid_vectors_are_left_out_and_reported() {
    let mut advisory = stored_xss();
    advisory.cvss_vector = Some("CVSS:3.1/AV:N/AC:L".into());
    let doc = to_osv(&advisory);
    assert!(doc.get("severity").is_none());
    let notices = review(&advisory);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].field, "cvss_vector");
    assert!(notices[0].message.contains("mandatory"), "{}", notices[0]);
}

#[test]
fn packages_become_affected_ranges_and_the_rest_database_specific() {
    let doc = to_osv(&stored_xss());
    let affected = doc["affected"].as_array().expect("affected");
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0]["package"]["ecosystem"], "npm");
    assert_eq!(affected[0]["ranges"][0]["type"], "SEMVER");
    assert_eq!(
        affected[0]["ranges"][0]["events"],
        serde_json::json!([{ "introduced": "2.3.0" }, { "fixed": "2.4.1" }])
    );
    let others = &doc["database_specific"]["affected_products"];
    assert_eq!(
        others[0]["product"],
        "Acme Shop hosted service (shop.acme.example)"
    );
    assert_eq!(others[0]["resolved"], true);
}

#[test]
fn fixed_wins_over_last_affected_and_the_choice_is_reported() {
    let mut advisory = stored_xss();
    advisory.affected = vec![Affected {
        product: "Acme CLI".into(),
        package: Some(Package {
            ecosystem: "crates.io".into(),
            name: "acme-cli".into(),
            purl: None,
        }),
        versions: vec!["0.9.0".into(), "0.9.1".into()],
        fixed: Some("1.0.0".into()),
        last_affected: Some("0.9.1".into()),
        ..Affected::default()
    }];
    let doc = to_osv(&advisory);
    let range = &doc["affected"][0]["ranges"][0];
    assert_eq!(range["type"], "ECOSYSTEM");
    assert_eq!(
        range["events"],
        serde_json::json!([{ "introduced": "0" }, { "fixed": "1.0.0" }])
    );
    assert_eq!(
        doc["affected"][0]["versions"],
        serde_json::json!(["0.9.0", "0.9.1"])
    );
    assert_eq!(osv_errors(&doc), Vec::<String>::new());
    assert!(
        review(&advisory)
            .iter()
            .any(|n| n.field == "affected[0].last_affected")
    );
}

#[test]
fn unknown_ecosystems_are_not_claimed_as_osv_packages() {
    let mut advisory = stored_xss();
    advisory.affected[0].package = Some(Package {
        ecosystem: "Homebrew".into(),
        name: "acme-shop".into(),
        purl: None,
    });
    let doc = to_osv(&advisory);
    assert!(doc.get("affected").is_none());
    assert_eq!(
        doc["database_specific"]["affected_products"][0]["package"]["ecosystem"],
        "Homebrew"
    );
    assert_eq!(osv_errors(&doc), Vec::<String>::new());
    assert!(
        review(&advisory)
            .iter()
            .any(|n| n.field == "affected[0].package.ecosystem")
    );
}

#[test]
fn only_web_links_are_exported() {
    let mut advisory = stored_xss();
    advisory.references = vec![
        Reference::new(ReferenceKind::Evidence, "javascript:alert(document.cookie)"),
        Reference::new(
            ReferenceKind::Web,
            "data:text/html,<script>alert(1)</script>",
        ),
        Reference::new(
            ReferenceKind::Article,
            "https://blog.example/posts/acme xss",
        ),
    ];
    let doc = to_osv(&advisory);
    assert_eq!(
        doc["references"],
        serde_json::json!([{ "type": "ARTICLE", "url": "https://blog.example/posts/acme%20xss" }])
    );
    let fields: Vec<String> = review(&advisory).into_iter().map(|n| n.field).collect();
    assert_eq!(fields, ["references[0].url", "references[1].url"]);
}

#[test]
fn markdown_and_html_are_carried_as_text() {
    let mut advisory = stored_xss();
    advisory.title = "<script>alert(1)</script> **not bold**".into();
    let doc = to_osv(&advisory);
    assert_eq!(doc["summary"], "<script>alert(1)</script> **not bold**");
    let details = doc["details"].as_str().expect("details");
    assert!(details.contains("`<img src=x onerror=alert(document.domain)>`"));
    assert!(details.starts_with("A customer could store a script"));
    assert!(details.contains("\n\n## Steps to reproduce\n\n1. Place an order"));
}

#[test]
fn credits_use_githubs_credit_types() {
    let doc = to_osv(&stored_xss());
    assert_eq!(
        doc["credits"],
        serde_json::json!([
            { "name": "mallory_sec", "type": "FINDER", "contact": ["https://researchers.example/mallory"] },
            { "name": "mallory_sec", "type": "REMEDIATION_VERIFIER" },
        ])
    );
}
