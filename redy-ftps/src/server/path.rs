//! Virtual paths: what a client names, normalised and confined to the user's virtual root
//! before any request leaves the machine.
//!
//! A [`VirtualPath`] is always absolute (`/` is the user's root), made of components that are
//! neither empty, `.` nor `..`, hold no `/`, NUL or control character, and is at most
//! [`MAX_PATH`] bytes long. `..` at the root stays at the root (as in a chroot), so no client
//! argument — relative, absolute, `~`, any number of `..` — names anything outside the root.
//! Mapping it onto storage is the caller's; the `std` backend in redy's examples also refuses
//! symlinks that lead outside the root.

use std::fmt;

/// Longest normalised path, in bytes.
pub const MAX_PATH: usize = 4096;

/// Why a client's path was refused (the server answers `553` or `501`).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("empty path")]
    Empty,
    /// The path holds NUL or another control character.
    #[error("path holds a control character (NUL, CR, LF, ...)")]
    ControlCharacter,
    /// The normalised path is longer than [`MAX_PATH`] bytes.
    #[error("path longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}

/// A normalised path under the user's virtual root: absolute, with no empty, `.` or `..`
/// component, no NUL or control character, at most [`MAX_PATH`] bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VirtualPath(String);

impl VirtualPath {
    /// The user's root, `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// `argument` as the client gave it, resolved against `self` (the working directory):
    /// absolute when it starts with `/` (or `~`, the user's root), `.` and empty components
    /// dropped, `..` going up but never above the root.
    pub fn resolve(&self, argument: &str) -> Result<Self, PathError> {
        if argument.is_empty() {
            return Err(PathError::Empty);
        }
        if argument.chars().any(char::is_control) {
            return Err(PathError::ControlCharacter);
        }
        let (mut parts, rest): (Vec<&str>, &str) = if let Some(rest) = argument.strip_prefix('/') {
            (Vec::new(), rest)
        } else if argument == "~" || argument.starts_with("~/") {
            (Vec::new(), &argument[1..])
        } else {
            (self.components().collect(), argument)
        };
        for part in rest.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        let mut path = String::with_capacity(argument.len() + self.0.len());
        for part in &parts {
            path.push('/');
            path.push_str(part);
            if path.len() > MAX_PATH {
                return Err(PathError::TooLong { limit: MAX_PATH });
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        Ok(Self(path))
    }

    /// The path as text, `/` or `/a/b`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its components from the root: none for `/`. Each is a plain name (never `.`, `..` or
    /// empty, no `/`), safe to push onto a root directory.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The last component; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// The parent directory (the root's parent is the root).
    pub fn parent(&self) -> Self {
        match self.0.rfind('/') {
            Some(0) | None => Self::root(),
            Some(i) => Self(self.0[..i].to_owned()),
        }
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }
}

impl fmt::Display for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn at(cwd: &str) -> VirtualPath {
        VirtualPath::root().resolve(cwd).unwrap()
    }

    #[test]
    fn escapes_stay_inside_the_root() {
        let cwd = at("/data/logs");
        for (arg, want) in [
            ("../../../../etc/passwd", "/etc/passwd"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("..", "/data"),
            ("../..", "/"),
            ("a/../../b", "/data/b"),
            ("./x//y/.", "/data/logs/x/y"),
            ("~", "/"),
            ("~/up.csv", "/up.csv"),
            ("~user", "/data/logs/~user"),
            ("/", "/"),
            ("....", "/data/logs/...."),
        ] {
            assert_eq!(cwd.resolve(arg).unwrap().as_str(), want, "{arg}");
        }
    }

    #[test]
    fn control_characters_empty_and_overlong_paths_are_refused() {
        let root = VirtualPath::root();
        assert_eq!(root.resolve("a\0b"), Err(PathError::ControlCharacter));
        assert_eq!(
            root.resolve("a\r\nDELE b"),
            Err(PathError::ControlCharacter)
        );
        assert_eq!(root.resolve(""), Err(PathError::Empty));
        let long = "a/".repeat(MAX_PATH);
        assert_eq!(
            root.resolve(&long),
            Err(PathError::TooLong { limit: MAX_PATH })
        );
        // Long input that normalises short is fine.
        let back = "a/../".repeat(2000);
        assert_eq!(root.resolve(&back).unwrap(), root);
    }

    #[test]
    fn parent_and_file_name() {
        let p = at("/a/b/c.txt");
        assert_eq!(p.file_name(), Some("c.txt"));
        assert_eq!(p.parent().as_str(), "/a/b");
        assert_eq!(at("/a").parent(), VirtualPath::root());
        assert_eq!(VirtualPath::root().parent(), VirtualPath::root());
        assert_eq!(VirtualPath::root().file_name(), None);
        assert_eq!(p.components().collect::<Vec<_>>(), ["a", "b", "c.txt"]);
    }

    proptest! {
        #[test]
        fn no_normalised_path_ever_escapes_the_root(
            cwd in proptest::collection::vec("[a-z.]{1,4}", 0..5),
            arg in proptest::collection::vec(
                prop_oneof!["\\.\\.", "\\.", "", "~", "[a-z.~]{1,5}", "[^/\\x00-\\x1f]{1,3}"],
                0..12,
            ),
            absolute in any::<bool>(),
        ) {
            let cwd = VirtualPath::root().resolve(&format!("/{}", cwd.join("/"))).unwrap();
            let arg = format!("{}{}", if absolute { "/" } else { "" }, arg.join("/"));
            if let Ok(p) = cwd.resolve(&arg) {
                prop_assert!(p.as_str().starts_with('/'));
                prop_assert!(p.as_str().len() <= MAX_PATH);
                for c in p.components() {
                    prop_assert!(c != ".." && c != "." && !c.is_empty() && !c.contains('/'));
                    prop_assert!(!c.chars().any(char::is_control));
                }
                // Normalised paths are fixed points.
                prop_assert_eq!(VirtualPath::root().resolve(p.as_str()).unwrap(), p.clone());
                // A root joined with the components stays under the root.
                let mut fs = std::path::PathBuf::from("/srv/root");
                fs.extend(p.components());
                prop_assert!(fs.starts_with("/srv/root"));
                prop_assert!(!fs.components().any(|c| c == std::path::Component::ParentDir));
            }
        }
    }
}
