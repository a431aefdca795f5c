//! Every real Stratus Red Team detonation log must raise at least one
//! built-in finding whose MITRE ATT&CK tactic is the one Stratus names for
//! the technique (the second part of the technique id).

use crate::{corpus, run_files};
use rampart_detect::EngineConfig;

/// Techniques whose ATT&CK technique Stratus documents (its "Threat Technique
/// Catalog for AWS" mapping); the finding must carry the same base technique.
const KNOWN_TECHNIQUES: &[(&str, &str)] = &[
    ("defense-evasion.cloudtrail-delete", "T1562"),
    ("defense-evasion.cloudtrail-stop", "T1562"),
    (
        "exfiltration.ec2-security-group-open-port-22-ingress",
        "T1562",
    ),
    ("initial-access.console-login-without-mfa", "T1078"),
    ("execution.ec2-launch-unusual-instances", "T1578"),
    ("impact.bedrock-invoke-model", "T1496"),
    ("persistence.iam-backdoor-user", "T1098"),
];

fn tactic_of(technique_id: &str) -> String {
    technique_id
        .split('.')
        .nth(1)
        .expect("aws.<tactic>.<name>")
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_detonation_log_raises_a_fitting_finding() {
    let dir = corpus("aws/stratus-red-team-detonation-logs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus present")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 35,
        "expected the 35 detonation logs, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_stem().expect("name").to_string_lossy().to_string();
        let tactic = tactic_of(&name);
        let report = run_files(
            EngineConfig::default(),
            &[(&name, std::fs::read(f).expect("read"))],
        );
        assert!(
            report.diagnostics.is_empty(),
            "{name}: {:?}",
            report.diagnostics
        );
        let fitting: Vec<_> = report
            .findings
            .iter()
            .filter(|x| x.origin != "sigma" && x.mitre.tactics.contains(&tactic))
            .collect();
        if fitting.is_empty() {
            failures.push(format!(
                "{name}: no finding with tactic {tactic}; got {:?}",
                report
                    .findings
                    .iter()
                    .map(|x| (&x.type_name, &x.mitre.tactics))
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let short = name.trim_start_matches("aws.");
        if let Some((_, tech)) = KNOWN_TECHNIQUES.iter().find(|(n, _)| *n == short)
            && !fitting
                .iter()
                .any(|x| x.mitre.technique.split('.').next() == Some(*tech))
        {
            failures.push(format!(
                "{name}: expected technique {tech}, got {:?}",
                fitting
                    .iter()
                    .map(|x| &x.mitre.technique)
                    .collect::<Vec<_>>()
            ));
        }
        for x in &fitting {
            assert!(
                !x.account_id.is_empty(),
                "{name}: {} without account",
                x.type_name
            );
            assert!(
                !x.region.is_empty(),
                "{name}: {} without region",
                x.type_name
            );
            assert!(x.count >= 1);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} detonation logs missed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
