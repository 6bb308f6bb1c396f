//! Directory listings: real server output (vsftpd, proftpd, pure-ftpd, busybox, IIS,
//! FileZilla Server, RFC 3659), odd cases, and round trips under proptest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use redy_ftps::codec::listing::{
    Entry, EntryKind, LineSplitter, ListingError, MAX_LISTING_LINE, Timestamp, format_list_line,
    format_mlsx, parse_list_line, parse_mlst_entry, parse_mlsx_line,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
    Timestamp::from_utc(y, mo, d, h, mi, s).unwrap()
}

/// The reference time for LIST dates without a year: 2026-12-01 12:00 UTC.
fn now() -> i64 {
    utc(2026, 12, 1, 12, 0, 0).0
}

fn list(line: &str) -> Entry {
    parse_list_line(line.as_bytes(), now())
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
        .unwrap_or_else(|| panic!("{line:?}: no entry"))
}

fn mlsx(line: &str) -> Entry {
    parse_mlsx_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn symlink(target: &str) -> EntryKind {
    EntryKind::Symlink {
        target: Some(target.to_owned()),
    }
}

/// (line, name, kind, size, modified, owner, group)
type Expected = (
    &'static str,
    &'static str,
    EntryKind,
    Option<u64>,
    Timestamp,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn unix_lines_from_real_servers() {
    let cases: Vec<Expected> = vec![
        // vsftpd: "%s %4d %-8s %-8s %12llu %b %d %H:%M" or "%b %d  %Y", numeric ids by default
        (
            "drwxr-xr-x    2 1000     1000         4096 Nov 22 05:40 dir name with spaces",
            "dir name with spaces",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 11, 22, 5, 40, 0),
            Some("1000"),
            Some("1000"),
        ),
        (
            "-rw-r--r--    1 1000     1000       123456 Jan 03  2024 report.csv",
            "report.csv",
            EntryKind::File,
            Some(123_456),
            utc(2024, 1, 3, 0, 0, 0),
            Some("1000"),
            Some("1000"),
        ),
        (
            "lrwxrwxrwx    1 0        0               7 Nov 22 05:40 bin -> usr/bin",
            "bin",
            symlink("usr/bin"),
            Some(7),
            utc(2026, 11, 22, 5, 40, 0),
            Some("0"),
            Some("0"),
        ),
        // proftpd: named owners, day padded with a space
        (
            "-rw-r--r--   1 ftp      ftp           123 Jan  3  2024 file.txt",
            "file.txt",
            EntryKind::File,
            Some(123),
            utc(2024, 1, 3, 0, 0, 0),
            Some("ftp"),
            Some("ftp"),
        ),
        (
            "drwxr-xr-x   3 proftpd  nogroup      4096 Oct 30 17:02 incoming",
            "incoming",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 10, 30, 17, 2, 0),
            Some("proftpd"),
            Some("nogroup"),
        ),
        (
            "-rw-------   1 operator operator        0 Dec  1 11:59 empty",
            "empty",
            EntryKind::File,
            Some(0),
            utc(2026, 12, 1, 11, 59, 0),
            Some("operator"),
            Some("operator"),
        ),
        // pure-ftpd: wide columns
        (
            "drwxr-xr-x    2 1000       1000             4096 Nov 22 05:40 dir",
            "dir",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 11, 22, 5, 40, 0),
            Some("1000"),
            Some("1000"),
        ),
        (
            "-rw-r--r--    1 ftpuser    ftpgroup   2147483648 Jun 15  2025 image.iso",
            "image.iso",
            EntryKind::File,
            Some(2_147_483_648),
            utc(2025, 6, 15, 0, 0, 0),
            Some("ftpuser"),
            Some("ftpgroup"),
        ),
        // Linux `ls -l` and busybox ftpd
        (
            "drwxrwxrwt   10 root     root         4096 Nov 22 05:40 tmp",
            "tmp",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 11, 22, 5, 40, 0),
            Some("root"),
            Some("root"),
        ),
        (
            "-rwsr-xr-x    1 0        0           55672 Feb  7  2023 su",
            "su",
            EntryKind::File,
            Some(55672),
            utc(2023, 2, 7, 0, 0, 0),
            Some("0"),
            Some("0"),
        ),
        (
            "crw-rw-rw-    1 0        0          1,   3 Nov 22 05:40 null",
            "null",
            EntryKind::Other,
            None,
            utc(2026, 11, 22, 5, 40, 0),
            Some("0"),
            Some("0"),
        ),
        (
            "brw-rw----    1 root     disk       8,0 Nov 22 05:40 sda",
            "sda",
            EntryKind::Other,
            None,
            utc(2026, 11, 22, 5, 40, 0),
            Some("root"),
            Some("disk"),
        ),
        (
            "prw-r--r--    1 root     root            0 Nov 22 05:40 fifo",
            "fifo",
            EntryKind::Other,
            Some(0),
            utc(2026, 11, 22, 5, 40, 0),
            Some("root"),
            Some("root"),
        ),
        (
            "srwxrwxrwx    1 root     root            0 Nov 22 05:40 control.sock",
            "control.sock",
            EntryKind::Other,
            Some(0),
            utc(2026, 11, 22, 5, 40, 0),
            Some("root"),
            Some("root"),
        ),
        // ACL and SELinux markers after the mode
        (
            "-rw-rw-r--+  1 plc      plc             42 Nov 22 05:40 acl.txt",
            "acl.txt",
            EntryKind::File,
            Some(42),
            utc(2026, 11, 22, 5, 40, 0),
            Some("plc"),
            Some("plc"),
        ),
        (
            "-rw-r--r--.  1 root     root            42 Nov 22 05:40 selinux.txt",
            "selinux.txt",
            EntryKind::File,
            Some(42),
            utc(2026, 11, 22, 5, 40, 0),
            Some("root"),
            Some("root"),
        ),
        // group missing (some embedded servers)
        (
            "-rw-r--r--   1 owner        1234 Nov 22 05:40 nogroup.bin",
            "nogroup.bin",
            EntryKind::File,
            Some(1234),
            utc(2026, 11, 22, 5, 40, 0),
            Some("owner"),
            None,
        ),
        // FileZilla Server (Unix form) and IIS in Unix mode
        (
            "-rw-r--r-- 1 ftp ftp            123 Nov 22 05:40 filezilla.txt",
            "filezilla.txt",
            EntryKind::File,
            Some(123),
            utc(2026, 11, 22, 5, 40, 0),
            Some("ftp"),
            Some("ftp"),
        ),
        (
            "-rwxrwxrwx   1 owner    group            1803 Nov 22 05:40 iis-unix.htm",
            "iis-unix.htm",
            EntryKind::File,
            Some(1803),
            utc(2026, 11, 22, 5, 40, 0),
            Some("owner"),
            Some("group"),
        ),
        // ls --time-style=long-iso
        (
            "-rw-r--r-- 1 u g 5 2024-01-03 05:40 iso.txt",
            "iso.txt",
            EntryKind::File,
            Some(5),
            utc(2024, 1, 3, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        // odd names
        (
            "-rw-r--r-- 1 u g 5 Nov 22 05:40 a -> b",
            "a -> b",
            EntryKind::File,
            Some(5),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "-rw-r--r-- 1 u g 5 Nov 22 05:40  leading space",
            " leading space",
            EntryKind::File,
            Some(5),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "-rw-r--r-- 1 u g 5 Nov 22 05:40 Jan  3  2024 date in name",
            "Jan  3  2024 date in name",
            EntryKind::File,
            Some(5),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "-rw-r--r-- 1 u g 18446744073709551615 Jan  3  2024 huge",
            "huge",
            EntryKind::File,
            Some(u64::MAX),
            utc(2024, 1, 3, 0, 0, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "drwxr-xr-x 2 u g 4096 Nov 22 05:40 .",
            ".",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "drwxr-xr-x 2 u g 4096 Nov 22 05:40 ..",
            "..",
            EntryKind::Directory,
            Some(4096),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "lrwxrwxrwx 1 u g 12 Nov 22 05:40 name with spaces -> target with spaces",
            "name with spaces",
            symlink("target with spaces"),
            Some(12),
            utc(2026, 11, 22, 5, 40, 0),
            Some("u"),
            Some("g"),
        ),
        (
            "-rw-r--r-- 1 u g 29 Feb 29  2024 leap.txt",
            "leap.txt",
            EntryKind::File,
            Some(29),
            utc(2024, 2, 29, 0, 0, 0),
            Some("u"),
            Some("g"),
        ),
    ];
    for (line, name, kind, size, modified, owner, group) in cases {
        for variant in [line.to_owned(), format!("{line}\r\n"), format!("{line}\n")] {
            let e = list(&variant);
            assert_eq!(e.name, name, "{line}");
            assert_eq!(e.raw_name, name.as_bytes(), "{line}");
            assert_eq!(e.kind, kind, "{line}");
            assert_eq!(e.size, size, "{line}");
            assert_eq!(e.modified, Some(modified), "{line}");
            assert_eq!(e.owner.as_deref(), owner, "{line}");
            assert_eq!(e.group.as_deref(), group, "{line}");
            assert!(e.facts.is_empty());
        }
    }
    assert_eq!(
        list("drwxr-xr-x    2 1000     1000         4096 Nov 22 05:40 d")
            .permissions
            .as_deref(),
        Some("drwxr-xr-x")
    );
    assert_eq!(
        list("-rw-rw-r--+  1 plc      plc             42 Nov 22 05:40 acl.txt")
            .permissions
            .as_deref(),
        Some("-rw-rw-r--+")
    );
}

#[test]
fn dos_lines_from_iis_and_filezilla() {
    let cases: Vec<(&str, &str, EntryKind, Option<u64>, Timestamp)> = vec![
        (
            "11-22-26  05:40AM       <DIR>          dir name",
            "dir name",
            EntryKind::Directory,
            None,
            utc(2026, 11, 22, 5, 40, 0),
        ),
        (
            "11-22-2026  05:40PM              1234 file.txt",
            "file.txt",
            EntryKind::File,
            Some(1234),
            utc(2026, 11, 22, 17, 40, 0),
        ),
        (
            "01-03-24  12:00AM                    0 midnight.txt",
            "midnight.txt",
            EntryKind::File,
            Some(0),
            utc(2024, 1, 3, 0, 0, 0),
        ),
        (
            "01-03-24  12:30PM                    7 noon.txt",
            "noon.txt",
            EntryKind::File,
            Some(7),
            utc(2024, 1, 3, 12, 30, 0),
        ),
        (
            "02-29-24  11:59PM       <DIR>          leap",
            "leap",
            EntryKind::Directory,
            None,
            utc(2024, 2, 29, 23, 59, 0),
        ),
        (
            "07-18-69  09:00AM                  100 pivot 2069",
            "pivot 2069",
            EntryKind::File,
            Some(100),
            utc(2069, 7, 18, 9, 0, 0),
        ),
        (
            "07-18-70  09:00AM                  100 pivot 1970",
            "pivot 1970",
            EntryKind::File,
            Some(100),
            utc(1970, 7, 18, 9, 0, 0),
        ),
        // IIS with a 24-hour clock, FileZilla-style thousands separators
        (
            "11-22-2026  17:40                 10 h24.txt",
            "h24.txt",
            EntryKind::File,
            Some(10),
            utc(2026, 11, 22, 17, 40, 0),
        ),
        (
            "11-22-2026  05:40PM        1,234,567 big.bin",
            "big.bin",
            EntryKind::File,
            Some(1_234_567),
            utc(2026, 11, 22, 17, 40, 0),
        ),
        (
            "11-22-26  05:40AM       <DIR>          a -> b; c",
            "a -> b; c",
            EntryKind::Directory,
            None,
            utc(2026, 11, 22, 5, 40, 0),
        ),
    ];
    for (line, name, kind, size, modified) in cases {
        let e = list(line);
        assert_eq!(e.name, name, "{line}");
        assert_eq!(e.kind, kind, "{line}");
        assert_eq!(e.size, size, "{line}");
        assert_eq!(e.modified, Some(modified), "{line}");
        assert_eq!((e.permissions, e.owner, e.group), (None, None, None));
    }
}

#[test]
fn total_and_blank_lines_are_skipped() {
    for line in ["total 12", "total 0\r\n", "total 1.5M", "", "\r\n", "   "] {
        assert_eq!(
            parse_list_line(line.as_bytes(), now()),
            Ok(None),
            "{line:?}"
        );
    }
}

#[test]
fn dates_without_a_year_resolve_near_the_reference_time() {
    let at = |now: Timestamp, line: &str| {
        parse_list_line(line.as_bytes(), now.0)
            .unwrap()
            .unwrap()
            .modified
            .unwrap()
    };
    // In January, December is last year.
    let january = utc(2027, 1, 5, 10, 0, 0);
    assert_eq!(
        at(january, "-rw-r--r-- 1 u g 1 Dec 31 23:59 f"),
        utc(2026, 12, 31, 23, 59, 0)
    );
    assert_eq!(
        at(january, "-rw-r--r-- 1 u g 1 Jan  5 09:00 f"),
        utc(2027, 1, 5, 9, 0, 0)
    );
    // A server clock slightly ahead across New Year: next year.
    let new_years_eve = utc(2026, 12, 31, 20, 0, 0);
    assert_eq!(
        at(new_years_eve, "-rw-r--r-- 1 u g 1 Jan  1 00:01 f"),
        utc(2027, 1, 1, 0, 1, 0)
    );
    // Five months ahead is still this year; seven months ahead is last year.
    let june = utc(2026, 6, 1, 0, 0, 0);
    assert_eq!(
        at(june, "-rw-r--r-- 1 u g 1 Nov  1 00:00 f"),
        utc(2026, 11, 1, 0, 0, 0)
    );
    assert_eq!(
        at(june, "-rw-r--r-- 1 u g 1 Jan  2 00:00 f"),
        utc(2026, 1, 2, 0, 0, 0)
    );
    assert_eq!(
        at(
            utc(2026, 1, 10, 0, 0, 0),
            "-rw-r--r-- 1 u g 1 Aug  2 00:00 f"
        ),
        utc(2025, 8, 2, 0, 0, 0)
    );
    // February 29th: the leap year nearest.
    assert_eq!(
        at(
            utc(2024, 3, 10, 0, 0, 0),
            "-rw-r--r-- 1 u g 1 Feb 29 12:00 f"
        ),
        utc(2024, 2, 29, 12, 0, 0)
    );
    assert_eq!(
        at(
            utc(2025, 1, 10, 0, 0, 0),
            "-rw-r--r-- 1 u g 1 Feb 29 12:00 f"
        ),
        utc(2024, 2, 29, 12, 0, 0)
    );
    assert_eq!(
        at(
            utc(2026, 6, 10, 0, 0, 0),
            "-rw-r--r-- 1 u g 1 Feb 29 12:00 f"
        ),
        utc(2024, 2, 29, 12, 0, 0)
    );
}

#[test]
fn absurd_reference_times_are_errors_not_panics() {
    for now in [i64::MIN, i64::MAX, -1, 0] {
        let result = parse_list_line(b"-rw-r--r-- 1 u g 1 Jan  1 00:00 f", now);
        match now {
            i64::MIN | i64::MAX => assert!(result.is_err(), "{now}"),
            _ => assert!(result.unwrap().unwrap().modified.is_some()),
        }
    }
}

#[test]
fn eight_bit_names_keep_their_bytes() {
    let mut line = b"-rw-r--r-- 1 u g 5 Nov 22 05:40 Messdaten-".to_vec();
    line.extend_from_slice(&[0xE4, 0xF6, 0xFC]); // "äöü" in Latin-1
    line.extend_from_slice(b".csv");
    let e = parse_list_line(&line, now()).unwrap().unwrap();
    assert_eq!(e.raw_name, b"Messdaten-\xE4\xF6\xFC.csv");
    assert_eq!(e.name, "Messdaten-\u{FFFD}\u{FFFD}\u{FFFD}.csv");

    let e = list("-rw-r--r-- 1 u g 5 Nov 22 05:40 Prüfprotokoll.pdf");
    assert_eq!(e.name, "Prüfprotokoll.pdf");

    let e = parse_mlsx_line(b"type=file;size=3; \xFF\xFEname").unwrap();
    assert_eq!(e.raw_name, b"\xFF\xFEname");
    assert_eq!(e.name, "\u{FFFD}\u{FFFD}name");
}

#[test]
fn malformed_list_lines_are_typed_errors() {
    let err = |line: &str| parse_list_line(line.as_bytes(), now()).unwrap_err();
    assert!(matches!(
        err("-rw-r--r-- 1 u g big Nov 22 05:40 f"),
        ListingError::MalformedUnix {
            why: "the size is not a number",
            ..
        }
    ));
    assert!(matches!(
        err("-rw-r--r-- 1 u g 5 Nov 22 05:40"),
        ListingError::MalformedUnix { .. }
    ));
    assert!(matches!(
        err("-rw-r--r-- 1 u g 5 Feb 29  2023 not-leap"),
        ListingError::MalformedUnix {
            why: "no such date",
            ..
        }
    ));
    assert!(matches!(
        err("-rw-r--r-- 1 u g 5 Nov 31  2023 f"),
        ListingError::MalformedUnix { .. }
    ));
    assert!(matches!(
        err("13-01-26  05:40AM       <DIR>          month 13"),
        ListingError::MalformedDos {
            why: "no such date",
            ..
        }
    ));
    assert!(matches!(
        err("11-22-26  13:40PM       <DIR>          pm 13"),
        ListingError::MalformedDos {
            why: "no such hour",
            ..
        }
    ));
    assert!(matches!(
        err("11-22-26  05:40AM       <DIR>"),
        ListingError::MalformedDos { .. }
    ));
    assert!(matches!(
        err("550 No files found."),
        ListingError::MalformedDos { .. }
    ));
    assert!(matches!(
        err("hello world"),
        ListingError::UnknownFormat { .. }
    ));
    // The message shows the line, escaped and truncated.
    let long = format!("zz\tnonsense {}", "x".repeat(200));
    let message = err(&long).to_string();
    let shown = format!("\"zz\\tnonsense {}\"", "x".repeat(68));
    assert_eq!(message, format!("unknown listing format {shown}"));
}

#[test]
fn mlsd_entries_from_rfc_3659_and_real_servers() {
    // RFC 3659 7.7 examples
    let e = mlsx("Type=cdir;Modify=19981107085215;Perm=el; /tmp");
    assert_eq!(e.kind, EntryKind::CurrentDir);
    assert_eq!(e.name, "/tmp");
    assert_eq!(e.modified, Some(utc(1998, 11, 7, 8, 52, 15)));
    assert_eq!(e.permissions.as_deref(), Some("el"));

    let e = mlsx("Type=pdir;Modify=19990112030508;Perm=el; ..");
    assert_eq!((e.kind, e.name.as_str()), (EntryKind::ParentDir, ".."));

    let e = mlsx("Type=file;Size=25730;Modify=19940728095854;Perm=; capmux.tar.z");
    assert_eq!(e.kind, EntryKind::File);
    assert_eq!(e.size, Some(25730));
    assert_eq!(e.permissions.as_deref(), Some(""));
    assert_eq!(e.name, "capmux.tar.z");

    let e = mlsx("Type=OS.unix=slink:/foobar;Perm=;Unique=keVO1+4G4; foobar");
    assert_eq!(e.kind, symlink("/foobar"));
    assert_eq!(e.fact("unique"), Some("keVO1+4G4"));

    let e = mlsx("Type=OS.unix=chr-13/29;Perm=;Unique=keVO1+5G4; device");
    assert_eq!(e.kind, EntryKind::Other);
    assert_eq!(e.fact("TYPE"), Some("OS.unix=chr-13/29"));

    let e = mlsx("Type=dir;Perm=cpmel;Unique=keVO1+7G4; incoming");
    assert_eq!(
        (e.kind, e.permissions.as_deref()),
        (EntryKind::Directory, Some("cpmel"))
    );

    let e = mlsx("Type=file;Perm=r;Unique=keVO1+EG4; two words");
    assert_eq!(e.name, "two words");
    let e = mlsx("Type=file;Perm=r;Unique=keVO1+IH4;  leading space");
    assert_eq!(e.name, " leading space");

    // proftpd
    let e = mlsx(
        "modify=20261122054000;perm=adfr;size=123;type=file;unique=FD00U1A2B;UNIX.group=1000;\
         UNIX.groupname=ftp;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=ftp; file.txt\r\n",
    );
    assert_eq!(e.kind, EntryKind::File);
    assert_eq!(e.size, Some(123));
    assert_eq!(e.modified, Some(utc(2026, 11, 22, 5, 40, 0)));
    assert_eq!(e.permissions.as_deref(), Some("adfr"));
    assert_eq!(
        (e.owner.as_deref(), e.group.as_deref()),
        (Some("1000"), Some("1000"))
    );
    assert_eq!(e.fact("unix.mode"), Some("0644"));
    assert_eq!(e.facts.len(), 10);
    assert_eq!(e.facts[5], ("UNIX.group".to_owned(), "1000".to_owned()));
    let e = mlsx(
        "modify=20261122054000;perm=flcdmpe;type=dir;unique=FD00U1A2C;UNIX.mode=0755; dir name",
    );
    assert_eq!(
        (e.kind, e.name.as_str()),
        (EntryKind::Directory, "dir name")
    );
    let e =
        mlsx("modify=20261122054000;perm=adfr;size=7;type=OS.unix=symlink;UNIX.mode=0777; link");
    assert_eq!(e.kind, EntryKind::Symlink { target: None });

    // pure-ftpd
    let e = mlsx(
        "type=file;size=4096;modify=20261122054000;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=100;unique=803g1a2b; data.bin",
    );
    assert_eq!(
        (e.owner.as_deref(), e.group.as_deref()),
        (Some("1000"), Some("100"))
    );
    assert_eq!(e.size, Some(4096));

    // IIS
    let e = mlsx("type=file;modify=20261122054000;size=1234; file.txt");
    assert_eq!((e.size, e.name.as_str()), (Some(1234), "file.txt"));
    let e = mlsx("type=dir;modify=20261122054000; wwwroot");
    assert_eq!(e.kind, EntryKind::Directory);

    // FileZilla Server: fractional seconds, case-insensitive names
    let e = mlsx("Type=dir;Modify=20261122054000.123; name");
    assert_eq!(e.kind, EntryKind::Directory);
    assert_eq!(e.modified, Some(utc(2026, 11, 22, 5, 40, 0)));
    let e = mlsx("type=file;size=123;modify=20261122054000;perm=r; file name");
    assert_eq!(
        (e.kind, e.size, e.name.as_str()),
        (EntryKind::File, Some(123), "file name")
    );

    // names with `;`, `=` and spaces; no facts at all
    let e = mlsx("type=file;size=1; a;b=c d;");
    assert_eq!(e.name, "a;b=c d;");
    let e = mlsx(" bare name");
    assert_eq!(
        (e.kind, e.name.as_str(), e.facts.len()),
        (EntryKind::Other, "bare name", 0)
    );
    // an unknown type value
    assert_eq!(mlsx("type=OS.vms=blah; x").kind, EntryKind::Other);
    // a huge size, leap day
    let e = mlsx("type=file;size=18446744073709551615;modify=20240229235959; big");
    assert_eq!(e.size, Some(u64::MAX));
    assert_eq!(e.modified, Some(utc(2024, 2, 29, 23, 59, 59)));
}

#[test]
fn mlst_reply_entry_line() {
    // RFC 3659 7.7.1: the reply's middle line, as the reply parser hands it over
    let e = parse_mlst_entry(b" Type=file;Size=1024990;Perm=r; /tmp/cap60.pl198.tar.gz").unwrap();
    assert_eq!(e.kind, EntryKind::File);
    assert_eq!(e.size, Some(1_024_990));
    assert_eq!(e.name, "/tmp/cap60.pl198.tar.gz");
    assert!(matches!(
        parse_mlst_entry(b"Type=file;Size=1; x"),
        Err(ListingError::MalformedMlsx { .. })
    ));
}

#[test]
fn malformed_mlsd_entries_are_typed_errors() {
    for (line, why) in [
        ("type=file;size=12x; f", "size is not a number"),
        (
            "type=file;modify=2026112205; f",
            "modify is not YYYYMMDDHHMMSS[.sss]",
        ),
        (
            "type=file;modify=20230229000000; f",
            "modify is not YYYYMMDDHHMMSS[.sss]",
        ),
        ("type=file;size=1;", "expected fact=value;... name"),
        ("type=file;size=1; ", "empty name"),
        ("type=file;garbage; f", "expected fact=value;... name"),
        ("no-facts-no-space", "expected fact=value;... name"),
        // Found by fuzzing: a NUL in a symlink target could not be written back.
        ("type=OS.unix=slink:a\0b; l", "a fact holds CR, LF or NUL"),
        ("type=file;x\r=1; f", "a fact holds CR, LF or NUL"),
    ] {
        match parse_mlsx_line(line.as_bytes()) {
            Err(ListingError::MalformedMlsx { why: w, line: l }) => {
                assert_eq!(w, why, "{line}");
                assert_eq!(l, line.escape_debug().to_string());
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn format_mlsx_refuses_what_would_corrupt_the_listing() {
    let mut e = Entry::new("evil\r\ntype=dir; injected", EntryKind::File);
    assert!(matches!(
        format_mlsx(&e),
        Err(ListingError::Unformattable { what: "name", .. })
    ));
    e = Entry::new("ok", EntryKind::File);
    e.permissions = Some("r; x".to_owned());
    assert!(matches!(
        format_mlsx(&e),
        Err(ListingError::Unformattable {
            what: "fact value",
            ..
        })
    ));
    e = Entry::new("ok", EntryKind::File);
    e.facts.push(("a=b".to_owned(), "1".to_owned()));
    assert!(matches!(
        format_mlsx(&e),
        Err(ListingError::Unformattable {
            what: "fact name",
            ..
        })
    ));
    e = Entry::new("", EntryKind::File);
    assert!(format_mlsx(&e).is_err());
    e = Entry::new("ok", EntryKind::File);
    e.modified = Some(Timestamp(i64::MAX / 2));
    assert!(matches!(
        format_mlsx(&e),
        Err(ListingError::Unformattable { what: "time", .. })
    ));
    // a symlink target with `;` cannot be a fact: the type says symlink without the target
    e = Entry::new(
        "l",
        EntryKind::Symlink {
            target: Some("a;b".to_owned()),
        },
    );
    assert_eq!(format_mlsx(&e).unwrap(), b"type=OS.unix=slink; l");
}

#[test]
fn format_list_line_writes_what_ls_writes() {
    let now = utc(2026, 12, 1, 12, 0, 0).0;
    let mut file = Entry::new("journal 2026.csv", EntryKind::File);
    file.size = Some(1234);
    file.modified = Some(utc(2026, 11, 22, 5, 40, 0));
    assert_eq!(
        String::from_utf8(format_list_line(&file, now).unwrap()).unwrap(),
        "-rw-r--r-- 1 ftp ftp         1234 Nov 22 05:40 journal 2026.csv"
    );
    let mut dir = Entry::new("old", EntryKind::Directory);
    dir.modified = Some(utc(2024, 1, 3, 5, 40, 0));
    dir.permissions = Some("drwx------".into());
    assert_eq!(
        String::from_utf8(format_list_line(&dir, now).unwrap()).unwrap(),
        "drwx------ 1 ftp ftp            0 Jan  3  2024 old"
    );
    let bad = Entry::new("a\r\n226 done", EntryKind::File);
    assert!(matches!(
        format_list_line(&bad, now),
        Err(ListingError::Unformattable { what: "name", .. })
    ));
}

#[test]
fn format_mlsx_writes_what_servers_write() {
    let mut e = Entry::new("file name.txt", EntryKind::File);
    e.size = Some(123);
    e.modified = Some(utc(2026, 11, 22, 5, 40, 0));
    e.permissions = Some("adfrw".to_owned());
    e.owner = Some("plc".to_owned());
    assert_eq!(
        String::from_utf8(format_mlsx(&e).unwrap()).unwrap(),
        "type=file;size=123;modify=20261122054000;perm=adfrw;UNIX.owner=plc; file name.txt"
    );
    // Facts from a parsed entry are sent back, the derived ones once.
    let parsed = mlsx("Type=file;Size=5;Unique=abc;Perm=r; x");
    assert_eq!(
        String::from_utf8(format_mlsx(&parsed).unwrap()).unwrap(),
        "type=file;size=5;perm=r;Unique=abc; x"
    );
}

#[test]
fn splitter_frames_crlf_and_bare_lf_across_chunks() {
    let stream = b"total 2\r\n-rw-r--r-- 1 u g 5 Nov 22 05:40 a\n\r\nlast";
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    for chunk in stream.chunks(3) {
        let mut data = chunk;
        while !data.is_empty() {
            let (taken, line) = splitter.feed(data).unwrap();
            data = &data[taken..];
            lines.extend(line);
        }
    }
    assert!(splitter.is_mid_line());
    lines.extend(splitter.finish());
    assert!(!splitter.is_mid_line());
    assert_eq!(
        lines,
        vec![
            b"total 2".to_vec(),
            b"-rw-r--r-- 1 u g 5 Nov 22 05:40 a".to_vec(),
            Vec::new(),
            b"last".to_vec(),
        ]
    );
    assert_eq!(splitter.finish(), None);
}

#[test]
fn splitter_refuses_a_line_over_the_limit_without_buffering_it() {
    // Exactly the limit with its LF: fine.
    let mut ok = vec![b'a'; MAX_LISTING_LINE - 1];
    ok.push(b'\n');
    let mut splitter = LineSplitter::new();
    let (taken, line) = splitter.feed(&ok).unwrap();
    assert_eq!(
        (taken, line.map(|l| l.len())),
        (MAX_LISTING_LINE, Some(MAX_LISTING_LINE - 1))
    );

    // One more byte: refused, in pieces or whole.
    let too_long = vec![b'a'; MAX_LISTING_LINE];
    assert_eq!(
        LineSplitter::new().feed(&too_long),
        Err(ListingError::LineTooLong {
            limit: MAX_LISTING_LINE
        })
    );
    let mut splitter = LineSplitter::new();
    let mut result = Ok((0, None));
    for chunk in too_long.chunks(1000) {
        result = splitter.feed(chunk);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(ListingError::LineTooLong { .. })));
}

#[test]
fn a_whole_listing_through_the_splitter() {
    let listing = "total 12\r\n\
        drwxr-xr-x    2 1000     1000         4096 Nov 22 05:40 logs\r\n\
        -rw-r--r--    1 1000     1000          123 Jan  3  2024 config.xml\r\n\
        lrwxrwxrwx    1 0        0               7 Nov 22 05:40 current -> logs/2026\r\n";
    let mut splitter = LineSplitter::new();
    let mut data = listing.as_bytes();
    let mut entries = Vec::new();
    while !data.is_empty() {
        let (taken, line) = splitter.feed(data).unwrap();
        data = &data[taken..];
        if let Some(line) = line {
            entries.extend(parse_list_line(&line, now()).unwrap());
        }
    }
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["logs", "config.xml", "current"]);
}

// ---- proptest ----

/// Runs `stream` through a splitter in chunks cut at `cuts`.
fn split_in_chunks(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.push(0);
    points.push(stream.len());
    points.sort_unstable();
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    for pair in points.windows(2) {
        let mut data = &stream[pair[0]..pair[1]];
        while !data.is_empty() {
            let (taken, line) = splitter.feed(data).unwrap();
            assert!(taken > 0);
            data = &data[taken..];
            lines.extend(line);
        }
    }
    lines.extend(splitter.finish());
    lines
}

/// A line's bytes: anything but LF, not ending in CR.
fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..60).prop_map(
        |mut l| {
            while l.last() == Some(&b'\r') {
                l.pop();
            }
            l
        },
    )
}

/// A name: bytes but CR, LF and NUL, not empty.
fn name_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR LF NUL", |b| !b"\r\n\0".contains(b)),
        1..40,
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A Unix `LIST` line as vsftpd/proftpd would write it.
#[allow(clippy::too_many_arguments)]
fn format_unix(
    kind: &EntryKind,
    name: &[u8],
    owner: &str,
    group: Option<&str>,
    size: u64,
    t: Timestamp,
    with_year: bool,
) -> Vec<u8> {
    let (y, mo, d, h, mi, _) = t.to_utc();
    let mode = match kind {
        EntryKind::Directory => "drwxr-xr-x",
        EntryKind::Symlink { .. } => "lrwxrwxrwx",
        _ => "-rw-r--r--",
    };
    let date = if with_year {
        format!("{} {d:>2}  {y}", MONTHS[mo as usize - 1])
    } else {
        format!("{} {d:>2} {h:02}:{mi:02}", MONTHS[mo as usize - 1])
    };
    let group = group.map(|g| format!(" {g:<8}")).unwrap_or_default();
    let mut line = format!("{mode} {:>4} {owner:<8}{group} {size:>12} {date} ", 1).into_bytes();
    line.extend_from_slice(name);
    if let EntryKind::Symlink { target: Some(t) } = kind {
        line.extend_from_slice(format!(" -> {t}").as_bytes());
    }
    line
}

proptest! {
    #[test]
    fn splitter_is_independent_of_chunking(
        lines in proptest::collection::vec((line_bytes(), any::<bool>()), 0..20),
        unterminated in line_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (line, crlf) in &lines {
            stream.extend_from_slice(line);
            stream.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            expected.push(line.clone());
        }
        stream.extend_from_slice(&unterminated);
        if !unterminated.is_empty() {
            expected.push(unterminated.clone());
        }
        prop_assert_eq!(&split_in_chunks(&stream, &cuts), &expected);
        prop_assert_eq!(&split_in_chunks(&stream, &[]), &expected);
    }

    #[test]
    fn unix_list_lines_round_trip(
        kind in prop_oneof![
            Just(EntryKind::File),
            Just(EntryKind::Directory),
            "[a-z0-9/._ -]{1,20}".prop_map(|t| EntryKind::Symlink { target: Some(t) }),
        ],
        name in name_bytes(),
        owner in "[a-z_][a-z0-9_]{0,7}|[0-9]{1,5}",
        group in proptest::option::of("[a-z_][a-z0-9_]{0,7}"),
        size in any::<u64>(),
        days in 0i64..47_000,
        minute in 0i64..1440,
        offset_days in -150i64..150,
        with_year in any::<bool>(),
    ) {
        prop_assume!(!matches!(kind, EntryKind::Symlink { .. }) || !name.windows(4).any(|w| w == b" -> "));
        let t = Timestamp(days * 86_400 + minute * 60);
        let t = if with_year { Timestamp(days * 86_400) } else { t };
        let now = t.0 + offset_days * 86_400;
        let line = format_unix(&kind, &name, &owner, group.as_deref(), size, t, with_year);
        let e = parse_list_line(&line, now).unwrap().unwrap();
        prop_assert_eq!(&e.raw_name, &name);
        prop_assert_eq!(e.name, String::from_utf8_lossy(&name).into_owned());
        prop_assert_eq!(e.kind, kind);
        prop_assert_eq!(e.size, Some(size));
        prop_assert_eq!(e.modified, Some(t));
        prop_assert_eq!(e.owner, Some(owner));
        // A numeric owner without a group reads as links + owner; a named one too.
        prop_assert_eq!(e.group, group);
    }

    #[test]
    fn formatted_list_lines_round_trip(
        kind in prop_oneof![
            Just(EntryKind::File),
            Just(EntryKind::Directory),
            "[a-z0-9/._-]{1,20}".prop_map(|t| EntryKind::Symlink { target: Some(t) }),
        ],
        name in name_bytes(),
        owner in "[a-z_][a-z0-9_]{0,7}",
        group in "[a-z_][a-z0-9_]{0,7}",
        size in any::<u64>(),
        minutes in 0i64..47_000 * 1440,
        offset_days in -400i64..400,
    ) {
        prop_assume!(!matches!(kind, EntryKind::Symlink { .. }) || !name.windows(4).any(|w| w == b" -> "));
        let t = Timestamp(minutes * 60);
        let now = t.0 + offset_days * 86_400;
        let entry = Entry {
            size: Some(size),
            modified: Some(t),
            owner: Some(owner.clone()),
            group: Some(group.clone()),
            ..Entry::from_raw_name(name.clone(), kind.clone())
        };
        let line = format_list_line(&entry, now).unwrap();
        let e = parse_list_line(&line, now).unwrap().unwrap();
        prop_assert_eq!(&e.raw_name, &name);
        prop_assert_eq!(e.kind, kind);
        prop_assert_eq!(e.size, Some(size));
        prop_assert_eq!((e.owner, e.group), (Some(owner), Some(group)));
        let shown = match offset_days.abs() < 182 {
            true => t,
            false => Timestamp(t.0 - t.0.rem_euclid(86_400)),
        };
        prop_assert_eq!(e.modified, Some(shown));
    }

    #[test]
    fn dos_list_lines_round_trip(
        dir in any::<bool>(),
        name in name_bytes().prop_filter("no leading blank", |n| !n[0].is_ascii_whitespace()),
        size in any::<u64>(),
        days in 0i64..36_500,
        minute in 0i64..1440,
        four_digit_year in any::<bool>(),
        twelve_hour in any::<bool>(),
    ) {
        let t = Timestamp(days * 86_400 + minute * 60);
        let (y, mo, d, h, mi, _) = t.to_utc();
        let year = if four_digit_year { format!("{y}") } else { format!("{:02}", y % 100) };
        let clock = if twelve_hour {
            let h12 = if h % 12 == 0 { 12 } else { h % 12 };
            format!("{h12:02}:{mi:02}{}", if h < 12 { "AM" } else { "PM" })
        } else {
            format!("{h:02}:{mi:02}")
        };
        let what = if dir { "      <DIR>         ".to_owned() } else { format!("{size:>20}") };
        let mut line = format!("{mo:02}-{d:02}-{year}  {clock} {what} ").into_bytes();
        line.extend_from_slice(&name);
        let e = parse_list_line(&line, 0).unwrap().unwrap();
        prop_assert_eq!(&e.raw_name, &name);
        prop_assert_eq!(e.kind, if dir { EntryKind::Directory } else { EntryKind::File });
        prop_assert_eq!(e.size, if dir { None } else { Some(size) });
        prop_assert_eq!(e.modified, Some(t));
    }

    #[test]
    fn mlsd_entries_round_trip(
        kind in prop_oneof![
            Just(EntryKind::File),
            Just(EntryKind::Directory),
            Just(EntryKind::CurrentDir),
            Just(EntryKind::ParentDir),
            Just(EntryKind::Symlink { target: None }),
            "[a-zA-Z0-9/._=-]{1,20}".prop_map(|t| EntryKind::Symlink { target: Some(t) }),
        ],
        name in name_bytes(),
        size in proptest::option::of(any::<u64>()),
        modified in proptest::option::of(0i64..253_402_300_800),
        perm in proptest::option::of("[acdeflmprw]{0,8}"),
        extra in proptest::collection::vec(("x\\.[a-z]{1,6}", "[a-zA-Z0-9+/.=-]{0,10}"), 0..4),
    ) {
        let mut entry = Entry::from_raw_name(name, kind);
        entry.size = size;
        entry.modified = modified.map(Timestamp);
        entry.permissions = perm;
        entry.facts = extra;
        let line = format_mlsx(&entry).unwrap();
        let parsed = parse_mlsx_line(&line).unwrap();
        prop_assert_eq!(&parsed.raw_name, &entry.raw_name);
        prop_assert_eq!(&parsed.name, &entry.name);
        prop_assert_eq!(&parsed.kind, &entry.kind);
        prop_assert_eq!(parsed.size, entry.size);
        prop_assert_eq!(parsed.modified, entry.modified);
        prop_assert_eq!(&parsed.permissions, &entry.permissions);
        let unknown: Vec<_> = parsed
            .facts
            .iter()
            .filter(|(n, _)| n.starts_with("x."))
            .cloned()
            .collect();
        prop_assert_eq!(&unknown, &entry.facts);
        // Formatting the parsed entry again gives the same line.
        prop_assert_eq!(format_mlsx(&parsed).unwrap(), line);
    }

    #[test]
    fn parsers_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200), now in any::<i64>()) {
        let _ = parse_list_line(&line, now);
        let _ = parse_mlsx_line(&line);
    }

    #[test]
    fn timestamps_convert_both_ways(secs in -62_135_596_800i64..253_402_300_800) {
        let (y, mo, d, h, mi, s) = Timestamp(secs).to_utc();
        let back = Timestamp::from_utc(i32::try_from(y).unwrap(), mo, d, h, mi, s);
        prop_assert_eq!(back, Some(Timestamp(secs)));
    }
}

/// Found by fuzz/ftp_listing from the proftpd seed: with two `type` facts the parse took the
/// last and re-formatting the first, so the entry changed kind on the way back.
#[test]
fn a_repeated_type_fact_counts_once_and_round_trips() {
    let line = b"type=dir;unique=FD01;type=dir55; logs";
    let entry = parse_mlsx_line(line).unwrap();
    assert_eq!(entry.kind, EntryKind::Directory);
    let again = parse_mlsx_line(&format_mlsx(&entry).unwrap()).unwrap();
    assert_eq!((again.raw_name, again.kind), (entry.raw_name, entry.kind));
}
