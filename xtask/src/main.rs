//! `cargo run -p xtask -- tidy` runs the house-rule checks; they also run as `cargo test -p xtask`.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("tidy") => {
            let status = Command::new(env!("CARGO")).args(["test", "-p", "xtask", "--test", "tidy"]).status();
            match status {
                Ok(s) if s.success() => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy");
            ExitCode::FAILURE
        }
    }
}
