#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake OpenFeature Remote Evaluation Protocol server
(OFREP 0.3.0), for the tests of the ofrep provider, written from
shared/protocols-config-services.md section 4.

usage: ofrep_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  Every request is appended
to LOG.jsonl as one JSON object (method, path, query, headers, body, status).

Its flag answers are not made up here: they come from flagd's own
evaluator.  tests/fixtures/ofrep/evaluations.json holds, for each of its
contexts, the bulk reply that @openfeature/flagd-core gave for flags.json
(tests/fixtures/ofrep/generate.js made it); the fake finds the reply by the
context the request sends (compared as JSON values, member order aside).

It answers as the protocol says:
- POST /ofrep/v1/evaluate/flags (bulk): 200 {"flags": [...]} with an ETag
  (a digest of the body, as flagd computes it) and Content-Type
  application/json; 304 with no body when If-None-Match names the current
  ETag (weak comparison: W/ ignored on either side);
- POST /ofrep/v1/evaluate/flags/{key} (single): the item of that flag, or
  404 {"key":..., "errorCode": "FLAG_NOT_FOUND"};
- a body that is not JSON, or has no "context" object: 400
  {"errorCode": "PARSE_ERROR" | "INVALID_CONTEXT", "errorDetails": ...};
  a targetingKey that is not a string: 400 INVALID_CONTEXT; with
  "require_targeting_key" (GO Feature Flag's rule) a context without one:
  400 TARGETING_KEY_MISSING;
- a request without Content-Type application/json: 415; another method:
  405 with Allow; another path: 404;
- with "tokens", a request must carry one in Authorization: Bearer or in
  X-API-Key (401 otherwise); a token in "forbidden" gets 403;
- a context the fixture does not hold: 400 GENERAL "no evaluation for
  this context in the fixture" (a test that sends a context it did not
  generate fails loudly).

The scenario (all members optional):
  "fixture":   "evaluations.json" (the default), in tests/fixtures/ofrep
  "contexts":  [{"context": {...}, "response": {...}}]   replies of its own
  "tokens":    ["tok-@CANARY@"]      "forbidden": ["tok-ro"]
  "require_targeting_key": true
  "etag": false                      no ETag (and so never 304)
  "faults":    [{"path": "REGEX", "status": 429, "times": 1,
                 "retry_after": "1", "delay_ms": 0, "body": "raw",
                 "content_type": "...", "etag": "\\"x\\""}]
A fault's regex is matched against "PATH?targetingKey=KEY" (KEY empty
when the context has none), so that a case picks its fault by its
context; a fault with a body and no status answers 200 with that body.
"""

import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from fakestate import FakeState, serve

MAX_BODY = 1024 * 1024
BULK = "/ofrep/v1/evaluate/flags"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "fixtures", "ofrep")


def canonical(ctx):
    return json.dumps(ctx, sort_keys=True, separators=(",", ":"))


class State(FakeState):
    def __init__(self, scenario, log_path):
        super().__init__(scenario, log_path)
        path = os.path.join(FIXTURES, scenario.get("fixture",
                                                   "evaluations.json"))
        with open(path, encoding="utf-8") as f:
            fixture = json.load(f)
        self.replies = {}
        for c in fixture["contexts"] + scenario.get("contexts", []):
            self.replies[canonical(c["context"])] = c["response"]


STATE = None


def etag_of(body):
    return '"%s"' % hashlib.sha256(body).hexdigest()[:32]


def weak_equal(a, b):
    strip = lambda t: t[2:] if t.startswith("W/") else t
    return strip(a.strip()) == strip(b.strip())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add 40 ms to every reply
    disable_nagle_algorithm = True
    server_version = "ofrep-fake"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json",
              headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.entry["status"] = status
        STATE.record(self.entry)
        try:
            self.send_response(status)
            if ctype is not None and status != 304:
                self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def error(self, status, code, details, key=None):
        doc = {"errorCode": code, "errorDetails": details}
        if key is not None:
            doc = {"key": key, "errorCode": code}
        self.reply(status, json.dumps(doc))

    def credential(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):]
        return self.headers.get("X-API-Key")

    def handle_any(self):
        url = urlsplit(self.path)
        length = self.headers.get("Content-Length")
        body = b""
        if length is not None:
            n = int(length)
            if n > MAX_BODY:
                self.entry = {"method": self.command, "path": url.path}
                return self.reply(413, b"", None)
            body = self.rfile.read(n)
        self.entry = {
            "method": self.command, "path": url.path, "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "time": time.time()}
        if url.path != BULK and not url.path.startswith(BULK + "/"):
            return self.reply(404, "404 page not found",
                              "text/plain; charset=utf-8")
        if self.command != "POST":
            return self.reply(405, b"", None, {"Allow": "POST"})
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            doc = None
        ctx = doc.get("context") if isinstance(doc, dict) else None
        tk = ctx.get("targetingKey") if isinstance(ctx, dict) else None
        f = STATE.fault(self.command, "%s?targetingKey=%s" % (
            url.path, tk if isinstance(tk, str) else ""))
        if f is not None:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000.0)
            if "status" in f or "body" in f:
                hdrs = {}
                if "retry_after" in f:
                    hdrs["Retry-After"] = str(f["retry_after"])
                if "etag" in f:
                    hdrs["ETag"] = f["etag"]
                return self.reply(f.get("status", 200), f.get("body", ""),
                                  f.get("content_type", "application/json"),
                                  hdrs)
        tokens = STATE.sc.get("tokens")
        if tokens is not None:
            cred = self.credential()
            if cred is None or cred not in tokens + STATE.sc.get(
                    "forbidden", []):
                return self.reply(401, b"", None)
            if cred in STATE.sc.get("forbidden", []):
                return self.reply(403, b"", None)
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            return self.reply(415, b"", None)
        if doc is None:
            return self.error(400, "PARSE_ERROR", "request body is not JSON")
        if not isinstance(ctx, dict):
            return self.error(400, "INVALID_CONTEXT",
                              "context must be an object")
        if tk is not None and not isinstance(tk, str):
            return self.error(400, "INVALID_CONTEXT",
                              "targetingKey must be a string")
        if tk is None and STATE.sc.get("require_targeting_key"):
            return self.error(400, "TARGETING_KEY_MISSING",
                              "targetingKey is required")
        response = STATE.replies.get(canonical(ctx))
        if response is None:
            return self.error(400, "GENERAL", "no evaluation for this "
                              "context in the fixture")
        if url.path != BULK:
            key = url.path[len(BULK) + 1:]
            for item in response["flags"]:
                if item.get("key") == key:
                    status = 400 if "errorCode" in item else 200
                    return self.reply(status, json.dumps(item))
            return self.error(404, "FLAG_NOT_FOUND", None, key)
        out = json.dumps(response, separators=(",", ":")).encode("utf-8")
        hdrs = {}
        if STATE.sc.get("etag", True):
            tag = etag_of(out)
            hdrs["ETag"] = tag
            inm = self.headers.get("If-None-Match")
            if inm is not None and any(weak_equal(t, tag)
                                       for t in inm.split(",")):
                return self.reply(304, b"", None, hdrs)
        self.reply(200, out, "application/json", hdrs)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any
    do_HEAD = do_OPTIONS = handle_any


def load(scenario, log_path):
    global STATE
    STATE = State(scenario, log_path)


if __name__ == "__main__":
    sys.exit(serve("ofrep_fake.py", load, Handler))
