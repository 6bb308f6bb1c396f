#!/usr/bin/env python3
"""The benchmark baseline: sends COUNT messages of about SIZE bytes in ONE SMTP session with
Python's smtplib, then prints the elapsed time.

    python3 smtplib_send.py --port PORT --mode implicit|starttls --cafile CA --user USER \\
        --password PASSWORD [--host 127.0.0.1] [--count 1] [--size 1024] \\
        [--mail-from FROM] [--rcpt-to TO]

`implicit` connects with SMTP_SSL (TLS from the first byte, port 465 style); `starttls` with
SMTP + STARTTLS (port 587 style). The server certificate is verified against CA only (and its
name against HOST). Then EHLO, AUTH (smtplib picks PLAIN or LOGIN), COUNT times MAIL/RCPT/DATA,
QUIT. smtplib waits for each reply: no pipelining.

Message i (1-based) has the headers From, To, Subject "message i of COUNT", Message-ID, and a
body of 76-character lines (CRLF line endings, no line starting with a dot) making the whole
message exactly SIZE bytes when SIZE is large enough for the headers.

Prints on stdout, last line:  elapsed=<seconds, float>  (connect to QUIT reply, TLS included)
and before it:                messages=<COUNT> bytes=<total message bytes>
Uses only the standard library: any python3 runs it.
"""

import argparse
import smtplib
import ssl
import sys
import time


def message(index, count, size, mail_from, rcpt_to):
    header = (
        f"From: <{mail_from}>\r\n"
        f"To: <{rcpt_to}>\r\n"
        f"Subject: message {index} of {count}\r\n"
        f"Message-ID: <{index}.{count}@smtplib-send.localhost>\r\n"
        "\r\n"
    ).encode("ascii")
    body = bytearray()
    remaining = max(size - len(header), 2)
    line_number = 0
    while remaining > 0:
        if remaining <= 78:
            # The last line: fill up to the size, CRLF included.
            text = b"z" * (remaining - 2)
        else:
            fill = bytes([ord("a") + line_number % 26])
            # 75 when 76 would leave 1 byte, too little for a last line.
            width = 75 if remaining == 79 else 76
            text = (b"%d:%d " % (index, line_number)).ljust(width, fill)
        body += text + b"\r\n"
        remaining -= len(text) + 2
        line_number += 1
    return header + bytes(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["implicit", "starttls"], required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--size", type=int, default=1024, help="bytes per message")
    parser.add_argument("--mail-from", default="sender@example.com")
    parser.add_argument("--rcpt-to", default="rcpt@example.org")
    parser.add_argument("--timeout", type=float, default=60.0, help="per socket operation")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    messages = [
        message(i, args.count, args.size, args.mail_from, args.rcpt_to)
        for i in range(1, args.count + 1)
    ]

    start = time.perf_counter()
    if args.mode == "implicit":
        smtp = smtplib.SMTP_SSL(args.host, args.port, context=context, timeout=args.timeout)
        smtp.ehlo("smtplib-send.localhost")
    else:
        smtp = smtplib.SMTP(args.host, args.port, timeout=args.timeout)
        smtp.ehlo("smtplib-send.localhost")
        smtp.starttls(context=context)
        smtp.ehlo("smtplib-send.localhost")
    smtp.login(args.user, args.password)
    for data in messages:
        refused = smtp.sendmail(args.mail_from, [args.rcpt_to], data)
        if refused:
            print(f"refused: {refused}", file=sys.stderr)
            sys.exit(1)
    smtp.quit()
    elapsed = time.perf_counter() - start

    print(f"messages={args.count} bytes={sum(len(m) for m in messages)}")
    print(f"elapsed={elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
