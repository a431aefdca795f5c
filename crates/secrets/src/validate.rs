//! Live validation (`--validate`, off by default): asking the provider
//! whether a found credential works. A live key is an incident; a dead one
//! is clean-up. Validation sends the secret to its provider, so it is never
//! done without being asked, and each credential is checked once per scan.
//!
//! Each provider is a [`Validator`]; [`validate_findings`] groups findings,
//! hands each validator the ones it knows, and writes the answers onto the
//! findings. AWS is the first: STS `GetCallerIdentity`, which needs no
//! permission at all, so any working key answers it, and which changes
//! nothing in the account.

use crate::finding::Finding;
use rampart_aws_sign::{SigningInput, amz_date_now, host_of, sign_v4, xml_text};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// What the provider said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationStatus {
    /// The credential works: revoke it now.
    Valid,
    /// The provider refused it (revoked, never real, or a typo).
    Invalid,
    /// No answer either way: network error, throttling, or the pair is
    /// incomplete (a key ID without its secret).
    Unknown,
}

/// A validator's answer, attached to the finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validation {
    pub status: ValidationStatus,
    /// Which check ran (`aws-sts`).
    pub validator: String,
    /// Who the credential is, when the provider says (`arn:aws:iam::…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// In plain words: why it is valid, invalid or unknown.
    pub detail: String,
}

/// One provider's live check.
pub trait Validator: Send + Sync {
    /// Short name shown in results (`aws-sts`).
    fn name(&self) -> &'static str;
    /// Whether this validator checks findings of this rule.
    fn handles(&self, rule_id: &str) -> bool;
    /// Validates the findings of one file that this validator handles, and
    /// returns an answer per finding index (indexes into `findings`).
    /// Several findings may make one credential (an AWS key ID and its
    /// secret); the validator pairs them.
    fn validate(&self, findings: &[&Finding]) -> Vec<(usize, Validation)>;
}

/// Runs every validator over the findings it handles, file by file, and
/// stores the answers in [`Finding::validation`].
pub fn validate_findings(findings: &mut [Finding], validators: &[Box<dyn Validator>]) {
    for validator in validators {
        let mut by_file: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in findings.iter().enumerate() {
            if validator.handles(&f.rule_id) {
                by_file.entry(f.path.as_str()).or_default().push(i);
            }
        }
        let mut answers: Vec<(usize, Validation)> = Vec::new();
        for indexes in by_file.values() {
            let group: Vec<&Finding> = indexes.iter().map(|&i| &findings[i]).collect();
            for (local, v) in validator.validate(&group) {
                if let Some(&global) = indexes.get(local) {
                    answers.push((global, v));
                }
            }
        }
        for (i, v) in answers {
            findings[i].validation = Some(v);
        }
    }
}

const AWS_KEY_ID_RULE: &str = "aws-access-key-id";
const AWS_SECRET_RULES: &[&str] = &["aws-secret-access-key", "aws-secret-key-near-id"];
/// A file with more candidate secrets than this is not brute-forced against
/// STS: each attempt is a request with a real key ID.
const MAX_SECRETS_PER_KEY: usize = 4;

/// AWS access keys, checked with STS `GetCallerIdentity`.
pub struct AwsStsValidator {
    endpoint: String,
    region: String,
    agent: ureq::Agent,
    /// Answers by (key ID, secret), so a key pasted in ten files is asked
    /// about once.
    cache: std::sync::Mutex<HashMap<(String, String), Validation>>,
}

impl AwsStsValidator {
    /// `endpoint`: STS's address; `None` for AWS's global endpoint
    /// (`https://sts.amazonaws.com`, region `us-east-1`). Tests and
    /// private endpoints (moto, a VPC endpoint) pass their own.
    pub fn new(endpoint: Option<&str>, region: Option<&str>) -> AwsStsValidator {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .user_agent(concat!("rampart-secrets/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        AwsStsValidator {
            endpoint: endpoint
                .unwrap_or("https://sts.amazonaws.com")
                .trim_end_matches('/')
                .to_owned(),
            region: region.unwrap_or("us-east-1").to_owned(),
            agent,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn check(&self, key_id: &str, secret: &str) -> Validation {
        let cache_key = (key_id.to_owned(), secret.to_owned());
        if let Some(v) = lock(&self.cache).get(&cache_key) {
            return v.clone();
        }
        let v = self.call_sts(key_id, secret);
        if v.status != ValidationStatus::Unknown {
            lock(&self.cache).insert(cache_key, v.clone());
        }
        v
    }

    fn call_sts(&self, key_id: &str, secret: &str) -> Validation {
        let unknown = |detail: String| Validation {
            status: ValidationStatus::Unknown,
            validator: "aws-sts".into(),
            identity: None,
            detail,
        };
        let Some(host) = host_of(&self.endpoint) else {
            return unknown(format!(
                "the STS endpoint {:?} is not an http(s) URL",
                self.endpoint
            ));
        };
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        // Posted to the endpoint's own path (a proxy may put STS under one)
        // and signed for exactly that path.
        let url = format!("{}/", self.endpoint.trim_end_matches('/'));
        let path = rampart_aws_sign::canonical_path(
            &rampart_aws_sign::path_of(&url).unwrap_or_else(|| "/".to_owned()),
        );
        let amz_date = amz_date_now();
        let authorization = sign_v4(&SigningInput {
            method: "POST",
            host: &host,
            path: &path,
            query: "",
            content_type: FORM,
            amz_date: &amz_date,
            payload: body.as_bytes(),
            service: "sts",
            region: &self.region,
            key_id,
            secret,
            session_token: None,
        });
        let response = self
            .agent
            .post(&url)
            .header("Content-Type", FORM)
            .header("X-Amz-Date", &amz_date)
            .header("Authorization", &authorization)
            .send(body.as_bytes());
        let mut response = match response {
            Ok(r) => r,
            Err(e) => return unknown(format!("could not reach {}: {e}", self.endpoint)),
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200 => Validation {
                status: ValidationStatus::Valid,
                validator: "aws-sts".into(),
                identity: xml_text(&text, "Arn"),
                detail: match xml_text(&text, "Account") {
                    Some(account) => format!(
                        "the key works (account {account}); deactivate it in IAM now and review CloudTrail for its use"
                    ),
                    None => "the key works; deactivate it in IAM now".into(),
                },
            },
            // STS's answers for a key that does not exist or a secret that
            // does not belong to it.
            400..=403
                if matches!(
                    xml_text(&text, "Code").as_deref(),
                    Some(
                        "InvalidClientTokenId"
                            | "SignatureDoesNotMatch"
                            | "AuthFailure"
                            | "UnrecognizedClientException"
                            | "ExpiredToken"
                    )
                ) =>
            {
                Validation {
                    status: ValidationStatus::Invalid,
                    validator: "aws-sts".into(),
                    identity: None,
                    detail: format!(
                        "AWS refused the key ({})",
                        xml_text(&text, "Code").unwrap_or_default()
                    ),
                }
            }
            _ => unknown(format!(
                "STS answered {status}{}",
                xml_text(&text, "Code")
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )),
        }
    }
}

impl Validator for AwsStsValidator {
    fn name(&self) -> &'static str {
        "aws-sts"
    }

    fn handles(&self, rule_id: &str) -> bool {
        rule_id == AWS_KEY_ID_RULE || AWS_SECRET_RULES.contains(&rule_id)
    }

    fn validate(&self, findings: &[&Finding]) -> Vec<(usize, Validation)> {
        let ids: Vec<usize> = (0..findings.len())
            .filter(|&i| findings[i].rule_id == AWS_KEY_ID_RULE)
            .collect();
        let secrets: Vec<usize> = (0..findings.len())
            .filter(|&i| AWS_SECRET_RULES.contains(&findings[i].rule_id.as_str()))
            .collect();
        let mut out = Vec::new();
        let mut secret_answered: HashMap<usize, Validation> = HashMap::new();
        for &id in &ids {
            // The secrets nearest the key ID first: in a credentials file
            // the secret is the next line.
            let mut candidates = secrets.clone();
            candidates.sort_by_key(|&s| findings[s].line.abs_diff(findings[id].line));
            candidates.dedup_by_key(|s| findings[*s].secret.clone());
            candidates.truncate(MAX_SECRETS_PER_KEY);
            let mut answer = None;
            for &s in &candidates {
                let v = self.check(&findings[id].secret, &findings[s].secret);
                let valid = v.status == ValidationStatus::Valid;
                if valid || !secret_answered.contains_key(&s) {
                    secret_answered.insert(s, v.clone());
                }
                if valid || answer.is_none() {
                    answer = Some(v);
                }
                if valid {
                    break;
                }
            }
            out.push((
                id,
                answer.unwrap_or_else(|| Validation {
                    status: ValidationStatus::Unknown,
                    validator: "aws-sts".into(),
                    identity: None,
                    detail: "no secret access key found in the same file; a key ID alone cannot be checked".into(),
                }),
            ));
        }
        for &s in &secrets {
            out.push((
                s,
                secret_answered.remove(&s).unwrap_or_else(|| Validation {
                    status: ValidationStatus::Unknown,
                    validator: "aws-sts".into(),
                    identity: None,
                    detail:
                        "no access key ID found in the same file; a secret alone cannot be checked"
                            .into(),
                }),
            ));
        }
        out
    }
}

const FORM: &str = rampart_aws_sign::FORM_CONTENT_TYPE;

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_endpoint_is_unknown_never_valid() {
        // Port 9 on loopback: nothing listens (discard is not run here).
        let v = AwsStsValidator::new(Some("http://127.0.0.1:9"), None).check(
            "AKIAQYLPMN5HHHFPZAM2",
            "lPR9+RrxEmlKi+Mf549e3y3FEYVFPqTLkCVeHcKM",
        );
        assert_eq!(v.status, ValidationStatus::Unknown);
        assert!(v.detail.contains("could not reach"), "{}", v.detail);
    }
}
