//! Two disclosed reports as the programme would export them.

use rampart_advisory::{
    Advisory, Affected, Credit, CreditKind, Package, Programme, Reference, ReferenceKind,
};

/// 2026-03-02T09:30:00Z.
pub const MARCH_2: i64 = 1_772_443_800_000;
/// 2026-04-14T16:05:00Z.
pub const APRIL_14: i64 = 1_776_182_700_000;

pub fn acme() -> Programme {
    Programme {
        name: "Acme bug bounty".into(),
        slug: "acme".into(),
        publisher: "Acme Ltd".into(),
        namespace: "https://acme.example".into(),
    }
}

/// A stored XSS in a web shop that is both self-hosted (an npm package with a fixed
/// release) and run by the vendor; scored with CVSS 3.1.
pub fn stored_xss() -> Advisory {
    Advisory {
        id: "RAMPART-acme-2026-0001".into(),
        programme: acme(),
        title: "Stored cross-site scripting in order notes".into(),
        summary: "A customer could store a script in the note of an order; it ran in the \
                  browser of every staff member who opened the order in the back office."
            .into(),
        details: "## Steps to reproduce\n\n\
                  1. Place an order and set its note to\n   \
                  `<img src=x onerror=alert(document.domain)>`.\n\
                  2. Open the order in the back office as staff.\n\n\
                  ## Impact\n\n\
                  The script runs with the staff session: it can read customer \
                  addresses and change order states.\n\n\
                  ## Fix\n\n\
                  Notes are now escaped on output and the back office sends a strict \
                  Content-Security-Policy.\n"
            .into(),
        published: MARCH_2,
        modified: MARCH_2,
        cwe: Some(79),
        cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N".into()),
        affected: vec![
            Affected {
                product: "Acme Shop".into(),
                package: Some(Package {
                    ecosystem: "npm".into(),
                    name: "@acme/shop".into(),
                    purl: Some("pkg:npm/%40acme/shop".into()),
                }),
                introduced: Some("2.3.0".into()),
                fixed: Some("2.4.1".into()),
                semver: true,
                ..Affected::default()
            },
            Affected {
                resolved: true,
                ..Affected::product("Acme Shop hosted service (shop.acme.example)")
            },
        ],
        references: vec![
            Reference::new(
                ReferenceKind::Report,
                "https://rampart.acme.example/programs/acme/reports/17",
            ),
            Reference::new(
                ReferenceKind::Fix,
                "https://git.acme.example/acme/shop/commit/3f2a1c9",
            ),
        ],
        credits: vec![
            Credit {
                contact: Some("https://researchers.example/mallory".into()),
                ..Credit::new(CreditKind::Finder, "mallory_sec")
            },
            Credit::new(CreditKind::RemediationVerifier, "mallory_sec"),
        ],
        aliases: vec!["CVE-2026-31337".into()],
        remediation: Some(
            "The hosted shop was fixed on 2 March 2026; nothing needs to be installed.".into(),
        ),
    }
}

/// An insecure direct object reference in a hosted API, scored with CVSS 4.0 and revised
/// after publication.
pub fn api_idor() -> Advisory {
    Advisory {
        id: "RAMPART-acme-2026-0007".into(),
        programme: acme(),
        title: "Any customer could read other customers' invoices through the Orders API".into(),
        summary: "`GET /v2/invoices/{id}` returned an invoice to any signed-in customer, \
                  whoever it belonged to."
            .into(),
        details: "## Steps to reproduce\n\n\
                  ```http\n\
                  GET /v2/invoices/100231 HTTP/1.1\n\
                  Host: api.acme.example\n\
                  Authorization: Bearer <token of customer B>\n\
                  ```\n\n\
                  The response is customer A's invoice: name, address and order lines.\n\n\
                  ## Impact\n\n\
                  Invoice ids are sequential, so all invoices could be read.\n"
            .into(),
        published: MARCH_2,
        modified: APRIL_14,
        cwe: Some(639),
        cvss_vector: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N".into()),
        affected: vec![Affected {
            resolved: true,
            ..Affected::product("Acme Orders API (api.acme.example)")
        }],
        references: vec![Reference::new(
            ReferenceKind::Report,
            "https://rampart.acme.example/programs/acme/reports/23",
        )],
        credits: vec![Credit::new(CreditKind::Reporter, "Ana Souza")],
        aliases: Vec::new(),
        remediation: Some(
            "The API now checks that the invoice belongs to the caller's account. Fixed in the \
             hosted service on 14 April 2026; no customer action is required."
                .into(),
        ),
    }
}
