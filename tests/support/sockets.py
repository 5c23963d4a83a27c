"""Misbehaving destinations on real sockets: they answer byte by byte, with
garbage, with too much, with TLS, or not at all."""

import datetime
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Accepts TCP connections on 127.0.0.1 and runs `handler` on each in a thread."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.stopping = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.handler(conn, self.stopping)
        except OSError:
            return  # the client gave up (its deadline): exactly what tests provoke
        finally:
            conn.close()

    def __enter__(self) -> "RawServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.sock.close()
        self._thread.join(2)


def read_request_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def trickle_headers(interval: float) -> Handler:
    """A status line at once, then one header byte every `interval` seconds."""

    def handle(conn: socket.socket, stopping: threading.Event) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stopping.wait(interval):
            conn.sendall(b"x")

    return handle


def silent(conn: socket.socket, stopping: threading.Event) -> None:
    """Accepts and never says a word (a hang, also during a TLS handshake)."""
    stopping.wait(60)


def garbage_status(conn: socket.socket, stopping: threading.Event) -> None:
    read_request_head(conn)
    conn.sendall(b"SMTP READY \x00\xff nonsense\r\n\r\n")


def plain_http_at_once(conn: socket.socket, stopping: threading.Event) -> None:
    """Answers in plain HTTP before reading anything: a TLS client gets garbage."""
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
    stopping.wait(5)


def huge_body(size: int) -> Handler:
    def handle(conn: socket.socket, stopping: threading.Event) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
        block = b"y" * 65536
        sent = 0
        while sent < size and not stopping.is_set():
            conn.sendall(block)
            sent += len(block)

    return handle


def ok(conn: socket.socket, stopping: threading.Event) -> None:
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")


def self_signed_tls(directory: Path, seen_names: list[str]) -> ssl.SSLContext:
    """A server context with a self-signed certificate for localhost that
    records the server name (SNI) each client asks for."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda _sock, server_name, _ctx: seen_names.append(server_name)
    return context
