//! The real `rampart` binary, driven as a user or a CI job would.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;
use common::{free_port, rampart, start_server};

fn data_args(dir: &std::path::Path) -> [String; 2] {
    ["--data-dir".into(), dir.display().to_string()]
}

#[test]
fn help_teaches_every_command() {
    let out = rampart()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for word in [
        "serve",
        "admin",
        "token",
        "db",
        "config",
        "rampart serve",
        "--data-dir",
    ] {
        assert!(text.contains(word), "--help mentions {word}");
    }
    for sub in [
        vec!["serve"],
        vec!["admin", "create-user"],
        vec!["admin", "reset-password"],
        vec!["admin", "list-users"],
        vec!["token", "create"],
        vec!["token", "list"],
        vec!["token", "revoke"],
        vec!["db", "migrate"],
        vec!["db", "backup"],
        vec!["db", "status"],
        vec!["config", "example"],
    ] {
        let out = rampart()
            .args(&sub)
            .arg("--help")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Usage: rampart"), "{sub:?}");
        if sub[0] != "config" {
            assert!(
                text.contains("--data-dir")
                    && text.contains("--database-url")
                    && text.contains("--config"),
                "{sub:?} takes the data options"
            );
        }
    }
}

#[test]
fn token_help_snapshot() {
    let out = rampart()
        .env("COLUMNS", "100")
        .args(["token", "create", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn config_example_is_valid_and_usable() {
    let out = rampart()
        .args(["config", "example"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rampart.toml");
    std::fs::write(&file, &out).unwrap();
    let data = dir.path().join("data");
    rampart()
        .args(["db", "status", "--format", "json", "--config"])
        .arg(&file)
        .args(data_args(&data))
        .assert()
        .success();
    // A typo in the file is an error that names the key.
    std::fs::write(&file, "lisen = \"0.0.0.0:1\"\n").unwrap();
    let err = rampart()
        .args(["db", "status", "--config"])
        .arg(&file)
        .args(data_args(&data))
        .assert()
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("lisen"));
    // A missing file says how to make one.
    let err = rampart()
        .args(["db", "status", "--config", "/nonexistent/r.toml"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("rampart config example")
    );
}

#[test]
fn create_user_token_and_list_with_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = data_args(dir.path());
    rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "boss@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .args(&d)
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success();
    // Weak passwords are refused with the reason.
    let err = rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "b@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .args(&d)
        .write_stdin("short\n")
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("12 characters"));
    // Without a password: a one-time link.
    let out = rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "eng@example.com",
            "--role",
            "engineer",
            "--format",
            "json",
        ])
        .args(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        j["set_password_link"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8080/set-password/")
    );
    // Duplicates fail with exit code 1 and a way forward.
    let err = rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "ENG@example.com",
            "--role",
            "engineer",
        ])
        .args(&d)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("reset-password"));
    // Unknown role: exit 1 naming the choices.
    let err = rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "x@example.com",
            "--role",
            "root",
        ])
        .args(&d)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("admin, triager, engineer, researcher")
    );

    // token create prints the token and nothing else.
    let out = rampart()
        .args([
            "token",
            "create",
            "--name",
            "ci",
            "--scope",
            "findings:write",
            "--scope",
            "findings:read",
            "--user",
            "eng@example.com",
        ])
        .args(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].starts_with("rmp_at_") && lines[0].len() == 71);
    let err = rampart()
        .args(["token", "create", "--name", "x", "--scope", "everything"])
        .args(&d)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("findings:read"));
    // clap's usage errors exit 2.
    rampart()
        .args(["token", "create", "--name", "x"])
        .args(&d)
        .assert()
        .code(2);

    let out = rampart()
        .args(["token", "list", "--format", "json"])
        .args(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j[0]["user"], "eng@example.com");
    assert_eq!(j[0]["scopes"], "findings:read findings:write");
    let id = j[0]["id"].as_i64().unwrap().to_string();
    rampart()
        .args(["token", "revoke", &id])
        .args(&d)
        .assert()
        .success();
    rampart()
        .args(["token", "revoke", &id])
        .args(&d)
        .assert()
        .code(1);

    let out = rampart()
        .args(["admin", "list-users", "--format", "json"])
        .args(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 2);
    let out = rampart()
        .args(["db", "status", "--format", "json"])
        .args(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (j["backend"].as_str(), j["users"].as_i64()),
        (Some("sqlite"), Some(2))
    );
}

/// A tiny HTTP/1.1 GET over a plain socket: status and body.
fn http_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[test]
fn serve_prints_the_setup_link_backs_up_online_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let d = data_args(dir.path());
    let mut server = start_server(&d);
    let link = server
        .setup_link
        .clone()
        .expect("first-admin link printed on an empty database");
    assert!(
        link.starts_with(&format!("{}/setup/", server.base)),
        "{link}"
    );
    let path = link.trim_start_matches(&server.base).to_owned();
    let (status, body) = http_get(&server.base, &path);
    assert_eq!(status, 200);
    assert!(body.contains("Create the first administrator"));
    assert!(dir.path().join("rampart.db").exists());
    assert!(dir.path().join("attachments").is_dir());

    // A consistent backup while the server runs.
    let backup = dir.path().join("backup.db");
    rampart()
        .args(["db", "backup"])
        .arg(&backup)
        .args(&d)
        .assert()
        .success();
    let out = rampart()
        .args([
            "db",
            "status",
            "--format",
            "json",
            "--database-url",
            &format!("sqlite://{}", backup.display()),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        j["schema_version"],
        j["known_versions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    );
    // Backing up over an existing file is refused.
    rampart()
        .args(["db", "backup"])
        .arg(&backup)
        .args(&d)
        .assert()
        .code(1);

    // SIGTERM: finish and exit 0.
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Restarted with an account present: no setup link.
    rampart()
        .args([
            "admin",
            "create-user",
            "--email",
            "a@example.com",
            "--role",
            "admin",
        ])
        .args(&d)
        .assert()
        .success();
    let again = start_server(&d);
    assert!(again.setup_link.is_none());
}

#[test]
fn serve_runs_the_same_application_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = rt.block_on(rampart_store::testkit::fresh_postgres_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&[
        "--database-url".into(),
        url.clone(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ]);
    assert!(server.setup_link.is_some());
    let (status, body) = http_get(&server.base, "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("postgres"), "{body}");
    let token = rampart()
        .args([
            "token",
            "create",
            "--name",
            "ci",
            "--scope",
            "all",
            "--database-url",
            &url,
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(token).unwrap().starts_with("rmp_at_"));
    // The environment variable works as well as the flag.
    let out = rampart()
        .args(["db", "status", "--format", "json"])
        .env("RAMPART_DATABASE_URL", &url)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["backend"], "postgres");
    let err = rampart()
        .args(["db", "backup", "/tmp/never.db", "--database-url", &url])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("pg_dump"));
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let err = rampart()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(data_args(dir.path()))
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("--listen"));
}

#[test]
fn metrics_are_served_to_local_scrapers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&data_args(dir.path()));
    http_get(&server.base, "/login");
    let (status, body) = http_get(&server.base, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("rampart_http_requests_total"), "{body}");
    assert!(body.contains("rampart_users"), "{body}");
}

/// HTTPS straight from Rampart: a self-signed certificate made with the
/// openssl command, checked with curl (both are on every Debian machine).
#[test]
fn serves_tls_with_hsts_and_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(ok.success());
    let port = free_port();
    let bin = assert_cmd::cargo::cargo_bin("rampart");
    let mut child = std::process::Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
        ])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .args(data_args(dir.path()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        if line.contains("serving HTTPS") {
            break;
        }
    }
    assert!(
        printed.contains(&format!("https://127.0.0.1:{port}/setup/")),
        "links use https: {printed}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let headers = loop {
        let out = std::process::Command::new("curl")
            .args([
                "-sk",
                "-D",
                "-",
                "-o",
                "/dev/null",
                &format!("https://127.0.0.1:{port}/login"),
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        if text.starts_with("http/") {
            break text;
        }
        assert!(Instant::now() < deadline, "TLS server did not answer");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "{headers}"
    );
    assert!(
        headers.contains("set-cookie: __host-rampart_csrf=") && headers.contains("; secure"),
        "{headers}"
    );
}
