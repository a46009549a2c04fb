#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes an audit record line as run --audit does, for the cases of
diff --against, computed independently of envinject (the key's subkeys
and the values' hashes as audit_record.py computes them, the key's id as
envinject.conf(5) describes it).

  audit_write.py KEY [--env NAME] NAME=LAYER:VALUE...

KEY is the master key (64 hex digits); one JSON line goes to stdout, the
keys sorted by name."""
import hashlib
import json
import sys

from audit_record import kdf, value_hash


def key_id(key_hex):
    sub = kdf(bytes.fromhex(key_hex), 2, b"eiaudit1")
    return hashlib.blake2b(b"envinject audit key id", digest_size=8,
                           key=sub).hexdigest()


def main(argv):
    if len(argv) < 1:
        sys.stderr.write(__doc__)
        return 2
    key = argv[0]
    env = "staging"
    rest = argv[1:]
    if rest[:1] == ["--env"]:
        env = rest[1]
        rest = rest[2:]
    keys = []
    for item in rest:
        name, _, spec = item.partition("=")
        layer, _, value = spec.partition(":")
        keys.append({"name": name, "layer": layer,
                     "hash": value_hash(key, name, value)})
    record = {
        "version": 1, "time": "2026-12-07T03:04:05Z", "environment": env,
        "host": "ci-1", "program": None, "config_sha256": None,
        "key_id": key_id(key),
        "layers": [{"name": n, "provider": "file", "revision": None}
                   for n in sorted({k["layer"] for k in keys})],
        "keys": sorted(keys, key=lambda k: k["name"]),
    }
    print(json.dumps(record, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
