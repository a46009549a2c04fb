#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write an audit record line as run --audit does, computed independently
of envinject: libsodium's crypto_kdf_derive_from_key is BLAKE2b of the
empty input keyed with the master key, salt = the subkey's id as 8
little-endian bytes + 8 zero bytes, personal = the context + 8 zero bytes.

usage: audit-record.py KEY_HEX [--env NAME] NAME=LAYER:VALUE...
Prints one JSON line on stdout."""
import hashlib
import json
import struct
import sys

CONTEXT = b"eiaudit1"


def subkey(master, ident):
    return hashlib.blake2b(b"", digest_size=32, key=master,
                           salt=struct.pack("<Q", ident) + bytes(8),
                           person=CONTEXT + bytes(8)).digest()


def key_id(master):
    return hashlib.blake2b(b"envinject audit key id", digest_size=8,
                           key=subkey(master, 2)).hexdigest()


def value_hash(master, name, value):
    return hashlib.blake2b(name.encode() + b"\0" + value, digest_size=32,
                           key=subkey(master, 1)).hexdigest()


def main(argv):
    master = bytes.fromhex(argv[0])
    env = "staging"
    keys = []
    rest = argv[1:]
    while rest and rest[0].startswith("--"):
        if rest[0] == "--env":
            env = rest[1]
            rest = rest[2:]
        else:
            sys.exit("unknown option " + rest[0])
    for item in rest:
        name, _, spec = item.partition("=")
        layer, _, value = spec.partition(":")
        keys.append({"name": name, "layer": layer,
                     "hash": value_hash(master, name, value.encode())})
    layers = sorted({k["layer"] for k in keys})
    record = {
        "version": 1, "time": "2026-12-07T03:04:05Z", "environment": env,
        "host": "ci-1", "program": None, "config_sha256": None,
        "key_id": key_id(master),
        "layers": [{"name": n, "provider": "file", "revision": None}
                   for n in layers],
        "keys": sorted(keys, key=lambda k: k["name"]),
    }
    print(json.dumps(record, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
