#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks audit records (envinject.conf(5), AUDIT RECORD) for the cases.

  audit_record.py show FILE [CONFIG]   check every line's format; print
                                       each record's fields, one a line
                                       (time and host checked, not shown;
                                       with CONFIG, config_sha256 must be
                                       the SHA-256 of that file)
  audit_record.py compare FILE I J     records I and J (from 1): key_id
                                       and, per key, same or different hash
  audit_record.py hash KEY NAME VALUE  the hash the record gives NAME=VALUE
  audit_record.py revision KEY TEXT    the keyed form of a secret layer's
                                       content revision TEXT
                                       under the master key KEY (64 hex
                                       digits), computed here independently
"""
import hashlib
import json
import re
import socket
import sys

FIELDS = ["version", "time", "environment", "host", "program",
          "config_sha256", "key_id", "layers", "keys", "unset"]
HEX = re.compile(r"^[0-9a-f]+$")


def fail(msg):
    print("bad record: " + msg)
    sys.exit(1)


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        fail("the file does not end with a newline")
    out = []
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        pairs = json.loads(line, object_pairs_hook=lambda p: p)
        if [k for k, _ in pairs] != FIELDS:
            fail("line %d: members %s" % (n, [k for k, _ in pairs]))
        out.append(json.loads(line))
    return out


def is_hex(s, n):
    return isinstance(s, str) and len(s) == n and HEX.match(s) is not None


def check(r, config):
    if r["version"] != 1:
        fail("version %r" % r["version"])
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", r["time"]):
        fail("time %r" % r["time"])
    if r["host"] != socket.gethostname():
        fail("host %r" % r["host"])
    if not is_hex(r["key_id"], 16):
        fail("key_id %r" % r["key_id"])
    sha = r["config_sha256"]
    if config is not None:
        with open(config, "rb") as f:
            if sha != hashlib.sha256(f.read()).hexdigest():
                fail("config_sha256 is not the file's")
    elif sha is not None and not is_hex(sha, 64):
        fail("config_sha256 %r" % sha)
    for layer in r["layers"]:
        if sorted(layer) != ["name", "provider", "revision"]:
            fail("layer %r" % layer)
    names = [k["name"] for k in r["keys"]]
    if names != sorted(names):
        fail("keys not sorted")
    for k in r["keys"]:
        if sorted(k) != ["hash", "layer", "name"] or not is_hex(k["hash"], 64):
            fail("key %r" % k)
    if not isinstance(r["unset"], list) or not all(
            isinstance(u, str) for u in r["unset"]):
        fail("unset %r" % r["unset"])


def show(path, config):
    for i, r in enumerate(records(path), 1):
        check(r, config)
        print("record %d: environment=%s program=%s key_id=%s config=%s" % (
            i, r["environment"], json.dumps(r["program"]), r["key_id"],
            "null" if r["config_sha256"] is None else
            "sha256" if config is not None else "hex"))
        for layer in r["layers"]:
            print("  layer %s %s %s" % (layer["name"], layer["provider"],
                                        json.dumps(layer["revision"])))
        for k in r["keys"]:
            print("  key %s %s %s" % (k["name"], k["layer"], k["hash"]))


def compare(path, i, j):
    rs = records(path)
    a, b = rs[int(i) - 1], rs[int(j) - 1]
    print("key_id %s" % ("same" if a["key_id"] == b["key_id"] else "different"))
    ha = {k["name"]: k["hash"] for k in a["keys"]}
    hb = {k["name"]: k["hash"] for k in b["keys"]}
    for name in sorted(set(ha) | set(hb)):
        if name not in hb or name not in ha:
            print("%s only in %s" % (name, i if name in ha else j))
        else:
            print("%s %s" % (name, "same" if ha[name] == hb[name]
                             else "different"))


def kdf(master, subkey_id, context):
    """crypto_kdf_derive_from_key as libsodium documents it."""
    return hashlib.blake2b(b"", digest_size=32, key=master,
                           salt=subkey_id.to_bytes(8, "little") + bytes(8),
                           person=context + bytes(8)).digest()


def value_hash(key_hex, name, value):
    sub = kdf(bytes.fromhex(key_hex), 1, b"eiaudit1")
    return hashlib.blake2b(name.encode() + b"\0" + value.encode(),
                           digest_size=32, key=sub).hexdigest()


def keyed_revision(key_hex, text):
    """A content revision of a secret layer: BLAKE2b-256 keyed with
    subkey 3 over the revision's text."""
    sub = kdf(bytes.fromhex(key_hex), 3, b"eiaudit1")
    return "keyed:" + hashlib.blake2b(text.encode(), digest_size=32,
                                      key=sub).hexdigest()


def main(argv):
    if len(argv) in (3, 4) and argv[1] == "show":
        show(argv[2], argv[3] if len(argv) == 4 else None)
    elif len(argv) == 5 and argv[1] == "compare":
        compare(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "hash":
        print(value_hash(argv[2], argv[3], argv[4]))
    elif len(argv) == 4 and argv[1] == "revision":
        print(keyed_revision(argv[2], argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
