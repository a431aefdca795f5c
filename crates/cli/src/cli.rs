use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Rampart: a self-hosted security programme in one binary.
///
/// Vulnerability disclosure and bug bounty, findings from every scanner in
/// one place, with triage, assignment and an audit trail. Runs on embedded
/// SQLite out of the box; point it at PostgreSQL to grow past one machine.
#[derive(Parser, Debug)]
#[command(
    name = "rampart",
    version,
    propagate_version = true,
    after_help = "Start here:\n  rampart serve                      run on http://127.0.0.1:8080 with ./rampart-data\n  rampart config example > rampart.toml   a commented configuration file\n  rampart token create --name ci --scope findings:write   a token for CI\n\nEvery command that touches data takes --data-dir, --database-url and --config,\nand reads RAMPART_DATABASE_URL, RAMPART_DATA_DIR and RAMPART_CONFIG."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "RAMPART_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// For scripts: one JSON document on stdout.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web application and API.
    ///
    /// With no options it listens on 127.0.0.1:8080, keeps everything in
    /// ./rampart-data (SQLite database and attachments) and applies database
    /// migrations. On an empty database it prints a one-time link to create
    /// the first administrator in the browser.
    #[command(
        after_help = "Examples:\n  rampart serve\n  rampart serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --public-url https://security.example.com\n  rampart serve --database-url postgres://rampart@db.internal/rampart\n  rampart serve --config /etc/rampart/rampart.toml"
    )]
    Serve(ServeArgs),
    /// Manage accounts from the command line (the first admin, resets).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Database maintenance: migrations, backups, status.
    #[command(subcommand)]
    Db(DbCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Find committed secrets: files, staged changes, git history, baselines.
    #[command(subcommand)]
    Secrets(crate::cmd::secrets::SecretsCommand),
    /// Score a CVSS 3.1, 3.0 or 4.0 vector: base score and rating.
    ///
    /// The same calculator as the report form. Exits 1 with the metric at
    /// fault when the vector is invalid.
    #[command(
        after_help = "Examples:\n  rampart cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n  rampart cvss --format json CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P\n  echo \"$VECTOR\" | rampart cvss -\n\nJSON output: {version, vector, score, severity, base_score} plus nomenclature\n(CVSS 4.0) or temporal_score/environmental_score (CVSS 3.x, when given)."
    )]
    Cvss(CvssArgs),
    /// Threat detection over AWS logs: CloudTrail, VPC Flow Logs, Route 53 DNS.
    ///
    /// Findings are named as GuardDuty names them (Recon:EC2/Portscan, …),
    /// aggregated with a count and first/last seen, and can be pushed to a
    /// Rampart server. Sigma rules, threat lists and suppression rules apply.
    Detect(Box<crate::cmd::detect::DetectArgs>),
    /// Take one email (RFC 5322 on standard input) into the security@ mailbox.
    ///
    /// For an MTA's pipe transport: a new message becomes a report, a reply
    /// a comment on its report; auto-replies, bounces and repeated
    /// Message-IDs create nothing. Writes straight to the database.
    Mailgate(Box<crate::cmd::mailgate::MailgateArgs>),
}

/// Arguments of `rampart cvss`.
#[derive(Args, Debug)]
pub struct CvssArgs {
    /// The vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N; `-` reads it from standard input.
    #[arg(value_name = "VECTOR", allow_hyphen_values = true)]
    pub vector: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// Where Rampart's data lives. Shared by every command that touches it.
#[derive(Args, Debug, Clone, Default)]
pub struct DataOptions {
    /// Directory for the SQLite database and attachments [default: ./rampart-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use this database instead of SQLite in the data directory, e.g.
    /// postgres://rampart@localhost/rampart or sqlite:///var/lib/rampart/rampart.db.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// A TOML configuration file (see `rampart config example`).
    #[arg(long, value_name = "FILE", env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataOptions,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The URL people use to reach Rampart, for links it prints and sends
    /// [default: derived from --listen].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account. Without --password-stdin, prints a one-time link
    /// where the person chooses their own password.
    #[command(
        after_help = "Examples:\n  rampart admin create-user --email alice@example.com --role admin\n  echo \"$PASSWORD\" | rampart admin create-user --email ci@example.com --role triager --password-stdin"
    )]
    CreateUser {
        #[command(flatten)]
        data: DataOptions,
        /// The person's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// admin, triager, engineer or researcher.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Print a new one-time link for an account to choose a new password.
    ResetPassword {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// List accounts.
    ListUsers {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token and print it (only the token, once) on stdout.
    ///
    /// Without --user the token is a service token: it may do whatever its
    /// scopes allow. With --user it acts as that person and never exceeds
    /// their role.
    #[command(
        after_help = "Scopes: findings:read, findings:write, reports:read, reports:write, programs:write, all\n\nExamples:\n  rampart token create --name ci --scope findings:write\n  TOKEN=$(rampart token create --name triage-bot --scope findings:read --scope findings:write --user bot@example.com)"
    )]
    Create {
        #[command(flatten)]
        data: DataOptions,
        /// A name that says who uses the token.
        #[arg(long)]
        name: String,
        /// A permission; repeat for several.
        #[arg(long = "scope", required = true, value_name = "SCOPE")]
        scopes: Vec<String>,
        /// The account the token acts as.
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Revoke a token by its id (see `rampart token list`).
    Revoke {
        #[command(flatten)]
        data: DataOptions,
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Apply pending migrations (`serve` also does this on start).
    Migrate {
        #[command(flatten)]
        data: DataOptions,
    },
    /// Write a consistent copy of the SQLite database to FILE, safely while
    /// the server runs. For PostgreSQL, use pg_dump.
    Backup {
        #[command(flatten)]
        data: DataOptions,
        /// Where to write the backup; must not exist yet.
        file: PathBuf,
    },
    /// Show which database is used and its schema version.
    Status {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a commented example configuration file.
    Example,
}
