#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read a file as another program reads it, and print "KEY HEX" for each
key named (or "KEY UNSET"); a file that the program would refuse prints
"REFUSED reason" and exits 1.

  docker FILE KEY...    docker run --env-file (opts.ParseEnvFile): Go's
                        bufio.Scanner lines (LF ends a line, one CR before
                        it is dropped, 64 KiB at most), UTF-8 or refused,
                        leading whitespace dropped, '#' lines skipped,
                        the rest verbatim after the first '='
  systemd FILE KEY...   EnvironmentFile= (systemd's load_env_file state
                        machine, src/basic/env-file.c), then its UTF-8
                        check of every key and value
  yaml FILE KEY...      PyYAML's safe_load: a flat mapping of strings
  k8s FILE NAME KEY...  PyYAML's safe_load_all: a ConfigMap and a Secret
                        named NAME, the Secret's data base64-decoded; a
                        key in both is refused

This is a transcription of each reader's rules, written for the tests.
"""
import base64
import sys


def refuse(why):
    print("REFUSED", why)
    sys.exit(1)


def docker(data):
    out = {}
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, raw in enumerate(lines, 1):
        if len(raw) + 1 > 64 * 1024:
            refuse("bufio.Scanner: token too long")
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            refuse("invalid utf8 bytes at line %d" % n)
        if n == 1 and line.startswith("\ufeff"):
            line = line[1:]
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            refuse("line %d takes its value from the environment" % n)
        key, value = line.split("=", 1)
        key = key.lstrip(" \t")
        if " " in key or "\t" in key or not key:
            refuse("bad variable name at line %d" % n)
        out[key] = value.encode()
    return out


def systemd(data):
    WS, NL, COMMENTS, NEED = " \t\n\r", "\n\r", "#;", '"\\`$'
    text = data.split(b"\0", 1)[0].decode("latin-1")
    out = {}
    state, key, value = "PRE_KEY", [], None
    key_ws = value_ws = None

    def push():
        k = "".join(key)
        if key_ws is not None:
            k = "".join(key[:key_ws])
        v = "".join(value) if value is not None else ""
        for s in (k, v):
            try:
                s.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError:
                refuse("invalid UTF-8")
        out[k.encode("latin-1").decode()] = v.encode("latin-1")

    for c in text:
        if state == "PRE_KEY":
            if c in COMMENTS:
                state = "COMMENT"
            elif c not in WS:
                state, key, key_ws = "KEY", [c], None
        elif state == "KEY":
            if c in NL:
                state, key = "PRE_KEY", []
            elif c == "=":
                state, value, value_ws = "PRE_VALUE", None, None
            else:
                if c not in WS:
                    key_ws = None
                elif key_ws is None:
                    key_ws = len(key)
                key.append(c)
        elif state == "PRE_VALUE":
            if c in NL:
                push()
                state, key, value = "PRE_KEY", [], None
            elif c == "'":
                state = "SQ"
                value = value or []
            elif c == '"':
                state = "DQ"
                value = value or []
            elif c == "\\":
                state = "VALUE_ESCAPE"
                value = value or []
            elif c not in WS:
                state = "VALUE"
                value = (value or []) + [c]
        elif state == "VALUE":
            if c in NL:
                if value_ws is not None:
                    value = value[:value_ws]
                push()
                state, key, value = "PRE_KEY", [], None
            elif c == "\\":
                state, value_ws = "VALUE_ESCAPE", None
            else:
                if c not in WS:
                    value_ws = None
                elif value_ws is None:
                    value_ws = len(value)
                value.append(c)
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c not in NL:
                value.append(c)
        elif state == "SQ":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value.append(c)
        elif state == "DQ":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DQ_ESCAPE"
            else:
                value.append(c)
        elif state == "DQ_ESCAPE":
            state = "DQ"
            if c in NEED:
                value.append(c)
            elif c != "\n":
                value += ["\\", c]
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c in NL:
                state = "PRE_KEY"
        elif state == "COMMENT_ESCAPE":
            state = "PRE_KEY" if c in NL else "COMMENT"
    if state in ("PRE_VALUE", "VALUE", "VALUE_ESCAPE", "SQ", "DQ", "DQ_ESCAPE"):
        if state == "VALUE" and value_ws is not None:
            value = value[:value_ws]
        push()
    return out


def yaml_flat(data):
    import yaml
    doc = yaml.safe_load(data)
    if not isinstance(doc, dict):
        refuse("not a mapping: %r" % type(doc))
    out = {}
    for k, v in doc.items():
        if not isinstance(k, str) or not isinstance(v, str):
            refuse("%r: %r is not a string" % (k, v))
        out[k] = v.encode()
    return out


def k8s(data, name):
    import yaml
    out = {}
    for doc in yaml.safe_load_all(data):
        if doc is None:
            continue
        if doc.get("apiVersion") != "v1" or doc.get("metadata") != {"name": name}:
            refuse("bad header: %r" % doc)
        kind = doc.get("kind")
        items = doc.get("data") or {}
        if kind == "ConfigMap":
            if set(doc) - {"apiVersion", "kind", "metadata", "data"}:
                refuse("extra fields")
            values = {k: v.encode() for k, v in items.items()
                      if isinstance(v, str)}
        elif kind == "Secret":
            if doc.get("type") != "Opaque":
                refuse("Secret type %r" % doc.get("type"))
            values = {k: base64.b64decode(v, validate=True)
                      for k, v in items.items()}
        else:
            refuse("kind %r" % kind)
        if len(values) != len(items):
            refuse("a value that is not a string")
        for k, v in values.items():
            if k in out:
                refuse("key %s twice" % k)
            out[k] = v
    return out


def main():
    target, path = sys.argv[1], sys.argv[2]
    keys = sys.argv[3:]
    with open(path, "rb") as f:
        data = f.read()
    if target == "docker":
        got = docker(data)
    elif target == "systemd":
        got = systemd(data)
    elif target == "yaml":
        got = yaml_flat(data)
    elif target == "k8s":
        got = k8s(data, keys[0])
        keys = keys[1:]
    else:
        refuse("unknown target " + target)
    for k in keys:
        print(k, "UNSET" if k not in got else got[k].hex())


main()
