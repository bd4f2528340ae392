#!/usr/bin/env python3
"""A TCP proxy that adds latency: a chunk a client sends reaches the
upstream DELAY seconds later (order kept: a chunk never overtakes an
earlier one); answers come back at once. The scenarios put it in front of
the stack's MariaDB for the Trillian source's DSN only, so that a run of
rekor-backfill reading Trillian's database lasts long enough for a SIGKILL
to land in the middle of it. The index backend and rekor-server keep their
direct connections. Standard library only (asyncio); listens on 127.0.0.1
only.

--mysql-execute delays only the chunks that start a MySQL COM_STMT_EXECUTE
packet (sequence id 0, command 0x17): each prepared statement the tool runs
(one range query per chunk and tree) waits DELAY, while the handshake,
COM_QUERY and COM_STMT_PREPARE pass at once. Without it every chunk waits.

JSON lines go to --log: {"event": "listening"} once the port is open;
{"event": "open", "conn", "t"} per accepted connection; {"event":
"delayed", "conn", "t"} per delayed chunk (at its arrival); {"event":
"close", "conn", "t", "chunks", "bytes", "delayed"} when a connection ends
(client to upstream).

usage: tcpdelay.py --port P --upstream-port U [--delay 0.2] [--mysql-execute]
                   [--log FILE]
"""

import argparse
import asyncio
import json
import signal
import sys
import time


class Delay:
    def __init__(self, args):
        self.args = args
        self.conns = 0
        self.log = open(args.log, "a") if args.log else None

    def delays(self, data):
        """Whether this chunk waits DELAY."""
        if not self.args.mysql_execute:
            return True
        return len(data) >= 5 and data[3] == 0 and data[4] == 0x17

    async def pump_delayed(self, reader, writer, stats):
        """Client to upstream: each chunk forwarded DELAY after it arrived."""
        queue = asyncio.Queue()

        async def read():
            while True:
                data = await reader.read(65536)
                queue.put_nowait((time.monotonic(), data))
                if not data:
                    return
                stats["chunks"] += 1
                stats["bytes"] += len(data)
                if self.delays(data):
                    stats["delayed"] += 1
                    self.record({"event": "delayed", "conn": stats["conn"], "t": time.time()})

        async def write():
            while True:
                t, data = await queue.get()
                delay = self.args.delay if data and self.delays(data) else 0
                wait = t + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.write_eof() if writer.can_write_eof() else writer.close()
                    return
                writer.write(data)
                await writer.drain()

        await asyncio.gather(read(), write())

    @staticmethod
    async def pump(reader, writer):
        while True:
            data = await reader.read(65536)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    def record(self, line):
        if self.log:
            self.log.write(json.dumps(line, sort_keys=True) + "\n")
            self.log.flush()

    async def handle(self, c_reader, c_writer):
        self.conns += 1
        self.record({"event": "open", "conn": self.conns, "t": time.time()})
        stats = {"event": "close", "conn": self.conns, "chunks": 0, "bytes": 0, "delayed": 0}
        try:
            u_reader, u_writer = await asyncio.open_connection("127.0.0.1", self.args.upstream_port)
        except OSError:
            c_writer.close()
            return
        try:
            await asyncio.gather(self.pump_delayed(c_reader, u_writer, stats), self.pump(u_reader, c_writer))
        except (ConnectionError, OSError):
            pass
        finally:
            for w in (u_writer, c_writer):
                w.close()
            stats["t"] = time.time()
            self.record(stats)

    async def serve(self):
        server = await asyncio.start_server(self.handle, "127.0.0.1", self.args.port)
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
        self.record({"event": "listening", "t": time.time()})
        async with server:
            await stop


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--mysql-execute", action="store_true")
    ap.add_argument("--log")
    asyncio.run(Delay(ap.parse_args(argv)).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
