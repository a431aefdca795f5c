//! One module per subcommand.

mod admin;
mod cvss;
mod db;
pub(crate) mod detect;
pub(crate) mod mailgate;
pub(crate) mod outbound;
pub(crate) mod secrets;
mod serve;
mod token;

use crate::cli::{Cli, Command, ConfigCommand, DataOptions, LogFormat};
use crate::settings::{EXAMPLE, Settings};
use anyhow::{Context, Result};
use rampart_store::{NewAuditEntry, Store};
use std::process::ExitCode;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    init_logging(cli.log_format, matches!(cli.command, Command::Serve(_)));
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Admin(cmd) => admin::run(cmd).await,
        Command::Token(cmd) => token::run(cmd).await,
        Command::Db(cmd) => db::run(cmd).await,
        Command::Secrets(cmd) => secrets::run(cmd),
        Command::Cvss(args) => cvss::run(args),
        Command::Detect(args) => detect::run(*args),
        Command::Mailgate(args) => mailgate::run(*args).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{EXAMPLE}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_logging(format: LogFormat, server: bool) {
    use tracing_subscriber::EnvFilter;
    // The server logs its requests; one-shot commands only warnings, so
    // their stdout/stderr stay clean for scripts.
    let default = if server {
        "info,sqlx=warn,tower_http=info"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Opens and migrates the configured database.
pub async fn open_store(data: &DataOptions) -> Result<(Settings, Store)> {
    let settings = Settings::load(data)?;
    let url = settings.database_url()?;
    let store = Store::connect(&url).await.with_context(|| {
        format!(
            "could not open the database {} (check --database-url or --data-dir)",
            rampart_store::redact_url(&url)
        )
    })?;
    store
        .migrate()
        .await
        .context("could not bring the database schema up to date")?;
    Ok((settings, store))
}

/// Audit entries for actions taken on the command line.
pub async fn audit_cli(
    store: &Store,
    action: &str,
    object: (&str, String),
    detail: String,
) -> Result<()> {
    store
        .append_audit(
            &NewAuditEntry {
                actor_id: None,
                actor: "cli".into(),
                action: action.into(),
                object_type: object.0.into(),
                object_id: object.1,
                detail,
                ip: String::new(),
            },
            crate::output::now_ms(),
        )
        .await?;
    Ok(())
}

/// A `WebConfig`-backed state for commands that create links.
pub fn app_state(settings: &Settings, store: Store) -> Result<rampart_web::AppState> {
    Ok(rampart_web::AppState::new(store, settings.web_config()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            rampart_store::redact_url("postgres://rampart:hunter2@db/rampart"),
            "postgres://rampart:***@db/rampart"
        );
        assert_eq!(rampart_store::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
