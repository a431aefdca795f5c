//! Suppression ("mute") rules: filters on finding fields with a reason and an
//! optional expiry. Matching findings are archived and counted, never dropped.
//!
//! ```yaml
//! rules:
//!   - reason: Bastion hosts are brute-forced all day; fail2ban handles it
//!     expires: 2027-06-30            # optional: date or RFC 3339 time
//!     match:
//!       type: UnauthorizedAccess:EC2/SSHBruteForce
//!       resource: [i-0bastion1, i-0bastion2]
//!   - reason: Our vulnerability scanner
//!     match:
//!       type: "Recon:EC2/*"
//!       address: 203.0.113.0/24
//! ```
//!
//! Fields in one `match` must all match (AND); several values for one field
//! are alternatives (OR). Values may use `*` as a wildcard; `address` also
//! takes CIDR blocks.

use crate::finding::Finding;
use crate::timefmt;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    reason: String,
    #[serde(default)]
    expires: Option<String>,
    #[serde(rename = "match")]
    criteria: Criteria,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Criteria {
    #[serde(default, rename = "type")]
    kind: OneOrMany,
    #[serde(default)]
    account: OneOrMany,
    #[serde(default)]
    region: OneOrMany,
    #[serde(default)]
    principal: OneOrMany,
    #[serde(default)]
    address: OneOrMany,
    #[serde(default)]
    resource: OneOrMany,
    #[serde(default)]
    severity: OneOrMany,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    label: String,
    expires: Option<i64>,
    kind: Vec<String>,
    account: Vec<String>,
    region: Vec<String>,
    principal: Vec<String>,
    address: Vec<String>,
    resource: Vec<String>,
    severity: Vec<String>,
}

/// Loaded suppression rules.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    rules: Vec<Rule>,
}

/// `*` wildcard match, case-sensitive like GuardDuty's filters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(p) => rest = &rest[p + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn any_glob(patterns: &[String], values: &[&str]) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| values.iter().any(|v| glob(p, v)))
}

fn any_address(patterns: &[String], values: &[&str]) -> bool {
    if patterns.is_empty() {
        return true;
    }
    patterns.iter().any(|p| {
        let net = p.parse::<IpNet>().ok();
        values.iter().any(|v| match (&net, v.parse::<IpAddr>()) {
            (Some(n), Ok(ip)) => n.contains(&ip),
            _ => glob(p, v),
        })
    })
}

impl Suppressions {
    /// Parses a rules file (YAML or JSON).
    pub fn load(file: &str, text: &str) -> Result<Self, SuppressError> {
        let f: File = serde_norway::from_str(text).map_err(|e| SuppressError::Invalid {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let mut rules = Vec::new();
        for (i, r) in f.rules.into_iter().enumerate() {
            let label = r.name.clone().unwrap_or_else(|| format!("rule {}", i + 1));
            if r.reason.trim().is_empty() {
                return Err(SuppressError::Invalid {
                    file: file.into(),
                    message: format!("{label}: `reason` must say why the findings are muted"),
                });
            }
            let expires = match &r.expires {
                None => None,
                Some(s) => {
                    let t = timefmt::parse(s).or_else(|| timefmt::parse(&format!("{s}T23:59:59Z")));
                    Some(t.ok_or_else(|| SuppressError::Invalid {
                        file: file.into(),
                        message: format!(
                            "{label}: expires {s:?} is not a date (2027-06-30) or an RFC 3339 time"
                        ),
                    })?)
                }
            };
            let c = r.criteria;
            let rule = Rule {
                label: format!("{label}: {}", r.reason),
                expires,
                kind: c.kind.into_vec(),
                account: c.account.into_vec(),
                region: c.region.into_vec(),
                principal: c.principal.into_vec(),
                address: c.address.into_vec(),
                resource: c.resource.into_vec(),
                severity: c.severity.into_vec(),
            };
            let empty = [
                &rule.kind,
                &rule.account,
                &rule.region,
                &rule.principal,
                &rule.address,
                &rule.resource,
                &rule.severity,
            ]
            .iter()
            .all(|v| v.is_empty());
            if empty {
                return Err(SuppressError::Invalid {
                    file: file.into(),
                    message: format!("{label}: `match` is empty and would mute every finding"),
                });
            }
            rules.push(rule);
        }
        Ok(Suppressions { rules })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule (its label and reason) that mutes `f` at time `now`.
    pub fn matching(&self, f: &Finding, now: i64) -> Option<&str> {
        let principals: Vec<&str> = f.evidence.principals.iter().map(String::as_str).collect();
        let addresses: Vec<&str> = f.evidence.addresses.iter().map(String::as_str).collect();
        self.rules
            .iter()
            .find(|r| {
                r.expires.is_none_or(|e| now <= e)
                    && any_glob(&r.kind, &[&f.type_name])
                    && any_glob(&r.account, &[&f.account_id])
                    && any_glob(&r.region, &[&f.region])
                    && any_glob(&r.resource, &[&f.resource.id])
                    && any_glob(&r.severity, &[f.severity.as_str()])
                    && (r.principal.is_empty() || any_glob(&r.principal, &principals))
                    && (r.address.is_empty() || any_address(&r.address, &addresses))
            })
            .map(|r| r.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(glob("Recon:EC2/*", "Recon:EC2/Portscan"));
        assert!(glob("*Brute*", "UnauthorizedAccess:EC2/SSHBruteForce"));
        assert!(!glob("Recon:EC2/*", "Recon:IAMUser/TorIPCaller"));
        assert!(glob("i-1", "i-1"));
    }

    #[test]
    fn bad_files_are_refused_with_reasons() {
        assert!(Suppressions::load("s.yml", "rules:\n  - reason: x\n    match: {}\n").is_err());
        assert!(
            Suppressions::load("s.yml", "rules:\n  - reason: ''\n    match: {type: x}\n").is_err()
        );
        let e = Suppressions::load("s.yml", "rules:\n  - reason: x\n    match: {colour: red}\n")
            .expect_err("unknown field");
        assert!(e.to_string().contains("s.yml"), "{e}");
        assert!(
            Suppressions::load(
                "s.yml",
                "rules:\n  - reason: x\n    expires: soon\n    match: {type: x}\n"
            )
            .is_err()
        );
        let ok = Suppressions::load("s.yml", "rules:\n  - reason: x\n    expires: 2027-06-30\n    match: {type: x, address: [10.0.0.0/8]}\n").expect("loads");
        assert_eq!(ok.len(), 1);
    }
}
