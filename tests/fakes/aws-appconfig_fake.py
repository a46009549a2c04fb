#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of AWS AppConfig Data (appconfigdata: the
StartConfigurationSession and GetLatestConfiguration REST-JSON calls) and of
the AppConfig Agent, for the envinject tests.

Data API requests are checked with the Signature V4 verifier of aws_fake.py
(imported, not copied) for the signing name "appconfig"; tokens are single
use, each answer names the next one, and a session's later polls answer an
empty body while the configuration is unchanged, as the service does.
Errors come in the service's shape: the code in X-Amzn-ErrorType and a JSON
body with Message (and ResourceType, Reason, Details where the model has
them).  Agent paths are served without signing, errors as plain text.

Usage:
    aws-appconfig_fake.py SCENARIO.json [REQUEST_LOG]   serve; first stdout
                                                        line = the port
    aws-appconfig_fake.py --selftest        the reference's AppConfig SigV4
                                            vectors through the verifier (TAP)
    aws-appconfig_fake.py --check-fixture FILE
                                            verify recorded SDK requests (their
                                            signatures with their own dates,
                                            paths, bodies) (TAP)

Scenario (JSON object, every member optional):
    region          "us-east-1"
    credentials     [{"access_key_id", "secret_access_key", "session_token",
                      "expired": bool}]
    configurations  {"APP/ENV/PROFILE": {"content_type": TYPE,
                     "content": TEXT | JSON value (sent as compact JSON) |
                     "content_b64": BASE64, "label": VERSION_LABEL}}
    poll_interval   Next-Poll-Interval-In-Seconds (default 60)
    faults          {"throttle": N (first N calls answer 429),
                     "throttle_always": bool, "internal_errors": N (then N
                     answer 500), "access_denied": ["APP/ENV/PROFILE"]}
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse
from http.server import ThreadingHTTPServer

# importing must not write bytecode into the source tree
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_fake  # noqa: E402  (the SigV4 verifier and the credentials)

SERVICE = "appconfig"
ID_MAX = 128
TOKEN_BYTES = 48
# the codes the service's front end refuses with 403 rather than 400
AUTH_CODES = {"MissingAuthenticationTokenException",
              "IncompleteSignatureException", "InvalidSignatureException",
              "UnrecognizedClientException", "ExpiredTokenException",
              "AccessDeniedException"}

# protocols-config-services.md 1.6: the AppConfig vectors
VECTOR_DATE = "20150830T123600Z"
VECTORS = [
    ("StartConfigurationSession", "POST", "/configurationsessions", "",
     [("Content-Type", "application/json"),
      ("Host", "appconfigdata.us-east-1.amazonaws.com"),
      ("X-Amz-Date", VECTOR_DATE)],
     b'{"ApplicationIdentifier":"myapp","EnvironmentIdentifier":"prod",'
     b'"ConfigurationProfileIdentifier":"settings"}',
     "ae5d0e9004bcea45eded2909a25c6b7d21effcb1a1e1b52f8756a7da690a2344",
     "14a9456c2020826bd6be996f08a04f6079c2363f40f9195427fc471a4d1cf308"),
    ("GetLatestConfiguration", "GET", "/configuration",
     "configuration_token=AYADeNgfsRxdKiJ37A%2FE%2Bm9aBb%2F%2Ftoken%3D%3D",
     [("Host", "appconfigdata.us-east-1.amazonaws.com"),
      ("X-Amz-Date", VECTOR_DATE)], b"",
     "c9c8f8b1f119e56b13b058245c64e700e41ed111d091a58f90e86d11b9a69133",
     "47b4d5a67b6e47f6a4865a85adb37620e62a3ece0ed4c15042cf93e3f83baab2"),
]


def signature_of(method, path, query, headers, signed, body, secret,
                 amz_date, region):
    creq = aws_fake.canonical_request(method, path, query, headers, signed,
                                      body)
    scope = "/".join([amz_date[:8], region, SERVICE, "aws4_request"])
    sts = aws_fake.string_to_sign(amz_date, scope, creq)
    key = aws_fake.signing_key(secret, amz_date[:8], region, SERVICE)
    return (hashlib.sha256(creq.encode()).hexdigest(),
            hmac.new(key, sts.encode(), hashlib.sha256).hexdigest())


def selftest():
    print("1..%d" % len(VECTORS))
    failed = False
    for n, (name, method, path, query, headers, body, want_hash,
            want_sig) in enumerate(VECTORS, 1):
        signed = [h.lower() for h, _ in headers]
        got_hash, got_sig = signature_of(method, path, query, headers, signed,
                                         body, aws_fake.SUITE_SECRET,
                                         VECTOR_DATE, "us-east-1")
        ok = got_hash == want_hash and got_sig == want_sig
        failed |= not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    return 1 if failed else 0


def check_fixture(path):
    """Each recorded request: signed for appconfig with the fixture's
    credentials (its own X-Amz-Date: the clock check is the live fake's),
    a path and body the service takes."""
    with open(path) as f:
        fx = json.load(f)
    cred = fx["credentials"]
    reqs = fx["requests"]
    answers_path = os.path.join(os.path.dirname(path), "sdk-answers.json")
    answers = []
    if os.path.exists(answers_path):
        with open(answers_path) as f:
            answers = json.load(f)
    print("1..%d" % (len(reqs) + len(answers)))
    failed = False
    # what the SDK read from the fake's answers: the header names and the
    # error shape are right when its model finds them
    want = [lambda a: a["output"]["InitialConfigurationToken"],
            lambda a: a["output"]["ContentType"] == "application/json" and
            a["output"]["VersionLabel"] and
            a["output"]["NextPollIntervalInSeconds"] == 60 and
            a["output"]["NextPollConfigurationToken"] and
            json.loads(a["output"]["Configuration"]),
            lambda a: a["output"]["Configuration"] == "" and
            a["output"]["NextPollConfigurationToken"],
            lambda a: a["error"] == "BadRequestException" and
            a["status"] == 400 and a["Reason"] == "InvalidParameters",
            lambda a: a["error"] == "ResourceNotFoundException" and
            a["status"] == 404 and a["ResourceType"] == "Application",
            lambda a: a["error"] == "BadRequestException" and
            "broken" in a["message"]]
    for n, a in enumerate(answers, 1):
        try:
            ok = n <= len(want) and bool(want[n - 1](a))
        except (KeyError, TypeError, ValueError):
            ok = False
        failed |= not ok
        print("%s %d - the SDK read answer %d (%s)" % (
            "ok" if ok else "not ok", n, n, a.get("operation")))
    for n, r in enumerate(reqs, len(answers) + 1):
        headers = list(r["headers"].items())
        hmap = {k.lower(): v for k, v in headers}
        a = aws_fake.parse_authorization(hmap.get("authorization", ""))
        why = None
        p, _, q = r["path"].partition("?")
        if a is None:
            why = "no SigV4 Authorization"
        elif a["service"] != SERVICE or a["region"] != fx["region"] or \
                a["akid"] != cred["access_key_id"]:
            why = "scope %s/%s/%s" % (a["akid"], a["region"], a["service"])
        else:
            _, sig = signature_of(r["method"], p, q, headers, a["signed"],
                                  r["body"].encode(),
                                  cred["secret_access_key"],
                                  hmap["x-amz-date"], fx["region"])
            if not hmac.compare_digest(sig, a["signature"]):
                why = "signature differs"
        if why is None and r["method"] == "POST":
            if p != "/configurationsessions" or \
                    not hmap.get("content-type", "").startswith(
                        "application/json"):
                why = "session path or Content-Type"
            else:
                body = json.loads(r["body"])
                for k in ("ApplicationIdentifier", "EnvironmentIdentifier",
                          "ConfigurationProfileIdentifier"):
                    if not isinstance(body.get(k), str):
                        why = "session body lacks " + k
        elif why is None and (p != "/configuration" or
                              "configuration_token" not in
                              urllib.parse.parse_qs(q)):
            why = "poll path or query"
        failed |= why is not None
        print("%s %d - %s %s%s" % ("ok" if why is None else "not ok", n,
                                   r["method"], p,
                                   "" if why is None else ": " + why))
    return 1 if failed else 0


class AppConfigError(aws_fake.AwsError):
    def __init__(self, status, code, message, extra=None):
        super().__init__(status, code, message)
        self.extra = extra or {}


class Scenario(aws_fake.Scenario):
    def __init__(self, data):
        super().__init__(data)
        self.configurations = {}
        for key, c in data.get("configurations", {}).items():
            if "content_b64" in c:
                body = base64.b64decode(c["content_b64"])
            elif isinstance(c.get("content"), str):
                body = c["content"].encode("utf-8")
            else:
                body = json.dumps(c.get("content", {}),
                                  separators=(",", ":")).encode("utf-8")
            self.configurations[key] = {
                "type": c.get("content_type", "application/json"),
                "body": body, "label": c.get("label"),
                "version": c.get("version", 1)}
        self.poll_interval = data.get("poll_interval", 60)
        self.tokens = {}  # token -> {"key", "seen": version or None}
        self.counter = 0

    def new_token(self, key, seen):
        with self.lock:
            self.counter += 1
            raw = hashlib.sha256(b"%d" % self.counter).digest() + \
                os.urandom(TOKEN_BYTES - 32)
            # base64 with '/', '+' and '=': the token must be escaped in
            # the query, as the real ones must
            tok = "AYAD" + base64.b64encode(raw).decode()
            self.tokens[tok] = {"key": key, "seen": seen}
        return tok

    def take_token(self, tok):
        with self.lock:
            return self.tokens.pop(tok, None)

    def missing(self, app, env, prof):
        """None, or the ResourceType the service names."""
        # an application name may hold a '/': split from the right
        keys = [k.rsplit("/", 2) for k in self.configurations]
        if not any(k[0] == app for k in keys):
            return "Application"
        if not any(k[0] == app and k[1] == env for k in keys):
            return "Environment"
        if not any(k[0] == app and k[2] == prof for k in keys):
            return "ConfigurationProfile"
        if "%s/%s/%s" % (app, env, prof) not in self.configurations:
            return "Deployment"
        return None


class Handler(aws_fake.Handler):
    server_version = "appconfigdata-fake"

    def _error(self, e, op):
        status = e.status
        if e.code in AUTH_CODES:
            status = 403
        self._record(status, e.code, op)
        body = {"Message": e.message}
        body.update(getattr(e, "extra", {}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Amzn-ErrorType", e.code)
        self.send_header("x-amzn-RequestId", "00000000-fake")
        self.end_headers()
        self.wfile.write(data)

    def _faults(self):
        sc = self.server.scenario
        f = sc.faults
        with sc.lock:
            sc.calls += 1
            n = sc.calls
        if f.get("throttle_always") or n <= f.get("throttle", 0):
            raise AppConfigError(429, "ThrottlingException", "Rate exceeded")
        if n <= f.get("throttle", 0) + f.get("internal_errors", 0):
            raise AppConfigError(500, "InternalServerException",
                                 "internal error")

    def _not_found(self, app, env, prof):
        rtype = self.server.scenario.missing(app, env, prof)
        if rtype is None:
            return
        name = {"Application": app, "Environment": env,
                "ConfigurationProfile": prof}.get(rtype, "")
        raise AppConfigError(
            404, "ResourceNotFoundException",
            "%s %s not found" % (rtype, name) if name else
            "Requested resource not found (nothing deployed to %s/%s/%s)" %
            (app, env, prof),
            {"ResourceType": rtype, "ReferencedBy": {}})

    def _start_session(self, body):
        sc = self.server.scenario
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            raise AppConfigError(400, "BadRequestException",
                                 "Content-Type must be application/json",
                                 {"Reason": "InvalidParameters"})
        try:
            req = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise AppConfigError(400, "BadRequestException",
                                 "Request body is malformed")
        ids = []
        for k in ("ApplicationIdentifier", "EnvironmentIdentifier",
                  "ConfigurationProfileIdentifier"):
            v = req.get(k) if isinstance(req, dict) else None
            if not isinstance(v, str) or not 1 <= len(v) <= ID_MAX:
                raise AppConfigError(
                    400, "BadRequestException",
                    "%s must be 1 to %d characters" % (k, ID_MAX),
                    {"Reason": "InvalidParameters",
                     "Details": {"InvalidParameters": {k: {
                         "Problem": "Corrupted"}}}})
            ids.append(v)
        mp = req.get("RequiredMinimumPollIntervalInSeconds")
        if mp is not None and (not isinstance(mp, int) or
                               not 15 <= mp <= 86400):
            raise AppConfigError(400, "BadRequestException",
                                 "RequiredMinimumPollIntervalInSeconds must "
                                 "be 15 to 86400",
                                 {"Reason": "InvalidParameters"})
        self._not_found(*ids)
        key = "/".join(ids)
        if key in sc.faults.get("access_denied", []):
            raise AppConfigError(403, "AccessDeniedException",
                                 "User is not authorized to perform: "
                                 "appconfig:StartConfigurationSession")
        if key in sc.faults.get("bad_request", []):
            raise AppConfigError(
                400, "BadRequestException",
                "Invalid ConfigurationProfileIdentifier: %s" % ids[2],
                {"Reason": "InvalidParameters",
                 "Details": {"InvalidParameters": {
                     "ConfigurationProfileIdentifier": {
                         "Problem": "Corrupted"}}}})
        tok = sc.new_token(key, None)
        return 201, {"Content-Type": "application/json"}, \
            json.dumps({"InitialConfigurationToken": tok}).encode()

    def _latest(self, query):
        sc = self.server.scenario
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        toks = q.get("configuration_token", [])
        if len(toks) != 1 or toks[0] == "":
            raise AppConfigError(400, "BadRequestException",
                                 "configuration_token is required",
                                 {"Reason": "InvalidParameters"})
        t = sc.take_token(toks[0])
        if t is None:
            # unknown, or used already: a token serves one call
            raise AppConfigError(
                400, "BadRequestException", "Token is invalid or expired",
                {"Reason": "InvalidParameters",
                 "Details": {"InvalidParameters": {"configuration_token": {
                     "Problem": "Expired"}}}})
        c = sc.configurations.get(t["key"])
        if c is None:
            raise AppConfigError(404, "ResourceNotFoundException",
                                 "Requested resource not found",
                                 {"ResourceType": "Deployment"})
        changed = t["seen"] != c["version"]
        nxt = sc.new_token(t["key"], c["version"])
        headers = {"Next-Poll-Configuration-Token": nxt,
                   "Next-Poll-Interval-In-Seconds": str(sc.poll_interval)}
        if changed:
            headers["Content-Type"] = c["type"]
            if c["label"]:
                headers["Version-Label"] = c["label"]
        return 200, headers, c["body"] if changed else b""

    def _reply(self, status, headers, data, op):
        self._record(status, None, op)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-fake")
        self.end_headers()
        self.wfile.write(data)

    def _api(self, method, body):
        path, _, query = self.path.partition("?")
        op = {("POST", "/configurationsessions"): "StartConfigurationSession",
              ("GET", "/configuration"): "GetLatestConfiguration"}.get(
                  (method, path))
        try:
            if op is None:
                raise AppConfigError(404, "UnknownOperationException",
                                     "unknown operation")
            try:
                self._verify(body, SERVICE)
            except aws_fake.AwsError as e:
                raise AppConfigError(e.status, e.code, e.message)
            self._faults()
            if op == "StartConfigurationSession":
                out = self._start_session(body)
            else:
                out = self._latest(query)
        except aws_fake.AwsError as e:
            self._error(e, op)
            return
        self._reply(*out, op)

    def _agent(self):
        sc = self.server.scenario
        path, _, _ = self.path.partition("?")
        parts = path.split("/")
        # /applications/A/environments/E/configurations/P
        if len(parts) != 7 or parts[1] != "applications" or \
                parts[3] != "environments" or parts[5] != "configurations":
            self._plain(404, "Not found", "Agent")
            return
        app, env, prof = (urllib.parse.unquote(parts[i]) for i in (2, 4, 6))
        rtype = sc.missing(app, env, prof)
        if rtype is not None:
            self._plain(404, "ResourceNotFoundException: %s not found" % rtype,
                        "Agent")
            return
        c = sc.configurations["%s/%s/%s" % (app, env, prof)]
        headers = {"Content-Type": c["type"],
                   "Configuration-Version": str(c["version"])}
        if c["label"]:
            headers["Version-Label"] = c["label"]
        self._reply(200, headers, c["body"], "Agent")

    def _plain(self, status, text, op):
        self._reply(status, {"Content-Type": "text/plain"},
                    text.encode() + b"\n", op)

    def do_POST(self):
        self._api("POST", self._body())

    def do_GET(self):
        if self.path.startswith("/applications/"):
            if self.headers.get("Authorization") is not None:
                # the Agent needs no signature: sending one is a bug
                self._plain(400, "BadRequestException: unexpected "
                            "Authorization", "Agent")
                return
            self._agent()
            return
        self._api("GET", b"")

    def do_PUT(self):
        self._body()
        self._plain(404, "Not found", None)


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        return selftest()
    if len(argv) == 3 and argv[1] == "--check-fixture":
        return check_fixture(argv[2])
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 64
    with open(argv[1]) as f:
        scenario = Scenario(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.scenario = scenario
    server.log_path = argv[2] if len(argv) == 3 else None
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
