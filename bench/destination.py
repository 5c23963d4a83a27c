"""The destination of the forwarding sections, run as its own process:
`python -m bench.destination PORT LOG`.

A bare asyncio HTTP/1.1 server (uvloop) that answers 200 at once and notes
each request's arrival: one line `<unix time> <path> <webhook-id>` in LOG,
written in blocks. Paths choose the behaviour:
- `/hang/...` never answers (the engine's deadline must end the attempt);
- `/flaky/...` answers 500 to the first request of each webhook-id and 200
  to the next (retry timing).
Being a separate process keeps its CPU apart from the load generator's.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time

import uvloop

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
FAIL = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nfail"


class Destination(asyncio.Protocol):
    lines: list[str] = []
    failed_once: set[bytes] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length, webhook_id = 0, b"-"
            lines = head.split(b"\r\n")
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    webhook_id = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            path = lines[0].split(b" ")[1]
            Destination.lines.append(f"{time.time():.6f} {path.decode()} {webhook_id.decode()}\n")
            if path.startswith(b"/hang/"):
                continue  # never answered; the client gives up
            if path.startswith(b"/flaky/") and webhook_id not in Destination.failed_once:
                Destination.failed_once.add(webhook_id)
                self.transport.write(FAIL)  # type: ignore[attr-defined]
            else:
                self.transport.write(OK)  # type: ignore[attr-defined]


async def main(port: int, log_path: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await loop.create_server(Destination, "127.0.0.1", port, backlog=1024)
    with open(log_path, "a") as log:
        print("ready", flush=True)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):  # wake up to write the log
                await asyncio.wait_for(stop.wait(), 0.2)
            if Destination.lines:
                log.writelines(Destination.lines)
                log.flush()
                Destination.lines = []
    server.close()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), sys.argv[2]))
