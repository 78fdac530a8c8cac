//! Small file-system helpers: whole files appear at once or not at all.

use std::io::Write as _;
use std::path::Path;

/// A temporary file in `dir` (to be renamed over its target) with the mode an ordinary
/// new file gets, 0666 less the umask: the temp file's own default is 0600, which the
/// rename would pass on to a file of the repository.
pub fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Creates `path` with `contents`, atomically, failing if it already exists.
pub fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = temp_file_in(dir)?;
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

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_mode_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let mode = |p: &Path| std::fs::metadata(p).expect("mode").permissions().mode() & 0o777;
        std::fs::write(dir.path().join("ordinary"), "x").expect("write");
        write_new(&dir.path().join("new.md"), b"x").expect("write_new");
        assert_eq!(mode(&dir.path().join("new.md")), mode(&dir.path().join("ordinary")));
    }
}
