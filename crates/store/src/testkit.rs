//! Fresh, migrated stores for tests: one SQLite file always, and one new
//! PostgreSQL database when `TEST_DATABASE_URL` points at a server. With
//! `RAMPART_REQUIRE_POSTGRES=1` (as CI sets) a missing server is an error, so
//! the PostgreSQL half of the suite can never be skipped silently.

use crate::Store;

/// A store plus whatever must live as long as it (the SQLite temp dir).
pub struct TestStore {
    pub store: Store,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// A migrated SQLite store in a new temporary directory.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::connect(&Store::sqlite_url_for(dir.path()))
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestStore {
        store,
        label: "sqlite",
        _dir: Some(dir),
    }
}

/// The URL of a new, empty PostgreSQL database, if a server is configured.
pub async fn fresh_postgres_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("RAMPART_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "RAMPART_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set; run scripts/test-services.sh"
        );
        return None;
    };
    let admin = Store::connect(&admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    let mut bytes = [0u8; 8];
    getrandom_fill(&mut bytes);
    let name = format!(
        "rampart_test_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin.pool)
        .await
        .expect("create test database");
    admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin_url);
    Some(format!("{base}/{name}"))
}

fn getrandom_fill(buf: &mut [u8]) {
    // Tests only need uniqueness; time and a counter are enough.
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (mixed >> ((i % 8) * 8)) as u8;
    }
}

/// A migrated store on a new PostgreSQL database, if a server is configured.
pub async fn postgres() -> Option<TestStore> {
    let url = fresh_postgres_url().await?;
    let store = Store::connect(&url)
        .await
        .expect("connect to test database");
    store.migrate().await.expect("migrate postgres");
    Some(TestStore {
        store,
        label: "postgres",
        _dir: None,
    })
}

/// Every backend available: SQLite, then PostgreSQL when configured.
pub async fn all() -> Vec<TestStore> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}
