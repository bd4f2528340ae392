"""Tests for parity_compare.py and parity.sh, on synthetic files.

Run: python3 -m unittest discover -s harness/key-oracle -p 'test_*.py'
"""

import base64
import contextlib
import io
import json
import os
import stat
import subprocess
import tempfile
import textwrap
import unittest

import parity_compare as pc

HERE = os.path.dirname(os.path.abspath(__file__))
PARITY_SH = os.path.join(os.path.dirname(HERE), "parity.sh")
DEFAULT_RULES = os.path.join(HERE, "parity-rules.json")


def body(kind, version, spec=None):
    doc = {"apiVersion": version, "kind": kind, "spec": spec or {}}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def keys(*k):
    return json.dumps({"keys": list(k)})


def err(msg):
    return json.dumps({"error": msg, "stage": "unmarshal"})


def old_packet(tag, payload):
    """Old-format OpenPGP packet with a two-octet length."""
    return bytes([0x80 | (tag << 2) | 1]) + len(payload).to_bytes(2, "big") + payload


def new_packet(tag, payload):
    """New-format OpenPGP packet with a one-octet length."""
    assert len(payload) < 192
    return bytes([0xC0 | tag, len(payload)]) + payload


def armored(data):
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    text = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + "\n".join(lines) + \
        "\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----"
    return base64.b64encode(text.encode()).decode()


ONE_UID = armored(old_packet(6, b"k" * 300) + new_packet(13, b"a <a@x>") +
                  new_packet(2, b"sig"))
# Two entities; the second has two distinct user IDs (and one repeated).
TWO_UIDS = armored(old_packet(6, b"k1") + new_packet(13, b"a <a@x>") +
                   old_packet(6, b"k2") + new_packet(13, b"b <b@x>") +
                   old_packet(13, b"c <c@x>") + new_packet(13, b"b <b@x>"))
SAME_UID_TWICE = armored(new_packet(6, b"k") + new_packet(13, b"a <a@x>") +
                         new_packet(13, b"a <a@x>"))


def pgp_rekord(key_b64):
    return body("rekord", "0.0.1", {"signature": {
        "format": "pgp", "publicKey": {"content": key_b64}}})


class Files:
    """Writes input/go/rust JSONL files in a temp dir."""

    def __init__(self, test, rows):
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)
        self.paths = {}
        for name, idx in (("input", 0), ("go", 1), ("rust", 2)):
            path = os.path.join(self.dir.name, name + ".jsonl")
            with open(path, "w") as f:
                f.write("".join(row[idx] + "\n" for row in rows))
            self.paths[name] = path

    def compare(self, rules):
        return pc.compare(self.paths["input"], self.paths["go"], self.paths["rust"], rules)

    def main(self, *extra):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = pc.main(["--input", self.paths["input"], "--go", self.paths["go"],
                            "--rust", self.paths["rust"], *extra])
        return code, out.getvalue()


def wrapped(b, **extra):
    return json.dumps({"body": b, **extra})


def rule(**kw):
    return pc.Rule.from_json(kw, 0)


class ClassifyTest(unittest.TestCase):
    def test_each_class_and_table(self):
        rows = [
            (wrapped(body("dsse", "0.0.1")), keys("a", "b"), keys("a", "b")),
            (wrapped(body("dsse", "0.0.1")), keys("a", "b"), keys("b", "a")),
            (wrapped(body("dsse", "0.0.1")), keys("a"), keys("a", "c")),
            (body("jar", "0.0.1"), err("boom"), keys("x")),  # bare base64 input
            (wrapped(body("jar", "0.0.1")), keys("x"), err("nope")),
            (wrapped(body("jar", "0.0.1")), err("a"), err("b")),
            (wrapped("!!not base64!!"), keys(), keys()),
        ]
        verdicts = Files(self, rows).compare([])
        self.assertEqual([v.outcome for v in verdicts], [
            pc.IDENTICAL, pc.DIFFERING, pc.DIFFERING, pc.GO_ONLY_FAILURE,
            pc.RUST_ONLY_FAILURE, pc.BOTH_FAILED, pc.IDENTICAL])
        self.assertEqual([v.explained for v in verdicts],
                         [True, False, False, False, False, True, True])
        self.assertEqual((verdicts[3].entry.kind, verdicts[3].entry.api_version),
                         ("jar", "0.0.1"))
        self.assertEqual(verdicts[6].entry.kind, "?")

        table = pc.table(verdicts).splitlines()
        dsse = next(line for line in table if line.startswith("dsse"))
        # entries identical set-equal differing go-only rust-only both unexplained
        self.assertEqual(dsse.split()[2:], ["3", "1", "0", "2", "0", "0", "0", "2"])
        jar = next(line for line in table if line.startswith("jar"))
        self.assertEqual(jar.split()[2:], ["3", "0", "0", "0", "1", "1", "1", "2"])
        total = next(line for line in table if line.startswith("TOTAL"))
        self.assertEqual(total.split()[1:], ["7", "2", "0", "2", "1", "1", "1", "4"])

    def test_input_kind_fields_win_over_body(self):
        line = wrapped(body("dsse", "0.0.1"), kind="intoto", apiVersion="0.0.2", uuid="ab")
        entry = pc.parse_entry(line, 5)
        self.assertEqual((entry.kind, entry.api_version), ("intoto", "0.0.2"))
        self.assertIn("uuid=ab", entry.label)


class RuleTest(unittest.TestCase):
    def test_set_hook_only_for_matching_entries_and_same_multiset(self):
        set_rule = rule(outcome="set_equal", kind="rekord", why="map order")
        rows = [
            (wrapped(body("rekord", "0.0.1")), keys("k", "a", "b"), keys("k", "b", "a")),
            (wrapped(body("rekord", "0.0.1")), keys("k", "a", "a"), keys("k", "a")),
            (wrapped(body("hashedrekord", "0.0.1")), keys("a", "b"), keys("b", "a")),
        ]
        v = Files(self, rows).compare([set_rule])
        self.assertEqual(v[0].outcome, pc.SET_EQUAL)
        self.assertTrue(v[0].explained)
        self.assertEqual(v[1].outcome, pc.DIFFERING)  # duplicate dropped: not a set match
        self.assertFalse(v[1].explained)
        self.assertEqual(v[2].outcome, pc.DIFFERING)  # other kind: order matters
        self.assertFalse(v[2].explained)

    def test_error_regex_and_key_constraints(self):
        rules = [
            rule(outcome="go_only_failure", kind="hashedrekord",
                 go_error="^verifying signature: ", why="re-verification"),
            rule(outcome="differing", kind="cose", go_only_keys="sha256:e3b0.*",
                 rust_only_keys="sha256:[0-9a-f]{4}", why="cose"),
        ]
        hr = wrapped(body("hashedrekord", "0.0.1"))
        cose = wrapped(body("cose", "0.0.1"))
        rows = [
            (hr, err("verifying signature: invalid signature"), keys("x")),
            (hr, err("invalid value for hash"), keys("x")),
            (cose, keys("k", "sha256:e3b0c4"), keys("k", "sha256:abcd", "sha256:0123")),
            (cose, keys("k", "sha256:e3b0c4"), keys("K", "sha256:abcd")),  # key hash changed
        ]
        v = Files(self, rows).compare(rules)
        self.assertEqual([x.explained for x in v], [True, False, True, False])
        self.assertEqual(v[0].rule.why, "re-verification")

    def test_where_filter(self):
        r = rule(outcome="differing", where={"spec.signature.format": "pgp"}, why="pgp")
        rows = [
            (wrapped(body("rekord", "0.0.1", {"signature": {"format": "pgp"}})),
             keys("a"), keys("b")),
            (wrapped(body("rekord", "0.0.1", {"signature": {"format": "x509"}})),
             keys("a"), keys("b")),
            (wrapped(body("rekord", "0.0.1")), keys("a"), keys("b")),
        ]
        self.assertEqual([x.explained for x in Files(self, rows).compare([r])],
                         [True, False, False])

    def test_bad_rules_are_rejected(self):
        for bad in ({"outcome": "differing"},  # no why
                    {"outcome": "identical", "why": "x"},
                    {"outcome": "differing", "why": "x", "go_eror": "typo"},
                    {"outcome": "differing", "why": "x", "go_error": "("}):
            with self.assertRaises(pc.InputError, msg=bad):
                pc.Rule.from_json(bad, 0)


class PgpTest(unittest.TestCase):
    def test_user_id_count(self):
        self.assertEqual(pc.max_pgp_user_ids(ONE_UID), 1)
        self.assertEqual(pc.max_pgp_user_ids(TWO_UIDS), 2)
        self.assertEqual(pc.max_pgp_user_ids(SAME_UID_TWICE), 1)
        binary = base64.b64encode(new_packet(6, b"k") + new_packet(13, b"x") +
                                  new_packet(13, b"y")).decode()
        self.assertEqual(pc.max_pgp_user_ids(binary), 2)
        self.assertEqual(pc.max_pgp_user_ids("%%%"), 0)

    def test_default_rules_random_pgp_order_only_for_multi_uid_keys(self):
        rules = pc.load_rules(DEFAULT_RULES)
        h1, h2 = "1" * 64, "2" * 64
        rows = [
            # Same keys, other e-mail order: explained only for a multi-UID key.
            (wrapped(pgp_rekord(TWO_UIDS)), keys(h1, "a@x", "b@x", "sha256:d"),
             keys(h1, "b@x", "a@x", "sha256:d")),
            (wrapped(pgp_rekord(ONE_UID)), keys(h1, "a@x", "b@x", "sha256:d"),
             keys(h1, "b@x", "a@x", "sha256:d")),
            # Different key hash (random canon order): same rule split.
            (wrapped(pgp_rekord(TWO_UIDS)), keys(h1, "a@x", "sha256:d"),
             keys(h2, "a@x", "sha256:d")),
            (wrapped(pgp_rekord(ONE_UID)), keys(h1, "a@x", "sha256:d"),
             keys(h2, "a@x", "sha256:d")),
            # A different data hash is never explained by the PGP rules.
            (wrapped(pgp_rekord(TWO_UIDS)), keys(h1, "sha256:d"), keys(h1, "sha256:e")),
        ]
        v = Files(self, rows).compare(rules)
        self.assertEqual([x.outcome for x in v], [
            pc.SET_EQUAL, pc.DIFFERING, pc.DIFFERING, pc.DIFFERING, pc.DIFFERING])
        self.assertEqual([x.explained for x in v], [True, False, True, False, False])


class MainTest(unittest.TestCase):
    def test_exit_codes(self):
        ok = Files(self, [(wrapped(body("dsse", "0.0.1")), keys("a"), keys("a"))])
        code, out = ok.main()
        self.assertEqual(code, 0)
        self.assertIn("parity: OK", out)

        bad = Files(self, [(wrapped(body("dsse", "0.0.1")), keys("a"), keys("b"))])
        code, out = bad.main()
        self.assertEqual(code, 1)
        self.assertIn("only go:    a", out)
        self.assertIn("only rust:  b", out)

        short = Files(self, [(wrapped(body("dsse", "0.0.1")), keys("a"), keys("a"))])
        with open(short.paths["rust"], "a") as f:
            f.write(keys("extra") + "\n")
        self.assertEqual(short.main()[0], 2)

        garbage = Files(self, [(wrapped(body("dsse", "0.0.1")), keys("a"), '{"nothing":1}')])
        self.assertEqual(garbage.main()[0], 2)

    def test_report_lists_notable_entries(self):
        f = Files(self, [
            (wrapped(body("dsse", "0.0.1")), keys("a"), keys("a")),
            (wrapped(body("dsse", "0.0.1")), keys("a"), keys("b")),
        ])
        report = os.path.join(f.dir.name, "report.jsonl")
        self.assertEqual(f.main("--report", report)[0], 1)
        with open(report) as r:
            lines = [json.loads(line) for line in r]
        self.assertEqual([(x["line"], x["outcome"], x["explained"]) for x in lines],
                         [(2, pc.DIFFERING, False)])


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


class ParityShTest(unittest.TestCase):
    """parity.sh end to end, with stand-in scripts for both binaries."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        d = self.dir.name
        self.input = os.path.join(d, "in.jsonl")
        with open(self.input, "w") as f:
            f.write(wrapped(body("dsse", "0.0.1")) + "\n")
            f.write(wrapped(body("hashedrekord", "0.0.1")) + "\n")
        self.oracle = os.path.join(d, "oracle")
        write_script(self.oracle, textwrap.dedent(f"""\
            #!/bin/sh
            cat >/dev/null
            echo '{keys("a", "b")}'
            echo '{err("verifying signature: invalid signature")}'
            """))

    def run_parity(self, rust_output):
        rust = os.path.join(self.dir.name, "rust")
        write_script(rust, "#!/bin/sh\n[ \"$1\" = keys ] || exit 9\ncat >/dev/null\n"
                     + "".join(f"echo '{line}'\n" for line in rust_output))
        env = dict(os.environ, ORACLE=self.oracle,
                   PARITY_OUT=os.path.join(self.dir.name, "out"))
        return subprocess.run([PARITY_SH, rust, self.input], env=env,
                              capture_output=True, text=True)

    def test_explained_difference_passes(self):
        r = self.run_parity([keys("a", "b"), keys("x")])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("parity: OK", r.stdout)

    def test_unexplained_difference_fails(self):
        r = self.run_parity([keys("b", "a"), keys("x")])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("unexplained", r.stderr)

    def test_missing_binary_fails_clearly(self):
        r = subprocess.run([PARITY_SH, os.path.join(self.dir.name, "no-such-binary"),
                            self.input], capture_output=True, text=True,
                           env=dict(os.environ, ORACLE=self.oracle))
        self.assertEqual(r.returncode, 2)
        self.assertIn("Rust binary not found", r.stderr)


if __name__ == "__main__":
    unittest.main()
