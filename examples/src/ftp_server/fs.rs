//! [`FsStorage`]: the FTPS server's storage on a `std` filesystem directory.
//!
//! Every [`VirtualPath`] is mapped under the root component by component (each a plain name,
//! checked again here for the platform's own separators), then the deepest part of it that
//! exists is canonicalised and must still be under the root: a symlink leading outside is
//! refused ([`StorageError::OutsideRoot`]), and listings leave such links out.
//!
//! Known limit: between that check and the open, a local user who can write inside the root
//! could swap a directory for a symlink. The root should belong to the FTP service alone.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use redy_ftps::codec::listing::{Entry, EntryKind, Timestamp};
use redy_ftps::server::{Listing, StorageError, VirtualPath, WriteMode};

/// A directory served as the users' virtual root.
#[derive(Clone, Debug)]
pub struct FsStorage {
    root: PathBuf,
}

impl FsStorage {
    /// Serves `root` (which must exist; it is canonicalised).
    pub fn new(root: &Path) -> io::Result<Self> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                root.display()
            )));
        }
        Ok(Self { root })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `path`, refused when a symlink on the way leads outside the root.
    pub fn resolve(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let mut real = self.root.clone();
        for name in path.components() {
            if name.chars().any(std::path::is_separator) || Path::new(name).is_absolute() {
                return Err(StorageError::BadName(name.to_owned()));
            }
            real.push(name);
        }
        // The deepest existing ancestor (the path itself when it exists), symlinks resolved.
        let mut existing = real.as_path();
        let canonical = loop {
            match existing.canonicalize() {
                Ok(c) => break c,
                Err(_) => match existing.parent() {
                    Some(parent) if parent.starts_with(&self.root) => existing = parent,
                    _ => return Err(StorageError::NotFound),
                },
            }
        };
        if !canonical.starts_with(&self.root) {
            return Err(StorageError::OutsideRoot);
        }
        // A dangling symlink at the end could be created through: refuse it too.
        if fs::symlink_metadata(&real).is_ok_and(|m| m.file_type().is_symlink())
            && fs::metadata(&real).is_err()
        {
            return Err(StorageError::OutsideRoot);
        }
        Ok(real)
    }

    /// What `path` is (following symlinks that stay inside the root).
    pub fn stat(&self, path: &VirtualPath) -> Result<Entry, StorageError> {
        let real = self.resolve(path)?;
        let metadata = fs::metadata(&real).map_err(storage_error)?;
        Ok(entry(path.file_name().unwrap_or("/"), &metadata))
    }

    /// The entries of a directory; symlinks leading outside the root are left out.
    pub fn list(&self, path: &VirtualPath) -> Result<Listing, StorageError> {
        let real = self.resolve(path)?;
        let mut entries = Vec::new();
        for child in fs::read_dir(&real).map_err(storage_error)? {
            let Ok(child) = child else { continue };
            let inside = child
                .path()
                .canonicalize()
                .is_ok_and(|c| c.starts_with(&self.root));
            let Ok(metadata) = fs::metadata(child.path()) else {
                continue;
            };
            if inside {
                entries.push(entry(&child.file_name().to_string_lossy(), &metadata));
            }
        }
        entries.sort_by(|a, b| a.raw_name.cmp(&b.raw_name));
        Ok(Listing {
            entries,
            now: timestamp(SystemTime::now()),
        })
    }

    /// Opens a regular file for reading at `offset`; returns it with its size.
    pub fn open_read(&self, path: &VirtualPath, offset: u64) -> Result<(File, u64), StorageError> {
        let real = self.resolve(path)?;
        let mut file = File::open(&real).map_err(storage_error)?;
        let metadata = file.metadata().map_err(storage_error)?;
        if !metadata.is_file() {
            return Err(StorageError::IsADirectory);
        }
        file.seek(SeekFrom::Start(offset)).map_err(storage_error)?;
        Ok((file, metadata.len()))
    }

    /// Opens a file for an upload.
    pub fn open_write(&self, path: &VirtualPath, mode: WriteMode) -> Result<File, StorageError> {
        let real = self.resolve(path)?;
        if real.is_dir() {
            return Err(StorageError::IsADirectory);
        }
        let mut options = OpenOptions::new();
        options.create(true);
        match mode {
            WriteMode::Append => options.append(true),
            WriteMode::At(_) => options.write(true),
            _ => options.write(true).truncate(true),
        };
        let mut file = options.open(&real).map_err(storage_error)?;
        if let WriteMode::At(offset) = mode {
            file.set_len(offset).map_err(storage_error)?;
            file.seek(SeekFrom::Start(offset)).map_err(storage_error)?;
        }
        Ok(file)
    }

    /// Creates a directory.
    pub fn make_dir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        fs::create_dir(self.resolve(path)?).map_err(storage_error)
    }

    /// Removes an empty directory (never the root).
    pub fn remove_dir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        if path.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        fs::remove_dir(self.resolve(path)?).map_err(storage_error)
    }

    /// Deletes a file.
    pub fn delete(&self, path: &VirtualPath) -> Result<(), StorageError> {
        let real = self.resolve(path)?;
        if real.is_dir() {
            return Err(StorageError::IsADirectory);
        }
        fs::remove_file(real).map_err(storage_error)
    }

    /// Renames within the root.
    pub fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), StorageError> {
        if from.is_root() || to.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        fs::rename(self.resolve(from)?, self.resolve(to)?).map_err(storage_error)
    }
}

/// The storage failure for an I/O error.
pub fn storage_error(e: io::Error) -> StorageError {
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => StorageError::NotFound,
        K::PermissionDenied | K::ReadOnlyFilesystem => StorageError::PermissionDenied,
        K::AlreadyExists => StorageError::AlreadyExists,
        K::NotADirectory => StorageError::NotADirectory,
        K::IsADirectory => StorageError::IsADirectory,
        K::DirectoryNotEmpty => StorageError::NotEmpty,
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => StorageError::NoSpace,
        K::InvalidFilename => StorageError::BadName(e.to_string()),
        _ => StorageError::Other(e.to_string()),
    }
}

fn timestamp(t: SystemTime) -> Timestamp {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    Timestamp(secs)
}

fn entry(name: &str, metadata: &fs::Metadata) -> Entry {
    let kind = if metadata.is_dir() {
        EntryKind::Directory
    } else if metadata.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    let mut entry = Entry::new(name, kind);
    entry.size = Some(metadata.len());
    entry.modified = metadata.modified().ok().map(timestamp);
    entry.permissions = Some(mode(metadata));
    entry
}

#[cfg(unix)]
fn mode(metadata: &fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bits = metadata.permissions().mode();
    let mut mode = String::from(if metadata.is_dir() { "d" } else { "-" });
    for shift in [6, 3, 0] {
        let part = bits >> shift;
        mode.push(if part & 4 != 0 { 'r' } else { '-' });
        mode.push(if part & 2 != 0 { 'w' } else { '-' });
        mode.push(if part & 1 != 0 { 'x' } else { '-' });
    }
    mode
}

#[cfg(not(unix))]
fn mode(metadata: &fs::Metadata) -> String {
    match (metadata.is_dir(), metadata.permissions().readonly()) {
        (true, _) => "drwxr-xr-x".to_owned(),
        (false, true) => "-r--r--r--".to_owned(),
        (false, false) => "-rw-r--r--".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn path(p: &str) -> VirtualPath {
        VirtualPath::root().resolve(p).unwrap()
    }

    #[test]
    #[cfg(unix)]
    fn symlinks_leading_outside_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"secret").unwrap();
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("in")).unwrap();
        fs::write(root.path().join("in/ok.txt"), b"ok").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("secret"))
            .unwrap();
        std::os::unix::fs::symlink("in/ok.txt", root.path().join("inside-link")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", root.path().join("dangling")).unwrap();
        let fs = FsStorage::new(root.path()).unwrap();
        for p in [
            "/escape",
            "/escape/secret",
            "/escape/new.txt",
            "/secret",
            "/dangling",
        ] {
            assert_eq!(fs.resolve(&path(p)), Err(StorageError::OutsideRoot), "{p}");
        }
        assert!(fs.open_read(&path("/escape/secret"), 0).is_err());
        assert!(
            fs.open_write(&path("/escape/new.txt"), WriteMode::Truncate)
                .is_err()
        );
        assert!(
            fs.open_write(&path("/dangling"), WriteMode::Truncate)
                .is_err()
        );
        assert!(!outside.path().join("new.txt").exists());
        // Links that stay inside work; outside ones are not listed.
        assert_eq!(fs.stat(&path("/inside-link")).unwrap().size, Some(2));
        let names: Vec<String> = fs
            .list(&VirtualPath::root())
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["in", "inside-link"]);
    }

    #[test]
    fn files_and_directories() {
        let root = tempfile::tempdir().unwrap();
        let fs = FsStorage::new(root.path()).unwrap();
        fs.make_dir(&path("/d")).unwrap();
        assert_eq!(fs.make_dir(&path("/d")), Err(StorageError::AlreadyExists));
        let mut f = fs.open_write(&path("/d/f"), WriteMode::Truncate).unwrap();
        io::Write::write_all(&mut f, b"0123456789").unwrap();
        drop(f);
        let mut f = fs.open_write(&path("/d/f"), WriteMode::At(4)).unwrap();
        io::Write::write_all(&mut f, b"ab").unwrap();
        drop(f);
        assert_eq!(std::fs::read(root.path().join("d/f")).unwrap(), b"0123ab");
        let (mut f, size) = fs.open_read(&path("/d/f"), 2).unwrap();
        let mut rest = String::new();
        io::Read::read_to_string(&mut f, &mut rest).unwrap();
        assert_eq!((size, rest.as_str()), (6, "23ab"));
        assert_eq!(fs.remove_dir(&path("/d")), Err(StorageError::NotEmpty));
        assert_eq!(
            fs.open_read(&path("/d"), 0).unwrap_err(),
            StorageError::IsADirectory
        );
        fs.rename(&path("/d/f"), &path("/g")).unwrap();
        fs.delete(&path("/g")).unwrap();
        assert_eq!(fs.delete(&path("/g")), Err(StorageError::NotFound));
        fs.remove_dir(&path("/d")).unwrap();
        assert_eq!(
            fs.remove_dir(&VirtualPath::root()),
            Err(StorageError::PermissionDenied)
        );
        assert_eq!(fs.stat(&path("/missing/x")), Err(StorageError::NotFound));
    }
}
