//! Small file-system helpers: whole files appear at once or not at all.

use std::io::Write as _;
use std::path::Path;

/// Creates `path` with `contents`, atomically, failing if it already exists.
pub fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.md");
        write_new(&p, b"one").expect("first write");
        assert!(write_new(&p, b"two").is_err());
        assert_eq!(std::fs::read(&p).expect("read"), b"one");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1, "no temp file left behind");
    }
}
