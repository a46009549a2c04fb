#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of the Consul KV HTTP API, for the tests of the
consul provider, written from shared/protocols.md section 2.

usage: consul_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  Every request is appended
to LOG.jsonl as one JSON object (method, path, query, headers, body, status).

It answers as Consul does: GET /v1/kv/<key> gives an array of entries (the
single key, or every key under the prefix with ?recurse, which counts by
its presence alone), values in standard base64 or null, X-Consul-Index,
X-Consul-KnownLeader and X-Consul-LastContact on every KV answer, 404 with
an empty body when nothing matches, plain-text error bodies, 405 with an
Allow header for a wrong method, 500 "No path to datacenter" for an unknown
?dc.  ACLs: the token comes from X-Consul-Token or Authorization: Bearer;
an unknown token is 403 "ACL not found"; entries the token may not read
are filtered out (X-Consul-Results-Filtered-By-ACLs: true), as Consul does.

The scenario (all members optional):
  "kv":          {"config/app/DB_HOST": "db.local",     text value
                  "config/app/EMPTY": null,             stored empty
                  "config/app/dir/": null,              a folder key
                  "config/app/BIN": {"base64": "..."}}  exact base64 sent
  "datacenter":  "dc1"  (the agent's; others: "datacenters": ["dc2"])
  "acl":         {"tokens": {"tok": {"read": ["config/"]}},
                  "anonymous": {"read": []},
                  "key_list_policy": false}   true: 403 without list rights
  "faults":      [{"path": "REGEX", "method": "GET", "status": 503,
                   "times": 2, "retry_after": "1", "delay_ms": 0,
                   "body": "raw text", "content_type": "..."}]
Without "acl" every request may read everything (ACLs disabled).
"""

import base64
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from fakestate import FakeState, serve

MAX_BODY = 32 * 1024 * 1024


class State(FakeState):
    def __init__(self, scenario, log_path):
        super().__init__(scenario, log_path)
        self.entries = []
        index = 10
        for key, val in scenario.get("kv", {}).items():
            index += 1
            if val is None or val == "":
                b64 = None
            elif isinstance(val, dict):
                b64 = val["base64"]
            else:
                b64 = base64.b64encode(val.encode("utf-8")).decode("ascii")
            self.entries.append({"LockIndex": 0, "Key": key, "Flags": 0,
                                 "Value": b64, "CreateIndex": index,
                                 "ModifyIndex": index})
        self.entries.sort(key=lambda e: e["Key"])
        self.dc = scenario.get("datacenter", "dc1")
        self.dcs = set([self.dc] + scenario.get("datacenters", []))


STATE = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add 40 ms to every reply
    disable_nagle_algorithm = True
    server_version = "consul-fake"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype=None, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.entry["status"] = status
        STATE.record(self.entry)
        try:
            self.send_response(status)
            if ctype is not None:
                self.send_header("Content-Type", ctype)
            self.send_header("Vary", "Accept-Encoding")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def text(self, status, msg, headers=None):
        self.reply(status, msg, "text/plain; charset=utf-8", headers)

    def token(self):
        tok = self.headers.get("X-Consul-Token")
        if tok is None:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                tok = auth[len("Bearer "):]
        return tok

    def handle_any(self):
        url = urlsplit(self.path)
        length = self.headers.get("Content-Length")
        body = b""
        if length is not None:
            n = int(length)
            if n > MAX_BODY:
                self.entry = {"method": self.command, "path": url.path}
                return self.text(413, "Request body too large")
            body = self.rfile.read(n)
        self.entry = {
            "method": self.command, "path": url.path, "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "time": time.time()}
        f = STATE.fault(self.command, url.path)
        if f is not None:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000.0)
            if "status" in f:
                hdrs = {}
                if "retry_after" in f:
                    hdrs["Retry-After"] = str(f["retry_after"])
                return self.reply(f["status"], f.get("body", ""),
                                  f.get("content_type",
                                        "text/plain; charset=utf-8"), hdrs)
        if not url.path.startswith("/v1/kv/") and url.path != "/v1/kv":
            return self.text(404, "Invalid URL path: not a recognized HTTP "
                             "API endpoint")
        if self.command not in ("GET", "PUT", "DELETE"):
            return self.text(405, "method %s not allowed" % self.command,
                             {"Allow": "GET,PUT,DELETE"})
        if self.command != "GET":
            # the fake holds fixed data: writes are not part of the tests
            return self.text(403, "Permission denied: writes are disabled "
                             "in this fake")
        q = parse_qs(url.query, keep_blank_values=True)
        for p in ("index", "wait"):
            if p in q:
                return self.text(400, "Invalid %s" % p)
        if "token" in q:
            # legal in Consul but it puts the token in the URL: the
            # provider must never do that
            return self.text(400, "fake: token in query string refused")
        dc = q.get("dc", [STATE.dc])[0]
        if dc not in STATE.dcs:
            return self.text(500, "No path to datacenter")
        key = unquote(url.path[len("/v1/kv/"):])
        recurse = "recurse" in q
        if not recurse and key == "":
            return self.text(400, "Missing key name")
        if re.search(r"[ %]", key):
            # Consul 1.21.5's key validation (protocols.md 2.3)
            return self.text(500, "invalid key name, keys should respect "
                             "the format")
        meta = {"X-Consul-Index": "1", "X-Consul-KnownLeader": "true",
                "X-Consul-LastContact": "0",
                "X-Consul-Effective-Consistency": "leader"}
        acl = STATE.sc.get("acl")
        readable = None
        if acl is not None:
            tok = self.token()
            if tok:
                rules = acl.get("tokens", {}).get(tok)
                if rules is None:
                    return self.text(403, "ACL not found")
            else:
                rules = acl.get("anonymous", {"read": []})
            readable = rules.get("read", [])
            if acl.get("key_list_policy") and recurse and not any(
                    key.startswith(p) for p in rules.get("list", [])):
                return self.text(403, "Permission denied: token with "
                                 "AccessorID '00000000-0000-0000-0000-"
                                 "000000000002' lacks permission 'key:list' "
                                 "on \"%s\"" % key)
        if recurse:
            found = [e for e in STATE.entries if e["Key"].startswith(key)]
        else:
            found = [e for e in STATE.entries if e["Key"] == key]
        if found:
            meta["X-Consul-Index"] = str(max(e["ModifyIndex"] for e in found))
        if readable is not None:
            kept = [e for e in found
                    if any(e["Key"].startswith(p) for p in readable)]
            if len(kept) != len(found):
                meta["X-Consul-Results-Filtered-By-ACLs"] = "true"
            found = kept
        if not found:
            return self.reply(404, b"", None, meta)
        self.reply(200, json.dumps(found), "application/json", meta)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any
    do_HEAD = do_OPTIONS = handle_any


def load(scenario, log_path):
    global STATE
    STATE = State(scenario, log_path)


if __name__ == "__main__":
    sys.exit(serve("consul_fake.py", load, Handler))
