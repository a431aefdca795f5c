//! Behavioural baselines kept between runs (`--state DIR`): the API calls
//! each principal makes and the remote ports and traffic volume of each
//! instance. Until the baseline has seen `LEARNING_SECS` of event time it is
//! learning and raises nothing, so a first run over ordinary traffic is
//! silent; afterwards, what the baseline never saw raises the GuardDuty
//! anomaly types. Every run adds what it saw, with the event time it last
//! saw it; what a principal or instance has not done for `RETAIN_SECS` of
//! event time is forgotten, so a baseline follows behaviour as it changes
//! (a role that stopped deploying from a region years ago is no longer
//! "at home" there) and stays the size of current behaviour.

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Event time a baseline must cover before it raises findings.
pub const LEARNING_SECS: i64 = 7 * 86_400;
/// An hour's outbound bytes to one host above this many times the learned
/// maximum (and above `VOLUME_FLOOR`) is unusual.
pub const VOLUME_FACTOR: u64 = 10;
pub const VOLUME_FLOOR: u64 = 100_000_000;
/// Distinct never-seen discovery calls by one principal before it is unusual
/// (single new List/Describe calls are everyday noise).
pub const NEW_DISCOVERY_CALLS: usize = 10;
/// Event time after which a behaviour not seen again is forgotten.
pub const RETAIN_SECS: i64 = 90 * 86_400;
const FILE: &str = "baseline.json";

/// A set of behaviours, each with the event time (Unix seconds) it was last
/// seen. Stored as a JSON object `{"item": time}`; reads the plain lists of
/// baselines written before times were kept (their items count as seen at
/// the baseline's last event, see [`Baseline::load`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<K: Ord>(BTreeMap<K, i64>);

impl<K: Ord> Default for Seen<K> {
    fn default() -> Self {
        Seen(BTreeMap::new())
    }
}

impl<K: Ord> Seen<K> {
    pub fn contains<Q>(&self, k: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.contains_key(k)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }
    /// Notes `k` seen at `time` (keeps the latest time).
    pub fn note(&mut self, k: K, time: i64) {
        let t = self.0.entry(k).or_insert(time);
        *t = (*t).max(time);
    }
    /// Adds another set, keeping each item's latest time.
    pub fn extend(&mut self, other: Seen<K>) {
        for (k, t) in other.0 {
            self.note(k, t);
        }
    }
    /// The latest time anything was seen.
    pub fn latest(&self) -> Option<i64> {
        self.0.values().copied().max()
    }
    fn forget_before(&mut self, cutoff: i64) {
        self.0.retain(|_, t| *t >= cutoff);
    }
    /// Items of old baselines, stored without a time, take `time`.
    fn date_undated(&mut self, time: i64) {
        for t in self.0.values_mut() {
            if *t == 0 {
                *t = time;
            }
        }
    }
}

impl<K: Ord + Serialize> Serialize for Seen<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, K: Ord + Deserialize<'de>> Deserialize<'de> for Seen<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SeenVisitor<K>(std::marker::PhantomData<K>);
        impl<'de, K: Ord + Deserialize<'de>> Visitor<'de> for SeenVisitor<K> {
            type Value = Seen<K>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of item to last-seen time, or a list of items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut m = BTreeMap::new();
                while let Some(k) = seq.next_element()? {
                    m.insert(k, 0);
                }
                Ok(Seen(m))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, t)) = map.next_entry()? {
                    m.insert(k, t);
                }
                Ok(Seen(m))
            }
        }
        d.deserialize_any(SeenVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrincipalBase {
    pub apis: Seen<String>,
    /// Regions the principal made calls in.
    #[serde(default)]
    pub regions: Seen<String>,
    /// Networks it called from ([`network_of`]: an IPv4 /16, an IPv6 /32,
    /// or the AWS service name that called on its behalf).
    #[serde(default)]
    pub networks: Seen<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceBase {
    pub ports: Seen<u16>,
    /// Largest hourly outbound byte count to a single host.
    pub max_hourly_bytes: u64,
    /// When the instance last sent traffic (0 in old baselines: see
    /// [`Baseline::load`]).
    #[serde(default)]
    pub last_seen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    /// Keyed by `account|principal`.
    pub principals: BTreeMap<String, PrincipalBase>,
    /// Keyed by `account|instance`.
    pub instances: BTreeMap<String, InstanceBase>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read or write the state directory {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the baseline {0} is damaged ({1}); move it away to start learning again")]
    Corrupt(String, serde_json::Error),
}

impl Baseline {
    /// Loads `DIR/baseline.json`, or an empty (learning) baseline.
    pub fn load(dir: &Path) -> Result<Self, BaselineError> {
        let p = dir.join(FILE);
        match std::fs::read_to_string(&p) {
            Ok(t) => {
                let mut b: Baseline = serde_json::from_str(&t)
                    .map_err(|e| BaselineError::Corrupt(p.display().to_string(), e))?;
                b.date_undated();
                Ok(b)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baseline {
                version: 1,
                ..Baseline::default()
            }),
            Err(e) => Err(BaselineError::Io(p.display().to_string(), e)),
        }
    }

    /// Writes atomically (temporary file, then rename), so an interrupted
    /// run leaves the previous baseline intact.
    pub fn save(&self, dir: &Path) -> Result<(), BaselineError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BaselineError::Io(dir.display().to_string(), e))?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        let text = serde_json::to_string(self)
            .map_err(|e| BaselineError::Corrupt(tmp.display().to_string(), e))?;
        std::fs::write(&tmp, text).map_err(|e| BaselineError::Io(tmp.display().to_string(), e))?;
        std::fs::rename(&tmp, dir.join(FILE))
            .map_err(|e| BaselineError::Io(dir.display().to_string(), e))
    }

    /// Whether the baseline has learned long enough to raise findings.
    pub fn mature(&self) -> bool {
        matches!((self.first_event, self.last_event), (Some(a), Some(b)) if b - a >= LEARNING_SECS)
    }

    pub fn note_time(&mut self, t: i64) {
        if t <= 0 {
            return;
        }
        self.first_event = Some(self.first_event.map_or(t, |f| f.min(t)));
        self.last_event = Some(self.last_event.map_or(t, |l| l.max(t)));
    }

    /// Baselines written before times were kept: their behaviours count as
    /// seen at the last event, so they start ageing from there.
    fn date_undated(&mut self) {
        let Some(last) = self.last_event else {
            return;
        };
        for p in self.principals.values_mut() {
            p.apis.date_undated(last);
            p.regions.date_undated(last);
            p.networks.date_undated(last);
        }
        for i in self.instances.values_mut() {
            i.ports.date_undated(last);
            if i.last_seen == 0 {
                i.last_seen = last;
            }
        }
    }

    /// Forgets what was not seen in the `RETAIN_SECS` before the last event,
    /// and principals and instances with nothing left (they are learned
    /// afresh, not flagged, if they come back).
    pub fn forget_stale(&mut self) {
        let Some(last) = self.last_event else {
            return;
        };
        let cutoff = last - RETAIN_SECS;
        self.principals.retain(|_, p| {
            p.apis.forget_before(cutoff);
            p.regions.forget_before(cutoff);
            p.networks.forget_before(cutoff);
            !p.apis.is_empty()
        });
        self.instances.retain(|_, i| {
            i.ports.forget_before(cutoff);
            i.last_seen >= cutoff
        });
    }

    /// Adds what another run (or shard) saw, then forgets what is stale.
    pub fn absorb(&mut self, other: Baseline) {
        if let Some(t) = other.first_event {
            self.note_time(t);
        }
        if let Some(t) = other.last_event {
            self.note_time(t);
        }
        for (k, p) in other.principals {
            let e = self.principals.entry(k).or_default();
            e.apis.extend(p.apis);
            e.regions.extend(p.regions);
            e.networks.extend(p.networks);
        }
        for (k, i) in other.instances {
            let e = self.instances.entry(k).or_default();
            e.ports.extend(i.ports);
            e.max_hourly_bytes = e.max_hourly_bytes.max(i.max_hourly_bytes);
            e.last_seen = e.last_seen.max(i.last_seen);
        }
        self.forget_stale();
    }
}

/// The network a source address belongs to, coarse enough that a laptop
/// moving between an office's addresses stays at home: an IPv4 /16, an IPv6
/// /32; anything that is not an address (`ec2.amazonaws.com`, AWS Internal)
/// is its own network.
pub fn network_of(source: &str) -> String {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.0.0/16", o[0], o[1])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}::/32", s[0], s[1])
        }
        Err(_) => source.to_ascii_lowercase(),
    }
}

/// The GuardDuty anomaly family of an API call, by the examples GuardDuty
/// documents for each type.
pub fn family(event_name: &str) -> Option<&'static str> {
    const CREDENTIAL: &[&str] = &[
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetPasswordData",
        "GenerateDbAuthToken",
        "GetParametersByPath",
        "GetSessionToken",
    ];
    const DEFENSE: &[&str] = &[
        "DeleteFlowLogs",
        "DisableAlarmActions",
        "StopLogging",
        "DeleteTrail",
        "UpdateTrail",
        "PutEventSelectors",
        "DeleteDetector",
        "UpdateDetector",
        "DeleteRuleGroup",
        "DeleteWebACL",
        "DisableEbsEncryptionByDefault",
        "StopConfigurationRecorder",
        "DeleteConfigRule",
    ];
    const EXFIL: &[&str] = &[
        "PutBucketReplication",
        "CreateSnapshot",
        "CopySnapshot",
        "RestoreDBInstanceFromDBSnapshot",
        "ModifySnapshotAttribute",
        "ModifyImageAttribute",
        "ModifyDBSnapshotAttribute",
        "CreateDBSnapshot",
        "ExportImage",
    ];
    const IMPACT: &[&str] = &[
        "DeleteSecurityGroup",
        "UpdateUser",
        "PutBucketPolicy",
        "DeleteBucket",
        "TerminateInstances",
        "DeleteDBInstance",
        "DeleteDBCluster",
        "DeleteObjects",
        "PutBucketAcl",
        "DeleteBucketPolicy",
    ];
    const INITIAL: &[&str] = &[
        "GetFederationToken",
        "StartSession",
        "GetAuthorizationToken",
        "GetSigninToken",
    ];
    const PERSIST: &[&str] = &[
        "CreateAccessKey",
        "ImportKeyPair",
        "ModifyInstanceAttribute",
        "CreateUser",
        "CreateLoginProfile",
        "CreateRole",
        "UpdateFunctionCode",
        "CreateFunction",
        "AddPermission",
    ];
    const PRIVESC: &[&str] = &[
        "AssociateIamInstanceProfile",
        "AddUserToGroup",
        "PutUserPolicy",
        "AttachUserPolicy",
        "AttachRolePolicy",
        "PutRolePolicy",
        "AttachGroupPolicy",
        "PutGroupPolicy",
        "UpdateAssumeRolePolicy",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "UpdateLoginProfile",
    ];
    for (list, fam) in [
        (CREDENTIAL, "CredentialAccess:IAMUser/AnomalousBehavior"),
        (DEFENSE, "DefenseEvasion:IAMUser/AnomalousBehavior"),
        (EXFIL, "Exfiltration:IAMUser/AnomalousBehavior"),
        (IMPACT, "Impact:IAMUser/AnomalousBehavior"),
        (INITIAL, "InitialAccess:IAMUser/AnomalousBehavior"),
        (PERSIST, "Persistence:IAMUser/AnomalousBehavior"),
        (PRIVESC, "PrivilegeEscalation:IAMUser/AnomalousBehavior"),
    ] {
        if list.contains(&event_name) {
            return Some(fam);
        }
    }
    if event_name.starts_with("List")
        || event_name.starts_with("Describe")
        || (event_name.starts_with("Get") && event_name != "GetObject")
    {
        return Some("Discovery:IAMUser/AnomalousBehavior");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_then_mature_and_round_trip() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut b = Baseline::load(dir.path()).expect("empty");
        assert!(!b.mature());
        b.note_time(1_000);
        b.note_time(1_000 + LEARNING_SECS);
        assert!(b.mature());
        b.principals
            .entry("1|arn".into())
            .or_default()
            .apis
            .note("iam:ListUsers".into(), 1_000);
        b.save(dir.path()).expect("save");
        assert_eq!(Baseline::load(dir.path()).expect("load"), b);
        std::fs::write(dir.path().join(FILE), "{oops").expect("write");
        assert!(
            Baseline::load(dir.path())
                .expect_err("corrupt")
                .to_string()
                .contains("move it away")
        );
    }

    #[test]
    fn networks_are_coarse() {
        assert_eq!(network_of("198.51.100.20"), "198.51.0.0/16");
        assert_eq!(network_of("198.51.7.1"), "198.51.0.0/16");
        assert_eq!(network_of("2001:db8:1::5"), "2001:db8::/32");
        assert_eq!(network_of("EC2.amazonaws.com"), "ec2.amazonaws.com");
        // A state file from before regions and networks were kept still loads.
        let old: Baseline =
            serde_json::from_str(r#"{"version":1,"first_event":1,"last_event":2,"principals":{"a|b":{"apis":["iam:ListUsers"]}},"instances":{}}"#)
                .expect("old state loads");
        assert!(old.principals["a|b"].networks.is_empty());
        assert!(old.principals["a|b"].apis.contains("iam:ListUsers"));
    }

    #[test]
    fn old_lists_are_dated_at_the_last_event_and_age_from_there() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join(FILE),
            r#"{"version":1,"first_event":1,"last_event":1000000,"principals":{"a|b":{"apis":["iam:ListUsers"],"regions":["eu-west-1"]}},"instances":{"a|i-1":{"ports":[443,22],"max_hourly_bytes":5}}}"#,
        )
        .expect("write");
        let b = Baseline::load(dir.path()).expect("old state loads");
        assert_eq!(b.principals["a|b"].apis.latest(), Some(1_000_000));
        assert!(b.instances["a|i-1"].ports.contains(&22));
        assert_eq!(b.instances["a|i-1"].last_seen, 1_000_000);
        // Saved again, the times are kept as a map and read back the same.
        b.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert!(
            text.contains(r#""ports":{"22":1000000,"443":1000000}"#),
            "{text}"
        );
        assert_eq!(Baseline::load(dir.path()).expect("load"), b);
    }

    #[test]
    fn behaviour_not_seen_for_the_retention_is_forgotten() {
        let day = 86_400;
        let mut b = Baseline::default();
        let p = b.principals.entry("a|dev".into()).or_default();
        p.apis.note("iam:CreateUser".into(), 10 * day);
        p.apis.note("s3:ListBuckets".into(), 10 * day);
        p.regions.note("us-east-1".into(), 10 * day);
        p.regions.note("eu-west-1".into(), 10 * day);
        b.principals
            .entry("a|gone".into())
            .or_default()
            .apis
            .note("s3:ListBuckets".into(), 10 * day);
        b.instances.insert(
            "a|i-old".into(),
            InstanceBase {
                last_seen: 10 * day,
                ..InstanceBase::default()
            },
        );
        b.note_time(10 * day);
        // A later run, 100 days on: dev still lists buckets in eu-west-1.
        let mut later = Baseline::default();
        later.note_time(110 * day);
        let p = later.principals.entry("a|dev".into()).or_default();
        p.apis.note("s3:ListBuckets".into(), 110 * day);
        p.regions.note("eu-west-1".into(), 110 * day);
        b.absorb(later);
        let dev = &b.principals["a|dev"];
        assert!(dev.apis.contains("s3:ListBuckets"));
        assert!(
            !dev.apis.contains("iam:CreateUser"),
            "not done for 100 days"
        );
        assert!(dev.regions.contains("eu-west-1"));
        assert!(!dev.regions.contains("us-east-1"));
        assert!(!b.principals.contains_key("a|gone"));
        assert!(!b.instances.contains_key("a|i-old"));
        // Within the retention nothing goes.
        let mut soon = Baseline::default();
        soon.note_time(150 * day);
        b.absorb(soon);
        assert!(b.principals["a|dev"].apis.contains("s3:ListBuckets"));
    }

    #[test]
    fn families() {
        assert_eq!(
            family("StopLogging"),
            Some("DefenseEvasion:IAMUser/AnomalousBehavior")
        );
        assert_eq!(
            family("ListBuckets"),
            Some("Discovery:IAMUser/AnomalousBehavior")
        );
        assert_eq!(family("GetObject"), None);
        assert_eq!(family("PutObject"), None);
    }
}
