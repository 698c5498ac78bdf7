use super::*;

/// A fresh directory under the system's temp dir, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("wasmesh-cache-test-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_stored_file_is_verified_and_made_private() {
    let dir = TempDir::new("stored");
    let cache = ModuleCache::open(&dir.0).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.0), 0o700);
    assert_eq!(mode(&dir.0.join("key")), 0o600);
    let path = cache.path_for(b"\0asm module", 7);
    assert!(!cache.verified(&path), "nothing stored yet");
    cache.store(&path, b"compiled code").unwrap();
    assert_eq!(mode(&path), 0o600);
    assert!(cache.verified(&path));
    assert_eq!(cache.rejected(), 0);
    // Another process opening the same directory uses the same key.
    assert!(ModuleCache::open(&dir.0).unwrap().verified(&path));
}

#[test]
fn a_changed_file_or_a_missing_mac_is_refused_and_counted() {
    let dir = TempDir::new("changed");
    let cache = ModuleCache::open(&dir.0).unwrap();
    let path = cache.path_for(b"module", 1);
    cache.store(&path, b"compiled code").unwrap();
    fs::write(&path, b"compiled codE").unwrap();
    assert!(!cache.verified(&path));
    assert_eq!(cache.rejected(), 1);
    cache.store(&path, b"compiled code").unwrap();
    fs::remove_file(mac_path(&path)).unwrap();
    assert!(!cache.verified(&path));
    assert_eq!(cache.rejected(), 2);
}

#[test]
fn a_file_others_may_write_is_refused() {
    let dir = TempDir::new("mode");
    let cache = ModuleCache::open(&dir.0).unwrap();
    let path = cache.path_for(b"module", 1);
    cache.store(&path, b"compiled code").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    assert!(!cache.verified(&path));
    assert_eq!(cache.rejected(), 1);
}

#[test]
fn a_directory_others_may_write_is_not_used() {
    let dir = TempDir::new("shared-dir");
    fs::create_dir_all(&dir.0).unwrap();
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o777)).unwrap();
    let error = ModuleCache::open(&dir.0).err().expect("refused");
    assert!(
        format!("{error:#}").contains("others may change it"),
        "{error:#}"
    );
}

#[test]
fn a_key_others_may_read_is_refused() {
    let dir = TempDir::new("key");
    ModuleCache::open(&dir.0).unwrap();
    fs::set_permissions(dir.0.join("key"), fs::Permissions::from_mode(0o644)).unwrap();
    assert!(ModuleCache::open(&dir.0).is_err());
}
