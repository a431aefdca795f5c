//! What the CLI's integration tests share: the binary, `rampart serve` on a
//! free port, and accounts with tokens made the way an admin makes them.
//! Each test file includes this module and uses part of it.
#![allow(dead_code, clippy::unwrap_used)]

use assert_cmd::Command;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The `rampart` binary, with the settings a developer's shell may carry
/// removed, so each test says exactly which database and config it uses.
pub fn rampart() -> Command {
    let mut c = Command::cargo_bin("rampart").unwrap();
    c.env_remove("RAMPART_DATABASE_URL")
        .env_remove("RAMPART_CONFIG");
    c
}

/// A running `rampart serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The first-run setup link the server printed, if it printed one.
    pub setup_link: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rampart serve --listen 127.0.0.1:<free port> ARGS…`; returns once it
/// accepts connections. Its stdout keeps being drained so it never blocks
/// on a full pipe.
pub fn start_server<S: AsRef<OsStr>>(args: &[S]) -> Server {
    let port = free_port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rampart"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env_remove("RAMPART_DATABASE_URL")
        .env_remove("RAMPART_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut setup_link = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("/setup/") {
            setup_link = Some(line.trim().to_owned());
        }
        if line.contains("is serving on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        setup_link,
    }
}

/// `rampart serve` on the embedded database in `data_dir`.
pub fn start_server_in(data_dir: &Path) -> Server {
    start_server(&[OsStr::new("--data-dir"), data_dir.as_os_str()])
}

/// An account and an API token for it, made with the CLI as an admin would.
pub fn token_for(dir: &Path, email: &str, role: &str, scope: &str) -> String {
    rampart()
        .args(["admin", "create-user", "--data-dir"])
        .arg(dir)
        .args(["--email", email, "--role", role])
        .assert()
        .success();
    token(dir, scope, Some(email))
}

/// An API token with `scope` (for `user`, or for the first admin).
pub fn token(dir: &Path, scope: &str, user: Option<&str>) -> String {
    let mut c = rampart();
    c.args(["token", "create", "--data-dir"])
        .arg(dir)
        .args(["--name", "test", "--scope", scope]);
    if let Some(u) = user {
        c.args(["--user", u]);
    }
    let out = c.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap().trim().to_owned()
}
