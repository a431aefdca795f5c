//! DNS detections over Route 53 Resolver query logs: metadata rebinding,
//! threat-listed domains, algorithmically generated names and tunnelling.

use super::{Env, Windows, entropy};
use crate::catalog::{self, FindingType};
use crate::dns::DnsQuery;
use crate::finding::Signal;
use crate::intel::ListKind;

pub const DGA_WINDOW: i64 = 3600;
/// Distinct DGA-looking names from one instance before it is a finding: one
/// odd name is noise, a handful in an hour is a pattern.
pub const DGA_NAMES: usize = 5;
pub const EXFIL_WINDOW: i64 = 3600;
pub const EXFIL_NAMES: usize = 10;

/// The type names DNS rules can raise.
pub const TYPES: &[&str] = &[
    "Backdoor:EC2/C&CActivity.B!DNS",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "Impact:EC2/AbusedDomainRequest.Reputation",
    "Impact:EC2/BitcoinDomainRequest.Reputation",
    "Impact:EC2/MaliciousDomainRequest.Reputation",
    "Impact:EC2/SuspiciousDomainRequest.Reputation",
    "Trojan:EC2/BlackholeTraffic!DNS",
    "Trojan:EC2/DGADomainRequest.B",
    "Trojan:EC2/DGADomainRequest.C!DNS",
    "Trojan:EC2/DNSDataExfiltration",
    "Trojan:EC2/DriveBySourceTraffic!DNS",
    "Trojan:EC2/DropPoint!DNS",
    "Trojan:EC2/PhishingDomainRequest!DNS",
    "UnauthorizedAccess:EC2/MetadataDNSRebind",
];

/// Names whose long random-looking labels are normal (AWS endpoints, CDNs,
/// reverse lookups).
const BENIGN_SUFFIXES: &[&str] = &[
    "amazonaws.com",
    "amazonaws.com.cn",
    "aws",
    "cloudfront.net",
    "compute.internal",
    "ec2.internal",
    "in-addr.arpa",
    "ip6.arpa",
    "akamaiedge.net",
    "akadns.net",
    "akamaihd.net",
    "azureedge.net",
    "googleusercontent.com",
    "gvt1.com",
    "1e100.net",
    "local",
    "localdomain",
    "internal",
];

fn t(name: &str) -> &'static FindingType {
    catalog::get(name)
        .unwrap_or_else(|| panic!("dns rule refers to {name}, which the catalog lacks"))
}

/// The registrable part of a name (`b.example.co.uk` → `example.co.uk`), by
/// the common second-level conventions; exact public-suffix rules are not
/// needed for a heuristic.
pub fn base_domain(name: &str) -> &str {
    let labels: Vec<&str> = name.rsplitn(4, '.').collect();
    if labels.len() < 2 {
        return name;
    }
    let tld = labels[0];
    let sld = labels[1];
    let keep = if labels.len() >= 3
        && tld.len() == 2
        && ["co", "com", "net", "org", "gov", "ac", "edu", "ne", "or"].contains(&sld)
    {
        3
    } else {
        2
    };
    let cut: usize = labels[..keep].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    &name[name.len() - cut..]
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Whether a label looks machine-generated: long, high entropy, and either a
/// long run of consonants or letters mixed with many digits.
pub fn dga_like(label: &str) -> bool {
    if label.len() < 10 || label.contains('-') {
        return false;
    }
    let b = label.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let mut run = 0;
    let mut max_run = 0;
    for &c in b {
        if c.is_ascii_alphabetic() && !is_vowel(c) {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    entropy(label) >= 3.0
        && (max_run >= 5 || (digits >= 3 && letters >= 5 && digits * 5 >= label.len()))
}

/// Whether the part of a name left of its base domain carries encoded data.
pub fn tunnel_like(sub: &str) -> bool {
    let longest = sub.split('.').map(str::len).max().unwrap_or(0);
    let compact: String = sub.chars().filter(|c| *c != '.').collect();
    (longest >= 25 && entropy(&compact) >= 3.0) || (compact.len() >= 60 && entropy(&compact) >= 3.3)
}

pub fn on_query(env: &Env, q: &DnsQuery, time: i64, win: &mut Windows, out: &mut Vec<Signal>) {
    let name = q.name();
    if name.is_empty() || env.trusted.domains.get(&name).is_some() {
        return;
    }
    let account = q.account_id.as_deref().unwrap_or("");
    let region = q.region.as_deref().unwrap_or("");
    let source = q.source().to_owned();
    let sig = |ty: &'static FindingType| {
        Signal::new(ty, account, region, time, &source)
            .address(q.srcaddr.as_deref().unwrap_or(""))
            .detail("domain", &name)
    };

    for a in q.answers() {
        if a.rdata.as_deref() == Some("169.254.169.254") && !name.starts_with("instance-data") {
            out.push(
                sig(t("UnauthorizedAccess:EC2/MetadataDNSRebind"))
                    .detail("answer", "169.254.169.254"),
            );
            break;
        }
    }

    if let Some(hit) = env.intel.domains.get(&name) {
        let ty = match hit.kind {
            ListKind::Mining => "CryptoCurrency:EC2/BitcoinTool.B!DNS",
            ListKind::CryptoDomain => "Impact:EC2/BitcoinDomainRequest.Reputation",
            ListKind::AbusedDomain => "Impact:EC2/AbusedDomainRequest.Reputation",
            ListKind::CommandAndControl => "Backdoor:EC2/C&CActivity.B!DNS",
            ListKind::Blackhole => "Trojan:EC2/BlackholeTraffic!DNS",
            ListKind::DropPoint => "Trojan:EC2/DropPoint!DNS",
            ListKind::Phishing => "Trojan:EC2/PhishingDomainRequest!DNS",
            ListKind::DriveBy => "Trojan:EC2/DriveBySourceTraffic!DNS",
            ListKind::Dga => "Trojan:EC2/DGADomainRequest.C!DNS",
            ListKind::SuspiciousDomain => "Impact:EC2/SuspiciousDomainRequest.Reputation",
            ListKind::Custom | ListKind::Malicious | ListKind::TorExit | ListKind::TorRelay => {
                "Impact:EC2/MaliciousDomainRequest.Reputation"
            }
        };
        out.push(
            sig(t(ty))
                .detail("threat_list", &hit.list)
                .detail("threat_list_entry", &hit.entry),
        );
    }

    if BENIGN_SUFFIXES
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
    {
        return;
    }
    let base = base_domain(&name);
    let label = base.split('.').next().unwrap_or("");
    if dga_like(label) {
        let tally = win.tally(format!("dga|{account}|{source}"), time, DGA_WINDOW);
        tally.note(Some(base), 0, None);
        if tally.distinct.len() >= DGA_NAMES {
            let mut x = sig(t("Trojan:EC2/DGADomainRequest.B"))
                .detail("dga_like_names_in_window", tally.distinct.len());
            if !tally.fired {
                tally.fired = true;
                x.since = Some(tally.first);
                x = x.count(tally.count).detail(
                    "examples",
                    tally
                        .distinct
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            out.push(x);
        }
    }
    if name.len() > base.len() + 1 {
        let sub = &name[..name.len() - base.len() - 1];
        if tunnel_like(sub) {
            let tally = win.tally(format!("exf|{account}|{source}|{base}"), time, EXFIL_WINDOW);
            tally.note(Some(sub), sub.len() as u64, None);
            if tally.distinct.len() >= EXFIL_NAMES {
                let mut x = sig(t("Trojan:EC2/DNSDataExfiltration"))
                    .detail("base_domain", base)
                    .detail("encoded_bytes_in_window", tally.sum);
                if !tally.fired {
                    tally.fired = true;
                    x = x.count(tally.count);
                    x.since = Some(tally.first);
                }
                out.push(x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_domains() {
        assert_eq!(base_domain("a.b.example.com"), "example.com");
        assert_eq!(base_domain("x.example.co.uk"), "example.co.uk");
        assert_eq!(base_domain("example.com"), "example.com");
        assert_eq!(base_domain("localhost"), "localhost");
    }

    #[test]
    fn dga_and_tunnel_heuristics() {
        for dga in [
            "xjwqpzkvnbtyr",
            "qmxkzvtrplhw",
            "a8f3k29dk4m1",
            "bcdfghjklmnpq",
        ] {
            assert!(dga_like(dga), "{dga}");
        }
        for ok in [
            "google",
            "stackoverflow",
            "wikipedia",
            "cloudflare",
            "amazon",
            "microsoft",
            "googleusercontent",
            "my-company-prod",
            "rampart2026",
        ] {
            assert!(!dga_like(ok), "{ok}");
        }
        assert!(tunnel_like(
            "4a6f686e20446f652c2031323320466f6f205374726565742c"
        ));
        assert!(!tunnel_like("www"));
        assert!(!tunnel_like("mail.eu-west-1"));
    }
}
