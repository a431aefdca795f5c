//! `rampart cvss VECTOR`: the report form's CVSS calculator, for scripts.

use crate::cli::CvssArgs;
use crate::output;
use anyhow::{Context, Result};
use std::io::Read;
use std::process::ExitCode;

pub fn run(args: CvssArgs) -> Result<ExitCode> {
    let vector = if args.vector == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .context("could not read the vector from standard input")?;
        text
    } else {
        args.vector
    };
    let cvss = rampart_cvss::Cvss::parse(&vector)
        .map_err(|e| anyhow::anyhow!("invalid CVSS vector: {e}"))?;
    let summary = cvss.summary();
    let json = serde_json::to_value(&summary).context("could not render the result as JSON")?;
    output::emit(args.format, json, || render(&summary));
    Ok(ExitCode::SUCCESS)
}

fn render(summary: &rampart_cvss::Summary) -> String {
    let line = |score: f64, what: &str| {
        format!(
            "{score:.1} {} ({what})\n",
            rampart_cvss::Rating::from_score(score)
        )
    };
    let mut out = String::new();
    match summary.nomenclature {
        Some(nomenclature) => {
            out.push_str(&line(
                summary.score,
                &format!("CVSS {} score, {nomenclature}", summary.version),
            ));
            if nomenclature != rampart_cvss::Nomenclature::CvssB {
                out.push_str(&line(summary.base_score, "CVSS-B, base metrics alone"));
            }
        }
        None => {
            out.push_str(&line(
                summary.score,
                &format!("CVSS {} base score", summary.version),
            ));
            if let Some(score) = summary.temporal_score {
                out.push_str(&line(score, "temporal score"));
            }
            if let Some(score) = summary.environmental_score {
                out.push_str(&line(score, "environmental score"));
            }
        }
    }
    out.push_str(&summary.vector);
    out.push('\n');
    out
}
