//! GnuPG for the mail tests: keys made and mail encrypted the way
//! researchers do it, with the `gpg` binary that scripts/mail-services.sh
//! installs. Each test file that needs it includes this module by path.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether gpg can run. Without it the tests skip, unless CI or
/// RAMPART_REQUIRE_MAIL is set: then a missing gpg fails them.
pub fn have_gpg() -> bool {
    let ok = Command::new("gpg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = std::env::var("CI").is_ok_and(|v| !v.is_empty())
            || std::env::var("RAMPART_REQUIRE_MAIL").as_deref() == Ok("1");
        assert!(
            !required,
            "gpg is required here: run scripts/test-services.sh"
        );
        eprintln!("skipping: no gpg");
    }
    ok
}

/// Runs gpg in `home` with `stdin`, returning stdout.
pub fn gpg(home: &Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--yes",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh GnuPG home holding one new key pair for `user_id`.
pub fn generate_key(user_id: &str, algo: &str, passphrase: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    gpg(
        home.path(),
        &[
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            user_id,
            algo,
            "default",
            "never",
        ],
        b"",
    );
    home
}

/// A new key pair in a fresh GnuPG home: (home, armoured secret key).
pub fn new_key(user_id: &str, algo: &str, passphrase: &str) -> (tempfile::TempDir, String) {
    let home = generate_key(user_id, algo, passphrase);
    let email = user_id
        .split('<')
        .nth(1)
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    let secret = gpg(
        home.path(),
        &[
            "--passphrase",
            passphrase,
            "--armor",
            "--export-secret-keys",
            &email,
        ],
        b"",
    );
    (home, String::from_utf8(secret).unwrap())
}

/// `plaintext` encrypted to `to` with the keys in `home`, armoured.
pub fn encrypt(home: &Path, to: &str, plaintext: &[u8]) -> String {
    String::from_utf8(gpg(
        home,
        &["--trust-model", "always", "--armor", "--encrypt", "-r", to],
        plaintext,
    ))
    .unwrap()
}
