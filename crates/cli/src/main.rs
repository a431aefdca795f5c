//! `rampart`: the one binary. Subcommands live in `cmd/`; configuration
//! loading in `settings.rs`. Errors end here as `anyhow` with a plain-English
//! message and exit code 1 (clap's usage errors exit with 2).

mod cli;
mod cmd;
mod output;
mod push;
mod settings;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
