"""Unit tests for the scenario helpers (store.py text format and diffs,
classify.py, sampler.py's check, faultproxy.py against a local upstream,
tcpdelay.py against a local echo server, entries.py's log size).
Run with: python3 -m unittest discover -s harness/stack -p 'test_*.py'"""

import base64
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import classify  # noqa: E402
import sampler  # noqa: E402
import store  # noqa: E402
import faultproxy  # noqa: E402

E1 = "aa" * 8 + "11" * 32  # entry IDs: tree ID + UUID
E2 = "aa" * 8 + "22" * 32


class StoreFormatTest(unittest.TestCase):
    def test_escaping_round_trips_awkward_keys(self):
        for key in ["plain", "tab\there", "new\nline", "back\\slash\\t", "\\", "é@Example.COM"]:
            self.assertEqual(store.unesc(store.esc(key)), key)
            self.assertNotIn("\t", store.esc(key))
            self.assertNotIn("\n", store.esc(key))

    def test_counted_dump_keeps_duplicates(self):
        pairs = [("k\t1", E1), ("k2", E2), ("k\t1", E1)]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.tsv")
            store.write_dump(path, pairs, True)
            with open(path) as f:
                self.assertEqual(f.read().count("\n"), 2)
            self.assertEqual(store.counted(store.read_pairs(path)), store.counted(pairs))
            self.assertEqual(store.counted(store.read_pairs(path))[("k\t1", E1)], 2)

    def test_diff_summary(self):
        a = store.counted([("a", E1), ("b", E1), ("c", E2)])
        self.assertIsNone(store.diff_summary(a, dict(a)))
        b = store.counted([("a", E1), ("c", E2), ("c", E2), ("d", E2)])
        d = store.diff_summary(a, b)
        self.assertIn("1 pairs missing", d)
        self.assertIn("1 pairs extra", d)
        self.assertIn("1 pairs with another count", d)

    def test_pending_lines_follow_the_rule(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "failed.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps({"logIndex": 1, "uuid": E1, "error": "unsupported entry kind tuf 0.0.1 (not implemented yet)"}) + "\n")
                f.write(json.dumps({"logIndex": 2, "uuid": E2, "error": "rekord with pgp keys is not supported yet"}) + "\n")
            self.assertEqual(store.pending_count(path), 2)
            with open(path, "a") as f:
                f.write(json.dumps({"logIndex": 3, "uuid": E2, "error": "uuid does not match the body"}) + "\n")
            self.assertEqual(store.pending_count(path), 2)
            self.assertEqual(len(store.failed_lines(path)), 3)
        self.assertEqual(store.pending_count("/nonexistent/failed.jsonl"), 0)


def pgp_key_b64(uids):
    """A minimal binary PGP block: one public-key packet, then user IDs
    (old-format packets, one-byte lengths)."""
    data = bytes([0x98, 3]) + b"\x04\x00\x00"
    for u in uids:
        data += bytes([0xB4, len(u)]) + u
    return base64.b64encode(data).decode()


def entry(uuid, kind, body_spec, index=0):
    doc = {"kind": kind, "apiVersion": "0.0.1", "spec": body_spec}
    return {"uuid": uuid, "logIndex": index, "kind": kind, "apiVersion": "0.0.1",
            "doc": doc, "body_text": json.dumps(doc).lower()}


class ClassifyTest(unittest.TestCase):
    def setUp(self):
        self.rules = classify.load_rules(os.path.join(HERE, "stack-rules.json"))

    def test_diff_pairs(self):
        server = store.counted([("same", E1), ("dup", E1), ("dup", E1), ("alice@example.com", E1), ("gone", E2)])
        tool = store.counted([("same", E1), ("dup", E1), ("Alice@Example.COM", E1), ("new", E2), ("twice", E2), ("twice", E2)])
        kinds = {}
        for d, k, _ in classify.diff_pairs(server, tool):
            kinds.setdefault(d, set()).add(k)
        self.assertEqual(kinds["same"], {"same"})
        self.assertEqual(kinds["dup"], {"dup"})
        self.assertEqual(kinds["case"], {"alice@example.com"})
        self.assertEqual(kinds["missing"], {"gone"})
        self.assertEqual(kinds["tool-dup"], {"twice"})
        self.assertNotIn("Alice@Example.COM", kinds.get("extra", set()))

    def classes(self, entries, server, tool, tool_name="rust", backend="redis", failed=None):
        rows = classify.classify({classify.short(e["uuid"]): e for e in entries}, self.rules,
                                 store.counted(server), store.counted(tool), tool_name, backend, failed or {})
        return {(d, k): (c, r) for d, k, _, c, r in rows}

    def test_rust_case_difference_on_redis_is_unexplained(self):
        e = entry(E1, "hashedrekord", {})
        got = self.classes([e], [("bob@example.com", E1)], [("Bob@Example.com", E1)])
        self.assertEqual(got[("case", "bob@example.com")], ("unexplained", None))
        got = self.classes([e], [("bob@example.com", E1)], [("Bob@Example.com", E1)], tool_name="go")
        self.assertEqual(got[("case", "bob@example.com")], ("documented", "redis-case"))

    def test_server_duplicate_only_explained_on_redis(self):
        e = entry(E1, "tuf", {})
        pairs = [("k", E1), ("k", E1)]
        self.assertEqual(self.classes([e], pairs, [("k", E1)])[("dup", "k")], ("documented", "server-duplicate"))
        self.assertEqual(self.classes([e], pairs, [("k", E1)], backend="mysql")[("dup", "k")][0], "unexplained")

    def test_dsse_payload_digest_only_when_not_in_body(self):
        e = entry(E1, "dsse", {"payloadHash": {"algorithm": "sha256", "value": "ab" * 32}})
        server = [("sha256:" + "cd" * 32, E1), ("sha256:" + "ab" * 32, E1)]
        got = self.classes([e], server, [])
        self.assertEqual(got[("missing", "sha256:" + "cd" * 32)], ("documented", "dsse-payload-digests"))
        self.assertEqual(got[("missing", "sha256:" + "ab" * 32)][0], "unexplained")

    def test_pending_takes_precedence(self):
        e = entry(E1, "dsse", {})
        failed = {classify.short(E1): "unsupported entry kind dsse 0.0.1 (not implemented yet)"}
        got = self.classes([e], [("sha256:" + "cd" * 32, E1)], [], failed=failed)
        self.assertEqual(got[("missing", "sha256:" + "cd" * 32)], ("pending", "not-implemented"))

    def test_pgp_rule_needs_two_user_ids(self):
        one = entry(E1, "rekord", {"signature": {"format": "pgp", "publicKey": {"content": pgp_key_b64([b"a <a@x>"])}}})
        two = entry(E2, "rekord", {"signature": {"format": "pgp", "publicKey": {"content": pgp_key_b64([b"a <a@x>", b"b <b@x>"])}}})
        h1, h2 = "01" * 32, "02" * 32
        rows = classify.classify({classify.short(x["uuid"]): x for x in (one, two)}, self.rules,
                                 store.counted([(h1, E2)]), store.counted([(h2, E2)]), "rust", "redis", {})
        self.assertEqual({(d, c) for d, _, _, c, _ in rows}, {("missing", "documented"), ("extra", "documented")})
        rows = classify.classify({classify.short(x["uuid"]): x for x in (one, two)}, self.rules,
                                 store.counted([(h1, E1)]), store.counted([(h2, E1)]), "rust", "redis", {})
        self.assertEqual({(d, c) for d, _, _, c, _ in rows}, {("missing", "unexplained"), ("extra", "unexplained")})


class SamplerCheckTest(unittest.TestCase):
    expected = {0: {("a", E1)}, 1: {("b", E2), ("c", E2)}, 2: set()}

    def test_no_checkpoint_no_violation(self):
        self.assertEqual(sampler.check(None, [], self.expected), [])

    def test_covered_entry_without_its_keys(self):
        cp = {"firstIndex": 0, "lastCompletedIndex": 1}
        bad = sampler.check(cp, [("a", E1), ("b", E2)], self.expected)
        self.assertEqual([(v["logIndex"], v["missing"]) for v in bad], [(1, ["c"])])
        self.assertEqual(sampler.check(cp, [("a", E1), ("b", E2), ("c", E2)], self.expected), [])

    def test_only_the_covered_range_counts(self):
        self.assertEqual(sampler.check({"firstIndex": 1, "lastCompletedIndex": 2}, [("b", E2), ("c", E2)],
                                       self.expected), [])
        self.assertEqual(sampler.check({"firstIndex": 0, "lastCompletedIndex": 0}, [], self.expected)[0]["logIndex"], 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FaultProxyTest(unittest.TestCase):
    BODY = b'{"answer": "' + b"x" * 200 + b'"}'

    @classmethod
    def setUpClass(cls):
        body = cls.BODY

        class Upstream(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers["Content-Length"])
                echo = self.rfile.read(n)
                self.send_response(201)
                self.send_header("Content-Length", str(len(echo)))
                self.end_headers()
                self.wfile.write(echo)

        cls.upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.dir = tempfile.TemporaryDirectory()
        cls.log = os.path.join(cls.dir.name, "proxy.jsonl")
        cls.port = free_port()
        cls.proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py"), "--port", str(cls.port),
                                      "--upstream-port", str(cls.upstream.server_address[1]), "--log", cls.log,
                                      "--schedule", "ok,429,drop,reset,trunc,slow:0.3,ok", "--retry-after", "2"])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.terminate()
        cls.proxy.wait(10)
        cls.upstream.shutdown()
        cls.dir.cleanup()

    def get(self, method="GET", body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, "/api/v1/log", body=body)
            r = c.getresponse()
            return r.status, r.getheader("Retry-After"), r.read()
        finally:
            c.close()

    def test_schedule_in_order(self):
        self.assertEqual(self.get(), (200, None, self.BODY))
        status, retry_after, _ = self.get()
        self.assertEqual((status, retry_after), (429, "2"))
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.get()  # drop
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.get()  # reset
        with self.assertRaises(http.client.IncompleteRead):
            self.get()  # trunc
        t0 = time.monotonic()
        self.assertEqual(self.get("POST", b"payload")[::2], (201, b"payload"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        with open(self.log) as f:
            actions = [json.loads(line)["action"] for line in f]
        self.assertEqual(actions, ["ok", "429", "drop", "reset", "trunc", "slow:0.3"])


class TcpDelayTest(unittest.TestCase):
    """tcpdelay.py: what the client sends arrives DELAY later, in order;
    answers come back at once; one log line per connection."""

    def test_delay_order_and_log(self):
        echo = socket.socket()
        echo.bind(("127.0.0.1", 0))
        echo.listen(1)

        def serve():
            c, _ = echo.accept()
            with c:
                while True:
                    data = c.recv(65536)
                    if not data:
                        return
                    c.sendall(data)

        threading.Thread(target=serve, daemon=True).start()
        with tempfile.TemporaryDirectory() as d:
            log, port = os.path.join(d, "delay.jsonl"), free_port()
            proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "tcpdelay.py"), "--port", str(port),
                                      "--upstream-port", str(echo.getsockname()[1]), "--delay", "0.3",
                                      "--log", log])
            try:
                for _ in range(100):
                    try:
                        c = socket.create_connection(("127.0.0.1", port), timeout=5)
                        break
                    except OSError:
                        time.sleep(0.05)
                got = b""
                t0 = time.monotonic()
                c.sendall(b"one ")
                c.sendall(b"two")
                while len(got) < 7:
                    got += c.recv(100)
                took = time.monotonic() - t0
                self.assertEqual(got, b"one two")
                self.assertGreaterEqual(took, 0.3)
                self.assertLess(took, 1.5)
                c.close()
                for _ in range(100):
                    with open(log) as f:
                        if '"close"' in f.read():
                            break
                    time.sleep(0.05)
            finally:
                proxy.terminate()
                proxy.wait(10)
                echo.close()
            with open(log) as f:
                events = [json.loads(line) for line in f]
            kinds = [e["event"] for e in events]
            self.assertEqual(kinds[:2] + kinds[-1:], ["listening", "open", "close"])
            n = kinds.count("delayed")  # the two sends may arrive as one chunk
            self.assertIn(n, (1, 2))
            self.assertEqual((events[-1]["conn"], events[-1]["bytes"], events[-1]["delayed"]), (1, 7, n))

    def test_mysql_execute_only(self):
        from tcpdelay import Delay

        class Args:
            mysql_execute = True
        d = Delay.__new__(Delay)
        d.args = Args()
        execute = bytes([5, 0, 0, 0, 0x17, 1, 0, 0, 0])
        self.assertTrue(d.delays(execute))
        self.assertFalse(d.delays(bytes([5, 0, 0, 0, 0x16]) + b"SELECT"))  # COM_STMT_PREPARE
        self.assertFalse(d.delays(bytes([5, 0, 0, 1, 0x17])))  # handshake response (sequence id 1)
        self.assertFalse(d.delays(bytes([5, 0, 0, 0, 0x03]) + b"SET"))  # COM_QUERY
        Args.mysql_execute = False
        self.assertTrue(d.delays(b"anything"))


class EntriesLogSizeTest(unittest.TestCase):
    """entries.py counts every shard: the active tree and the inactive ones."""

    def test_total_size_adds_inactive_shards(self):
        import entries
        self.assertEqual(entries.total_size({"treeSize": 3, "treeID": "2"}), 3)
        self.assertEqual(entries.total_size({"treeSize": 3, "treeID": "2", "inactiveShards": None}), 3)
        self.assertEqual(entries.total_size(
            {"treeSize": 3, "treeID": "3", "inactiveShards": [{"treeSize": 64, "treeID": "1"},
                                                              {"treeSize": 5, "treeID": "2"}]}), 72)


class TamperTest(unittest.TestCase):
    """faultproxy --tamper: each field altered in the entry at its index only."""

    def entries(self):
        def one(index):
            return {"body": base64.b64encode(b'{"kind":"x"}').decode(), "logIndex": index,
                    "verification": {"signedEntryTimestamp": base64.b64encode(b"sig-%d" % index).decode(),
                                     "inclusionProof": {"hashes": ["ab" * 32, "cd" * 32],
                                                        "checkpoint": "o - 1\n2\nAAAA\n\n\u2014 o c2ln\n"}}}
        return [{"u%d" % i: one(i)} for i in range(3)]

    def test_each_field_changes_only_its_entry(self):
        for field in ("body", "hash", "set", "checkpoint"):
            before = self.entries()
            data, done = faultproxy.tamper(json.dumps(before).encode(), {1: field})
            after = json.loads(data)
            self.assertEqual(done, [1], field)
            self.assertEqual(after[0], before[0], field)
            self.assertEqual(after[2], before[2], field)
            self.assertNotEqual(after[1], before[1], field)
        data, _ = faultproxy.tamper(json.dumps(self.entries()).encode(), {1: "body"})
        self.assertEqual(base64.b64decode(json.loads(data)[1]["u1"]["body"]), b'{"kind":"x" }')
        data, _ = faultproxy.tamper(json.dumps(self.entries()).encode(), {1: "checkpoint"})
        self.assertTrue(json.loads(data)[1]["u1"]["verification"]["inclusionProof"]["checkpoint"]
                        .startswith("o - 1\n2\nAAAA\n\n\u2014 o "))

    def test_other_responses_pass_unchanged(self):
        for data in (b"not json", json.dumps({"treeSize": 3}).encode(), json.dumps(self.entries()).encode()):
            self.assertEqual(faultproxy.tamper(data, {7: "body"}), (data, []))


if __name__ == "__main__":
    unittest.main()
