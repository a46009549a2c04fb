#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of LaunchDarkly's server-side polling endpoint,
for the tests of the launchdarkly provider and for the generator of the
evaluator's fixtures, written from shared/protocols-config-services.md
section 5.1.

usage: launchdarkly_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  Every request is appended
to LOG.jsonl as one JSON object (method, path, query, headers, status).

It answers as the service does: GET /sdk/latest-all with the SDK key as the
whole Authorization header (no scheme) gives {"flags": ..., "segments":
...} as application/json with an ETag; If-None-Match with the current ETag
gives 304 with no body; an unknown or missing key is 401 (the SDKs call it
"Authentication failed"); another path is 404; another method 405.  The
ETag is a quoted hash of the body, so it changes when the data does.

The scenario (all members optional):
  "sdk_keys":  ["sdk-..."]   the keys accepted (default: none)
  "data":      {"flags": {...}, "segments": {...}}   served as it is
  "data_file": "PATH"        the data read from a file instead (a
                             relative path: to the working directory)
  "raw":       "TEXT"        served instead of the data (malformed bodies)
  "faults":    [{"path": "REGEX", "method": "GET", "status": 503,
                 "times": 2, "retry_after": "1", "delay_ms": 0,
                 "body": "raw text", "content_type": "..."}]
"""

import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from fakestate import FakeState, serve


class State(FakeState):
    def __init__(self, scenario, log_path):
        super().__init__(scenario, log_path)
        if "raw" in scenario:
            self.body = scenario["raw"].encode("utf-8")
        else:
            data = scenario.get("data", {"flags": {}, "segments": {}})
            if "data_file" in scenario:
                with open(scenario["data_file"], encoding="utf-8") as f:
                    data = json.load(f)
            self.body = json.dumps(data, separators=(",", ":")).encode()
        self.etag = '"%s"' % hashlib.sha256(self.body).hexdigest()[:16]
        self.keys = set(scenario.get("sdk_keys", []))


STATE = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "launchdarkly-fake"
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
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def handle_any(self):
        url = urlsplit(self.path)
        self.entry = {
            "method": self.command, "path": url.path, "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "time": time.time()}
        length = self.headers.get("Content-Length")
        if length is not None:
            self.rfile.read(int(length))
        f = STATE.fault(self.command, url.path)
        if f is not None:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000.0)
            if "status" in f:
                hdrs = {}
                if "retry_after" in f:
                    hdrs["Retry-After"] = str(f["retry_after"])
                return self.reply(f["status"], f.get("body", ""),
                                  f.get("content_type", "text/plain"), hdrs)
        if url.path != "/sdk/latest-all":
            return self.reply(404, "404 page not found\n", "text/plain")
        if self.command not in ("GET", "HEAD"):
            return self.reply(405, "", None, {"Allow": "GET"})
        key = self.headers.get("Authorization")
        if key is None or key not in STATE.keys:
            return self.reply(401, '{"code":"unauthorized","message":'
                              '"invalid SDK key"}', "application/json")
        hdrs = {"ETag": STATE.etag, "Cache-Control": "max-age=0, private"}
        if self.headers.get("If-None-Match") == STATE.etag:
            return self.reply(304, b"", None, hdrs)
        self.reply(200, STATE.body, "application/json", hdrs)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any
    do_HEAD = do_OPTIONS = do_REPORT = handle_any


def load(scenario, log_path):
    global STATE
    STATE = State(scenario, log_path)


if __name__ == "__main__":
    sys.exit(serve("launchdarkly_fake.py", load, Handler))
