#!/usr/bin/env python3
"""An aiosmtpd submission server on 127.0.0.1 that records every message it receives.

    python3 aiosmtpd_server.py --mode implicit|starttls --port PORT --cert CERT --key KEY \\
        --user USER --password PASSWORD --out DIR [--data-size-limit BYTES]

Run through `bash aiosmtpd.sh run ...`, which picks a python3 that can import aiosmtpd.

* `implicit`: TLS from the first byte (SMTPS, as on port 465). AUTH is offered at once
  (aiosmtpd only counts STARTTLS as TLS, so `auth_require_tls=False` here: the whole
  connection is TLS anyway).
* `starttls`: plain greeting, STARTTLS offered and required before any command but EHLO/HELO,
  NOOP and QUIT; AUTH is offered only after STARTTLS (as on port 587).

Both: TLS 1.2 and 1.3, AUTH PLAIN and LOGIN with the one USER/PASSWORD, AUTH required before
MAIL; EHLO advertises SIZE, 8BITMIME, SMTPUTF8, PIPELINING (aiosmtpd reads command by command
from a buffered stream, so pipelined commands just work) and AUTH.

Every accepted message N (1, 2, ... across all connections) is written to DIR as:

* `N.eml`: the DATA bytes exactly as received, after removing the dot-stuffing and the final
  `.CRLF` (so with CRLF line endings and the CRLF that ended the last line);
* `N.json`: its envelope, written after `N.eml` and renamed into place, so a reader that sees
  `N.json` can read both: {"mail_from", "rcpt_to": [...], "mail_options": [...],
  "rcpt_options": [[...], ...], "smtputf8", "tls", "tls_version", "tls_cipher", "auth_user",
  "connection" (1, 2, ... per TCP connection), "helo"}. ASCII only (non-ASCII is \\u-escaped).

It prints `listening on 127.0.0.1:PORT (MODE)` when ready and serves until killed.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"


class RecordingSMTP(SMTP):
    """One per TCP connection: numbers the connection."""

    _connections = itertools.count(1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection_number = next(self._connections)


class Recorder:
    """The aiosmtpd handler: checks the login and writes each message into the output dir."""

    def __init__(self, out_dir, user, password):
        self.out_dir = out_dir
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")
        self.numbers = itertools.count(1)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            mechanism in ("PLAIN", "LOGIN")
            and isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        # handled=False: let aiosmtpd answer 535 on failure (handled=True would answer nothing).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # Before the final "250 HELP" line.
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        auth = session.auth_data
        login = auth.login if isinstance(auth, LoginPassword) else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": [list(o) for o in envelope.rcpt_options],
            "smtputf8": bool(envelope.smtp_utf8),
            "tls": ssl_object is not None,
            "tls_version": ssl_object.version() if ssl_object else None,
            "tls_cipher": ssl_object.cipher()[0] if ssl_object else None,
            "auth_user": login.decode("utf-8", "replace") if login is not None else None,
            "connection": server.connection_number,
            "helo": session.host_name,
        }
        base = os.path.join(self.out_dir, str(number))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json.tmp", "w", encoding="ascii") as f:
            json.dump(record, f, ensure_ascii=True)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 2.0.0 OK queued as %d" % number


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    return context


async def serve(args):
    os.makedirs(args.out, exist_ok=True)
    handler = Recorder(args.out, args.user, args.password)
    context = tls_context(args.cert, args.key)
    implicit = args.mode == "implicit"
    loop = asyncio.get_running_loop()

    def factory():
        return RecordingSMTP(
            handler,
            hostname="localhost",  # not socket.getfqdn(): it can wait for DNS
            data_size_limit=args.data_size_limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=None if implicit else context,
            require_starttls=not implicit,
            auth_required=True,
            auth_require_tls=not implicit,
            authenticator=handler.authenticate,
            loop=loop,
        )

    server = await loop.create_server(
        factory, host=HOST, port=args.port, ssl=context if implicit else None
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on {HOST}:{args.port} ({args.mode})", flush=True)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["implicit", "starttls"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="PEM chain, leaf first")
    parser.add_argument("--key", required=True, help="PEM private key")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True, help="directory for N.eml and N.json")
    parser.add_argument("--data-size-limit", type=int, default=64 * 1024 * 1024)
    args = parser.parse_args()
    # Warnings only: aiosmtpd logs every DATA line at debug level.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Implicit TLS: AUTH is required and aiosmtpd warns, once per connection, that it "does not
    # require TLS", not knowing that the whole connection is TLS; and aiosmtpd 1.4 warns about
    # its own use of the deprecated Session.login_data on each AUTH. Noise: drop both.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").addFilter(
        lambda r: not r.getMessage().startswith(
            ("auth_required == True but auth_require_tls == False", "Session.login_data is deprecated")
        )
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
