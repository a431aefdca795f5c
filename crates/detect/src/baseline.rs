//! Behavioural baselines kept between runs (`--state DIR`): the API calls
//! each principal makes and the remote ports and traffic volume of each
//! instance. Until the baseline has seen `LEARNING_SECS` of event time it is
//! learning and raises nothing, so a first run over ordinary traffic is
//! silent; afterwards, what the baseline never saw raises the GuardDuty
//! anomaly types. Every run adds what it saw.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
const FILE: &str = "baseline.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrincipalBase {
    pub apis: BTreeSet<String>,
    /// Regions the principal made calls in.
    #[serde(default)]
    pub regions: BTreeSet<String>,
    /// Networks it called from ([`network_of`]: an IPv4 /16, an IPv6 /32,
    /// or the AWS service name that called on its behalf).
    #[serde(default)]
    pub networks: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceBase {
    pub ports: BTreeSet<u16>,
    /// Largest hourly outbound byte count to a single host.
    pub max_hourly_bytes: u64,
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
            Ok(t) => serde_json::from_str(&t)
                .map_err(|e| BaselineError::Corrupt(p.display().to_string(), e)),
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

    /// Adds what another run (or shard) saw.
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
        }
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
            .insert("iam:ListUsers".into());
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
