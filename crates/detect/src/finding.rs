//! Findings as Rampart reports them: one per distinct activity, with a count
//! and first/last seen, close to GuardDuty's finding JSON.

use crate::catalog::FindingType;
use crate::timefmt;
use rampart_core::{NewFinding, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How many event ids, principals and addresses a finding keeps as evidence.
pub const EVIDENCE_CAP: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// GuardDuty's resource type: AccessKey, Instance, S3Bucket, Lambda, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The instance id, bucket, function, principal ARN … the finding is about.
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    pub event_ids: BTreeSet<String>,
    pub principals: BTreeSet<String>,
    pub addresses: BTreeSet<String>,
    /// What the activity touched: instances, secrets, functions, trails.
    pub targets: BTreeSet<String>,
    /// Other facts: the API called, the port, the matched list entry, counts.
    pub details: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mitre {
    pub tactics: Vec<String>,
    pub technique: String,
    pub technique_name: String,
}

/// One finding after aggregation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The GuardDuty finding type (or Rampart's own, or `Sigma:<rule title>`).
    #[serde(rename = "type")]
    pub type_name: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub account_id: String,
    pub region: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub resource: Resource,
    pub evidence: Evidence,
    pub mitre: Mitre,
    pub remediation: String,
    /// cloudtrail, flow_logs or dns.
    pub data_source: String,
    /// guardduty, guardduty_custom_detection, rampart or sigma.
    pub origin: String,
    /// For Sigma findings, the rule's id and file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Set when a suppression rule matched; the reason is in `suppressed_by`.
    pub archived: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<String>,
    /// Stable identity for the platform: same activity, same fingerprint.
    pub fingerprint: String,
    #[serde(skip)]
    pub(crate) first_secs: i64,
    #[serde(skip)]
    pub(crate) last_secs: i64,
}

impl Finding {
    /// Where the finding stands in a report: by account, worst severity
    /// first within an account, then type and resource (the fingerprint
    /// makes the order total).
    pub fn report_order(&self) -> (&str, Severity, &str, &str, &str) {
        (
            &self.account_id,
            self.severity,
            &self.type_name,
            &self.resource.id,
            &self.fingerprint,
        )
    }

    /// The principal the finding is mostly about, if any.
    pub fn principal(&self) -> Option<&str> {
        self.evidence.principals.iter().next().map(String::as_str)
    }

    /// The platform's finding: source `detection`, the type as rule id, the
    /// account and resource as asset, the region as location.
    pub fn to_new_finding(&self) -> NewFinding {
        let mut desc = format!("{}\n\n", self.description);
        desc.push_str(&format!(
            "Account {} in {}; seen {} time(s) from {} to {}.\nResource: {} {}\n",
            self.account_id,
            self.region,
            self.count,
            self.first_seen,
            self.last_seen,
            self.resource.kind,
            self.resource.id
        ));
        for (label, set) in [
            ("Events", &self.evidence.event_ids),
            ("Principals", &self.evidence.principals),
            ("Addresses", &self.evidence.addresses),
        ] {
            if !set.is_empty() {
                desc.push_str(&format!(
                    "{label}: {}\n",
                    set.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for (k, v) in &self.evidence.details {
            desc.push_str(&format!("{k}: {v}\n"));
        }
        desc.push_str(&format!(
            "MITRE ATT&CK: {} {} ({})\n\nRemediation: {}",
            self.mitre.technique,
            self.mitre.technique_name,
            self.mitre.tactics.join(", "),
            self.remediation
        ));
        let mut title = format!("{} on {}", self.type_name, self.resource.id);
        if title.chars().count() > rampart_core::MAX_TITLE_LEN {
            title = title.chars().take(rampart_core::MAX_TITLE_LEN).collect();
        }
        let desc: String = desc.chars().take(rampart_core::MAX_TEXT_LEN).collect();
        NewFinding::builder("detection", &title, self.severity)
            .rule_id(&self.type_name)
            .asset(&format!("aws:{}", self.account_id))
            .location(&format!("{}/{}", self.region, self.resource.id))
            .description(&desc)
            .fingerprint(&self.fingerprint)
            .build()
    }
}

/// What a rule reports for one event (or one crossed threshold), before
/// aggregation.
#[derive(Debug, Clone)]
pub struct Signal {
    pub kind: SignalKind,
    pub severity: Option<Severity>,
    pub account_id: String,
    pub region: String,
    pub time: i64,
    pub resource_id: String,
    pub principal: Option<String>,
    pub address: Option<String>,
    pub events: Vec<String>,
    pub targets: Vec<String>,
    pub count: u64,
    /// For a crossed threshold: when the counted activity began.
    pub since: Option<i64>,
    pub details: Vec<(String, String)>,
}

/// Which catalog entry, or which Sigma rule, a signal belongs to.
#[derive(Debug, Clone)]
pub enum SignalKind {
    Builtin(&'static FindingType),
    Sigma(std::sync::Arc<crate::sigma::RuleMeta>),
}

impl Signal {
    pub fn new(
        t: &'static FindingType,
        account_id: &str,
        region: &str,
        time: i64,
        resource_id: &str,
    ) -> Self {
        Signal {
            kind: SignalKind::Builtin(t),
            severity: None,
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            time,
            resource_id: resource_id.to_owned(),
            principal: None,
            address: None,
            events: Vec::new(),
            targets: Vec::new(),
            count: 1,
            since: None,
            details: Vec::new(),
        }
    }
    pub fn principal(mut self, p: &str) -> Self {
        if !p.is_empty() {
            self.principal = Some(p.to_owned());
        }
        self
    }
    pub fn address(mut self, a: &str) -> Self {
        if !a.is_empty() {
            self.address = Some(a.to_owned());
        }
        self
    }
    pub fn event(mut self, id: &str) -> Self {
        if !id.is_empty() {
            self.events.push(id.to_owned());
        }
        self
    }
    pub fn target(mut self, t: &str) -> Self {
        if !t.is_empty() {
            self.targets.push(t.to_owned());
        }
        self
    }
    pub fn detail(mut self, k: &str, v: impl ToString) -> Self {
        self.details.push((k.to_owned(), v.to_string()));
        self
    }
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = Some(s);
        self
    }
    pub fn count(mut self, n: u64) -> Self {
        self.count = n.max(1);
        self
    }
    pub fn type_name(&self) -> &str {
        match &self.kind {
            SignalKind::Builtin(t) => t.name,
            SignalKind::Sigma(m) => &m.type_name,
        }
    }
}

fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    format!("detect-{}", &hex::encode(h.finalize())[..40])
}

/// Merges signals about the same activity into one finding.
#[derive(Debug, Default)]
pub struct Aggregator {
    /// Keyed by the fingerprint. foldhash rather than SipHash: keys are
    /// ours, not an attacker's to collide, and every matched event looks
    /// its key up.
    findings: foldhash::HashMap<String, Finding>,
    /// Identity key (type, account, region, resource, who) to fingerprint,
    /// so a repeat costs one hash lookup and no SHA-256.
    keys: foldhash::HashMap<String, String>,
    key: String,
}

impl Aggregator {
    pub fn add(&mut self, s: Signal) {
        // The same activity: type, account, region, resource and who (the
        // principal, else the remote address).
        let who = s
            .principal
            .as_deref()
            .or(s.address.as_deref())
            .unwrap_or("");
        self.key.clear();
        for part in [s.type_name(), &s.account_id, &s.region, &s.resource_id, who] {
            self.key.push_str(part);
            self.key.push('\u{1f}');
        }
        let fp = match self.keys.get(self.key.as_str()) {
            Some(fp) => fp.clone(),
            None => {
                let fp =
                    fingerprint(&[s.type_name(), &s.account_id, &s.region, &s.resource_id, who]);
                self.keys.insert(self.key.clone(), fp.clone());
                fp
            }
        };
        let f = match self.findings.get_mut(&fp) {
            Some(f) => f,
            None => self
                .findings
                .entry(fp.clone())
                .or_insert_with(|| new_finding(&s, fp)),
        };
        f.count += s.count;
        let first = s.since.map_or(s.time, |x| x.min(s.time));
        if first < f.first_secs {
            f.first_secs = first;
        }
        if s.time > f.last_secs {
            f.last_secs = s.time;
        }
        if let Some(sev) = s.severity
            && sev < f.severity
        {
            // Severity orders worst first; keep the worst seen.
            f.severity = sev;
        }
        let ev = &mut f.evidence;
        for id in s.events {
            if ev.event_ids.len() < EVIDENCE_CAP {
                ev.event_ids.insert(id);
            }
        }
        for (set, v) in [
            (&mut ev.principals, s.principal),
            (&mut ev.addresses, s.address),
        ] {
            if let Some(v) = v
                && set.len() < EVIDENCE_CAP
            {
                set.insert(v);
            }
        }
        for (k, v) in s.details {
            ev.details.insert(k, v);
        }
    }

    /// Counts a repeat of a known finding without building a [`Signal`]:
    /// true when the finding exists and already holds this evidence (or as
    /// much as it keeps), false when the caller must `add` a full signal.
    #[allow(clippy::too_many_arguments)] // the identity parts, borrowed to avoid allocating
    pub fn touch(
        &mut self,
        type_name: &str,
        account: &str,
        region: &str,
        resource: &str,
        who: &str,
        address: &str,
        time: i64,
    ) -> bool {
        self.key.clear();
        for part in [type_name, account, region, resource, who] {
            self.key.push_str(part);
            self.key.push('\u{1f}');
        }
        let Some(fp) = self.keys.get(self.key.as_str()) else {
            return false;
        };
        let Some(f) = self.findings.get_mut(fp) else {
            return false;
        };
        let ev = &f.evidence;
        let full = ev.event_ids.len() >= EVIDENCE_CAP
            && (address.is_empty()
                || ev.addresses.len() >= EVIDENCE_CAP
                || ev.addresses.contains(address));
        if !full {
            return false;
        }
        f.count += 1;
        f.first_secs = f.first_secs.min(time);
        f.last_secs = f.last_secs.max(time);
        true
    }

    /// Folds another aggregator (a shard of the same run) into this one.
    pub fn merge(&mut self, other: Aggregator) {
        self.keys.extend(other.keys);
        for (fp, o) in other.findings {
            match self.findings.get_mut(&fp) {
                None => {
                    self.findings.insert(fp, o);
                }
                Some(f) => {
                    f.count += o.count;
                    f.first_secs = f.first_secs.min(o.first_secs);
                    f.last_secs = f.last_secs.max(o.last_secs);
                    f.severity = f.severity.min(o.severity);
                    let (a, b) = (&mut f.evidence, o.evidence);
                    for (set, more) in [
                        (&mut a.event_ids, b.event_ids),
                        (&mut a.principals, b.principals),
                        (&mut a.addresses, b.addresses),
                        (&mut a.targets, b.targets),
                    ] {
                        for v in more {
                            if set.len() < EVIDENCE_CAP {
                                set.insert(v);
                            }
                        }
                    }
                    a.details.extend(b.details);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.findings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings grouped by account (account id order), worst first
    /// within an account, then by type and resource: a run over many
    /// accounts reads as one report per account.
    pub fn into_findings(self) -> Vec<Finding> {
        let mut v: Vec<Finding> = self
            .findings
            .into_values()
            .map(|mut f| {
                f.first_seen = timefmt::format(f.first_secs);
                f.last_seen = timefmt::format(f.last_secs);
                f
            })
            .collect();
        v.sort_by(|a, b| a.report_order().cmp(&b.report_order()));
        v
    }
}

fn new_finding(s: &Signal, fingerprint: String) -> Finding {
    let (
        type_name,
        severity,
        description,
        mitre,
        remediation,
        data_source,
        origin,
        rule,
        resource_kind,
    ) = match &s.kind {
        SignalKind::Builtin(t) => (
            t.name.to_owned(),
            t.severity,
            t.description.to_owned(),
            Mitre {
                tactics: t.tactics.iter().map(|x| x.to_string()).collect(),
                technique: t.technique.into(),
                technique_name: t.technique_name.into(),
            },
            t.remediation.to_owned(),
            t.source.as_str(),
            match t.origin {
                crate::catalog::Origin::GuardDuty => "guardduty",
                crate::catalog::Origin::GuardDutyCustomDetection => "guardduty_custom_detection",
                crate::catalog::Origin::Rampart => "rampart",
            },
            None,
            t.resource_type,
        ),
        SignalKind::Sigma(m) => (
            m.type_name.clone(),
            m.severity,
            m.description.clone(),
            Mitre {
                tactics: m.tactics.clone(),
                technique: m.technique.clone(),
                technique_name: String::new(),
            },
            m.remediation.clone(),
            "cloudtrail",
            "sigma",
            Some(format!("{} ({})", m.id, m.file)),
            "AccessKey",
        ),
    };
    let title = format!("{type_name} on {}", s.resource_id);
    Finding {
        type_name,
        severity: s.severity.unwrap_or(severity),
        title,
        description,
        account_id: s.account_id.clone(),
        region: s.region.clone(),
        count: 0,
        first_seen: String::new(),
        last_seen: String::new(),
        resource: Resource {
            kind: resource_kind.to_owned(),
            id: s.resource_id.clone(),
        },
        evidence: Evidence::default(),
        mitre,
        remediation,
        data_source: data_source.to_owned(),
        origin: origin.to_owned(),
        rule,
        archived: false,
        suppressed_by: None,
        fingerprint,
        first_secs: s.since.map_or(s.time, |x| x.min(s.time)),
        last_secs: s.time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_aggregate_with_count_and_times() {
        let t = crate::catalog::get("Policy:IAMUser/RootCredentialUsage").expect("type");
        let mut a = Aggregator::default();
        for (i, time) in [100, 50, 300].into_iter().enumerate() {
            a.add(
                Signal::new(t, "111", "us-east-1", time, "arn:aws:iam::111:root")
                    .principal("arn:aws:iam::111:root")
                    .event(&format!("e{i}")),
            );
        }
        a.add(
            Signal::new(t, "222", "us-east-1", 10, "arn:aws:iam::222:root")
                .principal("arn:aws:iam::222:root"),
        );
        let f = a.into_findings();
        assert_eq!(f.len(), 2);
        let one = f.iter().find(|f| f.account_id == "111").expect("111");
        assert_eq!(one.count, 3);
        assert_eq!(one.first_seen, "1970-01-01T00:00:50Z");
        assert_eq!(one.last_seen, "1970-01-01T00:05:00Z");
        assert_eq!(one.evidence.event_ids.len(), 3);
        let nf = one.to_new_finding();
        nf.validate().expect("valid platform finding");
        assert_eq!(
            nf.rule_id.as_deref(),
            Some("Policy:IAMUser/RootCredentialUsage")
        );
    }
}
