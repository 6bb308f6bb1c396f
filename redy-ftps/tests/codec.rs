//! Round trips of the FTP codec: what one side encodes, the other parses back, whatever the
//! chunking of the byte stream.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::{SocketAddr, SocketAddrV4};

use proptest::prelude::*;
use redy_ftps::codec::address::{
    format_eprt, format_epsv, format_pasv, format_port, parse_eprt, parse_epsv, parse_pasv,
    parse_port,
};
use redy_ftps::codec::command::{Command, ProtectionLevel, TransferType};
use redy_ftps::codec::reply::{Reply, ReplyParser};

fn reply() -> impl Strategy<Value = Reply> {
    (
        100u16..600,
        "[ -~]{0,40}",
        proptest::collection::vec(" [ -~]{0,40}", 0..5),
        "[ -~]{0,40}",
    )
        .prop_map(|(code, first, middle, last)| {
            let mut lines = vec![first];
            lines.extend(middle);
            if lines.len() > 1 || !last.is_empty() {
                lines.push(last);
            }
            Reply::new(code, lines)
        })
}

fn path() -> impl Strategy<Value = String> {
    "[^\r\n\u{0}]{1,60}"
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        path().prop_map(Command::Retr),
        path().prop_map(Command::Stor),
        path().prop_map(Command::Appe),
        path().prop_map(Command::Cwd),
        path().prop_map(Command::Mkd),
        path().prop_map(Command::Dele),
        path().prop_map(Command::Rnfr),
        path().prop_map(Command::Rnto),
        path().prop_map(Command::User),
        path().prop_map(Command::Pass),
        proptest::option::of(path()).prop_map(Command::List),
        proptest::option::of(path()).prop_map(Command::Mlsd),
        any::<u64>().prop_map(Command::Rest),
        any::<u64>().prop_map(Command::Pbsz),
        Just(Command::Prot(ProtectionLevel::Private)),
        Just(Command::Type(TransferType::Image)),
        Just(Command::Pasv),
        Just(Command::Feat),
        Just(Command::Quit),
        Just(Command::Abor),
    ]
}

proptest! {
    #[test]
    fn replies_round_trip_whatever_the_chunking(replies in proptest::collection::vec(reply(), 1..5),
                                                cut in 1usize..50) {
        let wire: Vec<u8> = replies.iter().flat_map(Reply::encode).collect();
        let mut parser = ReplyParser::default();
        let mut parsed = Vec::new();
        for chunk in wire.chunks(cut) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let (n, reply) = parser.feed(rest).unwrap();
                parsed.extend(reply);
                rest = &rest[n..];
            }
        }
        prop_assert_eq!(parsed, replies);
    }

    #[test]
    fn commands_round_trip(command in command()) {
        let wire = command.encode().unwrap();
        prop_assert!(wire.ends_with(b"\r\n"));
        prop_assert_eq!(Command::parse(&wire).unwrap(), command);
    }

    #[test]
    fn a_path_can_never_smuggle_a_second_command(prefix in "[a-z]{0,10}", injected in "[A-Z]{4} [a-z]{1,10}") {
        let sneaky = format!("{prefix}\r\n{injected}");
        prop_assert!(Command::Retr(sneaky).encode().is_err());
    }

    #[test]
    fn addresses_round_trip(v4 in any::<SocketAddrV4>(), any_addr in any::<SocketAddr>()) {
        prop_assert_eq!(parse_pasv(&format_pasv(v4)).unwrap(), v4);
        prop_assert_eq!(parse_port(&format_port(v4)).unwrap(), v4);
        if any_addr.port() != 0 {
            let plain = SocketAddr::new(any_addr.ip(), any_addr.port());
            prop_assert_eq!(parse_eprt(&format_eprt(plain)).unwrap(), plain);
            prop_assert_eq!(parse_epsv(&format_epsv(any_addr.port())).unwrap(), any_addr.port());
        }
    }
}
