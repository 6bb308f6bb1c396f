//! Uploading a folder tree or a set of files (the manual's "FTP folder" and "FTP set"): the
//! order of remote operations, worked out from paths the caller's adapter found on disk.
