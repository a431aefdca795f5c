//! Configuration: built-in defaults, then the TOML file, then `RAMPART_*`
//! environment variables, then command-line flags; later ones win.

use crate::cli::DataOptions;
use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Empty: SQLite in `data_dir`.
    pub database_url: String,
    /// Empty: derived from `listen` and TLS.
    pub public_url: String,
    pub site_name: String,
    pub tls: TlsSettings,
    pub http: HttpSettings,
    pub sessions: SessionSettings,
    pub rate_limits: RateLimitSettings,
    pub security_txt: SecurityTxtSettings,
    pub mail: MailSettings,
    pub outbox: OutboxSettings,
    pub webhooks: Vec<WebhookSettings>,
}

/// `[mail]`: the security@ mailbox, mail in. `rampart mailgate` flags
/// override these for one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Programme (slug) for mail to an address no programme has; empty: the
    /// only programme, if there is exactly one.
    pub default_programme: String,
    /// Larger messages are refused with an explanation (0: no limit).
    pub max_message_bytes: usize,
    /// SPF, DKIM and DMARC: "dns", "offline" or "off".
    pub sender_checks: String,
    /// `[mail.imap]`: a mailbox `rampart serve` takes mail from (and
    /// `rampart mailgate --imap` without a URL).
    pub imap: Option<ImapSettings>,
    /// Mail out: the sender of mail about no programme, and of mail about
    /// a programme without an address of its own (`Name <address>`).
    pub from: String,
    /// `[mail.smtp]`: the server outgoing mail goes through. Unset: mail
    /// is queued in the outbox and waits.
    pub smtp: Option<SmtpSettings>,
    /// `[[mail.pgp]]`: programmes' OpenPGP keys (mail to them is decrypted
    /// on arrival; the public keys are published).
    pub pgp: Vec<PgpKeySettings>,
}

/// `[[mail.pgp]]`: one programme's key pair, kept in a file (never in the
/// database, so a database dump does not carry it).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PgpKeySettings {
    /// The programme's slug.
    pub programme: String,
    /// The armoured secret key (`gpg --export-secret-keys --armor KEY`).
    pub secret_key_file: PathBuf,
    /// Its passphrase, if it has one.
    pub passphrase_file: Option<PathBuf>,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            default_programme: String::new(),
            max_message_bytes: rampart_mail::intake::DEFAULT_MAX_MESSAGE_BYTES,
            sender_checks: "dns".into(),
            imap: None,
            from: String::new(),
            smtp: None,
            pgp: Vec::new(),
        }
    }
}

/// `[mail.imap]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapSettings {
    pub host: String,
    /// 0: 993 for imaps, 143 otherwise.
    pub port: u16,
    /// "imaps", "starttls" or "none-loopback-only".
    pub tls: String,
    pub username: String,
    /// Prefer `password_file` (or RAMPART_MAIL__IMAP__PASSWORD) to a password in the file.
    pub password: String,
    pub password_file: Option<PathBuf>,
    pub folder: String,
    /// "flag" (\Seen and $RampartTaken), "move:FOLDER" or "delete".
    pub after: String,
    /// Extra CA certificates (PEM) for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Seconds between passes without IDLE, and the longest an IDLE waits.
    pub poll_seconds: u64,
    /// Wait with IDLE when the server offers it.
    pub idle: bool,
}

impl Default for ImapSettings {
    fn default() -> Self {
        ImapSettings {
            host: String::new(),
            port: 0,
            tls: "imaps".into(),
            username: String::new(),
            password: String::new(),
            password_file: None,
            folder: "INBOX".into(),
            after: "flag".into(),
            ca_file: None,
            poll_seconds: 60,
            idle: true,
        }
    }
}

impl ImapSettings {
    /// The library's settings, reading the password and CA files.
    pub fn to_config(&self) -> Result<rampart_mail::imap::ImapConfig> {
        use rampart_mail::imap::{ImapConfig, TlsMode};
        if self.host.trim().is_empty() || self.username.trim().is_empty() {
            bail!("[mail.imap] needs host and username (and password or password_file)");
        }
        let password = match &self.password_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| {
                    format!("could not read mail.imap.password_file {}", path.display())
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            None => self.password.clone(),
        };
        let mut c = ImapConfig::new(self.host.trim(), self.username.trim(), &password);
        c.tls = self.tls.parse::<TlsMode>()?;
        c.port = match (self.port, c.tls) {
            (0, TlsMode::Imaps) => 993,
            (0, _) => 143,
            (p, _) => p,
        };
        if !self.folder.trim().is_empty() {
            c.folder = self.folder.clone();
        }
        c.after = self.after.parse()?;
        if let Some(ca) = &self.ca_file {
            c.ca_pem =
                Some(std::fs::read(ca).with_context(|| {
                    format!("could not read mail.imap.ca_file {}", ca.display())
                })?);
        }
        c.poll_interval = std::time::Duration::from_secs(self.poll_seconds.max(1));
        c.idle = self.idle;
        Ok(c)
    }
}

/// What `/.well-known/security.txt` says beyond what the programmes give.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityTxtSettings {
    pub preferred_languages: Vec<String>,
    /// An https URL of security job offers.
    pub hiring: String,
    /// An https URL (or openpgp4fpr:/dns:) of the OpenPGP key researchers encrypt to.
    pub encryption: String,
    /// How far ahead the Expires field lies; the file is generated on each request.
    pub expires_days: u32,
}

impl Default for SecurityTxtSettings {
    fn default() -> Self {
        SecurityTxtSettings {
            preferred_languages: vec!["en".into()],
            hiring: String::new(),
            encryption: String::new(),
            expires_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub trusted_proxies: Vec<String>,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub max_attachment_bytes: usize,
    /// `auto`: secure cookies when serving TLS or when public_url is https.
    pub secure_cookies: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    pub idle_minutes: i64,
    pub absolute_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    pub login_per_minute: u32,
    pub anonymous_per_minute: u32,
    pub reports_per_hour: u32,
    pub signups_per_hour: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./rampart-data"),
            database_url: String::new(),
            public_url: String::new(),
            site_name: "Rampart".into(),
            tls: TlsSettings::default(),
            http: HttpSettings::default(),
            sessions: SessionSettings::default(),
            rate_limits: RateLimitSettings::default(),
            security_txt: SecurityTxtSettings::default(),
            mail: MailSettings::default(),
            outbox: OutboxSettings::default(),
            webhooks: Vec::new(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            trusted_proxies: Vec::new(),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            max_attachment_bytes: 20 * 1024 * 1024,
            secure_cookies: "auto".into(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: 12 * 60,
            absolute_hours: 7 * 24,
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            login_per_minute: 10,
            anonymous_per_minute: 300,
            reports_per_hour: 20,
            signups_per_hour: 10,
        }
    }
}

/// `[mail.smtp]`: outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// 0: 465 for tls, 587 for starttls, 25 for none.
    pub port: u16,
    /// "starttls" (required, never skipped), "tls" (implicit) or "none"
    /// (a relay on this machine).
    pub security: String,
    pub username: String,
    /// Prefer `password_file` (or RAMPART_MAIL__SMTP__PASSWORD).
    pub password: String,
    pub password_file: Option<PathBuf>,
    /// An extra CA certificate (PEM) for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 0,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
            password_file: None,
            ca_file: None,
            timeout_seconds: 30,
        }
    }
}

/// `[outbox]`: retries of email, Slack and webhook deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    pub first_retry_seconds: u64,
    pub max_retry_seconds: u64,
    /// After this long without success a delivery is given up (`dead`);
    /// admins see it and can retry it.
    pub give_up_hours: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            first_retry_seconds: 30,
            max_retry_seconds: 3600,
            give_up_hours: 24,
        }
    }
}

/// `[[webhooks]]`: one Slack or generic endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    pub name: String,
    /// "generic" (signed JSON) or "slack" (incoming webhook).
    pub kind: String,
    pub url: String,
    /// The HMAC key of a generic webhook; prefer `secret_file`.
    pub secret: String,
    pub secret_file: Option<PathBuf>,
    /// Empty: every event.
    pub events: Vec<String>,
    /// Programme slugs whose events it hears; empty: every programme.
    pub programmes: Vec<String>,
}

/// Top-level keys and sections that environment variables may set.
const SETTING_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "site_name",
    "tls",
    "http",
    "sessions",
    "rate_limits",
    "security_txt",
    "mail",
    "outbox",
    "webhooks",
];

impl Settings {
    /// Loads the layers. Flags in `data` override everything else.
    pub fn load(data: &DataOptions) -> Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = &data.config {
            if !path.exists() {
                bail!(
                    "the configuration file {} does not exist (create one with `rampart config example > {}`)",
                    path.display(),
                    path.display()
                );
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only variables that name a setting: others with the same prefix
        // (RAMPART_CONFIG, RAMPART_LOG_FORMAT, test switches) are not settings.
        fig = fig.merge(
            Env::prefixed("RAMPART_")
                .filter(|k| {
                    let k = k.as_str().to_ascii_lowercase();
                    SETTING_KEYS
                        .iter()
                        .any(|p| k == *p || k.starts_with(&format!("{p}__")))
                })
                .split("__"),
        );
        let mut s: Settings = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(d) = &data.data_dir {
            s.data_dir = d.clone();
        }
        if let Some(u) = &data.database_url {
            s.database_url = u.clone();
        }
        Ok(s)
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> Result<String> {
        if !self.database_url.trim().is_empty() {
            return Ok(self.database_url.trim().to_owned());
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "could not create the data directory {} (choose another with --data-dir)",
                self.data_dir.display()
            )
        })?;
        Ok(rampart_store::Store::sqlite_url_for(&self.data_dir))
    }

    /// The programme keys of `[[mail.pgp]]`, read from their files.
    pub fn pgp_keyring(&self) -> Result<rampart_mail::pgp::Keyring> {
        let mut keys = Vec::new();
        for k in &self.mail.pgp {
            if k.programme.trim().is_empty() {
                bail!("[[mail.pgp]] needs programme (a slug) and secret_key_file");
            }
            let armored = std::fs::read_to_string(&k.secret_key_file).with_context(|| {
                format!(
                    "could not read the OpenPGP key of {} ({})",
                    k.programme,
                    k.secret_key_file.display()
                )
            })?;
            let passphrase = match &k.passphrase_file {
                Some(p) => std::fs::read_to_string(p)
                    .with_context(|| format!("could not read {}", p.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                None => String::new(),
            };
            keys.push(
                rampart_mail::pgp::ProgrammeKey::from_armored(
                    k.programme.trim(),
                    &armored,
                    &passphrase,
                )
                .with_context(|| format!("[[mail.pgp]] {}", k.programme))?,
            );
        }
        Ok(rampart_mail::pgp::Keyring::new(keys))
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    pub fn public_url(&self) -> String {
        if !self.public_url.trim().is_empty() {
            return self.public_url.trim().trim_end_matches('/').to_owned();
        }
        let scheme = if self.tls_enabled() { "https" } else { "http" };
        let host = self.listen.replace("0.0.0.0", "127.0.0.1");
        format!("{scheme}://{host}")
    }

    pub fn web_config(&self) -> Result<rampart_web::WebConfig> {
        let public_url = self.public_url();
        let https = self.tls_enabled() || public_url.starts_with("https://");
        let secure_cookies = match self.http.secure_cookies.as_str() {
            "auto" => https,
            "true" => true,
            "false" => false,
            other => bail!("http.secure_cookies must be auto, true or false, not {other:?}"),
        };
        let trusted_proxies = self
            .http
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("http.trusted_proxies: {p:?} is not an address or CIDR range")
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        if self.sessions.idle_minutes <= 0 || self.sessions.absolute_hours <= 0 {
            bail!("sessions.idle_minutes and sessions.absolute_hours must be positive");
        }
        Ok(rampart_web::WebConfig {
            public_url,
            secure_cookies,
            hsts: https,
            session_idle_ms: self.sessions.idle_minutes * 60_000,
            session_absolute_ms: self.sessions.absolute_hours * 3_600_000,
            trusted_proxies,
            max_body_bytes: self.http.max_body_bytes,
            max_upload_bytes: self.http.max_upload_bytes,
            login_per_minute: self.rate_limits.login_per_minute,
            anonymous_per_minute: self.rate_limits.anonymous_per_minute,
            reports_per_hour: self.rate_limits.reports_per_hour,
            signups_per_hour: self.rate_limits.signups_per_hour,
            attachment_dir: self.data_dir.join("attachments"),
            security_txt: rampart_web::SecurityTxtConfig {
                preferred_languages: self.security_txt.preferred_languages.clone(),
                hiring: (!self.security_txt.hiring.is_empty())
                    .then(|| self.security_txt.hiring.clone()),
                encryption: (!self.security_txt.encryption.is_empty())
                    .then(|| self.security_txt.encryption.clone()),
                expires_days: self.security_txt.expires_days.clamp(1, 364),
            },
            max_attachment_bytes: self.http.max_attachment_bytes,
            site_name: self.site_name.clone(),
            mail: rampart_web::MailInConfig {
                max_message_bytes: self.mail.max_message_bytes,
                default_programme: {
                    let d = self.mail.default_programme.trim();
                    (!d.is_empty()).then(|| d.to_owned())
                },
                pgp: self.pgp_keyring()?,
            },
        })
    }
}

/// The commented example printed by `rampart config example`.
pub const EXAMPLE: &str = r#"# Rampart configuration. Every key is optional; the values shown are the defaults.
# Precedence: this file < RAMPART_* environment variables < command-line flags.
# Environment names: the key in capitals with RAMPART_ in front, and __ between
# section and key, e.g. RAMPART_DATABASE_URL, RAMPART_HTTP__TRUSTED_PROXIES.

# Where to listen (ADDR:PORT). Use 0.0.0.0:8080 to accept connections from other machines.
listen = "127.0.0.1:8080"

# SQLite database and attachments live here.
data_dir = "./rampart-data"

# Leave empty for SQLite in data_dir, or point at PostgreSQL to grow past one machine:
#   database_url = "postgres://rampart:secret@db.internal:5432/rampart"
database_url = ""

# The address people use to reach Rampart; used in links it prints and sends.
# Empty: derived from `listen` (http://127.0.0.1:8080).
public_url = ""

# Shown in the page header and in authenticator apps.
site_name = "Rampart"

[tls]
# Serve HTTPS directly with these PEM files. Leave unset behind a TLS-terminating proxy.
# cert = "/etc/rampart/fullchain.pem"
# key = "/etc/rampart/privkey.pem"

[http]
# Reverse proxies whose X-Forwarded-For header is trusted for client addresses.
trusted_proxies = []
# Largest form or JSON body, and largest findings/SARIF upload, in bytes.
max_body_bytes = 1048576
max_upload_bytes = 67108864
# Largest file attached to a report (kept in <data_dir>/attachments).
max_attachment_bytes = 20971520
# Secure cookies: "auto" (when serving TLS or public_url is https), "true" or "false".
secure_cookies = "auto"

[sessions]
# Sign people out after this long without activity, and after this long regardless.
idle_minutes = 720
absolute_hours = 168

[rate_limits]
# Sign-in attempts per client address per minute (accounts also lock after repeated failures).
login_per_minute = 10
# Requests per minute from an address that is not signed in.
anonymous_per_minute = 300
# Reports one researcher may submit per hour, and accounts one address may sign up per hour.
reports_per_hour = 20
signups_per_hour = 10

[security_txt]
# /.well-known/security.txt (RFC 9116) lists every public programme's report page and
# security@ address. These add the rest. Its URIs must be https: set public_url to an
# https address.
preferred_languages = ["en"]
# hiring = "https://example.com/jobs/security"
hiring = ""
# encryption = "https://example.com/pgp-key.txt"
encryption = ""
# Expires lies this many days ahead (the file is regenerated on every request; the RFC
# recommends less than a year).
expires_days = 30

[mail]
# Mail in (`rampart mailgate`, and the IMAP mailbox below). Mail to an address no programme
# has goes to this programme (slug); empty: the only programme, if there is exactly one.
default_programme = ""
# Larger messages are refused with a polite explanation (0: no limit).
max_message_bytes = 26214400
# SPF, DKIM and DMARC: "dns" (the system resolver), "offline" (no lookups) or "off".
sender_checks = "dns"
# Mail out: the sender of mail about no programme and for programmes without an address of
# their own (mail about a report comes from its programme's address), e.g.
# from = "Rampart <security@example.com>"
from = ""

# Take mail from an IMAP mailbox (rampart serve runs it; `rampart mailgate --imap --once`
# runs one pass). Messages are marked \Seen and $RampartTaken (or moved, or deleted) only
# after they were taken; waits with IDLE where the server offers it.
# [mail.imap]
# host = "imap.example.com"
# port = 993                      # 0 or unset: 993 for imaps, 143 otherwise
# tls = "imaps"                   # "imaps", "starttls" or "none-loopback-only"
# username = "security@example.com"
# password_file = "/etc/rampart/imap-password"
# folder = "INBOX"
# after = "flag"                  # "flag", "move:Rampart/Taken" or "delete"
# ca_file = "/etc/rampart/imap-ca.pem"
# poll_seconds = 60
# idle = true

# A programme's OpenPGP key pair: mail encrypted to it (PGP/MIME or inline) is decrypted on
# arrival, the original kept as an attachment; the public key is published at
# /programs/SLUG/pgp-key.asc, in security.txt (Encryption) and on the programme page.
# Export it with `gpg --export-secret-keys --armor KEY > shop.asc`. One block per programme.
# [[mail.pgp]]
# programme = "shop"
# secret_key_file = "/etc/rampart/pgp/shop.asc"
# passphrase_file = "/etc/rampart/pgp/shop.pass"   # only if the key has a passphrase

# Outgoing mail (acknowledgements, comments, state changes, digests, breaches). Every message
# is written to the database first and sent by `rampart serve` with retries, so an SMTP outage
# loses nothing. Without [mail.smtp] mail waits in the queue (Admin → Outbox).
# [mail.smtp]
# host = "smtp.example.com"
# port = 587                      # 0 or unset: 465 for tls, 587 for starttls, 25 for none
# security = "starttls"           # "starttls" (required), "tls" (implicit) or "none"
# username = "security@example.com"
# password_file = "/etc/rampart/smtp-password"
# ca_file = "/etc/rampart/smtp-ca.pem"
# timeout_seconds = 30

[outbox]
# Email, Slack and webhook deliveries that fail are retried after 30 s, doubling (with
# jitter) up to this maximum, and given up after give_up_hours (admins can retry them).
first_retry_seconds = 30
max_retry_seconds = 3600
give_up_hours = 24

# Slack incoming webhooks and generic webhooks, on chosen events: report.new,
# finding.critical_high, response_target.breached, report.resolved (empty: all).
# Generic calls are signed: X-Rampart-Signature: sha256=HMAC-SHA256(secret,
# X-Rampart-Timestamp + "." + body); see docs/mail.md for checking it.
# [[webhooks]]
# name = "siem"
# kind = "generic"
# url = "https://siem.example.com/rampart"
# secret_file = "/etc/rampart/webhook-secret"
# events = ["report.new", "finding.critical_high"]
# programmes = ["shop"]           # only these programmes' events (empty: all)
#
# [[webhooks]]
# name = "slack"
# kind = "slack"
# url = "https://hooks.slack.com/services/T000/B000/XXXX"
# events = ["report.new", "response_target.breached"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_the_defaults() {
        let parsed: Settings = Figment::from(Toml::string(EXAMPLE)).extract().unwrap();
        let d = Settings::default();
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.http.max_upload_bytes, d.http.max_upload_bytes);
        assert_eq!(parsed.sessions.idle_minutes, d.sessions.idle_minutes);
        assert_eq!(
            parsed.rate_limits.login_per_minute,
            d.rate_limits.login_per_minute
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let r: Result<Settings, _> = Figment::from(Toml::string("lisen = \"x\"")).extract();
        assert!(r.is_err());
    }

    #[test]
    fn public_url_follows_listen_and_tls() {
        let mut s = Settings::default();
        assert_eq!(s.public_url(), "http://127.0.0.1:8080");
        s.listen = "0.0.0.0:9000".into();
        assert_eq!(s.public_url(), "http://127.0.0.1:9000");
        s.public_url = "https://sec.example.com/".into();
        assert_eq!(s.public_url(), "https://sec.example.com");
        assert!(s.web_config().unwrap().secure_cookies);
    }
}
