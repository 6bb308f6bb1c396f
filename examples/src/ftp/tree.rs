//! Uploading a local folder tree or a set of files over an [`FtpSession`]: walks the disk,
//! then runs the plan of [`redy_ftps::client::tree`].

use std::fs::File;
use std::path::{Path, PathBuf};

use redy_ftps::client::tree::{Step, plan_set, plan_tree};
use redy_ftps::client::{OpError, Outcome};

use super::{FtpError, FtpSession};

/// What a tree or set upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeReport {
    /// Remote folders created (not counting those that existed).
    pub folders_created: usize,
    /// Files uploaded.
    pub files: usize,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Local entries left out: symbolic links and special files.
    pub skipped: Vec<PathBuf>,
}

/// Uploads the folder `local` and everything under it into `remote`, creating remote folders
/// as needed. Symbolic links and special files are skipped (and listed in the report).
pub fn upload_tree(
    session: &mut FtpSession,
    local: &Path,
    remote: &str,
) -> Result<TreeReport, FtpError> {
    let mut entries = Vec::new();
    let mut report = TreeReport::default();
    walk(local, &mut Vec::new(), &mut entries, &mut report.skipped)?;
    let plan = plan_tree(
        remote,
        entries
            .iter()
            .map(|(path, is_dir)| (path.iter().map(String::as_str), *is_dir)),
    )
    .map_err(std::io::Error::other)?;
    run(session, local, plan, report)
}

/// Uploads each of `files` into the folder `remote`, by file name.
pub fn upload_files(
    session: &mut FtpSession,
    files: &[PathBuf],
    remote: &str,
) -> Result<TreeReport, FtpError> {
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let plan = plan_set(remote, names.iter().map(String::as_str)).map_err(std::io::Error::other)?;
    let mut report = TreeReport::default();
    for step in plan {
        match step {
            Step::MakeDir(dir) => make_dir(session, &dir, &mut report)?,
            Step::Upload { local, remote } => {
                let Some(path) = files.iter().find(|f| {
                    f.file_name()
                        .is_some_and(|n| n.to_string_lossy() == local[0])
                }) else {
                    continue;
                };
                report.bytes += session.store(&remote, 0, &mut File::open(path)?)?;
                report.files += 1;
            }
            _ => {}
        }
    }
    Ok(report)
}

fn run(
    session: &mut FtpSession,
    local: &Path,
    plan: Vec<Step>,
    mut report: TreeReport,
) -> Result<TreeReport, FtpError> {
    for step in plan {
        match step {
            Step::MakeDir(dir) => make_dir(session, &dir, &mut report)?,
            Step::Upload {
                local: parts,
                remote,
            } => {
                let path = parts.iter().fold(local.to_path_buf(), |p, c| p.join(c));
                report.bytes += session.store(&remote, 0, &mut File::open(path)?)?;
                report.files += 1;
            }
            _ => {}
        }
    }
    Ok(report)
}

/// `MKD`; a refusal is fine when the folder exists (`CWD` into it works).
fn make_dir(session: &mut FtpSession, dir: &str, report: &mut TreeReport) -> Result<(), FtpError> {
    match session.run(|c, now| c.mkdir(dir, now)) {
        Ok(_) => {
            report.folders_created += 1;
            Ok(())
        }
        Err(FtpError::Op(OpError::Refused(refusal))) => {
            let Outcome::Path(back) = session.run(|c, now| c.pwd(now))? else {
                return Err(OpError::Refused(refusal).into());
            };
            match session.run(|c, now| c.cwd(dir, now)) {
                Ok(_) => {
                    session.run(|c, now| c.cwd(&back, now))?;
                    Ok(())
                }
                Err(_) => Err(OpError::Refused(refusal).into()),
            }
        }
        Err(e) => Err(e),
    }
}

/// Collects (components, is folder) under `dir`, sorted; symlinks and special files go to
/// `skipped`.
fn walk(
    dir: &Path,
    prefix: &mut Vec<String>,
    entries: &mut Vec<(Vec<String>, bool)>,
    skipped: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let kind = child.file_type()?;
        let name = child.file_name().to_string_lossy().into_owned();
        prefix.push(name);
        if kind.is_dir() {
            entries.push((prefix.clone(), true));
            walk(&child.path(), prefix, entries, skipped)?;
        } else if kind.is_file() {
            entries.push((prefix.clone(), false));
        } else {
            skipped.push(child.path());
        }
        prefix.pop();
    }
    Ok(())
}
