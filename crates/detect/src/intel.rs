//! Threat lists, trusted lists and the public data shipped with Rampart (AWS
//! address ranges, mining-pool and dynamic-DNS domains).
//!
//! List files hold one IP address, CIDR block or domain per line; `#` starts
//! a comment. A comment line `# kind: tor-exit` (or another kind below) says
//! what the list holds and so which finding type a match yields; without it
//! a threat list is a customer list and yields the `.Custom` types.

use crate::Diagnostic;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// What a threat-list entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Custom,
    Malicious,
    TorExit,
    TorRelay,
    CommandAndControl,
    Mining,
    Blackhole,
    DropPoint,
    Phishing,
    DriveBy,
    Dga,
    CryptoDomain,
    AbusedDomain,
    SuspiciousDomain,
}

impl ListKind {
    pub const NAMES: [(&'static str, ListKind); 14] = [
        ("custom", ListKind::Custom),
        ("malicious", ListKind::Malicious),
        ("tor-exit", ListKind::TorExit),
        ("tor-relay", ListKind::TorRelay),
        ("c2", ListKind::CommandAndControl),
        ("mining", ListKind::Mining),
        ("blackhole", ListKind::Blackhole),
        ("drop-point", ListKind::DropPoint),
        ("phishing", ListKind::Phishing),
        ("drive-by", ListKind::DriveBy),
        ("dga", ListKind::Dga),
        ("crypto", ListKind::CryptoDomain),
        ("abused", ListKind::AbusedDomain),
        ("suspicious", ListKind::SuspiciousDomain),
    ];
    pub fn parse(name: &str) -> Option<ListKind> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, k)| *k)
    }
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("custom")
    }
}

/// Where a match came from, for the finding's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHit {
    pub kind: ListKind,
    pub list: String,
    pub entry: String,
}

/// Addresses matched by exact address or by CIDR block, in at most one hash
/// lookup per prefix length in use.
#[derive(Debug, Clone)]
pub struct IpSet<T> {
    /// Keyed by (is IPv6, prefix length).
    by_prefix: HashMap<(bool, u8), HashMap<IpNet, T>>,
    prefixes_v4: Vec<u8>,
    prefixes_v6: Vec<u8>,
    len: usize,
}

impl<T> IpSet<T> {
    pub fn insert(&mut self, net: IpNet, value: T) {
        let net = net.trunc();
        let p = net.prefix_len();
        let list = if net.addr().is_ipv4() {
            &mut self.prefixes_v4
        } else {
            &mut self.prefixes_v6
        };
        if !list.contains(&p) {
            list.push(p);
            // Longest prefix first, so the most specific entry answers.
            list.sort_unstable_by(|a, b| b.cmp(a));
        }
        if self
            .by_prefix
            .entry((net.addr().is_ipv6(), p))
            .or_default()
            .insert(net, value)
            .is_none()
        {
            self.len += 1;
        }
    }
    pub fn get(&self, ip: IpAddr) -> Option<&T> {
        let (prefixes, v6) = if ip.is_ipv4() {
            (&self.prefixes_v4, false)
        } else {
            (&self.prefixes_v6, true)
        };
        for &p in prefixes {
            let net = IpNet::new(ip, p).ok()?.trunc();
            if let Some(v) = self.by_prefix.get(&(v6, p)).and_then(|m| m.get(&net)) {
                return Some(v);
            }
        }
        None
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Domains matched on the name itself or any parent (`a.pool.example` matches
/// an entry `pool.example`).
#[derive(Debug, Clone)]
pub struct DomainSet<T> {
    names: HashMap<String, T>,
}

impl<T> Default for DomainSet<T> {
    fn default() -> Self {
        DomainSet {
            names: HashMap::new(),
        }
    }
}

impl<T> Default for IpSet<T> {
    fn default() -> Self {
        IpSet {
            by_prefix: HashMap::new(),
            prefixes_v4: Vec::new(),
            prefixes_v6: Vec::new(),
            len: 0,
        }
    }
}

impl<T> DomainSet<T> {
    pub fn insert(&mut self, name: &str, value: T) {
        self.names
            .insert(name.trim_end_matches('.').to_ascii_lowercase(), value);
    }
    /// `name` must be lowercase without a trailing dot.
    pub fn get(&self, name: &str) -> Option<&T> {
        if self.names.is_empty() {
            return None;
        }
        let mut rest = name;
        loop {
            if let Some(v) = self.names.get(rest) {
                return Some(v);
            }
            match rest.find('.') {
                Some(i) => rest = &rest[i + 1..],
                None => return None,
            }
        }
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

fn looks_like_domain(s: &str) -> bool {
    s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Threat intelligence: IPs and domains with the kind of threat they mean.
#[derive(Debug, Default, Clone)]
pub struct ThreatIntel {
    pub ips: IpSet<ListHit>,
    pub domains: DomainSet<ListHit>,
}

/// Addresses and domains whose activity never raises a finding.
#[derive(Debug, Default, Clone)]
pub struct TrustedList {
    pub ips: IpSet<String>,
    pub domains: DomainSet<String>,
}

/// One parsed list line.
enum Entry {
    Net(IpNet),
    Domain(String),
}

/// Reads a list file's text; bad lines become diagnostics and are skipped.
fn parse_list(
    name: &str,
    text: &str,
    mut on: impl FnMut(Entry, Option<ListKind>, &str),
    diags: &mut Vec<Diagnostic>,
) {
    let mut kind = None;
    for (i, line) in text.lines().enumerate() {
        let (content, comment) = match line.find('#') {
            Some(p) => (&line[..p], Some(&line[p + 1..])),
            None => (line, None),
        };
        if let Some(c) = comment
            && let Some(k) = c.trim().strip_prefix("kind:")
        {
            match ListKind::parse(k) {
                Some(k) => kind = Some(k),
                None => diags.push(Diagnostic::malformed(
                    name,
                    Some(format!("line {}", i + 1)),
                    format!(
                        "unknown list kind {:?}; use one of {}",
                        k.trim(),
                        ListKind::NAMES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
        let v = content.trim();
        if v.is_empty() {
            continue;
        }
        let entry = if let Ok(net) = v.parse::<IpNet>() {
            Entry::Net(net)
        } else if let Ok(ip) = v.parse::<IpAddr>() {
            Entry::Net(IpNet::from(ip))
        } else if looks_like_domain(v) {
            Entry::Domain(v.trim_end_matches('.').to_ascii_lowercase())
        } else {
            diags.push(Diagnostic::malformed(
                name,
                Some(format!("line {}", i + 1)),
                format!("{v:?} is neither an IP address, a CIDR block nor a domain name"),
            ));
            continue;
        };
        on(entry, kind, v);
    }
}

impl ThreatIntel {
    /// Adds a threat-list file; entries yield `.Custom` types unless the file
    /// declares another kind.
    pub fn add_list(&mut self, name: &str, text: &str, diags: &mut Vec<Diagnostic>) {
        parse_list(
            name,
            text,
            |e, kind, raw| {
                let hit = ListHit {
                    kind: kind.unwrap_or(ListKind::Custom),
                    list: name.to_owned(),
                    entry: raw.to_owned(),
                };
                match e {
                    Entry::Net(n) => self.ips.insert(n, hit),
                    Entry::Domain(d) => self.domains.insert(&d, hit),
                }
            },
            diags,
        );
    }

    /// The threat intelligence Rampart ships: mining pools and dynamic-DNS
    /// providers (public, slow-changing facts).
    pub fn builtin() -> Self {
        let mut t = ThreatIntel::default();
        let mut diags = Vec::new();
        t.add_list(
            "builtin:mining-pools",
            include_str!("../data/mining-pools.txt"),
            &mut diags,
        );
        t.add_list(
            "builtin:dynamic-dns",
            include_str!("../data/dynamic-dns.txt"),
            &mut diags,
        );
        debug_assert!(diags.is_empty(), "{diags:?}");
        t
    }
}

impl TrustedList {
    pub fn add_list(&mut self, name: &str, text: &str, diags: &mut Vec<Diagnostic>) {
        parse_list(
            name,
            text,
            |e, _, raw| match e {
                Entry::Net(n) => self.ips.insert(n, raw.to_owned()),
                Entry::Domain(d) => self.domains.insert(&d, raw.to_owned()),
            },
            diags,
        );
    }
}

/// AWS's published address ranges, for telling AWS from non-AWS callers.
#[derive(Debug, Clone, Default)]
pub struct AwsRanges {
    nets: IpSet<()>,
}

impl AwsRanges {
    /// The compact summary shipped with Rampart (`data/aws-ip-ranges.txt`).
    pub fn builtin() -> Self {
        let mut r = AwsRanges::default();
        for line in include_str!("../data/aws-ip-ranges.txt").lines() {
            let v = line.split('#').next().unwrap_or("").trim();
            if let Ok(n) = v.parse::<IpNet>() {
                r.nets.insert(n, ());
            }
        }
        r
    }

    /// Reads AWS's own `ip-ranges.json` (from
    /// https://ip-ranges.amazonaws.com/ip-ranges.json) to refresh the ranges.
    pub fn from_ip_ranges_json(text: &str) -> Result<Self, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            prefixes: Vec<P4>,
            #[serde(default)]
            ipv6_prefixes: Vec<P6>,
        }
        #[derive(serde::Deserialize)]
        struct P4 {
            ip_prefix: String,
        }
        #[derive(serde::Deserialize)]
        struct P6 {
            ipv6_prefix: String,
        }
        let f: File = serde_json::from_str(text)?;
        let mut r = AwsRanges::default();
        for p in f
            .prefixes
            .iter()
            .map(|p| &p.ip_prefix)
            .chain(f.ipv6_prefixes.iter().map(|p| &p.ipv6_prefix))
        {
            if let Ok(n) = p.parse::<IpNet>() {
                r.nets.insert(n, ());
            }
        }
        Ok(r)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.get(ip).is_some()
    }
    pub fn len(&self) -> usize {
        self.nets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// Whether an address can be reached on the internet (threat and trusted
/// lists apply only to those, as in GuardDuty).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 100 && (o[1] & 0xc0) == 64
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_ips_cidrs_and_parent_domains() {
        let mut t = ThreatIntel::default();
        let mut d = Vec::new();
        t.add_list(
            "mine.txt",
            "# my list\n198.51.100.7\n203.0.113.0/24 # scanners\nevil.example\nnot an entry\n",
            &mut d,
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].to_string().contains("mine.txt line 5"), "{}", d[0]);
        assert_eq!(
            t.ips
                .get("198.51.100.7".parse().expect("ip"))
                .map(|h| h.kind),
            Some(ListKind::Custom)
        );
        assert!(t.ips.get("203.0.113.99".parse().expect("ip")).is_some());
        assert!(t.ips.get("203.0.114.1".parse().expect("ip")).is_none());
        // IPv6 entries, up to /128 (a prefix-length overflow once hid here).
        t.add_list("v6.txt", "::\n2001:db8::/32\n", &mut d);
        assert!(t.ips.get("2001:db8::7".parse().expect("ip")).is_some());
        assert!(t.ips.get("::".parse().expect("ip")).is_some());
        assert!(t.ips.get("2001:db9::1".parse().expect("ip")).is_none());
        assert!(t.domains.get("a.b.evil.example").is_some());
        assert!(t.domains.get("notevil.example").is_none());
        t.add_list("tor.txt", "# kind: tor-exit\n192.0.2.1\n", &mut d);
        assert_eq!(
            t.ips.get("192.0.2.1".parse().expect("ip")).map(|h| h.kind),
            Some(ListKind::TorExit)
        );
    }

    #[test]
    fn builtin_data_loads() {
        let t = ThreatIntel::builtin();
        assert_eq!(
            t.domains.get("gulf.moneroocean.stream").map(|h| h.kind),
            Some(ListKind::Mining)
        );
        let aws = AwsRanges::builtin();
        assert!(aws.len() > 20);
        assert!(aws.contains("52.95.110.1".parse().expect("ip")));
        assert!(!aws.contains("192.0.2.1".parse().expect("ip")));
        let json = r#"{"prefixes":[{"ip_prefix":"198.51.100.0/24","region":"x","service":"EC2"}],"ipv6_prefixes":[]}"#;
        assert!(
            AwsRanges::from_ip_ranges_json(json)
                .expect("json")
                .contains("198.51.100.4".parse().expect("ip"))
        );
    }

    #[test]
    fn public_addresses() {
        assert!(is_public("8.8.8.8".parse().expect("ip")));
        assert!(!is_public("10.1.2.3".parse().expect("ip")));
        assert!(!is_public("100.64.0.1".parse().expect("ip")));
        assert!(!is_public("169.254.169.254".parse().expect("ip")));
    }
}
