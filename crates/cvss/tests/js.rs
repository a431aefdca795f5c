//! The browser calculator (crates/web/static/cvss.js) must agree with this crate: this test
//! writes Rust's results for thousands of valid and broken vectors and has Node evaluate the
//! same inputs with cvss.js (tests/js/agree.js), comparing scores, ratings, nomenclature,
//! normalised vectors and error messages. Without `node` on PATH it says so and skips.

use rampart_cvss::{Cvss, Version};
use std::process::Command;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_vector(rng: &mut Rng) -> String {
    let version = [Version::V3_0, Version::V3_1, Version::V4_0][rng.below(3)];
    let optional_chance = [0, 2, 5][rng.below(3)];
    let mut parts = Vec::new();
    for def in version.metrics() {
        if def.mandatory || rng.below(10) < optional_chance {
            let value = def.values[rng.below(def.values.len())].abbrev;
            parts.push(format!("{}:{value}", def.abbrev));
        }
    }
    if rng.below(3) == 0 {
        for i in (1..parts.len()).rev() {
            parts.swap(i, rng.below(i + 1));
        }
    }
    format!("CVSS:{version}/{}", parts.join("/"))
}

fn broken(rng: &mut Rng, vector: &str) -> String {
    let mut parts: Vec<String> = vector.split('/').map(str::to_owned).collect();
    let i = 1 + rng.below(parts.len() - 1);
    match rng.below(7) {
        0 => parts[i] = parts[i].to_lowercase(),
        1 => {
            let copy = parts[i].clone();
            parts.push(copy);
        }
        2 => {
            parts.remove(i);
        }
        3 => parts[i] = format!("{}:Q", parts[i].split(':').next().unwrap_or("AV")),
        4 => parts[i] = ["ZZ:N", "", "AV", "AV:N:L", ":N", "AV:"][rng.below(6)].to_owned(),
        5 => {
            parts[0] = ["CVSS:2.0", "cvss:4.0", "CVSS3.1", "", "CVSS:4.1"][rng.below(5)].to_owned()
        }
        _ => parts[i] = format!("{}é{}", parts[i], "x".repeat(rng.below(60))),
    }
    parts.join("/")
}

#[test]
fn browser_calculator_agrees_with_the_crate() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED: node is not installed, so cvss.js cannot be compared");
        return;
    }
    let mut rng = Rng(0x5eed_cafe_f00d);
    let mut inputs: Vec<String> = vec![
        String::new(),
        "   ".into(),
        "AV:N/AC:L/Au:N/C:P/I:P/A:P".into(),
        "CVSS:3.1".into(),
        "CVSS:3.1/".into(),
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red".into(),
    ];
    for _ in 0..4000 {
        let vector = random_vector(&mut rng);
        if rng.below(4) == 0 {
            inputs.push(broken(&mut rng, &vector));
        } else {
            inputs.push(vector);
        }
    }
    let mut lines = String::new();
    let (mut valid, mut invalid) = (0, 0);
    for input in &inputs {
        let line = match Cvss::parse(input) {
            Ok(cvss) => {
                valid += 1;
                serde_json::json!({ "input": input, "ok": cvss.summary() })
            }
            Err(e) => {
                invalid += 1;
                serde_json::json!({ "input": input, "error": e.to_string() })
            }
        };
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    assert!(
        valid > 2500 && invalid > 500,
        "{valid} valid, {invalid} invalid"
    );
    let file = std::env::temp_dir().join(format!("rampart-cvss-js-{}.jsonl", std::process::id()));
    std::fs::write(&file, lines).expect("write the Rust results");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/agree.js");
    let output = Command::new("node")
        .arg(script)
        .arg(&file)
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cvss.js disagrees:\n{stderr}\n{stdout}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
