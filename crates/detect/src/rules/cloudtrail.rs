//! CloudTrail detections. Each rule names the event names it can match, so
//! the index hands an event only to the rules that can fire on it; a few
//! checks (root use, pentest user agents, threat-listed callers, instance
//! credentials used elsewhere) apply to every event and are cheap.

use super::console_login::{self, ConsoleLogins};
use super::{Env, Windows};
use crate::catalog::{self, FindingType};
use crate::cloudtrail::CtEvent;
use crate::finding::Signal;
use crate::geoip::GeoIp;
use crate::intel::{ListKind, is_public};
use rampart_core::Severity;
use serde_json::Value;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

/// What a single-event check found.
pub struct Hit {
    pub resource: String,
    pub target: Option<String>,
    pub details: Vec<(&'static str, String)>,
    pub severity: Option<Severity>,
}

impl Hit {
    fn on(resource: impl Into<String>) -> Option<Hit> {
        Some(Hit {
            resource: resource.into(),
            target: None,
            details: Vec::new(),
            severity: None,
        })
    }
    /// Aggregate on the caller; the touched resource goes to the evidence.
    fn by_caller(e: &CtEvent, target: &str) -> Option<Hit> {
        Some(Hit {
            resource: e.principal().to_owned(),
            target: Some(target.to_owned()),
            details: Vec::new(),
            severity: None,
        })
    }
    fn with(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.details.push((k, v.into()));
        self
    }
}

type Check = fn(&CtEvent) -> Option<Hit>;
/// For counting rules: the value counted as distinct (secret id, instance),
/// or `None` when the event does not count.
type Select = fn(&CtEvent) -> Option<Vec<String>>;

struct Single {
    type_name: &'static str,
    source: &'static str,
    names: &'static [&'static str],
    check: Check,
}

struct Counting {
    type_name: &'static str,
    source: &'static str,
    names: &'static [&'static str],
    select: Select,
    window_secs: i64,
    /// Distinct values per principal that fire the rule.
    threshold: usize,
}

#[derive(Clone, Copy)]
enum RuleRef {
    Single(usize),
    Counting(usize),
}

/// The CloudTrail rule set with its event-name index.
/// The part of [`CtRules`]' state that outlives a flush, as checkpointed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CtCarried {
    #[serde(default)]
    pub ip_used_by_others: Vec<IpAddr>,
    /// `ConsoleLoginSuccess.B`'s recent logins per identity.
    #[serde(default)]
    pub console_logins: Vec<(String, Vec<console_login::Stretch>)>,
}

pub struct CtRules {
    singles: Vec<(Single, &'static FindingType)>,
    counting: Vec<(Counting, &'static FindingType)>,
    /// foldhash: looked up for every event.
    index: foldhash::HashMap<&'static str, Vec<RuleRef>>,
    /// Public addresses used by principals other than instance sessions.
    ip_used_by_others: HashSet<IpAddr>,
    /// Instance-credential uses from AWS addresses, decided at the end.
    pending_inside: Vec<(IpAddr, Signal)>,
    /// `ConsoleLoginSuccess.B`: recent console logins, placed by `geoip`.
    console: ConsoleLogins,
    geoip: Option<Arc<GeoIp>>,
}

fn req<'e>(e: &'e CtEvent) -> Option<&'e Value> {
    e.request()
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// A policy document given as an object or as JSON text.
fn policy(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => serde_json::from_str(s).ok(),
        other @ Value::Object(_) => Some(other.clone()),
        _ => None,
    }
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Principals an `Allow` statement grants to: `*` or `{"AWS": …}` values.
fn allowed_principals(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for st in doc.get("Statement").map(as_list).unwrap_or_default() {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        match st.get("Principal") {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Object(m)) => {
                if let Some(aws) = m.get("AWS") {
                    for p in as_list(aws) {
                        if let Some(s) = p.as_str() {
                            out.push(s.to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The account id in an ARN or a bare 12-digit id.
fn account_of(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    let mut parts = principal.split(':');
    if parts.next()? != "arn" {
        return None;
    }
    parts.nth(3).filter(|a| !a.is_empty())
}

fn foreign(principal: &str, own: &str) -> bool {
    principal == "*" || account_of(principal).is_some_and(|a| a != own)
}

fn caller_is_user(e: &CtEvent) -> bool {
    matches!(e.identity_type(), "IAMUser" | "Root")
}

fn other_user(e: &CtEvent) -> Option<Hit> {
    let target = e.req_str("userName")?;
    if target == e.user_name() && e.identity_type() == "IAMUser" {
        return None;
    }
    Hit::on(target).map(|h| h.with("target_user", target))
}

fn walk<'v>(v: &'v Value, f: &mut dyn FnMut(&'v serde_json::Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            f(m);
            for x in m.values() {
                walk(x, f);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

const SENSITIVE_PORTS: &[i64] = &[
    20, 21, 22, 23, 25, 445, 1433, 1521, 2375, 2379, 3306, 3389, 5432, 5900, 5985, 5986, 6379,
    9200, 11211, 27017,
];

fn check_open_ingress(e: &CtEvent) -> Option<Hit> {
    let r = req(e)?;
    let mut found: Option<(String, String)> = None;
    walk(r, &mut |m| {
        if found.is_some() {
            return;
        }
        let proto = m.get("ipProtocol").and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        });
        let from = m.get("fromPort").and_then(Value::as_i64);
        let to = m.get("toPort").and_then(Value::as_i64).or(from);
        if proto.is_none() && from.is_none() {
            return;
        }
        let all_ports = proto.as_deref() == Some("-1") || (from == Some(0) && to == Some(65535));
        let mut open_cidr = None;
        walk(&Value::Object(m.clone()), &mut |inner| {
            for k in ["cidrIp", "cidrIpv6", "cidrIpv4"] {
                if let Some(c) = inner.get(k).and_then(Value::as_str)
                    && c.ends_with("/0")
                {
                    open_cidr = Some(c.to_owned());
                }
            }
        });
        let Some(cidr) = open_cidr else { return };
        let port_hit = match (from, to) {
            _ if all_ports => Some("all".to_owned()),
            (Some(f), Some(t)) => SENSITIVE_PORTS
                .iter()
                .find(|p| (f..=t).contains(p))
                .map(|p| p.to_string()),
            _ => None,
        };
        if let Some(p) = port_hit {
            found = Some((cidr, p));
        }
    });
    let (cidr, port) = found?;
    let group = e
        .req_str("groupId")
        .or_else(|| e.req_str("groupName"))
        .unwrap_or("security-group");
    Hit::on(group).map(|h| h.with("cidr", cidr).with("port", port))
}

fn public_access_disabled(e: &CtEvent) -> bool {
    if e.event_name().starts_with("Delete") {
        return true;
    }
    let mut off = false;
    if let Some(r) = req(e) {
        walk(r, &mut |m| {
            for k in [
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            ] {
                match m.get(k) {
                    Some(Value::Bool(false)) => off = true,
                    Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => off = true,
                    _ => {}
                }
            }
        });
    }
    off
}

fn bucket(e: &CtEvent) -> String {
    e.req_str("bucketName").unwrap_or("").to_owned()
}

const ALL_USERS: &str = "acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS: &str = "acs.amazonaws.com/groups/global/AuthenticatedUsers";

fn acl_text(e: &CtEvent) -> String {
    req(e).map(|r| r.to_string()).unwrap_or_default()
}

fn anonymous_access(e: &CtEvent) -> Option<Hit> {
    match e.event_name() {
        "PutBucketPolicy" => {
            let doc = policy(
                req(e)?
                    .get("bucketPolicy")
                    .or_else(|| req(e)?.get("policy")),
            )?;
            for st in doc.get("Statement").map(as_list).unwrap_or_default() {
                let allow = st.get("Effect").and_then(Value::as_str) == Some("Allow");
                let anyone = match st.get("Principal") {
                    Some(Value::String(s)) => s == "*",
                    Some(Value::Object(m)) => m
                        .get("AWS")
                        .map(as_list)
                        .unwrap_or_default()
                        .iter()
                        .any(|p| p.as_str() == Some("*")),
                    _ => false,
                };
                if allow && anyone && st.get("Condition").is_none() {
                    return Hit::on(bucket(e))
                        .map(|h| h.with("grant", "bucket policy allows Principal *"));
                }
            }
            None
        }
        _ => {
            let t = acl_text(e);
            let canned = e.req_str("x-amz-acl").unwrap_or("");
            (t.contains(ALL_USERS) || canned.starts_with("public-read"))
                .then(|| Hit::on(bucket(e)).map(|h| h.with("grant", "ACL grants AllUsers")))
                .flatten()
        }
    }
}

fn authenticated_access(e: &CtEvent) -> Option<Hit> {
    let t = acl_text(e);
    let canned = e.req_str("x-amz-acl").unwrap_or("");
    (t.contains(AUTH_USERS) || canned == "authenticated-read")
        .then(|| Hit::on(bucket(e)).map(|h| h.with("grant", "ACL grants AuthenticatedUsers")))
        .flatten()
}

fn unusual_instance_type(t: &str) -> bool {
    let (family, size) = t.split_once('.').unwrap_or((t, ""));
    let accelerated = [
        "p2", "p3", "p4", "p5", "p6", "g3", "g4", "g5", "g6", "inf", "trn", "dl1", "dl2", "f1",
        "f2", "vt1", "x1", "x2", "u-",
    ];
    let big = size == "metal"
        || [
            "16xlarge",
            "18xlarge",
            "24xlarge",
            "32xlarge",
            "48xlarge",
            "56xlarge",
            "96xlarge",
            "112xlarge",
        ]
        .contains(&size);
    accelerated.iter().any(|p| family.starts_with(p)) || big
}

fn singles() -> Vec<Single> {
    vec![
        Single {
            type_name: "Stealth:IAMUser/CloudTrailLoggingDisabled",
            source: "cloudtrail.amazonaws.com",
            names: &["StopLogging", "DeleteTrail"],
            check: |e| {
                let trail = e.req_str("name").unwrap_or("trail");
                Hit::on(trail).map(|h| h.with("trail", trail))
            },
        },
        Single {
            type_name: "Stealth:IAMUser/CloudTrailLoggingDisabled",
            source: "cloudtrail.amazonaws.com",
            names: &["PutEventSelectors"],
            check: |e| {
                let r = req(e)?;
                let trail = str_at(r, &["trailName"]).unwrap_or("trail").to_owned();
                if let Some(sel) = r.get("eventSelectors").and_then(Value::as_array) {
                    let mgmt = sel.iter().any(|s| {
                        s.get("includeManagementEvents")
                            .and_then(Value::as_bool)
                            .unwrap_or(true)
                    });
                    if !mgmt {
                        return Hit::on(trail.clone()).map(|h| {
                            h.with("trail", trail)
                                .with("change", "management events excluded")
                        });
                    }
                }
                if let Some(adv) = r.get("advancedEventSelectors").and_then(Value::as_array) {
                    let mgmt = adv.to_string_lossy_contains("Management");
                    if !mgmt {
                        return Hit::on(trail.clone()).map(|h| {
                            h.with("trail", trail)
                                .with("change", "advanced selectors without management events")
                        });
                    }
                }
                None
            },
        },
        Single {
            type_name: "Stealth:IAMUser/PasswordPolicyChange",
            source: "iam.amazonaws.com",
            names: &["DeleteAccountPasswordPolicy", "UpdateAccountPasswordPolicy"],
            check: |e| {
                if e.event_name() == "UpdateAccountPasswordPolicy" {
                    let len = req(e)
                        .and_then(|r| r.get("minimumPasswordLength"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    if len >= 14 {
                        return None;
                    }
                    return Hit::on(e.account_id())
                        .map(|h| h.with("minimum_password_length", len.to_string()));
                }
                Hit::on(e.account_id()).map(|h| h.with("change", "password policy deleted"))
            },
        },
        Single {
            type_name: "Stealth:S3/ServerAccessLoggingDisabled",
            source: "s3.amazonaws.com",
            names: &["PutBucketLogging"],
            check: |e| {
                let r = req(e)?;
                let status = r.get("BucketLoggingStatus")?;
                if status.get("LoggingEnabled").is_some() {
                    None
                } else {
                    Hit::on(bucket(e))
                }
            },
        },
        Single {
            type_name: "Policy:S3/AccountBlockPublicAccessDisabled",
            source: "s3.amazonaws.com",
            names: &[
                "PutAccountPublicAccessBlock",
                "DeleteAccountPublicAccessBlock",
            ],
            check: |e| {
                public_access_disabled(e)
                    .then(|| Hit::on(e.account_id()))
                    .flatten()
            },
        },
        Single {
            type_name: "Policy:S3/BucketBlockPublicAccessDisabled",
            source: "s3.amazonaws.com",
            names: &[
                "PutBucketPublicAccessBlock",
                "DeleteBucketPublicAccessBlock",
            ],
            check: |e| {
                public_access_disabled(e)
                    .then(|| Hit::on(bucket(e)))
                    .flatten()
            },
        },
        Single {
            type_name: "Policy:S3/BucketAnonymousAccessGranted",
            source: "s3.amazonaws.com",
            names: &["PutBucketPolicy", "PutBucketAcl"],
            check: anonymous_access,
        },
        Single {
            type_name: "Policy:S3/BucketPublicAccessGranted",
            source: "s3.amazonaws.com",
            names: &["PutBucketAcl"],
            check: authenticated_access,
        },
        Single {
            type_name: "CredentialAccess:EC2/UnsecuredCredentials",
            source: "ec2.amazonaws.com",
            names: &["GetPasswordData"],
            check: |e| Hit::by_caller(e, e.req_str("instanceId").unwrap_or("instance")),
        },
        Single {
            type_name: "DefenseImpairment:EC2/DisableOrModifyTools",
            source: "ec2.amazonaws.com",
            names: &["DeleteFlowLogs"],
            check: |e| {
                let ids = req(e).map(|r| r.to_string()).unwrap_or_default();
                Hit::on(e.account_id()).map(|h| h.with("deleted", ids))
            },
        },
        Single {
            type_name: "DefenseImpairment:EC2/DisableOrModifyTools",
            source: "route53resolver.amazonaws.com",
            names: &[
                "DeleteResolverQueryLogConfig",
                "DisassociateResolverQueryLogConfig",
            ],
            check: |e| {
                let id = e
                    .req_str("resolverQueryLogConfigId")
                    .unwrap_or("query-log-config");
                Hit::on(id).map(|h| h.with("deleted", "Route 53 Resolver query logging"))
            },
        },
        Single {
            type_name: "DefenseImpairment:Organizations/ModifyCloudResourceHierarchy",
            source: "organizations.amazonaws.com",
            names: &["LeaveOrganization", "RemoveAccountFromOrganization"],
            check: |e| Hit::on(e.account_id()),
        },
        Single {
            type_name: "DefenseImpairment:GuardDuty/DetectorModified",
            source: "guardduty.amazonaws.com",
            names: &[
                "DeleteDetector",
                "UpdateDetector",
                "CreateIPSet",
                "UpdateIPSet",
                "CreateFilter",
                "DisassociateFromMasterAccount",
                "DisassociateFromAdministratorAccount",
                "StopMonitoringMembers",
                "DeleteMembers",
            ],
            check: |e| {
                let r = req(e);
                let keep = match e.event_name() {
                    "UpdateDetector" => {
                        r.and_then(|r| r.get("enable")).and_then(Value::as_bool) == Some(false)
                    }
                    "CreateFilter" => r
                        .and_then(|r| r.get("action"))
                        .and_then(Value::as_str)
                        .is_some_and(|a| a.eq_ignore_ascii_case("ARCHIVE")),
                    _ => true,
                };
                keep.then(|| {
                    Hit::on(e.req_str("detectorId").unwrap_or("detector"))
                        .map(|h| h.with("change", e.event_name()))
                })
                .flatten()
            },
        },
        Single {
            type_name: "CredentialAccess:SecretsManager/BulkSecretRetrieval",
            source: "secretsmanager.amazonaws.com",
            names: &["BatchGetSecretValue"],
            check: |e| Hit::on(e.principal()).map(|h| h.with("api", "BatchGetSecretValue")),
        },
        Single {
            type_name: "Execution:EC2/UnusualInstanceLaunch",
            source: "ec2.amazonaws.com",
            names: &["RunInstances"],
            check: |e| {
                let t = e.req_str("instanceType")?;
                unusual_instance_type(t)
                    .then(|| {
                        Hit::by_caller(e, t).map(|h| {
                            h.with("instance_type", t)
                                .with("result", e.error_code().unwrap_or("launched"))
                        })
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "Execution:EC2/UserDataModified",
            source: "ec2.amazonaws.com",
            names: &["ModifyInstanceAttribute"],
            check: |e| {
                let r = req(e)?;
                let user_data =
                    r.get("userData").is_some() || str_at(r, &["attribute"]) == Some("userData");
                user_data
                    .then(|| Hit::on(e.req_str("instanceId").unwrap_or("instance")))
                    .flatten()
            },
        },
        Single {
            type_name: "Execution:SSM/SendCommandMultipleInstances",
            source: "ssm.amazonaws.com",
            names: &["SendCommand"],
            check: |e| {
                let ids = req(e)?.get("instanceIds")?.as_array()?;
                (ids.len() >= 2)
                    .then(|| {
                        Hit::on(e.principal()).map(|h| {
                            h.with("instances", ids.len().to_string())
                                .with("document", e.req_str("documentName").unwrap_or(""))
                        })
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "DefenseImpairment:EC2/SecurityGroupOpenToInternet",
            source: "ec2.amazonaws.com",
            names: &["AuthorizeSecurityGroupIngress"],
            check: check_open_ingress,
        },
        Single {
            type_name: "Exfiltration:EC2/AMISharedExternally",
            source: "ec2.amazonaws.com",
            names: &["ModifyImageAttribute"],
            check: |e| {
                let items = req(e)?
                    .get("launchPermission")?
                    .get("add")?
                    .get("items")?
                    .as_array()?;
                let to: Vec<String> = items
                    .iter()
                    .filter_map(|i| {
                        i.get("userId")
                            .or_else(|| i.get("group"))
                            .and_then(Value::as_str)
                    })
                    .map(str::to_owned)
                    .collect();
                (!to.is_empty())
                    .then(|| {
                        Hit::on(e.req_str("imageId").unwrap_or("ami"))
                            .map(|h| h.with("shared_with", to.join(",")))
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "Exfiltration:EC2/SnapshotSharedExternally",
            source: "ec2.amazonaws.com",
            names: &["ModifySnapshotAttribute"],
            check: |e| {
                let items = req(e)?
                    .get("createVolumePermission")?
                    .get("add")?
                    .get("items")?
                    .as_array()?;
                let to: Vec<String> = items
                    .iter()
                    .filter_map(|i| {
                        i.get("userId")
                            .or_else(|| i.get("group"))
                            .and_then(Value::as_str)
                    })
                    .map(str::to_owned)
                    .collect();
                (!to.is_empty())
                    .then(|| {
                        Hit::on(e.req_str("snapshotId").unwrap_or("snapshot"))
                            .map(|h| h.with("shared_with", to.join(",")))
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "Exfiltration:RDS/SnapshotSharedExternally",
            source: "rds.amazonaws.com",
            names: &[
                "ModifyDBSnapshotAttribute",
                "ModifyDBClusterSnapshotAttribute",
            ],
            check: |e| {
                let r = req(e)?;
                if str_at(r, &["attributeName"]) != Some("restore") {
                    return None;
                }
                let add: Vec<String> = r
                    .get("valuesToAdd")?
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                let id = e
                    .req_str("dBSnapshotIdentifier")
                    .or_else(|| e.req_str("dBClusterSnapshotIdentifier"))
                    .unwrap_or("snapshot");
                (!add.is_empty())
                    .then(|| Hit::on(id).map(|h| h.with("shared_with", add.join(","))))
                    .flatten()
            },
        },
        Single {
            type_name: "Impact:Bedrock/ModelAccessEnabled",
            source: "bedrock.amazonaws.com",
            names: &[
                "PutUseCaseForModelAccess",
                "CreateFoundationModelAgreement",
                "PutFoundationModelEntitlement",
            ],
            check: |e| Hit::on(e.principal()).map(|h| h.with("api", e.event_name())),
        },
        Single {
            type_name: "InitialAccess:IAMUser/ConsoleLoginWithoutMFA",
            source: "signin.amazonaws.com",
            names: &["ConsoleLogin"],
            check: |e| {
                let ok = e
                    .response()
                    .and_then(|r| r.get("ConsoleLogin"))
                    .and_then(Value::as_str)
                    == Some("Success");
                let mfa = e
                    .additional()
                    .and_then(|a| a.get("MFAUsed"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                (ok && mfa.eq_ignore_ascii_case("no") && caller_is_user(e))
                    .then(|| Hit::on(e.principal()))
                    .flatten()
            },
        },
        Single {
            type_name: "LateralMovement:EC2/InstanceConnectKeyPushed",
            source: "ec2-instance-connect.amazonaws.com",
            names: &["SendSSHPublicKey"],
            check: |e| {
                Hit::by_caller(e, e.req_str("instanceId").unwrap_or("instance"))
                    .map(|h| h.with("os_user", e.req_str("instanceOSUser").unwrap_or("")))
            },
        },
        Single {
            type_name: "LateralMovement:EC2/SerialConsoleKeyPushed",
            source: "ec2-instance-connect.amazonaws.com",
            names: &["SendSerialConsoleSSHPublicKey"],
            check: |e| Hit::by_caller(e, e.req_str("instanceId").unwrap_or("instance")),
        },
        Single {
            type_name: "LateralMovement:EC2/SerialConsoleKeyPushed",
            source: "ec2.amazonaws.com",
            names: &["EnableSerialConsoleAccess"],
            check: |e| {
                Hit::on(e.account_id()).map(|h| h.with("change", "serial console access enabled"))
            },
        },
        Single {
            type_name: "Persistence:IAMRole/CrossAccountTrust",
            source: "iam.amazonaws.com",
            names: &["UpdateAssumeRolePolicy", "CreateRole"],
            check: |e| {
                let r = req(e)?;
                let doc = policy(
                    r.get("policyDocument")
                        .or_else(|| r.get("assumeRolePolicyDocument")),
                )?;
                let own = e.account_id();
                let bad: Vec<String> = allowed_principals(&doc)
                    .into_iter()
                    .filter(|p| foreign(p, own))
                    .collect();
                (!bad.is_empty())
                    .then(|| {
                        Hit::on(e.req_str("roleName").unwrap_or("role"))
                            .map(|h| h.with("trusted", bad.join(",")))
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "Persistence:IAMUser/AccessKeyCreatedForOtherUser",
            source: "iam.amazonaws.com",
            names: &["CreateAccessKey"],
            check: other_user,
        },
        Single {
            type_name: "Persistence:IAM/AdministratorPolicyAttached",
            source: "iam.amazonaws.com",
            names: &[
                "AttachUserPolicy",
                "AttachRolePolicy",
                "AttachGroupPolicy",
                "PutUserPolicy",
                "PutRolePolicy",
                "PutGroupPolicy",
            ],
            check: |e| {
                let r = req(e)?;
                let target = e
                    .req_str("userName")
                    .or_else(|| e.req_str("roleName"))
                    .or_else(|| e.req_str("groupName"))
                    .unwrap_or("principal");
                if let Some(arn) = str_at(r, &["policyArn"]) {
                    let admin = arn.ends_with(":policy/AdministratorAccess")
                        || arn.ends_with(":policy/IAMFullAccess");
                    return admin
                        .then(|| Hit::on(target).map(|h| h.with("policy", arn)))
                        .flatten();
                }
                let doc = policy(r.get("policyDocument"))?;
                let star = doc
                    .get("Statement")
                    .map(as_list)
                    .unwrap_or_default()
                    .iter()
                    .any(|st| {
                        st.get("Effect").and_then(Value::as_str) == Some("Allow")
                            && st
                                .get("Action")
                                .map(as_list)
                                .unwrap_or_default()
                                .iter()
                                .any(|a| a.as_str() == Some("*"))
                            && st
                                .get("Resource")
                                .map(as_list)
                                .unwrap_or_default()
                                .iter()
                                .any(|a| a.as_str() == Some("*"))
                    });
                star.then(|| Hit::on(target).map(|h| h.with("policy", "inline Allow * on *")))
                    .flatten()
            },
        },
        Single {
            type_name: "Persistence:IAMUser/LoginProfileCreated",
            source: "iam.amazonaws.com",
            names: &["CreateLoginProfile"],
            check: other_user,
        },
        Single {
            type_name: "PrivilegeEscalation:IAMUser/LoginProfileUpdated",
            source: "iam.amazonaws.com",
            names: &["UpdateLoginProfile"],
            check: other_user,
        },
        Single {
            type_name: "Persistence:Lambda/ResourcePolicyOpened",
            source: "lambda.amazonaws.com",
            names: &["AddPermission"],
            check: |e| {
                let p = e.req_str("principal")?;
                let f = e.req_str("functionName").unwrap_or("function");
                foreign(p, e.account_id())
                    .then(|| Hit::on(f).map(|h| h.with("principal", p)))
                    .flatten()
            },
        },
        Single {
            type_name: "Persistence:Lambda/LayerAttached",
            source: "lambda.amazonaws.com",
            names: &["UpdateFunctionConfiguration"],
            check: |e| {
                let layers: Vec<String> = req(e)?
                    .get("layers")?
                    .as_array()?
                    .iter()
                    .filter_map(|l| l.as_str().or_else(|| l.get("arn").and_then(Value::as_str)))
                    .map(str::to_owned)
                    .collect();
                if layers.is_empty() {
                    return None;
                }
                let external = layers
                    .iter()
                    .any(|l| account_of(l).is_some_and(|a| a != e.account_id()));
                (external || caller_is_user(e))
                    .then(|| {
                        Hit::on(e.req_str("functionName").unwrap_or("function"))
                            .map(|h| h.with("layers", layers.join(",")))
                    })
                    .flatten()
            },
        },
        Single {
            type_name: "Persistence:Lambda/FunctionCodeUpdated",
            source: "lambda.amazonaws.com",
            names: &["UpdateFunctionCode"],
            check: |e| {
                caller_is_user(e)
                    .then(|| Hit::on(e.req_str("functionName").unwrap_or("function")))
                    .flatten()
            },
        },
        Single {
            type_name: "Persistence:IAMRolesAnywhere/TrustAnchorCreated",
            source: "rolesanywhere.amazonaws.com",
            names: &["CreateTrustAnchor", "CreateProfile"],
            check: |e| {
                Hit::on(e.req_str("name").unwrap_or("trust-anchor"))
                    .map(|h| h.with("api", e.event_name()))
            },
        },
        Single {
            type_name: "Persistence:IAMUser/FederationTokenIssued",
            source: "sts.amazonaws.com",
            names: &["GetFederationToken"],
            check: |e| {
                Hit::on(e.principal())
                    .map(|h| h.with("federated_name", e.req_str("name").unwrap_or("")))
            },
        },
    ]
}

/// ASCII case-insensitive substring test without allocating (runs on every
/// event's user agent). `needle` must be lowercase.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else { return true };
    let mut at = 0;
    while let Some(p) = memchr::memchr2(first, first.to_ascii_uppercase(), &h[at..]) {
        let i = at + p;
        if h.len() - i >= n.len() && h[i..i + n.len()].eq_ignore_ascii_case(n) {
            return true;
        }
        at = i + 1;
    }
    false
}

trait LossyContains {
    fn to_string_lossy_contains(&self, needle: &str) -> bool;
}
impl LossyContains for Vec<Value> {
    fn to_string_lossy_contains(&self, needle: &str) -> bool {
        self.iter().any(|v| v.to_string().contains(needle))
    }
}

fn countings() -> Vec<Counting> {
    vec![
        Counting {
            type_name: "CredentialAccess:SecretsManager/BulkSecretRetrieval",
            source: "secretsmanager.amazonaws.com",
            names: &["GetSecretValue"],
            window_secs: 3600,
            threshold: 10,
            select: |e| Some(vec![e.req_str("secretId").unwrap_or("").to_owned()]),
        },
        Counting {
            type_name: "CredentialAccess:SSM/BulkParameterDecryption",
            source: "ssm.amazonaws.com",
            names: &["GetParameter", "GetParameters", "GetParametersByPath"],
            window_secs: 3600,
            threshold: 10,
            select: |e| {
                let r = e.request()?;
                if r.get("withDecryption").and_then(Value::as_bool) != Some(true) {
                    return None;
                }
                let mut names: Vec<String> = r
                    .get("names")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                for k in ["name", "path"] {
                    if let Some(n) = r.get(k).and_then(Value::as_str) {
                        names.push(n.to_owned());
                    }
                }
                Some(names)
            },
        },
        Counting {
            type_name: "Discovery:EC2/UserDataRetrieval",
            source: "ec2.amazonaws.com",
            names: &["DescribeInstanceAttribute"],
            window_secs: 3600,
            threshold: 5,
            select: |e| {
                let r = e.request()?;
                (str_at(r, &["attribute"]) == Some("userData")).then(|| {
                    vec![format!(
                        "{}#{}",
                        e.req_str("instanceId").unwrap_or(""),
                        e.event_id()
                    )]
                })
            },
        },
        Counting {
            type_name: "Execution:SSM/SendCommandMultipleInstances",
            source: "ssm.amazonaws.com",
            names: &["SendCommand"],
            window_secs: 3600,
            threshold: 3,
            select: |e| {
                Some(
                    e.request()?
                        .get("instanceIds")?
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                )
            },
        },
        Counting {
            type_name: "Execution:SSM/StartSessionMultipleInstances",
            source: "ssm.amazonaws.com",
            names: &["StartSession"],
            window_secs: 3600,
            threshold: 3,
            select: |e| Some(vec![e.req_str("target")?.to_owned()]),
        },
    ]
}

fn lookup(name: &str) -> &'static FindingType {
    catalog::get(name).unwrap_or_else(|| {
        panic!("rule refers to {name}, which the catalog lacks (a test checks this)")
    })
}

const S3_DISCOVERY: &[&str] = &[
    "ListObjects",
    "ListObjectsV2",
    "ListObjectVersions",
    "ListBuckets",
    "ListMultipartUploads",
    "HeadBucket",
    "GetBucketAcl",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketVersioning",
    "GetBucketTagging",
    "GetBucketWebsite",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketPublicAccessBlock",
    "GetObjectAcl",
    "GetObjectTagging",
];
const S3_READ: &[&str] = &[
    "GetObject",
    "CopyObject",
    "UploadPartCopy",
    "SelectObjectContent",
    "GetObjectTorrent",
    "HeadObject",
];

impl CtRules {
    pub fn new() -> Self {
        let singles: Vec<_> = singles()
            .into_iter()
            .map(|r| {
                let t = lookup(r.type_name);
                (r, t)
            })
            .collect();
        let counting: Vec<_> = countings()
            .into_iter()
            .map(|r| {
                let t = lookup(r.type_name);
                (r, t)
            })
            .collect();
        let mut index: foldhash::HashMap<&'static str, Vec<RuleRef>> = Default::default();
        for (i, (r, _)) in singles.iter().enumerate() {
            for n in r.names {
                index.entry(n).or_default().push(RuleRef::Single(i));
            }
        }
        for (i, (r, _)) in counting.iter().enumerate() {
            for n in r.names {
                index.entry(n).or_default().push(RuleRef::Counting(i));
            }
        }
        CtRules {
            singles,
            counting,
            index,
            ip_used_by_others: HashSet::new(),
            pending_inside: Vec::new(),
            console: ConsoleLogins::default(),
            geoip: None,
        }
    }

    /// With a geolocation database, which turns `ConsoleLoginSuccess.B` on.
    pub fn with_geoip(geoip: Option<Arc<GeoIp>>) -> Self {
        CtRules {
            geoip,
            ..CtRules::new()
        }
    }

    /// The type names this rule set can raise.
    pub fn type_names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self
            .singles
            .iter()
            .map(|(_, t)| t.name)
            .chain(self.counting.iter().map(|(_, t)| t.name))
            .collect();
        v.extend([
            "Policy:IAMUser/RootCredentialUsage",
            "PenTest:IAMUser/KaliLinux",
            "PenTest:IAMUser/ParrotLinux",
            "PenTest:IAMUser/PentooLinux",
            "PenTest:S3/KaliLinux",
            "PenTest:S3/ParrotLinux",
            "PenTest:S3/PentooLinux",
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
            "Discovery:S3/MaliciousIPCaller",
            "Discovery:S3/MaliciousIPCaller.Custom",
            "Discovery:S3/TorIPCaller",
            "Exfiltration:S3/MaliciousIPCaller",
            "Impact:S3/MaliciousIPCaller",
            "Recon:IAMUser/MaliciousIPCaller",
            "Recon:IAMUser/MaliciousIPCaller.Custom",
            "Recon:IAMUser/TorIPCaller",
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
            "UnauthorizedAccess:IAMUser/TorIPCaller",
            "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
            "UnauthorizedAccess:S3/TorIPCaller",
        ]);
        if self.geoip.is_some() {
            v.push(console_login::TYPE);
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    fn base(t: &'static FindingType, e: &CtEvent, time: i64, resource: &str) -> Signal {
        let mut s = Signal::new(t, e.account_id(), e.region(), time, resource)
            .principal(e.actor())
            .address(e.source_ip())
            .event(e.event_id())
            .detail(
                "api",
                format!(
                    "{}:{}",
                    e.event_source().trim_end_matches(".amazonaws.com"),
                    e.event_name()
                ),
            );
        if e.actor() != e.principal() {
            s = s.detail("session", e.principal());
        }
        s
    }

    /// Runs every rule that can match `e`.
    pub fn on_event(
        &mut self,
        env: &Env,
        e: &CtEvent,
        time: i64,
        win: &mut Windows,
        out: &mut Vec<Signal>,
    ) {
        let ip: Option<IpAddr> = e.source_ip().parse().ok();
        if let Some(ip) = ip
            && env.trusted.ips.get(ip).is_some()
        {
            return;
        }
        self.every_event(env, e, ip, time, out);
        self.console
            .on_event(self.geoip.as_deref(), e, ip, time, out);
        let Some(refs) = self.index.get(e.event_name()) else {
            return;
        };
        for &r in refs {
            match r {
                RuleRef::Single(i) => {
                    let (rule, t) = &self.singles[i];
                    if rule.source != e.event_source() {
                        continue;
                    }
                    if let Some(hit) = (rule.check)(e) {
                        let mut s = Self::base(t, e, time, &hit.resource);
                        for (k, v) in hit.details {
                            s = s.detail(k, v);
                        }
                        if let Some(t) = &hit.target {
                            s = s.target(t);
                        }
                        if let Some(err) = e.error_code() {
                            s = s.detail("error_code", err);
                        }
                        if let Some(sev) = hit.severity {
                            s = s.severity(sev);
                        }
                        out.push(s);
                    }
                }
                RuleRef::Counting(i) => {
                    let (rule, t) = &self.counting[i];
                    if rule.source != e.event_source() {
                        continue;
                    }
                    let Some(values) = (rule.select)(e) else {
                        continue;
                    };
                    let key = format!("{}|{}|{}", t.name, e.account_id(), e.principal());
                    let tally = win.tally(key, time, rule.window_secs);
                    tally.note_values(&values, e.event_id());
                    if tally.distinct.len() >= rule.threshold {
                        let mut s = Self::base(t, e, time, e.principal())
                            .detail("distinct_in_window", tally.distinct.len());
                        if !tally.fired {
                            // The crossing signal stands for every event counted so far.
                            tally.fired = true;
                            s = s.count(tally.count);
                            s.since = Some(tally.first);
                            s.events = tally.events.clone();
                        }
                        out.push(s);
                    }
                }
            }
        }
    }

    fn every_event(
        &mut self,
        env: &Env,
        e: &CtEvent,
        ip: Option<IpAddr>,
        time: i64,
        out: &mut Vec<Signal>,
    ) {
        let is_s3 = e.event_source() == "s3.amazonaws.com";
        if e.identity_type() == "Root"
            && e.invoked_by().is_empty()
            && e.rec.event_type.as_deref() != Some("AwsServiceEvent")
        {
            out.push(Self::base(
                lookup("Policy:IAMUser/RootCredentialUsage"),
                e,
                time,
                e.principal(),
            ));
        }
        let ua = e.user_agent();
        if !ua.is_empty() {
            for (needle, iam, s3) in [
                ("kali", "PenTest:IAMUser/KaliLinux", "PenTest:S3/KaliLinux"),
                (
                    "parrot",
                    "PenTest:IAMUser/ParrotLinux",
                    "PenTest:S3/ParrotLinux",
                ),
                (
                    "pentoo",
                    "PenTest:IAMUser/PentooLinux",
                    "PenTest:S3/PentooLinux",
                ),
            ] {
                if contains_ci(ua, needle) {
                    let t = lookup(if is_s3 { s3 } else { iam });
                    let res = if is_s3 {
                        bucket(e)
                    } else {
                        e.principal().to_owned()
                    };
                    out.push(Self::base(t, e, time, &res).detail("user_agent", ua));
                }
            }
        }
        let Some(ip) = ip else { return };
        if !is_public(ip) {
            return;
        }
        if let Some(hit) = env.intel.ips.get(ip) {
            let name = e.event_name();
            let recon = name.starts_with("List")
                || name.starts_with("Describe")
                || name.starts_with("Get")
                || name.starts_with("Head");
            let t = match (hit.kind, is_s3) {
                (ListKind::TorExit | ListKind::TorRelay, true) if S3_DISCOVERY.contains(&name) => {
                    "Discovery:S3/TorIPCaller"
                }
                (ListKind::TorExit | ListKind::TorRelay, true) => {
                    "UnauthorizedAccess:S3/TorIPCaller"
                }
                (ListKind::TorExit | ListKind::TorRelay, false) if recon => {
                    "Recon:IAMUser/TorIPCaller"
                }
                (ListKind::TorExit | ListKind::TorRelay, false) => {
                    "UnauthorizedAccess:IAMUser/TorIPCaller"
                }
                (ListKind::Custom, true) if S3_DISCOVERY.contains(&name) => {
                    "Discovery:S3/MaliciousIPCaller.Custom"
                }
                (ListKind::Custom, true) => "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
                (ListKind::Custom, false) if recon => "Recon:IAMUser/MaliciousIPCaller.Custom",
                (ListKind::Custom, false) => "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
                (_, true) if S3_DISCOVERY.contains(&name) => "Discovery:S3/MaliciousIPCaller",
                (_, true) if S3_READ.contains(&name) => "Exfiltration:S3/MaliciousIPCaller",
                (_, true) => "Impact:S3/MaliciousIPCaller",
                (_, false) if recon => "Recon:IAMUser/MaliciousIPCaller",
                (_, false) => "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
            };
            let res = if is_s3 {
                bucket(e)
            } else {
                e.principal().to_owned()
            };
            out.push(
                Self::base(lookup(t), e, time, &res)
                    .detail("threat_list", &hit.list)
                    .detail("threat_list_entry", &hit.entry)
                    .detail("threat_kind", hit.kind.as_str()),
            );
        }
        match e.instance_session() {
            Some(instance) => {
                let vpce_account = e.rec.vpc_endpoint_account_id.as_deref().unwrap_or("");
                if !vpce_account.is_empty() && vpce_account != e.caller_account_id() {
                    out.push(Self::base(lookup("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"), e, time, instance).detail("vpc_endpoint_account", vpce_account));
                } else if !env.aws.contains(ip) {
                    out.push(Self::base(lookup("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"), e, time, instance).detail("instance", instance));
                } else if self.pending_inside.len() < 100_000 {
                    let s = Self::base(
                        lookup(
                            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
                        ),
                        e,
                        time,
                        instance,
                    )
                    .detail("instance", instance)
                    .detail(
                        "why",
                        "the address is also used by principals that are not this instance",
                    );
                    self.pending_inside.push((ip, s));
                }
            }
            None => {
                if self.ip_used_by_others.len() < 1_000_000
                    && e.invoked_by().is_empty()
                    && e.identity_type() != "AWSService"
                {
                    self.ip_used_by_others.insert(ip);
                }
            }
        }
    }

    /// The run-wide state a `--follow` checkpoint carries over a restart
    /// (taken after [`CtRules::finish`], so nothing is pending).
    pub fn carried(&self) -> CtCarried {
        let mut ips: Vec<IpAddr> = self.ip_used_by_others.iter().copied().collect();
        ips.sort_unstable();
        CtCarried {
            ip_used_by_others: ips,
            console_logins: self.console.carried(),
        }
    }

    /// Takes back what [`CtRules::carried`] saved.
    pub fn restore(&mut self, carried: CtCarried) {
        self.ip_used_by_others.extend(carried.ip_used_by_others);
        self.console.restore(carried.console_logins);
    }

    /// Once per run: that `ConsoleLoginSuccess.B` was off (no `--geoip`)
    /// although there were console logins to judge.
    pub fn take_notice(&mut self) -> Option<String> {
        self.console.take_notice()
    }

    /// Folds another shard's run-wide state into this one.
    pub fn merge(&mut self, other: CtRules) {
        self.ip_used_by_others.extend(other.ip_used_by_others);
        self.pending_inside.extend(other.pending_inside);
        self.console.merge(other.console);
    }

    /// Decisions that need the whole run: instance credentials used from an
    /// AWS address that other principals also use.
    pub fn finish(&mut self, out: &mut Vec<Signal>) {
        self.console.finish(out);
        for (ip, s) in self.pending_inside.drain(..) {
            if self.ip_used_by_others.contains(&ip) {
                out.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_a_catalog_type() {
        let r = CtRules::new();
        for n in r.type_names() {
            assert!(catalog::get(n).is_some(), "{n}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(
            account_of("arn:aws:iam::193672423079:root"),
            Some("193672423079")
        );
        assert!(foreign("*", "1"));
        assert!(!foreign("arn:aws:iam::111111111111:role/x", "111111111111"));
        assert!(contains_ci("Linux/6.1.0-KALI7-amd64", "kali"));
        assert!(!contains_ci("Linux/6.1.0-kal", "kali"));
        assert!(unusual_instance_type("p2.xlarge"));
        assert!(unusual_instance_type("c5.metal"));
        assert!(!unusual_instance_type("t3.micro"));
        assert!(!unusual_instance_type("m5.large"));
    }
}
