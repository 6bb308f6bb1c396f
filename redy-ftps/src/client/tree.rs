//! Uploading a folder tree or a set of files (the manual's "FTP folder" and "FTP set"
//! resources): the remote operations in a safe order, planned from what the caller's adapter
//! found on disk. The plan does no I/O; the adapter runs it with `mkdir` and `store`.
//!
//! ```
//! use redy_ftps::client::tree::{Step, plan_tree};
//!
//! let plan = plan_tree("/backup", [(vec!["logs", "a.csv"], false), (vec!["logs"], true)])?;
//! assert_eq!(plan, [
//!     Step::MakeDir("/backup".into()),
//!     Step::MakeDir("/backup/logs".into()),
//!     Step::Upload { local: vec!["logs".into(), "a.csv".into()], remote: "/backup/logs/a.csv".into() },
//! ]);
//! # Ok::<(), redy_ftps::client::tree::TreeError>(())
//! ```

use std::collections::BTreeSet;

/// Most entries one plan takes.
pub const MAX_TREE_ENTRIES: usize = 100_000;

/// One remote operation of a plan.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create this remote folder (it may exist already).
    MakeDir(String),
    /// Upload the local file at these path components (relative to the local root) to
    /// `remote`.
    Upload {
        /// Path components under the local root.
        local: Vec<String>,
        /// The remote path.
        remote: String,
    },
}

/// Why a plan was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A path component that cannot name one remote entry (empty, `.`, `..`, with `/`, CR,
    /// LF or NUL).
    #[error("path component {0:?} cannot be uploaded as a name")]
    BadName(String),
    /// More than [`MAX_TREE_ENTRIES`] entries.
    #[error("more than {MAX_TREE_ENTRIES} entries")]
    TooMany,
}

/// Plans the upload of a tree: `entries` are (path components under the local root, is a
/// folder). Every folder on the way to a file is created first, parents before children,
/// each once; files follow in path order.
pub fn plan_tree<'a, P>(
    remote_root: &str,
    entries: impl IntoIterator<Item = (P, bool)>,
) -> Result<Vec<Step>, TreeError>
where
    P: IntoIterator<Item = &'a str>,
{
    let mut dirs = BTreeSet::new();
    let mut files = BTreeSet::new();
    for (count, (path, is_dir)) in entries.into_iter().enumerate() {
        if count >= MAX_TREE_ENTRIES {
            return Err(TreeError::TooMany);
        }
        let components = path
            .into_iter()
            .map(checked)
            .collect::<Result<Vec<String>, _>>()?;
        let parents = match is_dir {
            true => components.len(),
            false => components.len().saturating_sub(1),
        };
        for end in 1..=parents {
            dirs.insert(components[..end].to_vec());
        }
        if !is_dir && !components.is_empty() {
            files.insert(components);
        }
    }
    let root = remote_root.trim_end_matches('/');
    let remote = |components: &[String]| {
        let mut path = root.to_owned();
        for c in components {
            path.push('/');
            path.push_str(c);
        }
        path
    };
    let mut plan = Vec::with_capacity(1 + dirs.len() + files.len());
    if !root.is_empty() {
        plan.push(Step::MakeDir(root.to_owned()));
    }
    // BTreeSet order puts every folder after its parent.
    plan.extend(dirs.iter().map(|d| Step::MakeDir(remote(d))));
    plan.extend(files.into_iter().map(|f| Step::Upload {
        remote: remote(&f),
        local: f,
    }));
    Ok(plan)
}

/// Plans the upload of a set of files into one remote folder: each by its file name.
pub fn plan_set<'a>(
    remote_dir: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Step>, TreeError> {
    plan_tree(remote_dir, names.into_iter().map(|n| ([n], false)))
}

fn checked(name: &str) -> Result<String, TreeError> {
    let bad =
        name.is_empty() || name == "." || name == ".." || name.contains(['/', '\r', '\n', '\0']);
    match bad {
        true => Err(TreeError::BadName(name.to_owned())),
        false => Ok(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_escaping_names() {
        for bad in ["..", ".", "", "a/b", "x\r\nDELE y"] {
            assert_eq!(
                plan_tree("/r", [([bad], false)]),
                Err(TreeError::BadName(bad.into()))
            );
        }
    }

    #[test]
    fn a_set_goes_into_one_folder() {
        let plan = plan_set("/in/", ["b.csv", "a.csv"]).unwrap();
        assert_eq!(plan[0], Step::MakeDir("/in".into()));
        assert_eq!(
            plan[1],
            Step::Upload {
                local: vec!["a.csv".into()],
                remote: "/in/a.csv".into()
            }
        );
        assert_eq!(plan.len(), 3);
    }

    proptest! {
        /// Every upload's folder is made before it, and every file is uploaded exactly once.
        #[test]
        fn folders_come_before_their_files(paths in prop::collection::vec(prop::collection::vec("[a-c]{1,2}", 1..4), 0..30)) {
            let entries = paths.iter().map(|p| (p.iter().map(String::as_str).collect::<Vec<_>>(), false));
            let Ok(plan) = plan_tree("/r", entries) else { return Ok(()) };
            let mut made = std::collections::HashSet::new();
            let mut uploaded = std::collections::HashSet::new();
            for step in &plan {
                match step {
                    Step::MakeDir(d) => { prop_assert!(made.insert(d.clone())); }
                    Step::Upload { remote, .. } => {
                        let parent = &remote[..remote.rfind('/').unwrap()];
                        prop_assert!(made.contains(parent), "{} before {}", remote, parent);
                        prop_assert!(uploaded.insert(remote.clone()));
                    }
                }
            }
        }
    }
}
