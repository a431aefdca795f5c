//! Prints the duplicate-suggestion figures over the labelled set.
//!
//! cargo run -p rampart-dedup --example evaluate --release [-- path/to/labelled.json] [--ranks]
//!
//! `--ranks` lists every duplicate's rank, not only the misses; `--grid` prints top-1 and MRR
//! over a small grid of weights around the defaults (how sensitive the result is to them).

use std::path::PathBuf;
use std::process::ExitCode;

use rampart_dedup::Weights;
use rampart_dedup::evaluation::{self, Evaluation, LabelledSet};

const TOP1_TARGET: f64 = 0.90;
const TOP5_TARGET: f64 = 0.98;

fn main() -> ExitCode {
    let mut path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/labelled.json"
    ));
    let mut show_ranks = false;
    let mut grid = false;
    for arg in std::env::args().skip(1) {
        if arg == "--ranks" {
            show_ranks = true;
        } else if arg == "--grid" {
            grid = true;
        } else {
            path = PathBuf::from(arg);
        }
    }
    let set = match LabelledSet::load(&path) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if grid {
        return print_grid(&set);
    }
    let variants = [
        ("rampart (default weights)", Weights::default(), true),
        ("rampart, duplicates unconfirmed", Weights::default(), false),
        (
            "text only (BM25, title boosted)",
            Weights::text_only(),
            true,
        ),
        (
            "without endpoints and parameters",
            Weights {
                endpoints: 0.0,
                params: 0.0,
                ..Weights::default()
            },
            true,
        ),
    ];
    let mut default_result: Option<Evaluation> = None;
    println!("labelled set: {} (seed {:?})", path.display(), set.seed);
    println!(
        "{:<34} {:>5} {:>5} {:>7} {:>7} {:>6}",
        "scoring", "docs", "dups", "top-1", "top-5", "MRR"
    );
    for (name, weights, confirm) in variants {
        let started = std::time::Instant::now();
        let result = match evaluation::evaluate(&set, weights, confirm) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "{:<34} {:>5} {:>5} {:>6.1}% {:>6.1}% {:>6.3}   ({:.1}s)",
            name,
            result.documents,
            result.duplicates(),
            result.top_n_rate(1) * 100.0,
            result.top_n_rate(5) * 100.0,
            result.mrr(),
            started.elapsed().as_secs_f64()
        );
        if default_result.is_none() {
            default_result = Some(result);
        }
    }
    let Some(result) = default_result else {
        return ExitCode::FAILURE;
    };
    println!();
    for r in &result.ranks {
        let missed = r.rank != Some(1);
        if show_ranks || missed {
            println!(
                "duplicate {:>4} of {:>4}: rank {:<4} {}{}",
                r.id,
                r.original,
                r.rank.map_or("-".to_owned(), |n| n.to_string()),
                r.bug,
                match (&r.top, &r.top_bug) {
                    (Some(top), Some(bug)) => format!("   (first suggestion: {top}, {bug})"),
                    _ => String::new(),
                }
            );
        }
    }
    let top1 = result.top_n_rate(1);
    let top5 = result.top_n_rate(5);
    let met = top1 >= TOP1_TARGET && top5 >= TOP5_TARGET;
    println!(
        "\ntargets: top-1 >= {:.0}%, top-5 >= {:.0}%: {}",
        TOP1_TARGET * 100.0,
        TOP5_TARGET * 100.0,
        if met { "met" } else { "NOT met" }
    );
    if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_grid(set: &LabelledSet) -> ExitCode {
    println!("text endpoints cwe asset  top-1   top-5   MRR");
    for text in [0.2, 0.4, 0.6] {
        for endpoints in [0.15, 0.3, 0.45] {
            for cwe in [0.05, 0.15, 0.3] {
                for asset in [0.0, 0.1, 0.2] {
                    let weights = Weights {
                        text,
                        endpoints,
                        cwe,
                        asset,
                        ..Weights::default()
                    };
                    match evaluation::evaluate(set, weights, true) {
                        Ok(r) => println!(
                            "{text:>4} {endpoints:>9} {cwe:>4} {asset:>5} {:>6.1}% {:>6.1}% {:>6.3}",
                            r.top_n_rate(1) * 100.0,
                            r.top_n_rate(5) * 100.0,
                            r.mrr()
                        ),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
            }
        }
    }
    ExitCode::SUCCESS
}
