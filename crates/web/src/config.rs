use ipnet::IpNet;

/// How long the first-admin link printed by `rampart serve` stays valid.
pub(crate) const SETUP_LINK_VALID_MS: i64 = 24 * 3_600_000;
/// How long a set-password link stays valid.
pub(crate) const PASSWORD_LINK_VALID_MS: i64 = 72 * 3_600_000;

/// Settings of the web layer. The binary fills this from its config file,
/// environment and flags.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The URL people reach Rampart at, used in links Rampart prints or sends.
    pub public_url: String,
    /// Mark cookies `Secure` (and use the `__Host-` prefix). On whenever
    /// Rampart serves TLS itself or `public_url` is https.
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security`; on when serving TLS or behind an
    /// https `public_url`.
    pub hsts: bool,
    /// A session ends after this long without activity.
    pub session_idle_ms: i64,
    /// A session ends after this long, however active.
    pub session_absolute_ms: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty: the
    /// socket's peer address is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Largest request body for forms and JSON, in bytes.
    pub max_body_bytes: usize,
    /// Largest SARIF or findings upload, in bytes.
    pub max_upload_bytes: usize,
    /// Login attempts (password or second factor) per client address per minute.
    pub login_per_minute: u32,
    /// Requests per minute from a client address without a session or token.
    pub anonymous_per_minute: u32,
    /// Reports one researcher may submit per hour (web and API together).
    pub reports_per_hour: u32,
    /// Researcher sign-ups per client address per hour.
    pub signups_per_hour: u32,
    /// Where report attachments are kept (inside the data directory, never
    /// under a served path).
    pub attachment_dir: std::path::PathBuf,
    /// Largest attachment, in bytes.
    pub max_attachment_bytes: usize,
    /// What security.txt says beyond the programmes' contacts.
    pub security_txt: SecurityTxtConfig,
    /// Name shown in the page header and in authenticator apps.
    pub site_name: String,
    /// Mail handed in through `POST /api/v1/mail/inbound`.
    pub mail: MailInConfig,
}

/// How the inbound-mail endpoint takes messages (the `[mail]` settings).
#[derive(Debug, Clone)]
pub struct MailInConfig {
    /// Larger messages are refused with an explanation (0: no limit).
    pub max_message_bytes: usize,
    /// Programme (slug) for mail to an address no programme has.
    pub default_programme: Option<String>,
    /// Programme keys: encrypted mail is decrypted, public keys published.
    pub pgp: rampart_mail::pgp::Keyring,
}

impl Default for MailInConfig {
    fn default() -> Self {
        MailInConfig {
            max_message_bytes: rampart_mail::intake::DEFAULT_MAX_MESSAGE_BYTES,
            default_programme: None,
            pgp: Default::default(),
        }
    }
}

/// The security.txt fields that come from configuration.
#[derive(Debug, Clone)]
pub struct SecurityTxtConfig {
    pub preferred_languages: Vec<String>,
    pub hiring: Option<String>,
    pub encryption: Option<String>,
    pub expires_days: u32,
}

impl Default for SecurityTxtConfig {
    fn default() -> Self {
        SecurityTxtConfig {
            preferred_languages: vec!["en".into()],
            hiring: None,
            encryption: None,
            expires_days: 30,
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            hsts: false,
            session_idle_ms: 12 * 3_600_000,
            session_absolute_ms: 7 * 24 * 3_600_000,
            trusted_proxies: Vec::new(),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            login_per_minute: 10,
            anonymous_per_minute: 300,
            reports_per_hour: 20,
            signups_per_hour: 10,
            attachment_dir: "./rampart-data/attachments".into(),
            max_attachment_bytes: 20 * 1024 * 1024,
            security_txt: SecurityTxtConfig::default(),
            site_name: "Rampart".into(),
            mail: MailInConfig::default(),
        }
    }
}
