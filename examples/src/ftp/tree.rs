//! Uploading a local folder tree or a set of files.
