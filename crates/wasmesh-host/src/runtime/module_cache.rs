//! Compiled modules cached on disk, so a restart does not recompile, and checked before their
//! native code is loaded: whoever can write the cache could otherwise run code in the proxy.
//!
//! The directory must belong to the proxy's user and be writable by no one else (it is created
//! `0700`). Each `.cwasm` file has a `.mac` beside it: HMAC-SHA256 of the file under a key kept
//! in the directory (`key`, `0600`, made on first use). A file that is not ours, is writable by
//! others, or whose MAC does not match is not loaded: the module is compiled again, the file
//! rewritten, and [`ModuleCache::rejected`] counts it. A directory that fails the check turns
//! the cache off for the run, with one warning.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why the cache, or one file of it, cannot be trusted or used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file operation failed.
    #[error("{what} {}: {error}", path.display())]
    Io {
        /// What was being done (`creating`, `reading`, `writing`).
        what: &'static str,
        /// On which file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file belongs to another user.
    #[error("{} belongs to uid {owner}, not to this process's uid {me}", path.display())]
    NotOurs {
        /// The file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        me: u32,
    },
    /// Others may write the file (or read the key).
    #[error("{} has mode {mode:o}: others may change it", path.display())]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file has the wrong length.
    #[error("{} is not a {KEY_LEN}-byte key", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
    },
    /// No randomness for a new key.
    #[error("random key: {0}")]
    Random(getrandom::Error),
    /// A cached file without its MAC file.
    #[error("no MAC file")]
    NoMac,
    /// A cached file whose MAC does not match: changed since we wrote it.
    #[error("its MAC does not match")]
    MacMismatch,
}

fn io<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> CacheError + 'p {
    move |error| CacheError::Io {
        what,
        path: path.to_path_buf(),
        error,
    }
}

/// Length of the MAC key.
const KEY_LEN: usize = 32;

/// A checked cache directory and its key.
pub struct ModuleCache {
    dir: PathBuf,
    key: [u8; KEY_LEN],
    rejected: AtomicU64,
}

impl ModuleCache {
    /// Opens (creating it `0700` if missing) the cache at `dir`; `Err` says why it cannot be
    /// trusted or used.
    pub fn open(dir: &Path) -> Result<ModuleCache, CacheError> {
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io("creating", dir))?;
        }
        check_owned(dir, 0o022)?;
        let key = read_or_make_key(&dir.join("key"))?;
        Ok(ModuleCache {
            dir: dir.to_path_buf(),
            key,
            rejected: AtomicU64::new(0),
        })
    }

    /// The cache's directory (an embedder may keep its own files under it, e.g. downloaded
    /// modules, each checked against its digest when read back).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Cached files refused so far (not ours, writable by others, or a MAC that does not match).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Where the compiled form of a module with these `bytes` lives, for an engine whose
    /// compatibility is `engine_hash`.
    pub fn path_for(&self, bytes: &[u8], engine_hash: u64) -> PathBuf {
        let hex = sha256_hex(bytes);
        self.dir.join(format!("{hex}-{engine_hash:016x}.cwasm"))
    }

    /// Whether the file at `path` may be loaded: it exists, is ours, no one else may write it,
    /// and its MAC matches. A file that exists but fails is counted and logged.
    pub fn verified(&self, path: &Path) -> bool {
        if !path.exists() {
            return false;
        }
        match self.verify(path) {
            Ok(()) => true,
            Err(e) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                log::warn!(
                    "module cache: not loading {}: {e}; compiling again",
                    path.display()
                );
                false
            }
        }
    }

    fn verify(&self, path: &Path) -> Result<(), CacheError> {
        check_owned(path, 0o022)?;
        let contents = fs::read(path).map_err(io("reading", path))?;
        let mac = fs::read(mac_path(path)).map_err(|_| CacheError::NoMac)?;
        let mut expected = self.mac();
        expected.update(&contents);
        expected
            .verify_slice(&mac)
            .map_err(|_| CacheError::MacMismatch)
    }

    /// Writes `compiled` at `path` (through a temporary file and a rename), then its MAC.
    pub fn store(&self, path: &Path, compiled: &[u8]) -> Result<(), CacheError> {
        let mut mac = self.mac();
        mac.update(compiled);
        let tag = mac.finalize().into_bytes();
        write_private(&mac_path(path), &tag)?;
        write_private(path, compiled)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }
}

fn mac_path(path: &Path) -> PathBuf {
    path.with_extension("cwasm.mac")
}

/// `path` belongs to this process's user and has none of the `forbidden` mode bits.
fn check_owned(path: &Path, forbidden: u32) -> Result<(), CacheError> {
    let meta = fs::metadata(path).map_err(io("reading", path))?;
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(CacheError::NotOurs {
            path: path.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & forbidden != 0 {
        return Err(CacheError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// The key at `path`, made (random, `0600`) if missing; refused if others may read or change it.
fn read_or_make_key(path: &Path) -> Result<[u8; KEY_LEN], CacheError> {
    if !path.exists() {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(CacheError::Random)?;
        let created = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(mut file) => file.write_all(&key).map_err(io("writing", path))?,
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("creating", path)(e)),
        }
    }
    check_owned(path, 0o077)?;
    let bytes = fs::read(path).map_err(io("reading", path))?;
    bytes.try_into().map_err(|_| CacheError::BadKey {
        path: path.to_path_buf(),
    })
}

/// Writes `bytes` to `path` (mode `0600`) through a temporary file renamed over it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("writing", &tmp))?;
    file.write_all(bytes).map_err(io("writing", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io("renaming", &tmp))?;
    Ok(())
}

/// The sha256 of `bytes`, as lowercase hex (how `sha256sum` and OCI digests write it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
