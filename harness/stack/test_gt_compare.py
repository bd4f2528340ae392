"""Unit tests for gt_compare.py: run with
python3 -m unittest discover -s harness/stack -p 'test_*.py'"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gt_compare  # noqa: E402

U1 = "aa" * 8 + "11" * 32  # entry ID: tree ID + UUID
U2 = "22" * 32             # bare UUID


class CompareTest(unittest.TestCase):
    def test_classifies_same_case_missing_extra(self):
        server = {("alice@example.com", U1[-64:]): 1, ("sha256:ab", U1[-64:]): 1, ("k", U2): 1}
        other = {("Alice@Example.COM", U1[-64:]): 1, ("sha256:ab", U1[-64:]): 1, ("sha256:e3", U2): 1}
        r = gt_compare.compare(server, other)
        self.assertEqual(r["same"], {("sha256:ab", U1[-64:])})
        self.assertEqual(r["case_s"], {("alice@example.com", U1[-64:])})
        self.assertEqual(r["case_o"], {("Alice@Example.COM", U1[-64:])})
        self.assertEqual(r["missing"], {("k", U2)})
        self.assertEqual(r["extra"], {("sha256:e3", U2)})

    def test_case_variant_of_another_entry_is_not_case_only(self):
        server = {("bob@example.com", U2): 1}
        other = {("Bob@Example.com", "33" * 32): 1}
        r = gt_compare.compare(server, other)
        self.assertEqual(r["missing"], {("bob@example.com", U2)})
        self.assertEqual(r["extra"], {("Bob@Example.com", "33" * 32)})


class EndToEndTest(unittest.TestCase):
    def test_report_counts_per_kind(self):
        with tempfile.TemporaryDirectory() as d:
            def write(name, text):
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            write("entries.jsonl",
                  '{"uuid": "%s", "logIndex": 0, "kind": "hashedrekord", "apiVersion": "0.0.1"}\n'
                  '{"uuid": "%s", "logIndex": 1, "kind": "helm", "apiVersion": "0.0.1"}\n' % (U1, U2))
            # entry IDs in the dumps, UUIDs in entries: matched on the last 64 hex
            write("server.tsv", "a@b.c\t%s\t1\nh1\t%s\t2\nh2\t%s\t1\n" % (U1, U2, U2))
            write("go.tsv", "A@b.c\t%s\t1\n" % U1)
            out = subprocess.run(
                [sys.executable, os.path.join(os.path.dirname(__file__), "gt_compare.py"),
                 "--entries", os.path.join(d, "entries.jsonl"),
                 "server=" + os.path.join(d, "server.tsv"), "go=" + os.path.join(d, "go.tsv")],
                capture_output=True, text=True, check=True).stdout
            rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
            # kind apiVersion entries server | pairs same case miss extra no-keys dup
            self.assertEqual(rows["hashedrekord"][2:], ["1", "1", "|", "1", "0", "1", "0", "0", "0", "0"])
            self.assertEqual(rows["helm"][2:], ["1", "2", "|", "0", "0", "0", "2", "0", "1", "0"])
            self.assertIn("server: 1 pairs listed more than once", out)


if __name__ == "__main__":
    unittest.main()
