//! The calculator's behaviour in a real browser: headless Chromium loads
//! tests/js/dom-check.html (cvss.js on a report-like form), whose script clicks and types
//! as a person would and writes PASS/FAIL lines that this test reads from the final DOM.
//! Without Chromium on PATH (scripts/test.sh installs it) it says so and skips.

use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn calculator_works_in_a_browser() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no Chromium on PATH, so cvss.js was not driven in a browser");
        return;
    };
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/dom-check.html");
    let profile =
        std::env::temp_dir().join(format!("rampart-cvss-chromium-{}", std::process::id()));
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{page}"))
        .output()
        .expect("run Chromium");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    let report = dom
        .split("<pre id=\"report\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or("no report in the page");
    assert!(
        report.contains(" passed, 0 failed") && !report.contains("FAIL"),
        "cvss.js in Chromium:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
