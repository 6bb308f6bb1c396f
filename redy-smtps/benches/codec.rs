//! Throughput of the reply parser and the body encoder, in MB/s, with a memcpy of the same bytes
//! in the same run as the yardstick.
//!
//! ```text
//! cargo bench -p redy-smtps --bench codec
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use redy_smtps::{BodyEncoder, Reply, ReplyParser};

const ROUNDS: usize = 5;

fn best(mut f: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // A realistic mix: multiline EHLO replies and single-line transaction replies.
    let ehlo = Reply::new(
        250,
        [
            "mail.example.com",
            "PIPELINING",
            "SIZE 10240000",
            "STARTTLS",
            "AUTH PLAIN LOGIN",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
        ]
        .map(String::from)
        .to_vec(),
    );
    let ok = Reply::new(250, vec!["2.1.5 Ok".into()]);
    let mut replies = Vec::new();
    while replies.len() < 32 << 20 {
        replies.extend(ehlo.encode());
        for _ in 0..8 {
            replies.extend(ok.encode());
        }
    }
    let parse = best(|| {
        let mut parser = ReplyParser::default();
        let mut rest = &replies[..];
        let mut count = 0usize;
        while !rest.is_empty() {
            let Ok((n, reply)) = parser.feed(rest) else {
                return;
            };
            count += usize::from(reply.is_some());
            rest = &rest[n..];
        }
        black_box(count);
    });

    // A body of text lines, some starting with dots, LF line ends to normalise.
    let line = b".a line of a device journal, 60 to 70 characters long, as logs are\n";
    let body: Vec<u8> = line.iter().copied().cycle().take(64 << 20).collect();
    let mut out = Vec::with_capacity(body.len() * 2);
    let encode = best(|| {
        out.clear();
        let mut encoder = BodyEncoder::new();
        for chunk in body.chunks(16 * 1024) {
            encoder.encode(chunk, &mut out);
        }
        encoder.finish(&mut out);
        black_box(out.len());
    });
    let copy = best(|| {
        out.clear();
        for chunk in body.chunks(16 * 1024) {
            out.extend_from_slice(chunk);
        }
        black_box(out.len());
    });

    let rate = |bytes: usize, d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    println!("reply parser : {:>8.0} MB/s", rate(replies.len(), parse));
    println!("body encoder : {:>8.0} MB/s", rate(body.len(), encode));
    println!(
        "memcpy       : {:>8.0} MB/s  (encoder at {:.2} of a plain copy)",
        rate(body.len(), copy),
        copy.as_secs_f64() / encode.as_secs_f64()
    );
}
