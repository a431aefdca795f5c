//! Integration tests for rampart-detect over real and generated logs.

mod baseline;
mod parsers;
#[cfg(feature = "s3")]
mod s3;
mod scenarios;
mod sigma_corpus;
mod sigma_correlation;
mod stratus;

use rampart_detect::{Engine, EngineConfig, Report};

pub fn corpus(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora"
    ))
    .join(rel)
}

pub fn run_files(cfg: EngineConfig, files: &[(&str, Vec<u8>)]) -> Report {
    let mut e = Engine::new(cfg);
    for (name, bytes) in files {
        e.process_bytes(name, bytes);
    }
    e.finish()
}
