#!/usr/bin/env python3
"""A reference FTPS client that reports how the server ends its TLS connections.

    python3 ftps_client.py --port PORT --mode implicit|explicit --cafile CA --user USER \\
        --password PASSWORD [--host 127.0.0.1] [--server-name localhost] \\
        [--tls-max 1.2|1.3] [--no-reuse] [--timeout 10] OP...

OPs run in order in one session (after login, PBSZ 0, PROT P, TYPE I), each data transfer over
a passive (EPSV) connection:

    put:LOCAL:REMOTE   STOR LOCAL's bytes, then a full TLS shutdown of the data connection: send
                       close_notify and read until the server's close_notify or EOF
    putrest:OFFSET:LOCAL:REMOTE   REST OFFSET, then STOR of LOCAL's bytes from OFFSET on (a resumed
                       upload), ended like put
    get:REMOTE:LOCAL   RETR into LOCAL, reading until the server ends the data connection
    list[:PATH]        LIST, reading until the server ends the data connection
    (then always)      QUIT, and read the control connection until the server ends it

Unlike curl 7.88 and lftp 4.9, the client reads the data connection to its end after an upload:
with TLS 1.3 the server sends a NewSessionTicket on the data connection, and a client that
closes with it unread makes the kernel send a TCP RST, which can discard upload data the server
has not read yet (vsftpd then answers `426 Failure reading network stream` and keeps a
truncated file).

Every data connection resumes the control connection's TLS session (what vsftpd and proftpd
require) unless --no-reuse. Prints one JSON object per line on stdout:

    {"op": "login", "tls_version": "TLSv1.3", "cipher": "..."}
    {"op": "put"|"putrest"|"get"|"list", "reply": "226 ...", "bytes": N, "tls_version": ...,
     "resumed": bool, "close_notify": bool, "listing": "..." (list only)}
    {"op": "quit", "reply": "221 ...", "close_notify": bool}

`close_notify` tells how the server ended that connection: true when it sent a TLS close_notify
alert, false when it closed TCP without one (a "ragged" EOF). For put, it is whether the server
answered the client's close_notify with its own before closing.

Exits 0 when every reply was a success (1xx/2xx/3xx as expected); 1 with the failing reply or
error on stderr (and the JSON of what succeeded before it on stdout). Only the standard library.
"""

import argparse
import json
import socket
import ssl
import sys


class FtpError(Exception):
    pass


class Control:
    def __init__(self, args):
        self.args = args
        raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.context = ssl.create_default_context(cafile=args.cafile)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.maximum_version = (
            ssl.TLSVersion.TLSv1_2 if args.tls_max == "1.2" else ssl.TLSVersion.TLSv1_3
        )
        if args.mode == "implicit":
            self.sock = self.wrap(raw)
            self.buffer = b""
            self.expect("220")
        else:
            self.sock = raw
            self.buffer = b""
            self.expect("220")
            self.command("AUTH TLS", "234")
            self.sock = self.wrap(raw)
            self.buffer = b""

    def wrap(self, sock, session=None):
        return self.context.wrap_socket(
            sock,
            server_hostname=self.args.server_name,
            session=session,
            suppress_ragged_eofs=False,
        )

    def read_line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise FtpError(f"control connection closed; unread: {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One reply, multi-line replies joined with newlines."""
        first = self.read_line()
        lines = [first]
        if len(first) >= 4 and first[3] == "-":
            end = first[:3] + " "
            while not lines[-1].startswith(end):
                lines.append(self.read_line())
        return "\n".join(lines)

    def expect(self, codes):
        text = self.reply()
        if not text[:3] in codes.split():
            raise FtpError(f"expected {codes}, got: {text}")
        return text

    def command(self, line, codes):
        self.sock.sendall(line.encode("utf-8") + b"\r\n")
        return self.expect(codes)

    def passive(self):
        text = self.command("EPSV", "229")
        # 229 Entering Extended Passive Mode (|||port|)
        port = int(text.split("(", 1)[1].split("|")[3])
        return socket.create_connection((self.args.host, port), timeout=self.args.timeout)

    def data_tls(self, raw):
        session = None if self.args.no_reuse else self.sock.session
        return self.wrap(raw, session=session)


def read_to_end(data):
    """Reads until the server ends the connection: (bytes, close_notify received)."""
    received = bytearray()
    while True:
        try:
            chunk = data.recv(65536)
        except ssl.SSLEOFError:
            return bytes(received), False
        except ConnectionResetError:
            return bytes(received), False
        if not chunk:
            return bytes(received), True
        received += chunk


def transfer(control, op, line, upload=None, rest=None):
    raw = control.passive()
    if rest is not None:
        control.command(f"REST {rest}", "350")
    control.command(line, "125 150")
    data = control.data_tls(raw)
    result = {
        "op": op,
        "tls_version": data.version(),
        "resumed": data.session_reused,
    }
    if upload is not None:
        data.sendall(upload)
        try:
            # Sends close_notify and reads (NewSessionTickets included) until the server's.
            data.unwrap()
            close_notify = True
        except (ssl.SSLError, OSError) as e:
            # EOF or a reset instead of the server's close_notify.
            close_notify = False
            result["shutdown_error"] = f"{type(e).__name__}: {e}"
        received = b""
        count = len(upload)
    else:
        received, close_notify = read_to_end(data)
        count = len(received)
    data.close()
    result["reply"] = control.expect("226 250")
    result["bytes"] = count
    result["close_notify"] = close_notify
    return result, received


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["implicit", "explicit"], required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--server-name", default="localhost")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tls-max", choices=["1.2", "1.3"], default="1.3")
    parser.add_argument("--no-reuse", action="store_true")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("ops", nargs="*")
    args = parser.parse_args()

    def emit(obj):
        print(json.dumps(obj), flush=True)

    try:
        control = Control(args)
        control.command(f"USER {args.user}", "331 230")
        control.command(f"PASS {args.password}", "230")
        emit({"op": "login", "tls_version": control.sock.version(), "cipher": control.sock.cipher()[0]})
        control.command("PBSZ 0", "200")
        control.command("PROT P", "200")
        control.command("TYPE I", "200")
        for op in args.ops:
            name, _, rest = op.partition(":")
            if name == "put":
                local, remote = rest.split(":", 1)
                with open(local, "rb") as f:
                    content = f.read()
                result, _ = transfer(control, "put", f"STOR {remote}", upload=content)
            elif name == "putrest":
                offset, local, remote = rest.split(":", 2)
                with open(local, "rb") as f:
                    content = f.read()[int(offset):]
                result, _ = transfer(
                    control, "putrest", f"STOR {remote}", upload=content, rest=int(offset)
                )
            elif name == "get":
                remote, local = rest.split(":", 1)
                result, content = transfer(control, "get", f"RETR {remote}")
                with open(local, "wb") as f:
                    f.write(content)
            elif name == "list":
                result, content = transfer(control, "list", f"LIST {rest}".rstrip())
                result["listing"] = content.decode("utf-8", "replace")
            else:
                raise FtpError(f"unknown op {op!r}")
            emit(result)
        reply = control.command("QUIT", "221")
        _, close_notify = read_to_end(control.sock)
        emit({"op": "quit", "reply": reply, "close_notify": close_notify})
    except (FtpError, OSError, ValueError, IndexError) as e:
        print(f"ftps_client.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
