#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of the HashiCorp Vault HTTP API, for the tests of
the vault provider, written from shared/protocols.md section 3.

usage: vault_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  Every request is appended
to LOG.jsonl as one JSON object (method, path, query, headers, body, status).

It checks requests the way Vault does and answers as Vault does, so that a
client bug fails a test instead of being absorbed: routes under /v1/ only,
the token in X-Vault-Token or Authorization: Bearer, the namespace in
X-Vault-Namespace or in the path, the methods each route accepts, JSON
login bodies with the fields each auth method requires, KV v2 reads under
<mount>/data/, {"errors": [...]} bodies on every failure.

The scenario (all members optional):
  "mounts":      {"secret/": {"type": "kv", "options": {"version": "2"}},
                  "team-a/secret/": {...}}    full paths, namespace first
  "namespaces":  ["team-a/"]
  "secrets":     {"secret/app/prod": {"versions": [{"data": {...}},
                                      {"data": {...}, "deleted": true}]},
                  "kv1/app": {"data": {...}}}  logical paths (mount + rest)
  "tokens":      {"root-token": {"policies": ["*"], "uses": null,
                                 "namespace": ""}}
  "auth":        {"approle/": {"type": "approle", "roles": [{"role_id": "r",
                    "secret_id": "s", "policies": [...], "token_uses": 3}]},
                  "kubernetes/": {"type": "kubernetes", "roles": {"app":
                    {"jwt": "...", "policies": [...]}}},
                  "jwt/": {"type": "jwt", "roles": {...}}}
  "sealed":      true                          every request: 503
  "require_request_header": true               X-Vault-Request: true needed
  "no_preflight": true                         an old Vault: no
                                               sys/internal/ui/mounts
  "faults":      [{"path": "REGEX", "method": "GET", "status": 503,
                   "times": 2, "retry_after": "1", "delay_ms": 0,
                   "body": "raw text", "sealed": false}]
Policies are fnmatch globs over full API paths ("secret/data/app/*").
A fault with "status" answers instead of Vault (its "body" as it is, else
{"errors": []}); one with only "delay_ms" delays the real answer.  "times"
counts how often a fault fires (absent: always).
"""

import fnmatch
import json
import re
import secrets
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from fakestate import FakeState, serve

CREATED = "2024-01-01T00:00:00.000000000Z"
DELETED = "2024-01-02T00:00:00.000000000Z"
KV_V2_BAD_PATH = ("Invalid path for a versioned K/V secrets engine. See the "
                  "API docs for the appropriate API endpoints to use. If "
                  "using the Vault CLI, use 'vault kv get' for this "
                  "operation.")
MAX_BODY = 32 * 1024 * 1024


class State(FakeState):
    """The scenario, the tokens issued and the request log, under a lock."""

    def __init__(self, scenario, log_path):
        super().__init__(scenario, log_path)
        self.mounts = scenario.get("mounts", {"secret/": {
            "type": "kv", "options": {"version": "2"}}})
        self.namespaces = sorted(scenario.get("namespaces", []),
                                 key=len, reverse=True)
        self.secrets = scenario.get("secrets", {})
        self.tokens = {}
        for tok, t in scenario.get("tokens", {}).items():
            self.tokens[tok] = {"policies": t.get("policies", []),
                                "uses": t.get("uses"),
                                "namespace": t.get("namespace", ""),
                                "revoked": False}
        self.auth = scenario.get("auth", {})


STATE = None


def split_namespace(full):
    """(namespace, rest) for a full path, the longest namespace first."""
    for ns in STATE.namespaces:
        if full.startswith(ns):
            return ns, full[len(ns):]
    return "", full


def find_mount(full):
    best = None
    for m in STATE.mounts:
        if full.startswith(m) or full + "/" == m:
            if best is None or len(m) > len(best):
                best = m
    return best


def kv_version(mount):
    opts = STATE.mounts[mount].get("options") or {}
    return 2 if str(opts.get("version", "")) == "2" else 1


def envelope(data=None, auth=None, warnings=None, lease=0):
    return {"request_id": str(uuid.uuid4()), "lease_id": "",
            "renewable": False, "lease_duration": lease, "data": data,
            "wrap_info": None, "warnings": warnings, "auth": auth,
            "mount_type": ""}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add 40 ms to every reply
    disable_nagle_algorithm = True
    server_version = "vault-fake"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    # --- plumbing ---

    def reply(self, status, obj=None, raw=None, headers=None):
        if raw is not None:
            body = raw.encode("utf-8") if isinstance(raw, str) else raw
        elif obj is not None:
            body = json.dumps(obj).encode("utf-8")
        else:
            body = b""
        self.entry["status"] = status
        STATE.record(self.entry)
        try:
            self.send_response(status)
            if body or obj is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def error(self, status, *errors, headers=None):
        self.reply(status, {"errors": list(errors)}, headers=headers)

    def token(self):
        tok = self.headers.get("X-Vault-Token")
        if tok is None:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                tok = auth[len("Bearer "):]
        return tok

    def handle_any(self):
        url = urlsplit(self.path)
        length = self.headers.get("Content-Length")
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
        elif length is not None:
            n = int(length)
            if n > MAX_BODY:
                self.entry = {"method": self.command, "path": url.path}
                return self.error(413, "request body too large")
            body = self.rfile.read(n)
        self.entry = {
            "method": self.command, "path": url.path, "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "time": time.time()}
        self.body = body
        f = STATE.fault(self.command, url.path)
        if f is not None:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000.0)
            if f.get("sealed"):
                return self.error(503, "Vault is sealed")
            if "status" in f:
                hdrs = {}
                if "retry_after" in f:
                    hdrs["Retry-After"] = str(f["retry_after"])
                if "body" in f:
                    return self.reply(f["status"], raw=f["body"],
                                      headers=hdrs)
                return self.error(f["status"], headers=hdrs)
        if STATE.sc.get("sealed"):
            return self.error(503, "Vault is sealed")
        if STATE.sc.get("require_request_header") and \
                self.headers.get("X-Vault-Request") != "true":
            return self.error(412, "missing 'X-Vault-Request' header")
        if not url.path.startswith("/v1/"):
            return self.error(404)
        self.query = parse_qs(url.query, keep_blank_values=True)
        method = self.command
        if method == "GET" and self.query.get("list") == ["true"]:
            method = "LIST"
        if method == "PUT":
            method = "POST"  # synonyms in Vault
        path = unquote(url.path[len("/v1/"):])
        ns = self.headers.get("X-Vault-Namespace", "")
        if ns and not ns.endswith("/"):
            ns += "/"
        if ns and ns not in STATE.namespaces:
            # an unknown namespace has no routes
            return self.error(404, "no handler for route \"%s\". route "
                              "entry not found." % path)
        self.route(method, ns, path)

    def read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_DELETE = do_LIST = do_PATCH = handle_any
    do_HEAD = do_OPTIONS = handle_any

    # --- authentication ---

    def use_token(self, full_path):
        """The token's record after one use, or None after answering 403."""
        tok = self.token()
        if not tok:
            self.error(403, "permission denied")
            return None
        with STATE.lock:
            t = STATE.tokens.get(tok)
            valid = t is not None and not t["revoked"] and \
                (t["uses"] is None or t["uses"] > 0) and \
                full_path.startswith(t["namespace"])
            if valid and t["uses"] is not None:
                t["uses"] -= 1
                if t["uses"] == 0:
                    t["revoked"] = True  # num_uses: revoked after last use
        if not valid:
            self.error(403, "permission denied", "invalid token")
            return None
        return t

    def allowed(self, t, full_path):
        return any(fnmatch.fnmatchcase(full_path, p) for p in t["policies"])

    # --- routes ---

    def route(self, method, ns, path):
        full = ns + path
        rns, rest = split_namespace(full)
        if rest.startswith("sys/internal/ui/mounts/"):
            return self.preflight(method, ns, full, rns,
                                  rest[len("sys/internal/ui/mounts/"):])
        if rest == "auth/token/revoke-self":
            return self.revoke_self(method, full)
        if rest == "auth/token/lookup-self":
            return self.lookup_self(method, full)
        m = re.fullmatch(r"auth/(.+)/login", rest)
        if m:
            return self.login(method, rns, m.group(1) + "/")
        return self.read(method, full)

    def preflight(self, method, ns, full, rns, sub):
        if STATE.sc.get("no_preflight"):
            return self.error(404, "no handler for route \"%s\". route "
                              "entry not found." % full[len(ns):])
        if method != "GET":
            return self.error(405, "1 error occurred:\n\t* unsupported "
                              "operation\n\n")
        t = self.use_token(full)
        if t is None:
            return
        mount = find_mount(rns + sub)
        mount_rel = mount[len(ns):] if mount is not None else \
            sub.split("/")[0] + "/"
        if mount is None or not any(
                p == "*" or p.startswith(mount) or
                fnmatch.fnmatchcase(mount, p) for p in t["policies"]):
            return self.error(403, "preflight capability check returned "
                              "403, please ensure client's policies grant "
                              "access to path \"%s\"" % mount_rel)
        info = STATE.mounts[mount]
        self.reply(200, envelope({
            "accessor": "kv_0f1e2d3c", "config": {
                "default_lease_ttl": 0, "force_no_cache": False,
                "max_lease_ttl": 0},
            "description": "", "external_entropy_access": False,
            "local": False, "options": info.get("options"),
            "path": mount[len(ns):], "seal_wrap": False,
            "type": info.get("type", "kv"),
            "uuid": "5e2a0c3f-0000-4000-8000-000000000000"}))

    def revoke_self(self, method, full):
        if method != "POST":
            return self.error(405, "1 error occurred:\n\t* unsupported "
                              "operation\n\n")
        t = self.use_token(full)
        if t is None:
            return
        with STATE.lock:
            t["revoked"] = True
        self.reply(204)

    def lookup_self(self, method, full):
        if method != "GET":
            return self.error(405, "1 error occurred:\n\t* unsupported "
                              "operation\n\n")
        t = self.use_token(full)
        if t is None:
            return
        self.reply(200, envelope({
            "accessor": "acc", "policies": ["default"], "ttl": 3600,
            "num_uses": t["uses"] or 0, "renewable": True}))

    def login(self, method, rns, mount):
        cfg = STATE.auth.get(rns + mount)
        if cfg is None:
            return self.error(404, "no handler for route \"auth/%slogin\". "
                              "route entry not found." % mount)
        if method != "POST":
            return self.error(405, "1 error occurred:\n\t* unsupported "
                              "operation\n\n")
        try:
            body = json.loads(self.body.decode("utf-8")) if self.body else {}
        except (ValueError, UnicodeDecodeError):
            return self.error(400, "failed to parse JSON input: invalid "
                              "character")
        if not isinstance(body, dict):
            return self.error(400, "failed to parse JSON input: json: "
                              "cannot unmarshal into Go value")
        kind = cfg["type"]
        role = None
        if kind == "approle":
            if not body.get("role_id"):
                return self.error(400, "missing role_id")
            for r in cfg.get("roles", []):
                if r["role_id"] == body["role_id"]:
                    role = r
            if role is None:
                return self.error(400, "invalid role or secret ID")
            if role.get("bind_secret_id", True):
                if not body.get("secret_id"):
                    return self.error(400, "missing secret_id")
                if body["secret_id"] != role["secret_id"]:
                    return self.error(400, "invalid role or secret ID")
        else:
            if not isinstance(body.get("jwt"), str) or not body["jwt"]:
                return self.error(400, "missing jwt")
            name = body.get("role") or cfg.get("default_role")
            if not name:
                return self.error(400, "missing role")
            role = cfg.get("roles", {}).get(name)
            if role is None:
                return self.error(400, "role \"%s\" could not be found" %
                                  name)
            if body["jwt"] != role["jwt"]:
                if kind == "kubernetes":
                    return self.error(403, "permission denied")
                return self.error(400, "error validating token: invalid "
                                  "signature")
        tok = "hvs." + secrets.token_urlsafe(18)
        with STATE.lock:
            STATE.tokens[tok] = {"policies": role.get("policies", []),
                                 "uses": role.get("token_uses"),
                                 "namespace": rns, "revoked": False}
        self.reply(200, envelope(auth={
            "client_token": tok, "accessor": "acc." + tok[-6:],
            "policies": ["default"], "token_policies": ["default"],
            "metadata": {"role_name": str(body.get("role", ""))},
            "lease_duration": 1200, "renewable": True,
            "entity_id": "", "token_type": "service", "orphan": True,
            "num_uses": role.get("token_uses") or 0}))

    def read(self, method, full):
        mount = find_mount(full)
        if mount is None:
            t = self.use_token(full)
            if t is None:
                return
            return self.error(404, "no handler for route \"%s\". route "
                              "entry not found." % full)
        if method not in ("GET", "LIST"):
            # the fakes hold fixed data: writes are not part of the tests
            return self.error(405, "1 error occurred:\n\t* unsupported "
                              "operation\n\n")
        t = self.use_token(full)
        if t is None:
            return
        if not self.allowed(t, full):
            return self.error(403, "1 error occurred:\n\t* permission "
                              "denied\n\n")
        rest = full[len(mount):]
        if kv_version(mount) == 1:
            sec = STATE.secrets.get(mount + rest)
            if sec is None or "data" not in sec or method == "LIST":
                return self.error(404)
            return self.reply(200, envelope(sec["data"], lease=2764800))
        if not rest.startswith("data/"):
            return self.reply(404, {"errors": [], "warnings":
                                    [KV_V2_BAD_PATH]})
        sec = STATE.secrets.get(mount + rest[len("data/"):])
        if sec is None or not sec.get("versions"):
            return self.error(404)
        versions = sec["versions"]
        want = self.query.get("version", ["0"])[0]
        try:
            n = int(want)
        except ValueError:
            return self.error(400, "invalid version")
        if n == 0:
            n = len(versions)
        if n < 1 or n > len(versions):
            return self.error(404)
        v = versions[n - 1]
        meta = {"created_time": CREATED, "custom_metadata": None,
                "deletion_time": "", "destroyed": False, "version": n}
        if v.get("deleted") or v.get("destroyed"):
            meta["deletion_time"] = DELETED if v.get("deleted") else ""
            meta["destroyed"] = bool(v.get("destroyed"))
            return self.reply(404, envelope({"data": None,
                                             "metadata": meta}))
        self.reply(200, envelope({"data": v["data"], "metadata": meta}))


def load(scenario, log_path):
    global STATE
    STATE = State(scenario, log_path)


if __name__ == "__main__":
    sys.exit(serve("vault_fake.py", load, Handler))
