#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake configuration service, for the tests of the http
provider, written from shared/protocols-config-services.md sections 2
(Spring Cloud Config Server) and 3 (a generic settings.json endpoint).

usage: http_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  Every request is appended
to LOG.jsonl as one JSON object (method, path, query, headers, body, status).

What it checks and answers, as the services do:
- GET and HEAD only (405 with Allow otherwise); the query never selects
  a document.
- Documents ("documents"): 200 with the body and its Content-Type, and a
  strong ETag (the SHA-256 of the body, or the scenario's "etag"); a
  request whose If-None-Match matches (RFC 9110 13.1.2: "*", or a list of
  entity tags compared weakly, W/ aside) gets 304 with the ETag and no
  body.
- Spring Cloud Config ("spring"): GET /{application}/{profile}[/{label}]
  (under "prefix" if set) gives the Environment JSON; several profiles
  are "a,b"; "(_)" in application and label stands for "/"; an unknown
  label is 404 ("No such label"); an unknown application is 200 with no
  propertySources (accept-empty, the server's default).  Sources are
  ordered as the server orders them: for each profile, last named first,
  {application}-{profile} then application-{profile}; then {application},
  then application.  Values "{cipher}OK:plain" decrypt to "plain"; any
  other "{cipher}..." cannot be decrypted: the key becomes
  invalid.<key> with the value "<n/a>", as the server does.  The Accept
  header must allow application/json (406 otherwise, as Spring MVC).
- Authentication ("auth", for paths matching auth.paths): Authorization
  Bearer with one of auth.bearer, or Basic with a user and password of
  auth.basic; nothing or a malformed header: 401 with WWW-Authenticate
  (Bearer realm="config", Basic realm="config", whichever are set up); a
  bad token: 401 with error="invalid_token"; a bad password: 401; a user
  or token in auth.forbidden: 403.
- Anything else: 404 with Spring Boot's JSON error body.

The scenario (all members optional):
  "documents": {"/myapp/prod/settings.json": {"json": {...}} or
                {"text": "...", "content_type": "text/plain", "etag": "\"x\""}}
  "spring":    {"prefix": "", "labels": ["main"], "default_label": "main",
                "applications": ["myapp"],
                "files": {"myapp-prod.yml": {"k": "v"}, "application.yml": {}}}
  "auth":      {"paths": "REGEX", "bearer": ["tok"], "basic": {"u": "pw"},
                "forbidden": ["u"]}
  "faults":    [{"path": "REGEX", "status": 503, "times": 2,
                 "retry_after": "1", "delay_ms": 0, "body": "raw text",
                 "content_type": "...", "headers": {"Location": "..."}}]
A fault with "status" answers instead of the service; one with only
"delay_ms" delays the real answer.  "times" counts how often it fires.
"""

import base64
import hashlib
import json
import re
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from fakestate import FakeState

MAX_BODY = 1024 * 1024
REALM = "config"
TCHAR = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class State(FakeState):
    pass


STATE = None


def etag_of(body):
    return '"%s"' % hashlib.sha256(body).hexdigest()[:32]


def etag_matches(header, etag):
    """If-None-Match against one entity tag, weak comparison."""
    header = header.strip()
    if header == "*":
        return True
    opaque = etag[2:] if etag.startswith("W/") else etag
    for tag in re.findall(r'(?:W/)?"[^"]*"', header):
        if (tag[2:] if tag.startswith("W/") else tag) == opaque:
            return True
    return False


def accepts_json(accept):
    """Whether an Accept header allows application/json (q > 0)."""
    if accept is None:
        return True
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        mtype = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0 and mtype in ("application/json", "application/*", "*/*",
                               "application/vnd.spring-cloud.config-server"
                               ".v2+json"):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add 40 ms to every reply
    disable_nagle_algorithm = True
    server_version = "config-fake"
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
            if ctype is not None and status != 304:
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

    def error_json(self, status, error, message=""):
        body = json.dumps({"timestamp": "2026-12-06T12:00:00.000+00:00",
                           "status": status, "error": error,
                           "message": message, "path": self.url.path})
        self.reply(status, body, "application/json")

    # --- authentication ---

    def challenge(self, auth, error=None):
        hdrs = []
        if auth.get("bearer"):
            b = 'Bearer realm="%s"' % REALM
            if error:
                b += ', error="%s"' % error
            hdrs.append(b)
        if auth.get("basic"):
            hdrs.append('Basic realm="%s"' % REALM)
        return {"WWW-Authenticate": ", ".join(hdrs)}

    def authorized(self):
        """True, or False after answering 401/403."""
        auth = STATE.sc.get("auth")
        if auth is None or not re.search(auth.get("paths", ""), self.url.path):
            return True
        value = self.headers.get_all("Authorization") or []
        if len(value) != 1:
            return self._deny(auth, None)
        scheme, _, cred = value[0].partition(" ")
        who = None
        if scheme.lower() == "bearer" and auth.get("bearer"):
            if cred not in auth["bearer"]:
                return self._deny(auth, "invalid_token")
            who = cred
        elif scheme.lower() == "basic" and auth.get("basic"):
            try:
                user, _, pw = base64.b64decode(
                    cred, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return self._deny(auth, None)
            if auth["basic"].get(user) != pw:
                return self._deny(auth, None)
            who = user
        else:
            return self._deny(auth, None)
        if who in auth.get("forbidden", []):
            self.error_json(403, "Forbidden", "Access Denied")
            return False
        return True

    def _deny(self, auth, error):
        body = json.dumps({"status": 401, "error": "Unauthorized",
                           "path": self.url.path})
        self.reply(401, body, "application/json", self.challenge(auth, error))
        return False

    # --- Spring Cloud Config ---

    def spring(self, path):
        sp = STATE.sc.get("spring")
        if sp is None:
            return False
        prefix = sp.get("prefix", "")
        if not path.startswith(prefix + "/"):
            return False
        parts = path[len(prefix) + 1:].split("/")
        if len(parts) not in (2, 3) or "" in parts:
            return False
        app = unquote(parts[0]).replace("(_)", "/")
        profiles = unquote(parts[1])
        label = unquote(parts[2]).replace("(_)", "/") if len(parts) == 3 \
            else sp.get("default_label", "main")
        if not accepts_json(self.headers.get("Accept")):
            self.error_json(406, "Not Acceptable")
            return True
        if label not in sp.get("labels", ["main"]):
            self.error_json(404, "Not Found", "No such label: %s" % label)
            return True
        files = sp.get("files", {})
        sources = []
        if app in sp.get("applications", []):
            names = []
            for prof in reversed(profiles.split(",")):
                names += ["%s-%s.yml" % (app, prof),
                          "application-%s.yml" % prof]
            names += ["%s.yml" % app, "application.yml"]
            for n in names:
                if n in files:
                    sources.append({"name": "https://git.example/config-repo"
                                    ".git/%s" % n,
                                    "source": self.decrypt(files[n])})
        env = {"name": app, "profiles": profiles.split(","), "label": label,
               "version": "9f3c2a1", "state": None,
               "propertySources": sources}
        self.reply(200, json.dumps(env), "application/json")
        return True

    @staticmethod
    def decrypt(props):
        out = {}
        for k, v in props.items():
            if isinstance(v, str) and v.startswith("{cipher}"):
                if v.startswith("{cipher}OK:"):
                    out[k] = v[len("{cipher}OK:"):]
                else:
                    out["invalid." + k] = "<n/a>"
                continue
            out[k] = v
        return out

    # --- dispatch ---

    def handle_any(self):
        self.url = urlsplit(self.path)
        length = self.headers.get("Content-Length")
        body = b""
        if length is not None:
            n = int(length)
            if n > MAX_BODY:
                self.entry = {"method": self.command, "path": self.url.path}
                return self.error_json(413, "Payload Too Large")
            body = self.rfile.read(n)
        self.entry = {
            "method": self.command, "path": self.url.path,
            "query": self.url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "time": time.time()}
        # a header line the client should never send
        for k, v in self.headers.items():
            if not TCHAR.match(k) or "\r" in v or "\n" in v:
                return self.error_json(400, "Bad Request", "bad header")
        f = STATE.fault(self.command, self.url.path)
        if f is not None:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000.0)
            if "status" in f:
                hdrs = dict(f.get("headers", {}))
                if "retry_after" in f:
                    hdrs["Retry-After"] = str(f["retry_after"])
                return self.reply(f["status"], f.get("body", ""),
                                  f.get("content_type",
                                        "text/plain; charset=utf-8"), hdrs)
        if self.command not in ("GET", "HEAD"):
            self.entry["status"] = 405
            return self.reply(405, b"", None, {"Allow": "GET, HEAD"})
        if not self.authorized():
            return None
        doc = STATE.sc.get("documents", {}).get(self.url.path)
        if doc is not None:
            return self.document(doc)
        if self.spring(self.url.path):
            return None
        return self.error_json(404, "Not Found")

    def document(self, doc):
        if "json" in doc:
            body = json.dumps(doc["json"]).encode("utf-8")
            ctype = doc.get("content_type", "application/json")
        else:
            body = doc.get("text", "").encode("utf-8")
            ctype = doc.get("content_type", "text/plain; charset=utf-8")
        etag = doc.get("etag", etag_of(body))
        inm = self.headers.get("If-None-Match")
        if inm is not None and etag_matches(inm, etag):
            return self.reply(304, b"", None, {"ETag": etag})
        return self.reply(200, body, ctype, {"ETag": etag})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any
    do_HEAD = do_OPTIONS = handle_any


def main():
    global STATE
    if len(sys.argv) != 3:
        sys.stderr.write("usage: http_fake.py SCENARIO.json LOG.jsonl\n")
        return 64
    with open(sys.argv[1], encoding="utf-8") as f:
        STATE = State(json.load(f), sys.argv[2])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
