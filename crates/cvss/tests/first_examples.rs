//! FIRST's published examples: every vector of the CVSS v3.1 examples document (and the
//! v3.0 examples the 3.1 document re-scored or dropped), and the CVSS v4.0 examples page,
//! with the scores those documents print.

use rampart_cvss::{Cvss, Nomenclature, Rating};

/// (example, vector, base score) from "CVSS v3.1: Examples" (first.org/cvss/v3.1/examples).
const V3_1_EXAMPLES: &[(&str, &str, f64)] = &[
    (
        "CVE-2013-0375 MySQL stored SQL injection",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
        6.4,
    ),
    (
        "CVE-2014-3566 SSLv3 POODLE",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
        3.1,
    ),
    (
        "CVE-2012-1516 VMware guest to host escape",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
        9.9,
    ),
    (
        "CVE-2009-0783 Apache Tomcat XML parser",
        "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
        4.2,
    ),
    (
        "CVE-2012-0384 Cisco IOS arbitrary command execution",
        "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
        7.2,
    ),
    (
        "CVE-2015-1098 Apple iWork denial of service",
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        7.8,
    ),
    (
        "CVE-2014-0160 OpenSSL Heartbleed",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        7.5,
    ),
    (
        "CVE-2014-6271 GNU Bash Shellshock",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        9.8,
    ),
    (
        "CVE-2008-1447 DNS Kaminsky bug",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N",
        6.8,
    ),
    (
        "CVE-2014-2005 Sophos login screen bypass",
        "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        6.8,
    ),
    (
        "CVE-2010-0467 Joomla directory traversal",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N",
        5.8,
    ),
    (
        "CVE-2012-1342 Cisco access control bypass",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N",
        5.8,
    ),
    (
        "CVE-2013-6014 Juniper proxy ARP denial of service",
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H",
        9.3,
    ),
    (
        "CVE-2011-1265 Microsoft Windows Bluetooth RCE",
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        8.8,
    ),
    (
        "CVE-2014-2019 Apple iOS security control bypass",
        "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
        4.6,
    ),
    (
        "CVE-2015-0970 SearchBlox CSRF",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        8.8,
    ),
    (
        "CVE-2014-0224 SSL/TLS MITM",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N",
        7.4,
    ),
    (
        "CVE-2012-5376 Google Chrome sandbox bypass",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
        9.6,
    ),
    (
        "CVE-2016-0128 Badlock (SAMR/LSAD downgrade)",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N",
        6.8,
    ),
    (
        "CVE-2016-2118 Badlock (SAMR/LSAD downgrade)",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H",
        7.5,
    ),
    (
        "CVE-2019-7551 Cantemo Portal stored XSS",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H",
        9.0,
    ),
    (
        "CVE-2017-5942 WordPress Mail plugin reflected XSS",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        6.1,
    ),
    (
        "CVE-2016-5558 Oracle Outside In RCE",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:L",
        8.6,
    ),
    (
        "CVE-2016-5729 Lenovo ThinkPwn",
        "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H",
        8.2,
    ),
    (
        "CVE-2015-2890 Failure to lock flash on resume from sleep",
        "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:H",
        6.0,
    ),
    (
        "CVE-2018-3652 Intel DCI issue",
        "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        7.6,
    ),
    (
        "CVE-2019-0884 Scripting engine memory corruption",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
        4.2,
    ),
];

/// (example, vector, base score) from "CVSS v3.0: Examples" where they differ from 3.1's
/// set: scored with the 3.0 equations and rounding.
const V3_0_EXAMPLES: &[(&str, &str, f64)] = &[
    (
        "CVE-2013-1937 phpMyAdmin reflected XSS",
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        6.1,
    ),
    (
        "CVE-2014-9253 DokuWiki reflected XSS",
        "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        5.4,
    ),
    (
        "CVE-2012-0384 Cisco IOS (scored PR:L in 3.0)",
        "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        8.8,
    ),
    (
        "CVE-2009-0658 Adobe Acrobat buffer overflow",
        "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        7.8,
    ),
    (
        "CVE-2015-8252 (zero-impact)",
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        7.5,
    ),
    (
        "no impact",
        "CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N",
        0.0,
    ),
];

/// (vector, score) from "CVSS v4.0: Examples" (first.org/cvss/v4-0/examples), the vectors
/// for which the page prints a score.
const V4_0_EXAMPLES: &[(&str, f64)] = &[
    (
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        7.7,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
        5.2,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N",
        8.3,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N/CR:H/IR:L/AR:L/MAV:N/MAC:H/MVC:H/MVI:L/MVA:L",
        8.1,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:L",
        8.7,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:L/E:U",
        6.6,
    ),
    (
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
        8.3,
    ),
    (
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:U",
        5.6,
    ),
    (
        "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/S:P",
        8.6,
    ),
    (
        "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/MSI:S/S:P",
        9.7,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N/V:C",
        8.7,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H",
        6.4,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H/E:U/MAV:A/R:U/V:C",
        2.4,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
        10.0,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H/MAV:L/MAT:P",
        8.9,
    ),
    (
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        8.5,
    ),
    (
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/MVC:N/MVI:N/MVA:N",
        0.0,
    ),
    (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
        7.1,
    ),
];

fn check(label: &str, vector: &str, expected: f64) {
    let cvss = Cvss::parse(vector).unwrap_or_else(|e| panic!("{label}: {vector}: {e}"));
    assert_eq!(cvss.score(), expected, "{label}: {vector}");
    assert_eq!(cvss.rating(), Rating::from_score(expected), "{label}");
}

#[test]
fn cvss_3_1_examples_match_first() {
    for (label, vector, expected) in V3_1_EXAMPLES {
        check(label, vector, *expected);
    }
}

#[test]
fn cvss_3_0_examples_match_first() {
    for (label, vector, expected) in V3_0_EXAMPLES {
        check(label, vector, *expected);
    }
}

#[test]
fn cvss_4_0_examples_match_first() {
    for (vector, expected) in V4_0_EXAMPLES {
        check("v4.0 example", vector, *expected);
    }
}

#[test]
fn ratings_of_examples_span_every_band() {
    let rating = |v: &str| Cvss::parse(v).expect("valid").rating();
    assert_eq!(
        rating("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N"),
        Rating::None
    );
    assert_eq!(
        rating("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"),
        Rating::Low
    );
    assert_eq!(
        rating("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"),
        Rating::Medium
    );
    assert_eq!(
        rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
        Rating::High
    );
    assert_eq!(
        rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        Rating::Critical
    );
    let bte = Cvss::parse(
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H/MAV:L/MAT:P",
    )
    .expect("valid");
    assert_eq!(bte.nomenclature(), Some(Nomenclature::CvssBTE));
    assert_eq!(bte.rating(), Rating::High);
    assert_eq!(bte.base_score(), 10.0);
}
