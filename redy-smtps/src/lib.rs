//! Sans-IO SMTP submission for redy — **skeleton**: the client arrives with its own issue.
//!
//! This crate will hold, on `redy-tls` sessions, an SMTP submission client over implicit TLS
//! (port 465) and STARTTLS (port 587, never falling back to clear text unless the caller asked
//! for opportunistic mode), with AUTH PLAIN, LOGIN and XOAUTH2 only after TLS, pipelining, a
//! streaming dot-stuffing body encoder, a message builder and provider presets.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
