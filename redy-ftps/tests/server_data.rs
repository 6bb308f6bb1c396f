//! The server machine's data connections: resumption required, peer checks, confinement,
//! transfers byte-exact under backpressure, partial uploads, listings. In memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_harness;

use redy_ftps::codec::listing::{EntryKind, parse_list_line, parse_mlsx_line};
use redy_ftps::server::{Channel, Event, Request, Security, TransferKind};
use redy_tls::TlsVersion;
use server_harness::{CLIENT, Client, pseudo_random, server_config};

const VERSIONS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];

fn logged_in(version: TlsVersion) -> Client {
    let mut c = Client::implicit(version);
    c.next_reply();
    c.login();
    c
}

#[test]
fn download_over_a_data_connection_that_resumes_the_control_session() {
    for version in VERSIONS {
        let mut c = logged_in(version);
        let content = pseudo_random(1024 * 1024 + 17, 1);
        c.storage
            .files
            .insert("/journal.csv".into(), content.clone());
        let (reply, received) = c.retr("journal.csv");
        assert_eq!(reply.code(), 226, "{reply}");
        assert_eq!(received.len(), content.len());
        assert!(received == content, "byte-exact");
        let data_tls = c.events.iter().find_map(|e| match e {
            Event::TlsEstablished {
                channel: Channel::Data,
                info,
            } => Some(info.clone()),
            _ => None,
        });
        assert!(
            data_tls.unwrap().resumed,
            "{version:?}: the data connection resumed"
        );
        assert!(c.events.iter().any(|e| matches!(e,
            Event::TransferDone { kind: TransferKind::Download, bytes, .. } if *bytes == content.len() as u64)));
        // A second and third transfer in the same session resume too.
        for _ in 0..2 {
            let (reply, received) = c.retr("/journal.csv");
            assert_eq!(reply.code(), 226, "{version:?}: {reply}");
            assert!(received == content);
        }
        let resumed = c
            .events
            .iter()
            .filter(|e| {
                matches!(e,
            Event::TlsEstablished { channel: Channel::Data, info } if info.resumed)
            })
            .count();
        assert_eq!(resumed, 3, "{version:?}");
    }
}

#[test]
fn upload_is_byte_exact_and_complete_only_after_close_notify() {
    for version in VERSIONS {
        let mut c = logged_in(version);
        let content = pseudo_random(3 * 1024 * 1024 + 5, 2);
        let reply = c.stor("up/../upload.bin", &content);
        assert_eq!(reply.code(), 226, "{reply}");
        assert!(c.storage.files["/upload.bin"] == content, "byte-exact");
        let finish = c.storage.requests.iter().find_map(|r| match r {
            Request::FinishUpload {
                complete, bytes, ..
            } => Some((*complete, *bytes)),
            _ => None,
        });
        assert_eq!(finish, Some((true, content.len() as u64)));
        // Storage saw bounded pieces, never the whole file.
        assert!(
            c.storage.largest_upload_slice <= 64 * 1024,
            "{}",
            c.storage.largest_upload_slice
        );
    }
}

#[test]
fn a_client_that_stops_mid_upload_gets_a_partial_upload_never_a_complete_one() {
    let mut c = logged_in(TlsVersion::Tls13);
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.send_raw(b"STOR cut.bin\r\n");
    assert_eq!(c.next_reply().code(), 150);
    let half = pseudo_random(100_000, 3);
    c.upload(&half, false); // TCP EOF without close_notify
    let reply = c.transfer_reply_after_150();
    assert_eq!(reply.code(), 426, "{reply}");
    assert!(reply.text().contains("partial"), "{reply}");
    assert!(c.events.iter().any(|e| matches!(e,
        Event::TransferPartial { bytes, .. } if *bytes == 100_000)));
    assert!(
        !c.events
            .iter()
            .any(|e| matches!(e, Event::TransferDone { .. }))
    );
    assert!(c.storage.requests.iter().any(|r| matches!(
        r,
        Request::FinishUpload {
            complete: false,
            bytes: 100_000,
            ..
        }
    )));

    // With the explicit policy, EOF ends an upload.
    let mut config = server_config(Security::ImplicitTls, TlsVersion::Tls13);
    config.accept_upload_eof_without_close_notify = true;
    let mut c = Client::new(config);
    c.next_reply();
    c.login();
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.send_raw(b"STOR eof.bin\r\n");
    assert_eq!(c.next_reply().code(), 150);
    c.upload(&half, false);
    assert_eq!(c.transfer_reply_after_150().code(), 226);
}

#[test]
fn a_data_connection_that_does_not_resume_is_refused_with_522() {
    for version in VERSIONS {
        let mut c = logged_in(version);
        c.storage
            .files
            .insert("/secret.csv".into(), b"top secret".to_vec());
        let fresh = c.tls_config.new_scope(); // nothing to resume from
        assert!(c.epsv_connect(CLIENT, Some(fresh)));
        c.send_raw(b"RETR secret.csv\r\n");
        let reply = c.transfer_reply();
        assert_eq!(reply.code(), 522, "{version:?}: {reply}");
        assert!(reply.text().contains("resume"), "{reply}");
        assert!(c.last_data.is_empty(), "not a byte of the file left");
        assert!(
            c.events
                .iter()
                .any(|e| matches!(e, Event::DataRefused { .. }))
        );
        // An upload over such a connection is refused before the file is touched.
        assert!(c.epsv_connect(CLIENT, Some(c.tls_config.new_scope())));
        c.send_raw(b"STOR secret.csv\r\n");
        assert_eq!(c.transfer_reply().code(), 522);
        assert_eq!(
            c.storage.files["/secret.csv"], b"top secret",
            "not truncated"
        );
        assert!(
            !c.storage
                .requests
                .iter()
                .any(|r| matches!(r, Request::OpenWrite { .. }))
        );
        // The session goes on; a resuming connection works.
        let (reply, data) = c.retr("secret.csv");
        assert_eq!(reply.code(), 226, "{reply}");
        assert_eq!(data, b"top secret");
    }
}

#[test]
fn the_resumption_requirement_can_be_relaxed() {
    let mut config = server_config(Security::ImplicitTls, TlsVersion::Tls13);
    config.require_data_resumption = false;
    let mut c = Client::new(config);
    c.next_reply();
    c.login();
    c.storage.files.insert("/a".into(), b"abc".to_vec());
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.new_scope())));
    c.send_raw(b"RETR a\r\n");
    assert_eq!(c.transfer_reply().code(), 226);
    assert_eq!(c.last_data, b"abc");
}

#[test]
fn a_data_connection_from_another_ip_is_refused() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage.files.insert("/a".into(), b"abc".to_vec());
    // Someone else races to the passive port.
    let accepted = c.epsv_connect("127.0.0.2:41000", Some(c.tls_config.clone()));
    assert!(!accepted);
    assert!(c.events.iter().any(|e| matches!(e,
        Event::DataRefused { peer: Some(p), .. } if p.ip().to_string() == "127.0.0.2")));
    let (id, _) = c.listen.unwrap();
    assert!(c.closed_data.contains(&id), "listener closed");
    let reply = c.cmd("RETR a");
    assert_eq!(reply.code(), 425, "{reply}");
    assert!(reply.text().contains("127.0.0.2"), "{reply}");
    assert!(
        !c.storage
            .requests
            .iter()
            .any(|r| matches!(r, Request::OpenRead { .. }))
    );
}

#[test]
fn port_and_eprt_go_only_to_the_clients_own_address() {
    let mut c = logged_in(TlsVersion::Tls12);
    for bounce in [
        "PORT 10,0,0,9,31,144",
        "EPRT |1|192.0.2.7|8080|",
        "EPRT |2|::1|8080|",
    ] {
        let reply = c.cmd(bounce);
        assert_eq!(reply.code(), 501, "{bounce}: {reply}");
    }
    assert!(c.cmd("PORT 127,0,0,1,31,144").text().contains("successful"));
    assert_eq!(c.cmd("PORT 127,0,0,1,0,21").code(), 501, "privileged port");
    assert_eq!(c.cmd("EPRT |1|127.0.0.1|8080|").code(), 200);
    // Active mode: the server connects, the client stays the TLS client and resumes.
    c.storage
        .files
        .insert("/a".into(), pseudo_random(70_000, 9));
    c.send_raw(b"RETR a\r\n");
    let (id, to, from) = c.connect.unwrap();
    assert_eq!(to.to_string(), "127.0.0.1:8080");
    assert_eq!(from, None);
    c.attach_data(id, Some(c.tls_config.clone()));
    c.server.data_connected(id, c.now);
    let reply = c.transfer_reply();
    assert_eq!(reply.code(), 226, "{reply}");
    assert!(c.last_data == c.storage.files["/a"]);
}

#[test]
fn active_connections_come_from_the_configured_port() {
    let mut config = server_config(Security::ImplicitTls, TlsVersion::Tls13);
    config.active_source_port = Some(989);
    let mut c = Client::new(config);
    c.next_reply();
    c.login();
    c.storage.files.insert("/a".into(), b"x".to_vec());
    c.cmd("PORT 127,0,0,1,31,144");
    c.send_raw(b"RETR a\r\n");
    assert_eq!(c.connect.unwrap().2, Some(989));
}

#[test]
fn paths_are_confined_to_the_root_before_any_request() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage.dirs.insert("/logs".into());
    assert_eq!(c.cmd("CWD logs").code(), 250);
    assert_eq!(c.cmd("CWD ../../../..").code(), 250);
    assert_eq!(c.cmd("PWD").text(), "\"/\" is the current directory");
    for hostile in [
        "SIZE ../../../etc/passwd",
        "SIZE /../../etc/shadow",
        "DELE ../../../../../../etc/passwd",
        "RNFR /../../../../etc/hosts",
        "SIZE ~/../../x",
    ] {
        let reply = c.cmd(hostile);
        assert_eq!(reply.code(), 550, "{hostile}: {reply}");
    }
    assert_eq!(c.cmd("MKD ../x").text(), "\"/x\" created");
    // A path over 4096 bytes once joined to the working directory is refused.
    let deep = format!("/{}", "d".repeat(2100));
    c.storage.dirs.insert(deep.clone());
    assert_eq!(c.cmd(&format!("CWD {deep}")).code(), 250);
    let bad = c.cmd(&format!("SIZE {}", "f".repeat(2100)));
    assert_eq!(bad.code(), 553, "overlong path: {bad}");
    assert!(bad.text().contains("longer than 4096"), "{bad}");
    c.cmd("CWD /");
    let paths: Vec<String> = c
        .storage
        .requests
        .iter()
        .flat_map(|r| match r {
            Request::Stat { path } | Request::Delete { path } | Request::MakeDir { path } => {
                vec![path.to_string()]
            }
            _ => vec![],
        })
        .collect();
    assert!(paths.contains(&"/etc/passwd".to_owned()), "{paths:?}");
    assert!(paths.contains(&"/etc/shadow".to_owned()), "{paths:?}");
    assert!(paths.contains(&"/x".to_owned()), "{paths:?}");
    for p in &paths {
        assert!(
            p.starts_with('/') && !p.split('/').any(|c| c == ".."),
            "{p}"
        );
    }
    // NUL never reaches a path: the command is refused as malformed.
    assert_eq!(c.cmd("DELE a\0b").code(), 500);
}

#[test]
fn transfers_without_prot_p_are_refused() {
    let mut c = Client::explicit(TlsVersion::Tls13);
    c.next_reply();
    c.auth_tls();
    c.cmd("USER plc");
    c.cmd("PASS s3cret");
    c.cmd("EPSV");
    let reply = c.cmd("LIST");
    assert_eq!(reply.code(), 521, "{reply}");
    assert_eq!(c.cmd("PROT P").code(), 503, "PBSZ first");
    assert_eq!(c.cmd("PBSZ 0").code(), 200);
    assert_eq!(c.cmd("PROT P").code(), 200);
}

#[test]
fn listings_in_each_format() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage
        .files
        .insert("/journal 2026.csv".into(), vec![7; 1234]);
    c.storage.files.insert("/logs/a.log".into(), vec![1; 3]);
    c.storage.dirs.insert("/logs".into());
    let listing = |c: &mut Client, cmd: &str| {
        assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
        c.send_raw(format!("{cmd}\r\n").as_bytes());
        let reply = c.transfer_reply();
        assert_eq!(reply.code(), 226, "{cmd}: {reply}");
        String::from_utf8(std::mem::take(&mut c.last_data)).unwrap()
    };
    let list = listing(&mut c, "LIST -la");
    let entries: Vec<_> = list
        .lines()
        .map(|l| {
            parse_list_line(l.as_bytes(), 1_772_409_600)
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(entries.len(), 2, "{list}");
    let file = entries
        .iter()
        .find(|e| e.name == "journal 2026.csv")
        .unwrap();
    assert_eq!(file.size, Some(1234));
    assert!(
        entries
            .iter()
            .any(|e| e.name == "logs" && e.kind == EntryKind::Directory)
    );
    let names = listing(&mut c, "NLST");
    assert_eq!(names, "journal 2026.csv\r\nlogs\r\n");
    let mlsd = listing(&mut c, "MLSD logs");
    let entry = parse_mlsx_line(mlsd.trim_end().as_bytes()).unwrap();
    assert_eq!((entry.name.as_str(), entry.size), ("a.log", Some(3)));
    assert_eq!(entry.fact("perm"), Some("adfrw"));
    let one = listing(&mut c, "LIST logs/a.log");
    assert!(one.ends_with(" a.log\r\n"), "{one}");
    let mlst = c.cmd("MLST logs/a.log");
    assert_eq!(mlst.code(), 250);
    assert!(
        mlst.lines()[1].starts_with(" type=file;size=3;"),
        "{mlst:?}"
    );
    assert!(mlst.lines()[1].ends_with(" /logs/a.log"), "{mlst:?}");
    assert_eq!(c.cmd("SIZE logs/a.log").text(), "3");
    assert_eq!(c.cmd("MDTM logs/a.log").text(), "20260301120000");
    assert_eq!(c.cmd("SIZE logs").code(), 550);
    assert_eq!(c.cmd("STAT logs").code(), 213);
    assert!(c.cmd("MLSD logs/a.log").code() == 425 || c.replies.is_empty());
}

#[test]
fn file_management() {
    let mut c = logged_in(TlsVersion::Tls12);
    c.storage.files.insert("/a.txt".into(), b"x".to_vec());
    assert_eq!(
        c.cmd("MKD new \"dir\"").to_string(),
        "257 \"/new \"\"dir\"\"\" created"
    );
    assert_eq!(c.cmd("MKD new \"dir\"").code(), 550, "exists");
    assert_eq!(c.cmd("RMD new \"dir\"").code(), 250);
    assert_eq!(c.cmd("RMD /").code(), 550);
    assert_eq!(c.cmd("RNFR a.txt").code(), 350);
    assert_eq!(c.cmd("RNTO b.txt").code(), 250);
    assert!(c.storage.files.contains_key("/b.txt"));
    assert_eq!(c.cmd("RNFR missing").code(), 550);
    assert_eq!(c.cmd("DELE b.txt").code(), 250);
    assert_eq!(c.cmd("DELE b.txt").code(), 550);
    assert_eq!(c.cmd("CWD nowhere").code(), 550);
    assert_eq!(c.cmd("CDUP").code(), 250);
}

#[test]
fn rest_and_appe_resume_transfers() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage.files.insert("/f".into(), b"0123456789".to_vec());
    assert_eq!(c.cmd("REST 4").code(), 350);
    let (reply, data) = c.retr("f");
    assert_eq!(reply.code(), 226);
    assert_eq!(data, b"456789");
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.send_raw(b"APPE f\r\n");
    assert_eq!(c.next_reply().code(), 150);
    c.upload(b"abc", true);
    assert_eq!(c.transfer_reply_after_150().code(), 226);
    assert_eq!(c.storage.files["/f"], b"0123456789abc");
}

#[test]
fn downloads_and_uploads_hold_bounded_data_when_the_other_side_stalls() {
    let mut c = logged_in(TlsVersion::Tls13);
    let content = pseudo_random(4 * 1024 * 1024, 5);
    c.storage.files.insert("/big".into(), content.clone());
    c.feed_downloads = false;
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.send_raw(b"RETR big\r\n");
    assert_eq!(c.next_reply().code(), 150);
    c.pump();
    assert!(c.server.wants_file_data(), "handshake done");
    // The client stops reading: the server soon stops taking file data.
    c.data.as_mut().unwrap().frozen = true;
    let mut taken = 0;
    while c.server.wants_file_data() {
        let n = c
            .server
            .send_file_data(&content[taken..taken + 16 * 1024], c.now)
            .unwrap();
        if n == 0 {
            break;
        }
        taken += n;
        let pending = c.server.transmit(Channel::Data).len();
        assert!(pending <= 160 * 1024, "{pending}");
        assert!(taken < 512 * 1024, "server keeps taking: {taken}");
    }
    assert!(taken >= 64 * 1024, "{taken}");
    // The client reads again: the rest flows, byte-exact.
    c.data.as_mut().unwrap().frozen = false;
    while taken < content.len() {
        c.pump();
        if c.server.wants_file_data() {
            let end = (taken + 16 * 1024).min(content.len());
            taken += c
                .server
                .send_file_data(&content[taken..end], c.now)
                .unwrap();
        }
    }
    c.server.file_data_end(c.now).unwrap();
    assert_eq!(c.transfer_reply_after_150().code(), 226);
    assert!(c.last_data == content, "byte-exact after the stall");

    // Upload: storage stops writing; the server stops taking bytes from the connection.
    c.storage.accept_upload = false;
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.send_raw(b"STOR up\r\n");
    assert_eq!(c.next_reply().code(), 150);
    c.data.as_mut().unwrap().upload.extend_from_slice(&content);
    c.pump();
    let waiting = c.data.as_ref().unwrap();
    let held_by_client = waiting.upload.len() + waiting.to_server.len();
    assert!(
        held_by_client > content.len() - 512 * 1024,
        "server took too much: {held_by_client}"
    );
    assert!(c.server.file_data().len() <= 64 * 1024);
    c.storage.accept_upload = true;
    c.upload(b"", true);
    assert_eq!(c.transfer_reply_after_150().code(), 226);
    assert!(c.storage.files["/up"] == content);
}

#[test]
fn abor_stops_a_download() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage
        .files
        .insert("/big".into(), pseudo_random(2 * 1024 * 1024, 6));
    assert!(c.epsv_connect(CLIENT, Some(c.tls_config.clone())));
    c.feed_downloads = false;
    c.send_raw(b"RETR big\r\n");
    assert_eq!(c.next_reply().code(), 150);
    c.pump();
    assert!(c.server.send_file_data(&[1; 1000], c.now).unwrap() > 0);
    c.send_raw(b"ABOR\r\n");
    assert_eq!(c.next_reply().code(), 426);
    assert_eq!(c.next_reply().code(), 226);
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::TransferAborted { .. }))
    );
    assert_eq!(c.cmd("NOOP").code(), 200);
}

#[test]
fn a_data_connection_that_never_comes_times_out() {
    let mut c = logged_in(TlsVersion::Tls13);
    c.storage.files.insert("/a".into(), b"x".to_vec());
    c.cmd("EPSV");
    c.send_raw(b"RETR a\r\n");
    assert!(c.replies.is_empty());
    c.advance_time(std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(c.next_reply().code(), 425);
    let (id, _) = c.listen.unwrap();
    assert!(c.closed_data.contains(&id));
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::TransferAborted { .. }))
    );
}
