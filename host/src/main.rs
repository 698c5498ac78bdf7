//! `wasmesh`: parse the command line, then hand over to the library.

use std::io::IsTerminal;

use clap::Parser;

fn main() {
    let mut logger = env_logger::Builder::new();
    logger.filter_level(log::LevelFilter::Info);
    // rustls warns once per handshake about what a client sent (an IP address as SNI, which
    // some clients send): any client could fill the log with them, one line per connection.
    // Its errors still show; handshake failures are counted and logged at debug by wasmesh
    // itself. `RUST_LOG=rustls=debug` brings the rest back.
    logger.filter_module("rustls", log::LevelFilter::Error);
    // Colours only where standard error is a terminal (RUST_LOG_STYLE still decides).
    // Elsewhere (a file, a pipe) the logger would otherwise format them and then strip the
    // escape codes from every line again, a cost a filter that logs per request pays each time.
    logger.write_style(match std::io::stderr().is_terminal() {
        true => env_logger::WriteStyle::Always,
        false => env_logger::WriteStyle::Never,
    });
    logger.parse_env(env_logger::Env::default());
    logger.init();
    let cli = wasmesh::cli::Cli::parse();
    if let Err(e) = wasmesh::cli::main(cli) {
        eprintln!("wasmesh: error: {e:#}");
        std::process::exit(1);
    }
}
