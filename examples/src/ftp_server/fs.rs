//! [`FsStorage`]: the FTPS server's storage on a `std` filesystem directory.
//!
//! The root is opened once as a [`cap_std::fs::Dir`], and every operation names its file by a
//! path relative to that handle, built from the [`VirtualPath`]'s components (each a plain
//! name, checked again here for the platform's own separators). cap-std resolves such paths
//! beneath the handle, in the same lookup that opens, creates, stats, lists, removes or
//! renames: `openat2` with `RESOLVE_BENEATH` on Linux 5.6 and later, a walk from handle to
//! handle elsewhere. `..` and symlinks leading outside are refused
//! ([`StorageError::OutsideRoot`]), absolute symlinks always, so a directory swapped for a
//! symlink at any moment cannot lead out. Symlinks staying inside the root are followed;
//! listings leave out those that do not.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use cap_std::fs::{Dir, Metadata, OpenOptions};
use redy_ftps::codec::listing::{Entry, EntryKind, Timestamp};
use redy_ftps::server::{Listing, StorageError, VirtualPath, WriteMode};

/// A directory served as the users' virtual root.
#[derive(Clone, Debug)]
pub struct FsStorage {
    root: PathBuf,
    dir: Arc<Dir>,
}

impl FsStorage {
    /// Serves `root` (which must exist; it is canonicalised and opened once, here).
    pub fn new(root: &Path) -> io::Result<Self> {
        let root = root.canonicalize()?;
        let dir = Dir::open_ambient_dir(&root, cap_std::ambient_authority())
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", root.display())))?;
        Ok(Self {
            root,
            dir: Arc::new(dir),
        })
    }

    /// The canonical root, as opened by [`new`](Self::new).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `path` under [`root`](Self::root), refused when its lookup from the root
    /// leads outside. For display: the operations never open by this path.
    pub fn resolve(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let relative = relative(path)?;
        match self.dir.metadata(&relative) {
            Err(e) if escaped(&e) => Err(StorageError::OutsideRoot),
            _ => Ok(self.root.join(relative)),
        }
    }

    /// What `path` is (following symlinks that stay inside the root).
    pub fn stat(&self, path: &VirtualPath) -> Result<Entry, StorageError> {
        let metadata = self.dir.metadata(relative(path)?).map_err(storage_error)?;
        Ok(entry(path.file_name().unwrap_or("/"), &metadata))
    }

    /// The entries of a directory; symlinks leading outside the root are left out.
    pub fn list(&self, path: &VirtualPath) -> Result<Listing, StorageError> {
        let relative = relative(path)?;
        let mut entries = Vec::new();
        for child in self.dir.read_dir(&relative).map_err(storage_error)? {
            let Ok(child) = child else { continue };
            let name = child.file_name();
            // Looked up from the root again: a symlink may lead elsewhere inside it.
            if let Ok(metadata) = self.dir.metadata(relative.join(&name)) {
                entries.push(entry(&name.to_string_lossy(), &metadata));
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
        let file = self.dir.open(relative(path)?).map_err(storage_error)?;
        let metadata = file.metadata().map_err(storage_error)?;
        if !metadata.is_file() {
            return Err(StorageError::IsADirectory);
        }
        let mut file = file.into_std();
        file.seek(SeekFrom::Start(offset)).map_err(storage_error)?;
        Ok((file, metadata.len()))
    }

    /// Opens a file for an upload.
    pub fn open_write(&self, path: &VirtualPath, mode: WriteMode) -> Result<File, StorageError> {
        let mut options = OpenOptions::new();
        options.create(true);
        match mode {
            WriteMode::Append => options.append(true),
            WriteMode::At(_) => options.write(true),
            _ => options.write(true).truncate(true),
        };
        let file = self.dir.open_with(relative(path)?, &options);
        let mut file = file.map_err(storage_error)?.into_std();
        if let WriteMode::At(offset) = mode {
            file.set_len(offset).map_err(storage_error)?;
            file.seek(SeekFrom::Start(offset)).map_err(storage_error)?;
        }
        Ok(file)
    }

    /// Creates a directory.
    pub fn make_dir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        self.dir.create_dir(relative(path)?).map_err(storage_error)
    }

    /// Removes an empty directory (never the root).
    pub fn remove_dir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        if path.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        self.dir.remove_dir(relative(path)?).map_err(storage_error)
    }

    /// Deletes a file (a symlink itself, not its target).
    pub fn delete(&self, path: &VirtualPath) -> Result<(), StorageError> {
        let relative = relative(path)?;
        if self.dir.is_dir(&relative) {
            return Err(StorageError::IsADirectory);
        }
        self.dir.remove_file(relative).map_err(storage_error)
    }

    /// Renames within the root.
    pub fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), StorageError> {
        if from.is_root() || to.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        let (from, to) = (relative(from)?, relative(to)?);
        self.dir.rename(from, &self.dir, to).map_err(storage_error)
    }
}

/// `path` relative to the root (`.` for the root itself).
fn relative(path: &VirtualPath) -> Result<PathBuf, StorageError> {
    let mut relative = PathBuf::from(".");
    for name in path.components() {
        if name.chars().any(std::path::is_separator) || Path::new(name).is_absolute() {
            return Err(StorageError::BadName(name.to_owned()));
        }
        relative.push(name);
    }
    Ok(relative)
}

/// cap-std's refusal of a path leading outside the root: permission denied, no OS error code.
fn escaped(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_none()
}

/// The storage failure for an I/O error.
pub fn storage_error(e: io::Error) -> StorageError {
    use io::ErrorKind as K;
    if escaped(&e) {
        return StorageError::OutsideRoot;
    }
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

fn entry(name: &str, metadata: &Metadata) -> Entry {
    let kind = if metadata.is_dir() {
        EntryKind::Directory
    } else if metadata.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    let mut entry = Entry::new(name, kind);
    entry.size = Some(metadata.len());
    entry.modified = metadata.modified().ok().map(|t| timestamp(t.into_std()));
    entry.permissions = Some(mode(metadata));
    entry
}

#[cfg(unix)]
fn mode(metadata: &Metadata) -> String {
    use cap_std::fs::PermissionsExt;
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
fn mode(metadata: &Metadata) -> String {
    match (metadata.is_dir(), metadata.permissions().readonly()) {
        (true, _) => "drwxr-xr-x".to_owned(),
        (false, true) => "-r--r--r--".to_owned(),
        (false, false) => "-rw-r--r--".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::fs;

    use super::*;

    fn path(p: &str) -> VirtualPath {
        VirtualPath::root().resolve(p).unwrap()
    }

    /// The names `fs` lists at its root.
    fn root_listing(fs: &FsStorage) -> Vec<String> {
        let listing = fs.list(&VirtualPath::root()).unwrap();
        listing.entries.into_iter().map(|e| e.name).collect()
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
        assert_eq!(root_listing(&fs), ["in", "inside-link"]);
    }

    /// Links made after the root was opened, and a directory swapped for one: what a check
    /// before opening by path would miss if the swap came between the two.
    #[test]
    #[cfg(unix)]
    fn escapes_are_refused_by_every_operation() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"secret").unwrap();
        fs::create_dir(outside.path().join("sub")).unwrap();
        let root = tempfile::tempdir().unwrap();
        let fs = FsStorage::new(root.path()).unwrap();
        fs.make_dir(&path("/in")).unwrap();
        fs.make_dir(&path("/swapped")).unwrap();
        drop(
            fs.open_write(&path("/in/ok.txt"), WriteMode::Truncate)
                .unwrap(),
        );

        let r = root.path();
        symlink(outside.path(), r.join("absolute")).unwrap();
        let name = outside.path().file_name().unwrap();
        symlink(Path::new("..").join(name), r.join("relative")).unwrap();
        fs::remove_dir(r.join("swapped")).unwrap();
        symlink(outside.path(), r.join("swapped")).unwrap();
        symlink(outside.path().join("secret"), r.join("file")).unwrap();

        let outside_root = Err(StorageError::OutsideRoot);
        for dir in ["/absolute", "/relative", "/swapped"] {
            let p = |name: &str| path(&format!("{dir}/{name}"));
            assert_eq!(
                fs.open_read(&p("secret"), 0).map(|_| ()),
                outside_root,
                "{dir}"
            );
            for mode in [WriteMode::Truncate, WriteMode::Append, WriteMode::At(0)] {
                assert_eq!(fs.open_write(&p("secret"), mode).map(|_| ()), outside_root);
                assert_eq!(fs.open_write(&p("new"), mode).map(|_| ()), outside_root);
            }
            assert_eq!(fs.list(&path(dir)).map(|_| ()), outside_root, "{dir}");
            assert_eq!(fs.stat(&p("secret")).map(|_| ()), outside_root, "{dir}");
            assert_eq!(fs.make_dir(&p("new")), outside_root, "{dir}");
            assert_eq!(fs.remove_dir(&p("sub")), outside_root, "{dir}");
            assert_eq!(fs.delete(&p("secret")), outside_root, "{dir}");
            assert_eq!(fs.rename(&p("secret"), &path("/stolen")), outside_root);
            assert_eq!(fs.rename(&path("/in/ok.txt"), &p("ok.txt")), outside_root);
        }
        assert_eq!(fs.open_read(&path("/file"), 0).map(|_| ()), outside_root);
        let truncate = fs.open_write(&path("/file"), WriteMode::Truncate);
        assert_eq!(truncate.map(|_| ()), outside_root);
        assert_eq!(fs.stat(&path("/file")).map(|_| ()), outside_root);

        let names = |dir: &Path| {
            let mut names: Vec<_> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(outside.path()), ["secret", "sub"]);
        assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"secret");
        assert!(
            fs::read_dir(outside.path().join("sub"))
                .unwrap()
                .next()
                .is_none()
        );
        assert_eq!(root_listing(&fs), ["in"]);
    }

    /// A directory swapped for a symlink to outside, over and over, while uploads go through it:
    /// a check before opening by path loses this race within a few hundred tries.
    #[test]
    #[cfg(unix)]
    fn a_directory_swapped_for_a_symlink_does_not_lead_out() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let fs = FsStorage::new(root.path()).unwrap();
        let (d, target) = (root.path().join("d"), outside.path().to_owned());
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = fs::create_dir(&d);
                    let _ = fs::remove_file(d.join("new"));
                    let _ = fs::remove_dir(&d);
                    let _ = std::os::unix::fs::symlink(&target, &d);
                    let _ = fs::remove_file(&d);
                }
            }
        });
        let new = path("/d/new");
        for _ in 0..20_000 {
            let _ = fs.open_write(&new, WriteMode::Truncate);
            if outside.path().join("new").exists() {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(!outside.path().join("new").exists());
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
