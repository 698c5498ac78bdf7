//! A private copy of what the bench runs, taken once before the first round.
//!
//! Other work on the machine rebuilds the same target directory (a test run rebuilding a filter,
//! another bench rebuilding `wasmesh`). Read from there at each proxy start, a run would measure
//! one module in its first rounds and another after: seen once, as a `lb.wasm` rebuilt mid-run,
//! which also cost wasmesh a cache miss (a Cranelift compile) in the middle of the rounds.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmesh_tests::target_dir;

/// A directory of hard links (copies where linking fails) to the files the run uses; removed
/// when dropped.
pub struct Snapshot {
    dir: PathBuf,
}

impl Snapshot {
    /// An empty `<target>/bench/snapshot-<pid>/`.
    pub fn create() -> anyhow::Result<Self> {
        let dir = target_dir()
            .join("bench")
            .join(format!("snapshot-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self { dir })
    }

    /// `file` as of now, under the same file name in the snapshot. A hard link is enough: cargo
    /// replaces a rebuilt file by a new one (a new inode), it does not write into the old one.
    pub fn keep(&self, file: &Path) -> anyhow::Result<PathBuf> {
        let name = file
            .file_name()
            .with_context(|| format!("{} has no file name", file.display()))?;
        let kept = self.dir.join(name);
        if fs::hard_link(file, &kept).is_err() {
            fs::copy(file, &kept)
                .with_context(|| format!("copying {} to {}", file.display(), kept.display()))?;
        }
        Ok(kept)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
