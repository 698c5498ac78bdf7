//! Fetched modules and image layers kept in the module cache, by their sha256
//! (`<cache>/fetched/sha256-<hex>`), so a restart or a reload does not download them again. A
//! file is used only if it still hashes to its name; writes go through a temporary file and a
//! rename, so a reader never sees half of one.

use std::path::{Path, PathBuf};

use wasmesh_host::runtime::module_cache::sha256_hex;

/// The fetched files under a cache directory.
pub struct Fetched {
    dir: PathBuf,
}

impl Fetched {
    /// The store under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Fetched {
        Fetched {
            dir: cache_dir.join("fetched"),
        }
    }

    /// The bytes stored for `sha256`, if there and intact.
    pub fn get(&self, sha256: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(sha256)).ok()?;
        (sha256_hex(&bytes) == sha256).then_some(bytes)
    }

    /// Keeps `bytes` (whose sha256 is `sha256`); a failure only costs a later download.
    pub fn put(&self, sha256: &str, bytes: &[u8]) {
        let path = self.path(sha256);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let stored = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = stored {
            let _ = std::fs::remove_file(&tmp);
            log::warn!(
                "not keeping fetched {sha256} in {}: {e}",
                self.dir.display()
            );
        }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("sha256-{sha256}"))
    }
}
