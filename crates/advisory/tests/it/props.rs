//! Whatever the text fields hold, both exports come out without panicking, valid against
//! the official schemas and the implemented CSAF mandatory tests, with the text carried
//! verbatim.

use crate::schema::{csaf_errors, osv_errors};
use proptest::prelude::*;
use proptest::sample::select;
use rampart_advisory::{
    Advisory, Affected, Credit, CreditKind, Package, Programme, Reference, ReferenceKind,
    check_csaf, review, to_csaf, to_osv,
};

/// Any characters at all, control characters and odd white space included, mixed with
/// Markdown and HTML that must pass through untouched.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        "[ \t\n\u{feff}\u{2028}a-z<>&\"'`*_#|:/.-]{0,24}",
        select(vec![
            "",
            " ",
            "\n\t",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(document.domain)>",
            "**bold** _em_ [link](javascript:alert(1))",
            "]]></x><!--",
            "\u{feff}leading BOM",
            "line\u{2028}separator",
            "Ümlaut – “quotes” 🛡",
        ])
        .prop_map(str::to_owned),
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        select(vec![
            "https://acme.example/a b|c?x=<y>#z",
            "http://[::1]:8080/x",
            "https://bücher.example/ü",
            "javascript:alert(1)",
            "mailto:security@acme.example",
            "https://user:pw@acme.example/",
            "ftp://acme.example/",
        ])
        .prop_map(str::to_owned),
        "https://[a-z]{1,8}\\.example/[ -~]{0,16}",
    ]
}

fn vector() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        select(vec![
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            "CVSS:3.0/AV:L/AC:H/PR:H/UI:N/S:U/C:N/I:N/A:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/MAV:A/MS:C",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:4.0/SA:N/AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:N/E:U/MSI:S/U:Red",
            "CVSS:3.1/AV:N",
            "cvss:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        ])
        .prop_map(str::to_owned),
    ]
}

fn ecosystem() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        select(vec![
            "npm",
            "PyPI",
            "crates.io",
            "Debian:12",
            "Debian:",
            "Maven"
        ])
        .prop_map(str::to_owned),
    ]
}

fn affected() -> impl Strategy<Value = Affected> {
    (
        text(),
        prop::option::of((
            ecosystem(),
            text(),
            prop::option::of(prop_oneof![text(), Just("pkg:npm/%40acme/shop".to_owned())]),
        )),
        prop::collection::vec(text(), 0..3),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(product, package, versions, (introduced, fixed, last_affected), semver, resolved)| {
                Affected {
                    product,
                    package: package.map(|(ecosystem, name, purl)| Package {
                        ecosystem,
                        name,
                        purl,
                    }),
                    versions,
                    introduced,
                    fixed,
                    last_affected,
                    semver,
                    resolved,
                }
            },
        )
}

const REFERENCE_KINDS: [ReferenceKind; 11] = [
    ReferenceKind::Advisory,
    ReferenceKind::Article,
    ReferenceKind::Detection,
    ReferenceKind::Discussion,
    ReferenceKind::Report,
    ReferenceKind::Fix,
    ReferenceKind::Introduced,
    ReferenceKind::Git,
    ReferenceKind::Package,
    ReferenceKind::Evidence,
    ReferenceKind::Web,
];

const CREDIT_KINDS: [CreditKind; 10] = [
    CreditKind::Finder,
    CreditKind::Reporter,
    CreditKind::Analyst,
    CreditKind::Coordinator,
    CreditKind::RemediationDeveloper,
    CreditKind::RemediationReviewer,
    CreditKind::RemediationVerifier,
    CreditKind::Tool,
    CreditKind::Sponsor,
    CreditKind::Other,
];

fn advisory() -> impl Strategy<Value = Advisory> {
    (
        (text(), text(), text(), text()),
        (text(), text(), text(), url()),
        (any::<i64>(), any::<i64>()),
        (
            prop::option::of(prop_oneof![any::<u32>(), 1u32..1500]),
            prop::option::of(vector()),
        ),
        prop::collection::vec(affected(), 0..3),
        prop::collection::vec((select(REFERENCE_KINDS.to_vec()), url()), 0..3),
        prop::collection::vec(
            (
                select(CREDIT_KINDS.to_vec()),
                text(),
                prop::option::of(url()),
            ),
            0..3,
        ),
        (
            prop::collection::vec(prop_oneof![text(), Just("CVE-2026-1234".to_owned())], 0..3),
            prop::option::of(text()),
        ),
    )
        .prop_map(
            |(
                (id, title, summary, details),
                (name, slug, publisher, namespace),
                (published, modified),
                (cwe, cvss_vector),
                affected,
                references,
                credits,
                (aliases, remediation),
            )| Advisory {
                id,
                programme: Programme {
                    name,
                    slug,
                    publisher,
                    namespace,
                },
                title,
                summary,
                details,
                published,
                modified,
                cwe,
                cvss_vector,
                affected,
                references: references
                    .into_iter()
                    .map(|(kind, url)| Reference::new(kind, url))
                    .collect(),
                credits: credits
                    .into_iter()
                    .map(|(kind, name, contact)| Credit {
                        contact,
                        ..Credit::new(kind, name)
                    })
                    .collect(),
                aliases,
                remediation,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_advisory_exports_valid_documents(advisory in advisory()) {
        let _ = review(&advisory);
        let osv = to_osv(&advisory);
        prop_assert_eq!(osv_errors(&osv), Vec::<String>::new(), "OSV: {:#}", osv);
        let csaf = to_csaf(&advisory);
        prop_assert_eq!(csaf_errors(&csaf), Vec::<String>::new(), "CSAF: {:#}", csaf);
        prop_assert_eq!(check_csaf(&csaf), Vec::new(), "CSAF: {:#}", csaf);
    }

    #[test]
    fn markdown_is_carried_verbatim(summary in text(), details in text()) {
        let advisory = Advisory {
            summary: summary.clone(),
            details: details.clone(),
            ..crate::fixtures::stored_xss()
        };
        let csaf = to_csaf(&advisory);
        let osv = to_osv(&advisory);
        let notes = &csaf["vulnerabilities"][0]["notes"];
        let osv_details = osv["details"].as_str().unwrap_or_default();
        if summary.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}').is_empty() {
            prop_assert_eq!(&notes[0]["text"], &serde_json::json!(advisory.title));
        } else {
            prop_assert_eq!(&notes[0]["text"], &serde_json::json!(summary));
            prop_assert_eq!(&csaf["document"]["notes"][0]["text"], &serde_json::json!(summary));
            prop_assert!(osv_details.starts_with(&summary));
        }
        if !details.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}').is_empty() {
            prop_assert_eq!(&notes[1]["text"], &serde_json::json!(details));
            prop_assert!(osv_details.ends_with(&details));
        }
    }
}
