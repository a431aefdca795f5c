//! Schema migrations, embedded in the binary. Each version exists once per
//! backend; [`MIGRATION_VERSIONS`] is the single list both are built from, so
//! the two can never drift apart in numbering.

use crate::Backend;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

struct Step {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        version: 1,
        description: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Step {
        version: 2,
        description: "findings filter index",
        sqlite: include_str!("../migrations/sqlite/0002_findings_filter_index.sql"),
        postgres: include_str!("../migrations/postgres/0002_findings_filter_index.sql"),
    },
    Step {
        version: 3,
        description: "programmes and reports",
        sqlite: include_str!("../migrations/sqlite/0003_programmes.sql"),
        postgres: include_str!("../migrations/postgres/0003_programmes.sql"),
    },
    Step {
        version: 4,
        description: "mail intake",
        sqlite: include_str!("../migrations/sqlite/0004_mail.sql"),
        postgres: include_str!("../migrations/postgres/0004_mail.sql"),
    },
    Step {
        version: 5,
        description: "outbound delivery",
        sqlite: include_str!("../migrations/sqlite/0005_outbox.sql"),
        postgres: include_str!("../migrations/postgres/0005_outbox.sql"),
    },
    Step {
        version: 6,
        description: "user OpenPGP keys and mailed refusals",
        sqlite: include_str!("../migrations/sqlite/0006_mail_keys_refusals.sql"),
        postgres: include_str!("../migrations/postgres/0006_mail_keys_refusals.sql"),
    },
];

/// The schema versions this build knows, oldest first.
pub const MIGRATION_VERSIONS: &[i64] = &[1, 2, 3, 4, 5, 6];

pub(crate) fn migrator(backend: Backend) -> Migrator {
    let migrations = STEPS
        .iter()
        .map(|s| {
            let sql = match backend {
                Backend::Sqlite => s.sqlite,
                Backend::Postgres => s.postgres,
            };
            Migration::new(
                s.version,
                Cow::Borrowed(s.description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_listed_match_steps() {
        let v: Vec<i64> = STEPS.iter().map(|s| s.version).collect();
        assert_eq!(v, MIGRATION_VERSIONS);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn both_dialects_create_the_same_tables() {
        for s in STEPS {
            let tables = |sql: &str| {
                let mut t: Vec<String> = sql
                    .lines()
                    .filter_map(|l| l.strip_prefix("CREATE TABLE "))
                    .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
                    .collect();
                t.sort();
                t
            };
            assert_eq!(
                tables(s.sqlite),
                tables(s.postgres),
                "version {}",
                s.version
            );
        }
    }
}
