#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the scenarios: sits between a backfill
tool and rekor-server on loopback and, per request, forwards, delays, answers
429/503, drops or resets the connection, or truncates the response. Standard
library only; listens on 127.0.0.1 only.

Why a proxy rather than killing rekor-server: the faults a real deployment
sees in front of Rekor (rate limits, overloaded load balancers, idle
connections cut) are HTTP-level and per request; only a proxy makes them
exact and repeatable.

The schedule is a comma-separated list of actions, applied to requests in
arrival order and cycled (request n gets action n mod len). Actions:
  ok            forward
  slow:S        wait S seconds, then forward
  429, 503, ... answer with that status (429 and 503 carry Retry-After)
  drop          read the request, close the connection without an answer
  reset         read the request, reset the connection (RST)
  trunc         forward, but send only half of the response body, then close
--reject-post STATUS answers every POST with STATUS instead (outside the
schedule), like a server or gateway without the batch endpoint.
--tamper INDEX=FIELD (repeatable) alters the entry at log index INDEX in
every entries response (GET by index and the batch POST), as a compromised
log or a man in the middle would; FIELD is one of
  body        one byte of the decoded body changed (still valid base64)
  hash        the first inclusion proof hash changed
  set         one byte of the signed entry timestamp changed
  checkpoint  one byte of the checkpoint's signature changed
Every request first waits --delay seconds (plus up to --jitter), so a run
lasts long enough for a kill or a restart to land in the middle of it. When
rekor-server cannot be reached, the client's connection is reset, as if the
server itself were down.

One JSON line per request goes to --log: {"n", "t", "method", "path",
"action", "status"} (t: seconds since the epoch, at the answer).

usage: faultproxy.py --port P --upstream-port U [--schedule ok] [--delay 0]
                     [--jitter 0] [--retry-after 1] [--seed 1]
                     [--reject-post STATUS] [--tamper INDEX=FIELD]... --log FILE
"""

import argparse
import base64
import http.client
import http.server
import json
import random
import signal
import socket
import struct
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "host", "content-length"}


class Proxy:
    def __init__(self, args):
        self.args = args
        self.schedule = [a.strip() for a in args.schedule.split(",") if a.strip()]
        self.lock = threading.Lock()
        self.n = 0
        self.rand = random.Random(args.seed)
        self.log = open(args.log, "a", buffering=1)
        self.tamper = {}
        for t in args.tamper:
            index, _, field = t.partition("=")
            self.tamper[int(index)] = field

    def next_action(self):
        with self.lock:
            n = self.n
            self.n += 1
            jitter = self.rand.uniform(0, self.args.jitter) if self.args.jitter else 0.0
        return n, self.schedule[n % len(self.schedule)], jitter

    def record(self, **fields):
        fields["t"] = round(time.time(), 4)
        with self.lock:
            self.log.write(json.dumps(fields, sort_keys=True) + "\n")


def _flip(b64):
    """base64 of the same bytes with the last one changed."""
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def tamper_entry(entry, field):
    v = entry.get("verification") or {}
    proof = v.get("inclusionProof") or {}
    if field == "body":
        raw = bytearray(base64.b64decode(entry["body"]))
        # A space before the closing brace: still the same JSON document.
        raw[-1:] = b" }"
        entry["body"] = base64.b64encode(bytes(raw)).decode()
    elif field == "hash":
        h = proof["hashes"][0]
        proof["hashes"][0] = ("0" if h[0] != "0" else "1") + h[1:]
    elif field == "set":
        v["signedEntryTimestamp"] = _flip(v["signedEntryTimestamp"])
    elif field == "checkpoint":
        note, _, sigs = proof["checkpoint"].partition("\n\n")
        line, _, rest = sigs.partition("\n")
        head, _, b64 = line.rpartition(" ")
        proof["checkpoint"] = "%s\n\n%s %s\n%s" % (note, head, _flip(b64), rest)
    else:
        raise ValueError("unknown tamper field %r" % field)


def tamper(data, targets):
    """The response with the targeted entries altered; other responses as is."""
    try:
        doc = json.loads(data)
    except ValueError:
        return data, []
    maps = doc if isinstance(doc, list) else [doc]
    done = []
    for m in maps:
        if not isinstance(m, dict):
            return data, []
        for entry in m.values():
            if isinstance(entry, dict) and entry.get("logIndex") in targets:
                tamper_entry(entry, targets[entry["logIndex"]])
                done.append(entry["logIndex"])
    return (json.dumps(doc).encode() if done else data), done


def make_handler(proxy):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else None

        def _kill(self, reset):
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def _answer(self, status, headers, body):
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self):
            if self.command == "POST" and proxy.args.reject_post:
                n, action, jitter = -1, str(proxy.args.reject_post), 0.0
            else:
                n, action, jitter = proxy.next_action()
            body = self._body()
            time.sleep(proxy.args.delay + jitter)
            rec = {"n": n, "method": self.command, "path": self.path, "action": action}
            if action.startswith("slow:"):
                time.sleep(float(action.split(":", 1)[1]))
            if action in ("drop", "reset"):
                proxy.record(status=0, **rec)
                self._kill(action == "reset")
                return
            if action.isdigit():
                status = int(action)
                headers = [("Content-Type", "application/json")]
                if status in (429, 503):
                    headers.append(("Retry-After", str(proxy.args.retry_after)))
                msg = json.dumps({"code": status, "message": "injected by faultproxy"}).encode()
                proxy.record(status=status, **rec)
                self._answer(status, headers, msg)
                return
            try:
                up = http.client.HTTPConnection("127.0.0.1", proxy.args.upstream_port, timeout=60)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                up.request(self.command, self.path, body=body, headers=hdrs)
                resp = up.getresponse()
                data = resp.read()
                rheaders = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                status = resp.status
                up.close()
            except OSError as e:
                proxy.record(status=0, error="upstream: %s" % e, **rec)
                self._kill(True)
                return
            if proxy.tamper and status == 200 and "/log/entries" in self.path:
                data, done = tamper(data, proxy.tamper)
                if done:
                    rec["tampered"] = done
            proxy.record(status=status, **rec)
            if action == "trunc" and len(data) > 1:
                self.send_response_only(status)
                for k, v in rheaders:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self._kill(False)
                return
            self._answer(status, rheaders, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--schedule", default="ok")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--jitter", type=float, default=0.0)
    ap.add_argument("--retry-after", default="1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reject-post", type=int)
    ap.add_argument("--tamper", action="append", default=[], metavar="INDEX=FIELD")
    ap.add_argument("--log", required=True)
    args = ap.parse_args(argv)
    proxy = Proxy(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(proxy))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
