//! `wasmesh`: parse the command line, then hand over to the library.

use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = wasmesh::cli::Cli::parse();
    if let Err(e) = wasmesh::cli::main(cli) {
        eprintln!("wasmesh: error: {e:#}");
        std::process::exit(1);
    }
}
