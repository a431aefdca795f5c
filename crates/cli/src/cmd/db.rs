use crate::cli::DbCommand;
use crate::cmd::open_store;
use crate::output::emit;
use anyhow::{Context, Result};
use serde_json::json;
use std::process::ExitCode;

pub async fn run(cmd: DbCommand) -> Result<ExitCode> {
    match cmd {
        DbCommand::Migrate { data } => {
            let (_, store) = open_store(&data).await?;
            let v = store.applied_migrations().await?;
            eprintln!(
                "Database schema is up to date (version {}).",
                v.last().copied().unwrap_or(0)
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Backup { data, file } => {
            let (_, store) = open_store(&data).await?;
            store
                .backup_to(&file)
                .await
                .with_context(|| format!("backup to {} failed", file.display()))?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            eprintln!("Backup written to {} ({size} bytes).", file.display());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Status { data, format } => {
            let (settings, store) = open_store(&data).await?;
            let applied = store.applied_migrations().await?;
            let users = store.count_users().await?;
            let counts = store.finding_status_counts().await?;
            let findings: i64 = counts.iter().map(|c| c.count).sum();
            let location = if settings.database_url.is_empty() {
                settings.data_dir.join("rampart.db").display().to_string()
            } else {
                "(database URL)".to_owned()
            };
            emit(
                format,
                json!({"backend": store.backend().name(), "location": location, "schema_version": applied.last(),
                       "known_versions": rampart_store::MIGRATION_VERSIONS, "users": users, "findings": findings}),
                || {
                    format!(
                        "backend:        {}\nlocation:       {location}\nschema version: {}\nusers:          {users}\nfindings:       {findings}\n",
                        store.backend().name(),
                        applied.last().copied().unwrap_or(0)
                    )
                },
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
