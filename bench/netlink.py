"""A TCP proxy that makes 127.0.0.1 look like a far-away Domo: a link of limited bandwidth
with a round-trip delay, shared by every connection through it.

Each direction is a pipe: a chunk occupies the link for ``size / rate`` seconds after the
chunks before it (so concurrent connections share the bandwidth), then arrives one-way
delay later. Opening a connection costs one round trip. Memory stays bounded: a
connection reads no more while a few chunks wait to be delivered, which pushes back on
the sender as a real link's full window would.

The proxy listens on 127.0.0.2 at the target's own port: the emulator accepts a request
only if its Host names an address with the emulator's port, and a TCP proxy cannot
rewrite Host headers. 127.0.0.2 is loopback too (Linux routes all of 127/8 to ``lo``), so
nothing leaves the machine.

Run it on its own (``python bench/netlink.py --target 127.0.0.1:8080 --mbit 100
--rtt-ms 20`` prints ``LISTENING 127.0.0.2:8080``) or through :class:`ShapedLink` from run.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import select
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

LISTEN_HOST = "127.0.0.2"
CHUNK = 64 * 1024
# Chunks in flight per connection and direction before reading stops, at least: enough
# to fill the link for two round trips, so the bound never slows it.
MIN_IN_FLIGHT = 16


class Pipe:
    """One direction of the link: when it is next free, at ``rate`` bytes per second."""

    def __init__(self, rate: float, one_way: float) -> None:
        self.rate = rate
        self.one_way = one_way
        self.free_at = 0.0

    def schedule(self, size: int) -> float:
        """Puts ``size`` bytes on the link; returns when they arrive at the other end."""
        now = time.monotonic()
        self.free_at = max(now, self.free_at) + size / self.rate
        return self.free_at + self.one_way


async def _carry(pipe: Pipe, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Moves bytes from ``reader`` to ``writer`` through ``pipe``, then half-closes. Stops
    reading when the far side can take no more (it closed or reset)."""
    in_flight = max(MIN_IN_FLIGHT, math.ceil(4 * pipe.rate * pipe.one_way / CHUNK))
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(in_flight)

    async def deliver() -> None:
        while True:
            arrive, data = await queue.get()
            if not data:
                break
            wait = arrive - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    delivering = asyncio.create_task(deliver())
    try:
        while not delivering.done() and (data := await reader.read(CHUNK)):
            put = asyncio.create_task(queue.put((pipe.schedule(len(data)), data)))
            await asyncio.wait({put, delivering}, return_when=asyncio.FIRST_COMPLETED)
            if not put.done():
                put.cancel()
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if delivering.done():
            # The far side is gone: drop what waits and let the connection close.
            with contextlib.suppress(ConnectionError, OSError):
                delivering.result()
        else:
            await queue.put((0.0, b""))
            with contextlib.suppress(ConnectionError, OSError):
                await delivering


async def _serve(target: tuple[str, int], mbit: float, rtt_ms: float, ready: bool) -> None:
    rate = mbit * 1e6 / 8
    one_way = rtt_ms / 2000
    up, down = Pipe(rate, one_way), Pipe(rate, one_way)

    async def connection(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            await asyncio.sleep(2 * one_way)  # the SYN and SYN-ACK
            server_reader, server_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _carry(up, client_reader, server_writer),
                _carry(down, server_reader, client_writer),
            )
        finally:
            for w in (server_writer, client_writer):
                w.close()

    server = await asyncio.start_server(connection, LISTEN_HOST, target[1])
    if ready:
        print(f"LISTENING {LISTEN_HOST}:{target[1]}", flush=True)
    async with server:
        await server.serve_forever()


class ShapedLink:
    """The proxy in its own process (so the measured clients never share its GIL), in
    front of ``target_url``; ``url`` is the address to use instead."""

    def __init__(self, target_url: str, mbit: float, rtt_ms: float, timeout: float = 30.0):
        host_port = target_url.split("://", 1)[1].rstrip("/")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__)),
                "--target",
                host_port,
                "--mbit",
                str(mbit),
                "--rtt-ms",
                str(rtt_ms),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        line = ""
        assert self.process.stdout is not None
        while not line.startswith("LISTENING"):
            left = deadline - time.monotonic()
            # Wait for output with a timeout: readline alone would block past the deadline.
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                break
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
        if not line.startswith("LISTENING"):
            self.close()
            raise RuntimeError("the shaping proxy did not start")
        self.url = f"http://{line.split()[1]}"

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> ShapedLink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, help="host:port to forward to (127.0.0.1 only)")
    p.add_argument("--mbit", type=float, default=100.0, help="bandwidth per direction")
    p.add_argument("--rtt-ms", type=float, default=20.0, help="round-trip time")
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        p.error("the proxy forwards to this machine only")
    if args.mbit <= 0 or args.rtt_ms < 0:
        p.error("--mbit must be positive and --rtt-ms not negative")
    try:
        asyncio.run(_serve((host, int(port)), args.mbit, args.rtt_ms, ready=True))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
