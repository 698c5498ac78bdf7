//! `wasmesh`: parse the command line, then hand over to the library.

use clap::Parser;

/// mimalloc instead of glibc's malloc: the request path allocates many small, short-lived
/// buffers (header maps, bodies, guest-call arguments), where glibc's malloc, free and
/// `malloc_consolidate` took a tenth of the worker's cycles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = wasmesh::cli::Cli::parse();
    if let Err(e) = wasmesh::cli::main(cli) {
        eprintln!("wasmesh: error: {e:#}");
        std::process::exit(1);
    }
}
