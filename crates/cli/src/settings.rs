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
