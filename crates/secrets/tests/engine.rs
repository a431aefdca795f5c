//! The engine end to end: a small tree of realistic files (tests/data/tree),
//! staged changes and history in real git repositories, custom and gitleaks
//! configurations, and arbitrary bytes.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rampart_secrets::scan::{self, ScanOptions};
use rampart_secrets::{ConfigFile, Scanner};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tree")
}

fn scanner() -> Scanner {
    Scanner::builtin().expect("built-in rules are valid")
}

fn no_progress(_: u64) {}

static SCANNER: std::sync::LazyLock<Scanner> = std::sync::LazyLock::new(scanner);

#[test]
fn tree_scan_finds_the_real_secrets_and_only_those() {
    let report =
        scan::scan_paths(&scanner(), &[tree()], &ScanOptions::default(), &no_progress).unwrap();
    let got: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}:{} {}", f.path, f.line, f.rule_id))
        .collect();
    insta::assert_snapshot!("tree_findings", got.join("\n"));
    // The binary file is skipped and reported; the lock file is never read.
    assert!(report.skipped.iter().any(|s| s.path == "logo.png"));
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.path != "package-lock.json")
    );
}

#[test]
fn json_and_text_output_are_stable() {
    let mut report =
        scan::scan_paths(&scanner(), &[tree()], &ScanOptions::default(), &no_progress).unwrap();
    report.stats.elapsed_ms = 0;
    let json = rampart_secrets::report::json(&report, &report.findings);
    insta::assert_json_snapshot!("tree_json", json);
    insta::assert_snapshot!(
        "tree_text",
        rampart_secrets::report::text(&report, &report.findings, false)
    );
}

#[test]
fn sarif_has_rules_results_and_fingerprints() {
    let s = scanner();
    let report = scan::scan_paths(&s, &[tree()], &ScanOptions::default(), &no_progress).unwrap();
    let sarif = rampart_secrets::report::sarif(&report.findings, s.rules(), "0.0.0");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(
            r["partialFingerprints"]["rampartSecret/v1"]
                .as_str()
                .unwrap()
                .len()
                == 64
        );
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
}

#[test]
fn findings_become_platform_findings() {
    let f = &scanner().scan("app.env", b"GITHUB=AKIAQYLPMN5HHHFPZAM2\n")[0];
    let nf = f.to_new_finding(Some("shop"));
    nf.validate().unwrap();
    assert_eq!(nf.source.as_str(), "secrets");
    assert_eq!(nf.fingerprint, f.fingerprint);
    assert!(
        !nf.description
            .as_deref()
            .unwrap()
            .contains("AKIAQYLPMN5HHHFPZAM2")
    );
}

#[test]
fn inline_suppressions_of_every_peer() {
    let s = scanner();
    for comment in [
        "# rampart:allow",
        "// pragma: allowlist secret",
        "# gitleaks:allow",
    ] {
        let text = format!("key = \"AKIAQYLPMN5HHHFPZAM2\" {comment}\n");
        assert!(s.scan("a.py", text.as_bytes()).is_empty(), "{comment}");
    }
    assert_eq!(s.scan("a.py", b"key = \"AKIAQYLPMN5HHHFPZAM2\"\n").len(), 1);
}

#[test]
fn custom_rules_allowlists_and_disabled_rules() {
    let cfg = ConfigFile::parse(
        r#"
disable = ["aws-access-key-id"]
[allowlist]
paths = ['(^|/)vendor/']
stopwords = ["sandbox"]
[[rule]]
id = "acme-key"
provider = "Acme"
description = "Acme API key"
keywords = ["acme_"]
regex = '''\b(acme_[a-z0-9]{16})\b'''
"#,
        "acme.toml",
    )
    .unwrap();
    let s = Scanner::new(&[cfg]).unwrap();
    assert_eq!(
        s.scan("a.txt", b"k = acme_0a1b2c3d4e5f6a7b\n")[0].rule_id,
        "acme-key"
    );
    assert!(
        s.scan("vendor/a.txt", b"k = acme_0a1b2c3d4e5f6a7b\n")
            .is_empty()
    );
    assert!(s.scan("a.txt", b"AKIAQYLPMN5HHHFPZAM2\n").is_empty());
    assert!(
        s.scan("a.txt", b"k = sk_live_sandboxQ3vB8nR2mX7pL0sT5wY9\n")
            .is_empty()
    );
}

#[test]
fn gitleaks_rules_run_as_rampart_rules() {
    let cfg = ConfigFile::parse(
        r#"
[[rules]]
id = "internal-token"
description = "Internal token"
regex = '''itk_([A-Za-z0-9]{20})'''
secretGroup = 1
keywords = ["itk_"]
"#,
        "gitleaks.toml",
    )
    .unwrap();
    let s = Scanner::new(&[cfg]).unwrap();
    let f = s.scan("x.yml", b"token: itk_Q3vB8nR2mX7pL0sT5wY9\n");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "internal-token");
    assert_eq!(f[0].secret, "Q3vB8nR2mX7pL0sT5wY9");
}

#[test]
fn bad_custom_regex_names_rule_and_file() {
    let cfg = ConfigFile::parse(
        "[[rule]]\nid = \"bad\"\nprovider = \"X\"\ndescription = \"x\"\nregex = '(unclosed'\n",
        "mine.toml",
    )
    .unwrap();
    let e = Scanner::new(&[cfg]).unwrap_err().to_string();
    assert!(e.contains("mine.toml") && e.contains("bad"), "{e}");
}

#[test]
fn oversized_files_are_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), vec![b'a'; 2048]).unwrap();
    let opts = ScanOptions {
        max_file_size: 1024,
        ..ScanOptions::default()
    };
    let report =
        scan::scan_paths(&scanner(), &[dir.path().to_owned()], &opts, &no_progress).unwrap();
    assert!(matches!(
        report.skipped[0].reason,
        scan::SkipReason::TooLarge {
            size: 2048,
            limit: 1024
        }
    ));
}

#[test]
fn gitignored_files_are_skipped_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "ignored.env\n").unwrap();
    std::fs::write(dir.path().join("ignored.env"), "K=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    let roots = [dir.path().to_owned()];
    let report =
        scan::scan_paths(&scanner(), &roots, &ScanOptions::default(), &no_progress).unwrap();
    assert!(report.findings.is_empty());
    let opts = ScanOptions {
        no_ignore: true,
        ..ScanOptions::default()
    };
    let report = scan::scan_paths(&scanner(), &roots, &opts, &no_progress).unwrap();
    assert_eq!(report.findings.len(), 1);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Ada",
            "-c",
            "user.email=ada@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

#[test]
fn staged_scan_sees_only_added_lines_with_real_line_numbers() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("old.env"), "A=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "first"]);
    // The old key stays; a new one is added on line 3 of another file.
    std::fs::write(p.join("old.env"), "A=AKIAQYLPMN5HHHFPZAM2\nB=2\n").unwrap();
    std::fs::write(
        p.join("new.py"),
        "x = 1\ny = 2\nkey = \"ASIAY34FZKBOKMUTVV7A\"\n",
    )
    .unwrap();
    git(p, &["add", "."]);
    let report = scan::scan_staged(&scanner(), p).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].path, "new.py");
    assert_eq!(report.findings[0].line, 3);
}

#[test]
fn staged_scan_works_before_the_first_commit() {
    let dir = repo();
    std::fs::write(dir.path().join("a.env"), "K=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    git(dir.path(), &["add", "."]);
    assert_eq!(
        scan::scan_staged(&scanner(), dir.path())
            .unwrap()
            .findings
            .len(),
        1
    );
}

#[test]
fn history_scan_attributes_deleted_secrets_to_their_first_commit() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("a.env"), "K=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "add key"]);
    std::fs::write(p.join("a.env"), "K=AKIAQYLPMN5HHHFPZAM2\nX=1\n").unwrap();
    git(p, &["commit", "-q", "-am", "edit"]);
    git(p, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(p.join("b.txt"), "stripe sk_live_C6QNJyMs4h7hSe4vg2V76a1P\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "feature key"]);
    git(p, &["checkout", "-q", "main"]);
    std::fs::remove_file(p.join("a.env")).unwrap();
    git(p, &["commit", "-q", "-am", "remove key"]);
    let report =
        scan::scan_history(&scanner(), p, None, &ScanOptions::default(), &no_progress).unwrap();
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        rules,
        ["aws-access-key-id", "stripe-secret-key"],
        "{:?}",
        report.findings
    );
    let aws = &report.findings[0];
    let c = aws.commit.as_ref().unwrap();
    assert_eq!(c.author, "Ada");
    assert_eq!(c.email, "ada@example.org");
    let first = Command::new("git")
        .arg("-C")
        .arg(p)
        .args(["rev-list", "--max-parents=0", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(c.commit, String::from_utf8_lossy(&first.stdout).trim());
    assert_eq!(report.stats.commits, Some(4));
}

#[test]
fn history_since_skips_older_commits() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("a.env"), "K=AKIAQYLPMN5HHHFPZAM2\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "old"]);
    git(p, &["tag", "v1"]);
    std::fs::write(p.join("b.env"), "clean=1\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "new"]);
    let report = scan::scan_history(
        &scanner(),
        p,
        Some("v1"),
        &ScanOptions::default(),
        &no_progress,
    )
    .unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.stats.commits, Some(1));
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = scan::scan_staged(&scanner(), dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("git"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes, with keywords sprinkled in so that rules wake up and
    /// regexes run on hostile input, never panic and give sane positions.
    #[test]
    fn arbitrary_bytes_never_panic(
        noise in proptest::collection::vec(any::<u8>(), 0..2048),
        inserts in proptest::collection::vec((0usize..2048, 0usize..8), 0..6),
    ) {
        let words: [&[u8]; 8] = [b"AKIA", b"password=", b"-----BEGIN RSA PRIVATE KEY-----\n", b"eyJ", b"://u:", b"ghp_", b"\n", b"secret: \""];
        let mut data = noise;
        for (pos, w) in inserts {
            let at = pos.min(data.len());
            data.splice(at..at, words[w].iter().copied());
        }
        for f in SCANNER.scan("fuzz.txt", &data) {
            prop_assert!(f.line >= 1 && f.column >= 1 && f.end_line >= f.line);
        }
        let _ = scan::parse_added_lines(&data);
    }
}
