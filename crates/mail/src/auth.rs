//! Sender checks: SPF, DKIM and DMARC, evaluated with `mail-auth`.
//!
//! A message that fails is still taken (a researcher's broken mail setup
//! must not lose a report) but flagged, and its From address is not trusted
//! for threading (see `rules::decide`).
//!
//! DNS answers come through [`DnsRecords`], a `mail-auth` resolver cache.
//! On a server it starts empty and fills from the system resolver; offline
//! (tests, or a host without DNS) it answers every name it does not hold with
//! "no such record", so no lookup ever leaves the machine.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, DnssecStatus, MX, MessageAuthenticator,
    Parameters, RecordSet, ResolverCache, SpfOutput, SpfResult, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One check's outcome, in the words of RFC 8601 Authentication-Results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    /// Nothing to check (no signature, no record, no client address).
    None,
    TempError,
    PermError,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::SoftFail => "softfail",
            Verdict::Neutral => "neutral",
            Verdict::None => "none",
            Verdict::TempError => "temperror",
            Verdict::PermError => "permerror",
        }
    }
}

/// The three checks of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    pub spf: Verdict,
    pub dkim: Verdict,
    pub dmarc: Verdict,
}

impl Default for AuthResults {
    fn default() -> Self {
        AuthResults {
            spf: Verdict::None,
            dkim: Verdict::None,
            dmarc: Verdict::None,
        }
    }
}

impl AuthResults {
    /// The From address is shown to be forged: DMARC fails, or, for a
    /// domain without DMARC, a DKIM signature fails or SPF fails hard and
    /// nothing passes.
    pub fn sender_failed(&self) -> bool {
        match self.dmarc {
            Verdict::Fail => true,
            Verdict::Pass => false,
            _ => {
                self.dkim != Verdict::Pass
                    && self.spf != Verdict::Pass
                    && (self.dkim == Verdict::Fail || self.spf == Verdict::Fail)
            }
        }
    }

    /// `spf=pass dkim=none dmarc=none`, for logs and the report page.
    pub fn summary(&self) -> String {
        format!(
            "spf={} dkim={} dmarc={}",
            self.spf.as_str(),
            self.dkim.as_str(),
            self.dmarc.as_str()
        )
    }
}

/// What the receiving MTA knew about the SMTP session (for SPF).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The connecting client's address; without it SPF is `none`.
    pub client_ip: Option<IpAddr>,
    /// The EHLO/HELO name the client gave.
    pub helo: Option<String>,
    /// The SMTP MAIL FROM (empty for the null path).
    pub mail_from: Option<String>,
    /// This host's name, for SPF macros.
    pub receiver: String,
}

/// mail-auth asks for names as lower-case FQDNs with the final dot.
fn fqdn(name: &str) -> Box<str> {
    let mut n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    n.push('.');
    n.into_boxed_str()
}

/// A resolver cache that can also stand in for DNS entirely.
pub struct DnsStore<K, V> {
    map: Mutex<HashMap<K, V>>,
    /// Offline: unknown names answer with this instead of a lookup.
    missing: Option<V>,
}

impl<K: Hash + Eq, V: Clone> DnsStore<K, V> {
    fn new(missing: Option<V>) -> Self {
        DnsStore {
            map: Mutex::new(HashMap::new()),
            missing,
        }
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for DnsStore<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.map.lock().ok().and_then(|m| m.get(name).cloned());
        found.or_else(|| self.missing.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.lock().ok().and_then(|mut m| m.remove(name))
    }

    fn insert(&self, k: K, value: V, _valid_until: Instant) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(k, value);
        }
    }
}

fn not_found() -> mail_auth::Error {
    mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(ResponseCode::NXDomain))
}

fn empty_set<T>() -> RecordSet<T> {
    RecordSet {
        rrset: Arc::from(Vec::new().into_boxed_slice()),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

/// mail-auth's parameters with every lookup going through [`DnsRecords`].
type CachedParameters<'x, P> = Parameters<
    'x,
    P,
    DnsStore<Box<str>, Txt>,
    DnsStore<Box<str>, RecordSet<MX>>,
    DnsStore<Box<str>, RecordSet<Ipv4Addr>>,
    DnsStore<Box<str>, RecordSet<Ipv6Addr>>,
    DnsStore<IpAddr, RecordSet<Box<str>>>,
>;

/// DNS answers for the checks: a cache, or (offline) the whole of DNS.
pub struct DnsRecords {
    txt: DnsStore<Box<str>, Txt>,
    mx: DnsStore<Box<str>, RecordSet<MX>>,
    ipv4: DnsStore<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: DnsStore<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: DnsStore<IpAddr, RecordSet<Box<str>>>,
}

/// A TXT record that did not parse as what its name says it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DNS TXT record for {name} does not parse: {reason}")]
pub struct RecordError {
    pub name: String,
    pub reason: String,
}

impl DnsRecords {
    /// A cache in front of real DNS.
    pub fn cache() -> Self {
        DnsRecords {
            txt: DnsStore::new(None),
            mx: DnsStore::new(None),
            ipv4: DnsStore::new(None),
            ipv6: DnsStore::new(None),
            ptr: DnsStore::new(None),
        }
    }

    /// Only the records added here exist; everything else is "not found".
    pub fn offline() -> Self {
        DnsRecords {
            txt: DnsStore::new(Some(Txt::Error(not_found()))),
            mx: DnsStore::new(Some(empty_set())),
            ipv4: DnsStore::new(Some(empty_set())),
            ipv6: DnsStore::new(Some(empty_set())),
            ptr: DnsStore::new(Some(empty_set())),
        }
    }

    /// Adds a TXT record, read by its name: `_dmarc.…` is DMARC,
    /// `….​_domainkey.…` a DKIM key, anything else SPF.
    pub fn add_txt(&self, name: &str, record: &str) -> Result<(), RecordError> {
        let n = fqdn(name);
        let bad = |e: mail_auth::Error| RecordError {
            name: name.to_owned(),
            reason: e.to_string(),
        };
        let txt: Txt = if n.starts_with("_dmarc.") {
            Txt::from(Dmarc::parse(record.as_bytes()).map_err(bad)?)
        } else if n.contains("._domainkey.") {
            Txt::from(DomainKey::parse(record.as_bytes()).map_err(bad)?)
        } else {
            Txt::from(Spf::parse(record.as_bytes()).map_err(bad)?)
        };
        self.txt.insert(n, txt, Instant::now());
        Ok(())
    }

    /// Adds A records.
    pub fn add_ipv4(&self, name: &str, addrs: Vec<Ipv4Addr>) {
        self.ipv4.insert(
            fqdn(name),
            RecordSet {
                rrset: Arc::from(addrs.into_boxed_slice()),
                dnssec_status: DnssecStatus::Indeterminate,
            },
            Instant::now(),
        );
    }

    fn params<P>(&self, p: P) -> CachedParameters<'_, P> {
        Parameters::new(p)
            .with_txt_cache(&self.txt)
            .with_mx_cache(&self.mx)
            .with_ipv4_cache(&self.ipv4)
            .with_ipv6_cache(&self.ipv6)
            .with_ptr_cache(&self.ptr)
    }
}

/// Why the checker could not start.
#[derive(Debug, thiserror::Error)]
#[error("could not set up DNS for sender checks: {0}")]
pub struct CheckerError(String);

/// Evaluates SPF, DKIM and DMARC for incoming messages. Clones share the
/// resolver and the record cache (one per server, however many requests).
#[derive(Clone)]
pub struct SenderChecks {
    authenticator: MessageAuthenticator,
    records: Arc<DnsRecords>,
}

impl std::fmt::Debug for SenderChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SenderChecks")
    }
}

fn dmarc_verdict(r: &DmarcResult) -> Verdict {
    match r {
        DmarcResult::Pass => Verdict::Pass,
        DmarcResult::Fail(_) => Verdict::Fail,
        DmarcResult::TempError(_) => Verdict::TempError,
        DmarcResult::PermError(_) => Verdict::PermError,
        DmarcResult::None => Verdict::None,
    }
}

fn spf_verdict(r: SpfResult) -> Verdict {
    match r {
        SpfResult::Pass => Verdict::Pass,
        SpfResult::Fail => Verdict::Fail,
        SpfResult::SoftFail => Verdict::SoftFail,
        SpfResult::Neutral => Verdict::Neutral,
        SpfResult::TempError => Verdict::TempError,
        SpfResult::PermError => Verdict::PermError,
        SpfResult::None => Verdict::None,
    }
}

impl SenderChecks {
    /// Checks against the system's resolver (`/etc/resolv.conf`).
    pub fn system() -> Result<Self, CheckerError> {
        Ok(SenderChecks {
            authenticator: MessageAuthenticator::new_system_conf()
                .map_err(|e| CheckerError(e.to_string()))?,
            records: Arc::new(DnsRecords::cache()),
        })
    }

    /// Checks against `records` only; nothing is looked up.
    pub fn offline(records: DnsRecords) -> Result<Self, CheckerError> {
        let config = ResolverConfig::from_parts(None, Vec::new(), Vec::new());
        Ok(SenderChecks {
            authenticator: MessageAuthenticator::new(config, ResolverOpts::default())
                .map_err(|e| CheckerError(e.to_string()))?,
            records: Arc::new(records),
        })
    }

    /// Evaluates one raw message.
    pub async fn check(&self, raw: &[u8], env: &Envelope) -> AuthResults {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return AuthResults::default();
        };
        let dkim = self
            .authenticator
            .verify_dkim(self.records.params(&message))
            .await;
        let dkim_verdict = if dkim.is_empty() {
            Verdict::None
        } else if dkim.iter().any(|d| d.result() == &DkimResult::Pass) {
            Verdict::Pass
        } else if dkim
            .iter()
            .any(|d| matches!(d.result(), DkimResult::Fail(_)))
        {
            Verdict::Fail
        } else if dkim
            .iter()
            .any(|d| matches!(d.result(), DkimResult::TempError(_)))
        {
            Verdict::TempError
        } else if dkim
            .iter()
            .any(|d| matches!(d.result(), DkimResult::PermError(_)))
        {
            Verdict::PermError
        } else {
            Verdict::Neutral
        };

        let mail_from = env.mail_from.clone().unwrap_or_default();
        let helo = env.helo.clone().unwrap_or_default();
        let from_domain = mail_from
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_else(|| helo.clone());
        let spf = match env.client_ip {
            Some(ip) if !helo.is_empty() || !mail_from.is_empty() => {
                let params = if mail_from.is_empty() {
                    SpfParameters::verify_ehlo(ip, &helo, &env.receiver)
                } else {
                    SpfParameters::verify_mail_from(ip, &helo, &env.receiver, &mail_from)
                };
                self.authenticator
                    .verify_spf(self.records.params(params))
                    .await
            }
            _ => SpfOutput::new(from_domain.clone()),
        };
        let dmarc = self
            .authenticator
            .verify_dmarc(self.records.params(DmarcParameters::new(
                &message,
                &dkim,
                &from_domain,
                &spf,
            )))
            .await;
        AuthResults {
            spf: spf_verdict(spf.result()),
            dkim: dkim_verdict,
            dmarc: dmarc_verdict(&dmarc.result()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_rule() {
        use Verdict::*;
        let cases = [
            (None, None, None, false),
            (Pass, None, None, false),
            (Fail, None, None, true),
            (SoftFail, None, None, false),
            (Fail, Pass, None, false),
            (None, Fail, None, true),
            (Pass, Fail, None, false),
            (Pass, Pass, Fail, true),
            (Fail, Fail, Pass, false),
            (None, None, TempError, false),
        ];
        for (spf, dkim, dmarc, failed) in cases {
            let r = AuthResults { spf, dkim, dmarc };
            assert_eq!(r.sender_failed(), failed, "{}", r.summary());
        }
    }
}
