#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/seeds/<target>/) from transcripts of real peers.

    python3 fuzz/seeds/make.py

The transcripts are what Postfix, vsftpd, proftpd, pure-ftpd, IIS and OpenSSL send; the bytes in
front of some inputs are the fields `arbitrary` reads first (a chunk size, a clock).
"""
import os
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


CUT = bytes([7])  # chunk size for the (u8, &[u8]) targets
NOW = struct.pack("<q", 1_763_800_000)  # 2025-11-22, the clock of ftp_listing

write("smtp_reply", "postfix-session", CUT + (
    b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n"
    b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
    b"250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
    b"250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
    b"235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
    b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4F2C81E0A3\r\n"
    b"221 2.0.0 Bye\r\n"))
write("smtp_reply", "rejections", CUT + (
    b"530 5.7.0 Must issue a STARTTLS command first\r\n"
    b"535 5.7.8 Error: authentication failed: authentication failure\r\n"
    b"550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown\r\n"
    b"421 4.4.2 mail.example.com Error: timeout exceeded\r\n"))
write("smtp_body", "message", CUT + (
    b"From: device@example.com\r\nTo: ops@example.com\r\nSubject: =?UTF-8?Q?R=C3=A9servoir?=\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Tank 3 level high.\r\n.\r\n..two dots\r\n.a line starting with a dot\r\nlast line\r\n"))
write("smtp_body", "bare-lf", CUT + b"Subject: x\n\nline\n.\nend")

write("ftp_reply", "vsftpd-session", CUT + (
    b"220 (vsFTPd 3.0.3)\r\n234 Proceed with negotiation.\r\n331 Please specify the password.\r\n"
    b"230 Login successful.\r\n211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n PBSZ\r\n"
    b" PROT\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n200 PBSZ set to 0.\r\n"
    b"200 PROT now Private.\r\n200 Switching to Binary mode.\r\n"
    b"229 Entering Extended Passive Mode (|||30005|)\r\n"
    b"227 Entering Passive Mode (127,0,0,1,117,53).\r\n"
    b"150 Opening BINARY mode data connection for f.bin (3000000 bytes).\r\n"
    b"226 Transfer complete.\r\n257 \"/home/plc\" is the current directory\r\n"
    b"213 3000000\r\n213 20251122054000\r\n"
    b"522 SSL connection failed: session reuse required\r\n221 Goodbye.\r\n"))
write("ftp_reply", "proftpd-multiline", CUT + (
    b"220 ProFTPD Server (Debian) [127.0.0.1]\r\n"
    b"211-Features:\r\n AUTH TLS\r\n CCC\r\n MLST modify*;perm*;size*;type*;unique*;UNIX.group*;"
    b"UNIX.mode*;UNIX.owner*;\r\n LANG en-US*\r\n211 End\r\n"
    b"250-Start of list for /\r\n modify=20251122054000;perm=flcdmpe;type=cdir;unique=FD01U2;"
    b" /\r\n250 End of list\r\n"))

for i, line in enumerate([
    b"USER plc\r\n", b"PASS s3cret\r\n", b"AUTH TLS\r\n", b"PBSZ 0\r\n", b"PROT P\r\n",
    b"TYPE I\r\n", b"EPSV\r\n", b"PASV\r\n", b"PORT 127,0,0,1,195,80\r\n",
    b"EPRT |2|::1|50000|\r\n", b"REST 65536\r\n", b"RETR logs/2026/b.csv\r\n",
    b"STOR reports/day 1.bin\r\n", b"MLSD /\r\n", b"RNFR old\r\n", b"RNTO new\r\n",
    b"OPTS UTF8 ON\r\n", b"CWD ../../etc\r\n", b"MKD caf\xc3\xa9\r\n", b"ABOR\r\n", b"QUIT\r\n",
]):
    write("ftp_command", f"line-{i:02}", line)

for i, text in enumerate([
    "227 Entering Passive Mode (192,168,1,20,117,48).",
    "227 Entering Passive Mode (127,0,0,1,195,80)",
    "229 Entering Extended Passive Mode (|||30005|)",
    "127,0,0,1,195,80",
    "|1|127.0.0.1|50000|",
    "|2|fe80::1|50000|",
]):
    write("ftp_address", f"text-{i}", text)

write("ftp_listing", "unix-vsftpd", CUT + NOW + (
    b"-rw-r--r--    1 1000     1000         1024 Nov 22 05:40 journal.csv\r\n"
    b"drwxr-xr-x    2 1000     1000         4096 Jan 02  2025 logs\r\n"
    b"lrwxrwxrwx    1 0        0               7 Mar 14  2024 latest -> logs/b\r\n"
    b"-rw-r--r--    1 ftp      ftp    3000000000 Dec 31 23:59 big file.bin\r\n"))
write("ftp_listing", "dos-iis", CUT + NOW + (
    b"11-22-25  05:40AM                 1024 journal.csv\r\n"
    b"01-02-25  10:00PM       <DIR>          logs\r\n"))
write("ftp_listing", "mlsd-proftpd", CUT + NOW + (
    b"modify=20251122054000;perm=adfrw;size=1024;type=file;unique=FD01U3;UNIX.group=1000;"
    b"UNIX.mode=0644;UNIX.owner=1000; journal.csv\r\n"
    b"modify=20250102220000;perm=flcdmpe;type=dir;unique=FD01U4;UNIX.mode=0755; logs\r\n"
    b"type=cdir;perm=el; /\r\ntype=pdir;perm=el; ..\r\n"))

# Certificates, from OpenSSL: PEM, DER and PKCS#12 with the target's password "password".
with tempfile.TemporaryDirectory() as tmp:
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "3650",
                    "-subj", "/CN=REDY-12345-67890-CA", "-addext", "subjectAltName=IP:192.168.1.137"],
                   check=True, capture_output=True)
    with open(crt, "rb") as f:
        write("cert_import", "cert.pem", f.read())
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    write("cert_import", "cert.der", der)
    p12 = subprocess.run(["openssl", "pkcs12", "-export", "-inkey", key, "-in", crt,
                          "-passout", "pass:password"], check=True, capture_output=True).stdout
    write("cert_import", "identity.p12", p12)

# HTTP heads (raw bytes) and chunked bodies (step, room, bytes), as curl and nginx send them.
write("http_head", "curl-post",
      b"POST /eshare/v1/batches HTTP/1.1\r\nHost: 127.0.0.2:9443\r\nUser-Agent: curl/7.88.1\r\n"
      b"Accept: */*\r\nContent-Type: application/json\r\nContent-Length: 61\r\n\r\n")
write("http_head", "nginx-chunked",
      b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\n"
      b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n")
write("http_chunked", "nginx-body", bytes([7, 200]) + (
    b"1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n10\r\n1234567890123456\r\n0\r\n"
    b"Expires: never\r\n\r\n"))

# The eShare server glue: (cut, time step, request bytes) as curl sends them on one connection.
BATCH = (b'{"v":1,"origin":"33333-44444","epoch":7,"seq":1,"values":[{"name":"level",'
         b'"value":{"int":42},"ts":1763805612345}]}')
BATCH2 = BATCH.replace(b'"seq":1', b'"seq":3')
write("eshare_serve", "curl-keep-alive", bytes([13, 1]) + (
    b"GET /eshare/v1/status HTTP/1.1\r\nHost: 127.0.0.1:9443\r\nAccept: */*\r\n\r\n"
    b"POST /eshare/v1/batches HTTP/1.1\r\nHost: 127.0.0.1:9443\r\n"
    b"Content-Type: application/json\r\nContent-Length: " + str(len(BATCH)).encode() + b"\r\n\r\n"
    + BATCH +
    b"POST /eshare/v1/batches HTTP/1.1\r\nHost: 127.0.0.1:9443\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    + format(len(BATCH2), "x").encode() + b"\r\n" + BATCH2 + b"\r\n0\r\n\r\n"
    b"GET /eshare/v1/values HTTP/1.1\r\nHost: 127.0.0.1:9443\r\n\r\n"
    b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:9443\r\nConnection: close\r\n\r\n"))
