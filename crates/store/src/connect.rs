use crate::{Result, StoreError, migrations};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Hides the password in a database URL before it goes into a message.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A handle on Rampart's database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time, and a deferred transaction that
    /// later wants to write can fail at once with SQLITE_BUSY instead of
    /// waiting. Serialising writers in-process avoids that entirely; on
    /// PostgreSQL the lock is never taken.
    write_lock: Arc<Mutex<()>>,
    /// Recent filtered-list counts, reused for a moment (see `list_findings`).
    pub(crate) counts: Arc<std::sync::Mutex<HashMap<String, (Instant, i64)>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`). A SQLite file is
    /// created if missing. Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers proceed while one writer commits;
                            // NORMAL sync is durable across application crashes
                            // in WAL mode, the usual choice for servers.
                            // Memory-mapped reads and a 32 MiB page cache per
                            // connection: list pages scan index pages that would
                            // otherwise be copied in by a system call each time.
                            // No automatic checkpoints: they would run inside
                            // some unlucky request's commit, holding up every
                            // writer; `checkpoint` runs them in the background.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768; \
                                 PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?
            }
        };
        Ok(Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            counts: Arc::default(),
        })
    }

    /// The URL for a SQLite database file inside a data directory.
    pub fn sqlite_url_for(data_dir: &Path) -> String {
        format!("sqlite://{}", data_dir.join("rampart.db").display())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration. Safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        let _guard = self.write_guard().await;
        migrations::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// Versions already applied, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .or_else(|e| match &e {
            sqlx::Error::Database(_) => Ok(Vec::new()),
            _ => Err(e),
        })?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `target` while the
    /// server keeps running (`VACUUM INTO` reads one snapshot). The target
    /// must not exist yet.
    pub async fn backup_to(&self, target: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "online backup is built in for SQLite only; for PostgreSQL use pg_dump".into(),
            ));
        }
        if target.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; choose a new file name",
                target.display()
            )));
        }
        let path = target.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (SQLite's `PRAGMA optimize`;
    /// on PostgreSQL a `VACUUM ANALYZE` of the findings, which also lets
    /// counts use index-only scans right after a large import instead of
    /// waiting for autovacuum). Run periodically and after large imports.
    pub async fn optimize(&self) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("VACUUM (ANALYZE) findings")
                .execute(&self.pool)
                .await?;
        }
        if self.backend == Backend::Sqlite {
            // Bounded work: sample at most this many rows per index.
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&self.pool)
                .await?;
            sqlx::query("PRAGMA optimize").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Copies committed pages from SQLite's write-ahead log into the database
    /// file without blocking readers or writers (a passive checkpoint). The
    /// server calls this every second, so no request pays for it; on
    /// PostgreSQL it does nothing.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Closes every connection; used on graceful shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The SQLite writer lock without dropping cached counts: for writes
    /// that cannot change a findings count (last use of a token, a
    /// session's sliding expiry).
    pub(crate) async fn bookkeeping_guard(&self) -> Option<OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    pub(crate) async fn write_guard(&self) -> Option<OwnedMutexGuard<()>> {
        // Every write goes through here: cached counts may now be wrong.
        if let Ok(mut counts) = self.counts.lock() {
            counts.clear();
        }
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }
}

#[cfg(feature = "testkit")]
impl Store {
    /// The underlying pool, for tests that must go around the Store API.
    pub fn raw_pool_for_tests(&self) -> AnyPool {
        self.pool.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sqlite://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
