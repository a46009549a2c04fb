#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of AWS Secrets Manager, SSM Parameter Store, STS
(AssumeRole, AssumeRoleWithWebIdentity), the ECS container credentials
endpoint and EC2 instance metadata (IMDSv2), for the envinject tests.

Every service request is checked with a Signature V4 implementation of its
own (hashlib/hmac, written from the AWS documentation, not from envinject's
code) and refused the way AWS refuses it.

Usage:
    aws_fake.py SCENARIO.json [REQUEST_LOG]   serve; first stdout line = port
    aws_fake.py --selftest                    check the verifier against the
                                              AWS test-suite vectors (TAP)

Scenario (JSON object, every member optional):
    region        "us-east-1"
    credentials   [{"access_key_id", "secret_access_key", "session_token",
                    "expired": bool}]
    secrets       {NAME: {"string": TEXT | "binary": BASE64,
                          "version_id": ID, "arn": ARN,
                          "stages": {STAGE: {"string"|"binary", "version_id"}}}}
    parameters    [{"name", "type", "value", "version"}]
    generate      [{"path", "count", "type", "value"}]   value may hold {i}
    batch_page    secrets per BatchGetSecretValue page (default 20)
    batch_reverse answer batches in reverse order
    ssm_page      parameters per page at most (default: MaxResults)
    empty_pages   put an empty page with a NextToken before every page
    faults        {"throttle": N (first N service calls throttled),
                   "throttle_always": bool, "internal_errors": N,
                   "access_denied": [secret ids or paths]}
    ecs           {"path": "/v2/credentials/ID", "token": TEXT,
                   "credentials": {...}, "status": CODE}
    imds          {"role": NAME, "credentials": {...}, "code": "Success"}
    sts           {"duration": default DurationSeconds (3600),
                   "roles": {ROLE_ARN: {"credentials": {...} issued,
                             "web_identity_token": TEXT the token file
                                 must hold (AssumeRoleWithWebIdentity),
                             "trust": [access key ids allowed to call
                                 AssumeRole] (absent: any valid signer),
                             "external_id": TEXT required,
                             "region_disabled": bool}}}

STS speaks the AWS Query protocol: a form-encoded POST / without
X-Amz-Target, answered in XML (errors as <ErrorResponse>).  AssumeRole must
carry a valid Signature V4 (service "sts") of known credentials;
AssumeRoleWithWebIdentity is unsigned (a signed one is refused here, so the
tests notice a client that signs it) and must name a role whose token
matches.  Issued credentials sign later service calls.
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW = datetime.timedelta(minutes=15)
JSON_TYPE = "application/x-amz-json-1.1"
FORM_TYPE = "application/x-www-form-urlencoded"
ACCOUNT = "123456789012"


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


# ---- Signature V4, from the documentation ----

def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, day, region, service):
    k = _hmac(("AWS4" + secret).encode("utf-8"), day)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_query(query):
    pairs = []
    for part in query.split("&"):
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(name), False),
                      _uri_encode(urllib.parse.unquote(value), False)))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def canonical_request(method, path, query, headers, signed, payload):
    """headers: list of (name, value) as received; signed: lowercase names."""
    values = {}
    for name, value in headers:
        low = name.lower()
        if low in signed:
            v = " ".join(value.strip().split())
            values.setdefault(low, []).append(v)
    lines = [method, _uri_encode(path or "/", True), canonical_query(query)]
    for name in sorted(signed):
        lines.append("%s:%s" % (name, ",".join(values.get(name, []))))
    lines.append("")
    lines.append(";".join(sorted(signed)))
    lines.append(hashlib.sha256(payload).hexdigest())
    return "\n".join(lines)


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(creq.encode("utf-8")).hexdigest()])


def parse_authorization(value):
    if not value.startswith(ALGORITHM + " "):
        return None
    parts = {}
    for item in value[len(ALGORITHM) + 1:].split(","):
        name, eq, val = item.strip().partition("=")
        if not eq:
            return None
        parts[name] = val
    if set(parts) != {"Credential", "SignedHeaders", "Signature"}:
        return None
    cred = parts["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        return None
    return {"akid": cred[0], "day": cred[1], "region": cred[2],
            "service": cred[3], "signed": parts["SignedHeaders"].split(";"),
            "signature": parts["Signature"]}


# ---- self test with the vectors of protocols.md 4.7 ----

SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_DATE = "20150830T123600Z"
SUITE_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWs"
    "KWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGd"
    "eehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd"
    "8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm"
    "8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")
VECTORS = [
    ("get-vanilla", "GET", "", [("Host", "example.amazonaws.com"),
                                ("X-Amz-Date", SUITE_DATE)], b"", "service",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("post-vanilla", "POST", "", [("Host", "example.amazonaws.com"),
                                  ("X-Amz-Date", SUITE_DATE)], b"", "service",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ("get-vanilla-query-order-key-case", "GET", "Param2=value2&Param1=value1",
     [("Host", "example.amazonaws.com"), ("X-Amz-Date", SUITE_DATE)], b"",
     "service",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("post-header-key-sort", "POST", "",
     [("Host", "example.amazonaws.com"), ("My-Header1", "value1"),
      ("X-Amz-Date", SUITE_DATE)], b"", "service",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    ("post-sts-header-before", "POST", "",
     [("Host", "example.amazonaws.com"), ("X-Amz-Date", SUITE_DATE),
      ("X-Amz-Security-Token", SUITE_TOKEN)], b"", "service",
     "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    ("iam-documentation-example", "GET", "Action=ListUsers&Version=2010-05-08",
     [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
      ("Host", "iam.amazonaws.com"), ("X-Amz-Date", SUITE_DATE)], b"", "iam",
     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
    ("secretsmanager-GetSecretValue", "POST", "",
     [("Content-Type", JSON_TYPE),
      ("Host", "secretsmanager.us-east-1.amazonaws.com"),
      ("X-Amz-Date", SUITE_DATE),
      ("X-Amz-Target", "secretsmanager.GetSecretValue")],
     b'{"SecretId":"prod/app/db"}', "secretsmanager",
     "cd62a923040ad20fa45467945e8d8a4d774372932a1cd3b167ff6ebf18dc762d"),
    ("secretsmanager-GetSecretValue-session-token", "POST", "",
     [("Content-Type", JSON_TYPE),
      ("Host", "secretsmanager.us-east-1.amazonaws.com"),
      ("X-Amz-Date", SUITE_DATE),
      ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN"),
      ("X-Amz-Target", "secretsmanager.GetSecretValue")],
     b'{"SecretId":"prod/app/db"}', "secretsmanager",
     "6348708e759497048a56b7346f86b6b44900f3b2cea2591021614f6eaddcafe8"),
    ("ssm-GetParametersByPath", "POST", "",
     [("Content-Type", JSON_TYPE), ("Host", "ssm.us-east-1.amazonaws.com"),
      ("X-Amz-Date", SUITE_DATE),
      ("X-Amz-Target", "AmazonSSM.GetParametersByPath")],
     b'{"Path":"/prod/app/","Recursive":true,"WithDecryption":true}', "ssm",
     "6881aeb32eaff2e61582b286a1f7072599ee1756eb167d5f46c023b3595c699c"),
]
SUITE_KSIGNING = \
    "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"


def selftest():
    print("1..%d" % (len(VECTORS) + 1))
    n = 1
    key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "service").hex()
    print("%s %d - signing key" % ("ok" if key == SUITE_KSIGNING else
                                   "not ok", n))
    failed = key != SUITE_KSIGNING
    for name, method, query, headers, body, service, want in VECTORS:
        n += 1
        signed = [h.lower() for h, _ in headers]
        creq = canonical_request(method, "/", query, headers, signed, body)
        sts = string_to_sign(SUITE_DATE,
                             "20150830/us-east-1/%s/aws4_request" % service,
                             creq)
        k = signing_key(SUITE_SECRET, "20150830", "us-east-1", service)
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        ok = sig == want
        failed |= not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    return 1 if failed else 0


# ---- the scenario ----

class Scenario:
    def __init__(self, data):
        self.region = data.get("region", "us-east-1")
        self.credentials = {c["access_key_id"]: c
                            for c in data.get("credentials", [])}
        for src in ("ecs", "imds"):
            c = data.get(src, {}).get("credentials")
            if c:
                self.credentials.setdefault(c["access_key_id"], c)
        self.secrets = data.get("secrets", {})
        params = list(data.get("parameters", []))
        for g in data.get("generate", []):
            for i in range(g["count"]):
                params.append({"name": "%s/p%05d" % (g["path"].rstrip("/"), i),
                               "type": g.get("type", "String"),
                               "value": g.get("value", "v{i}").replace(
                                   "{i}", str(i)),
                               "version": 1})
        self.parameters = sorted(params, key=lambda p: p["name"])
        self.batch_page = data.get("batch_page", 20)
        self.batch_reverse = data.get("batch_reverse", False)
        self.ssm_page = data.get("ssm_page")
        self.empty_pages = data.get("empty_pages", False)
        self.faults = data.get("faults", {})
        self.ecs = data.get("ecs")
        self.imds = data.get("imds")
        self.sts = data.get("sts", {})
        for role in self.sts.get("roles", {}).values():
            c = role.get("credentials")
            if c:
                self.credentials.setdefault(c["access_key_id"], c)
        self.lock = threading.Lock()
        self.calls = 0
        self.imds_tokens = set()


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _secret_arn(name, entry, region):
    return entry.get("arn") or "arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf" \
        % (region, ACCOUNT, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-fake"
    # headers and body go out in two writes: without this, Nagle's
    # algorithm and the client's delayed ACK cost 40 ms a request, and the
    # 100 pages of a paging test would measure that instead of the paging
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    # -- plumbing --

    def _record(self, status, code=None, target=None):
        log = self.server.log_path
        if log is None:
            return
        names = sorted({k.lower() for k in self.headers.keys()})
        entry = {"method": self.command, "path": self.path.split("?")[0],
                 "target": target, "status": status, "code": code,
                 "headers": names}
        # an STS request's parameters (the test tokens included)
        form = getattr(self, "sts_form", None)
        if form is not None:
            entry["form"] = form
            self.sts_form = None
        with self.server.scenario.lock, open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def _send(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-fake")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _aws_error(self, e, target):
        self._record(e.status, e.code, target)
        self._send(e.status, json.dumps({"__type": e.code,
                                         "message": e.message}),
                   "application/x-amz-json-1.1")

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # -- signature --

    def _verify(self, body, service):
        sc = self.server.scenario
        auth = self.headers.get("Authorization")
        if auth is None:
            raise AwsError(400, "MissingAuthenticationTokenException",
                           "Missing Authentication Token")
        a = parse_authorization(auth)
        if a is None:
            raise AwsError(400, "IncompleteSignatureException",
                           "Authorization header requires 'Credential', "
                           "'Signature' and 'SignedHeaders' parameters")
        signed = a["signed"]
        if signed != sorted(signed) or "host" not in signed or \
                "x-amz-date" not in signed:
            raise AwsError(400, "IncompleteSignatureException",
                           "SignedHeaders must be sorted and include host "
                           "and x-amz-date")
        token = self.headers.get("X-Amz-Security-Token")
        if token is not None and "x-amz-security-token" not in signed:
            raise AwsError(400, "IncompleteSignatureException",
                           "X-Amz-Security-Token must be signed")
        cred = sc.credentials.get(a["akid"])
        if cred is None:
            raise AwsError(400, "UnrecognizedClientException",
                           "The security token included in the request is "
                           "invalid.")
        want_token = cred.get("session_token")
        if want_token is not None and not hmac.compare_digest(
                (token or "").encode(), want_token.encode()):
            raise AwsError(400, "UnrecognizedClientException",
                           "The security token included in the request is "
                           "invalid.")
        if want_token is None and token is not None:
            raise AwsError(400, "UnrecognizedClientException",
                           "The security token included in the request is "
                           "invalid.")
        if cred.get("expired"):
            raise AwsError(400, "ExpiredTokenException",
                           "The security token included in the request is "
                           "expired")
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            raise AwsError(400, "IncompleteSignatureException",
                           "X-Amz-Date is malformed")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if abs(now - when) > SKEW:
            raise AwsError(400, "InvalidSignatureException",
                           "Signature expired: %s is now earlier than the "
                           "allowed window" % amz_date)
        if a["day"] != amz_date[:8] or a["region"] != sc.region or \
                a["service"] != service:
            raise AwsError(400, "InvalidSignatureException",
                           "Credential should be scoped to a valid region "
                           "and service, and to the request's date")
        path, _, query = self.path.partition("?")
        creq = canonical_request(self.command, path, query,
                                 list(self.headers.items()), signed, body)
        sts = string_to_sign(amz_date, "/".join(
            [a["day"], a["region"], a["service"], "aws4_request"]), creq)
        key = signing_key(cred["secret_access_key"], a["day"], a["region"],
                          a["service"])
        want = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, a["signature"]):
            raise AwsError(400, "InvalidSignatureException",
                           "The request signature we calculated does not "
                           "match the signature you provided. Check your "
                           "AWS Secret Access Key and signing method.")

    # -- the services --

    def _faults(self):
        sc = self.server.scenario
        f = sc.faults
        with sc.lock:
            sc.calls += 1
            n = sc.calls
        if f.get("throttle_always") or n <= f.get("throttle", 0):
            raise AwsError(400, "ThrottlingException", "Rate exceeded")
        if n <= f.get("throttle", 0) + f.get("internal_errors", 0):
            raise AwsError(500, "InternalServiceError", "internal error")

    def _denied(self, what, action):
        if what in self.server.scenario.faults.get("access_denied", []):
            raise AwsError(400, "AccessDeniedException",
                           "User: arn:aws:iam::%s:user/test is not authorized "
                           "to perform: %s on resource: %s"
                           % (ACCOUNT, action, what))

    def _find_secret(self, sid):
        sc = self.server.scenario
        for name, entry in sc.secrets.items():
            arn = _secret_arn(name, entry, sc.region)
            if sid in (name, arn) or (sid.startswith("arn:") and
                                      arn.startswith(sid + "-") and
                                      len(arn) == len(sid) + 7):
                return name, entry
        return None, None

    def _secret_value(self, sid, stage):
        sc = self.server.scenario
        name, entry = self._find_secret(sid)
        if entry is None:
            raise AwsError(400, "ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret.")
        self._denied(sid, "secretsmanager:GetSecretValue")
        version = entry
        stages = ["AWSCURRENT"]
        if stage not in (None, "AWSCURRENT"):
            version = entry.get("stages", {}).get(stage)
            stages = [stage]
            if version is None:
                raise AwsError(400, "ResourceNotFoundException",
                               "Secrets Manager can't find the specified "
                               "secret value for staging label: %s" % stage)
        out = {"ARN": _secret_arn(name, entry, sc.region), "Name": name,
               "VersionId": version.get("version_id",
                                        "00000000-0000-0000-0000-000000000001"),
               "VersionStages": stages, "CreatedDate": 1523477145.713}
        if "binary" in version:
            out["SecretBinary"] = version["binary"]
        else:
            out["SecretString"] = version.get("string", "")
        return out

    def _get_secret_value(self, req):
        sid = req.get("SecretId")
        if not isinstance(sid, str) or not 1 <= len(sid) <= 2048:
            raise AwsError(400, "ValidationException",
                           "1 validation error detected: SecretId")
        return self._secret_value(sid, req.get("VersionStage"))

    def _batch_get_secret_value(self, req):
        sc = self.server.scenario
        ids = req.get("SecretIdList")
        if "Filters" in req or not isinstance(ids, list) or \
                not 1 <= len(ids) <= 20 or "MaxResults" in req:
            raise AwsError(400, "ValidationException",
                           "SecretIdList must hold 1 to 20 ids, without "
                           "Filters or MaxResults")
        start = 0
        if "NextToken" in req:
            try:
                start = int(base64.b64decode(req["NextToken"]).decode())
            except (ValueError, UnicodeDecodeError):
                raise AwsError(400, "InvalidNextTokenException",
                               "The NextToken value is invalid.")
        values, errors = [], []
        page = ids[start:start + sc.batch_page]
        for sid in page:
            try:
                values.append(self._secret_value(sid, None))
            except AwsError as e:
                errors.append({"SecretId": sid, "ErrorCode": e.code,
                               "Message": e.message})
        if sc.batch_reverse:
            values.reverse()
        out = {"SecretValues": values, "Errors": errors}
        if start + sc.batch_page < len(ids):
            out["NextToken"] = base64.b64encode(
                str(start + sc.batch_page).encode()).decode()
        return out

    def _get_parameters_by_path(self, req):
        sc = self.server.scenario
        path = req.get("Path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise AwsError(400, "ValidationException",
                           "Parameter path: must start with /")
        max_results = req.get("MaxResults", 10)
        if not isinstance(max_results, int) or not 1 <= max_results <= 10:
            raise AwsError(400, "ValidationException",
                           "MaxResults must be from 1 to 10")
        self._denied(path, "ssm:GetParametersByPath")
        base = path.rstrip("/")
        recursive = req.get("Recursive", False)
        decrypt = req.get("WithDecryption", False)
        found = []
        for p in sc.parameters:
            name = p["name"]
            if base == "":
                rel = name.lstrip("/")
            elif name.startswith(base + "/"):
                rel = name[len(base) + 1:]
            else:
                continue
            if rel == "" or (not recursive and "/" in rel):
                continue
            found.append(p)
        pos, empty_done = 0, False
        if "NextToken" in req:
            try:
                tok = base64.b64decode(req["NextToken"]).decode()
                kind, _, num = tok.partition(":")
                pos, empty_done = int(num), kind == "e"
            except (ValueError, UnicodeDecodeError):
                raise AwsError(400, "InvalidNextToken",
                               "The specified token isn't valid.")

        def token(kind, num):
            return base64.b64encode(("%s:%d" % (kind, num)).encode()).decode()

        if sc.empty_pages and not empty_done and pos < len(found):
            return {"Parameters": [], "NextToken": token("e", pos)}
        size = min(max_results, sc.ssm_page or max_results)
        page = found[pos:pos + size]
        out_params = []
        for p in page:
            value = p["value"]
            if p.get("type") == "SecureString" and not decrypt:
                value = base64.b64encode(b"ciphertext:" + hashlib.sha256(
                    value.encode()).digest()).decode()
            out_params.append({
                "Name": p["name"], "Type": p.get("type", "String"),
                "Value": value, "Version": p.get("version", 1),
                "LastModifiedDate": 1700000000.0, "DataType": "text",
                "ARN": "arn:aws:ssm:%s:%s:parameter%s"
                       % (sc.region, ACCOUNT, p["name"])})
        out = {"Parameters": out_params}
        if pos + size < len(found):
            out["NextToken"] = token("p", pos + size)
        return out

    def _get_parameter(self, req):
        sc = self.server.scenario
        name = req.get("Name")
        if not isinstance(name, str) or not 1 <= len(name) <= 2048:
            raise AwsError(400, "ValidationException",
                           "1 validation error detected: Name")
        self._denied(name, "ssm:GetParameter")
        for p in sc.parameters:
            if p["name"] != name:
                continue
            value = p["value"]
            if (p.get("type") == "SecureString" and
                    not req.get("WithDecryption", False)):
                value = base64.b64encode(b"ciphertext:" + hashlib.sha256(
                    value.encode()).digest()).decode()
            return {"Parameter": {
                "Name": name, "Type": p.get("type", "String"),
                "Value": value, "Version": p.get("version", 1),
                "LastModifiedDate": 1700000000.0, "DataType": "text",
                "ARN": "arn:aws:ssm:%s:%s:parameter%s"
                       % (sc.region, ACCOUNT, name)}}
        raise AwsError(400, "ParameterNotFound", "")

    OPERATIONS = {
        "secretsmanager.GetSecretValue": ("secretsmanager",
                                          "_get_secret_value"),
        "secretsmanager.BatchGetSecretValue": ("secretsmanager",
                                               "_batch_get_secret_value"),
        "AmazonSSM.GetParametersByPath": ("ssm", "_get_parameters_by_path"),
        "AmazonSSM.GetParameter": ("ssm", "_get_parameter"),
    }

    # -- STS (AWS Query protocol) --

    STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
    # codes of the JSON services' signature checks, as STS names them
    STS_CODES = {
        "MissingAuthenticationTokenException": (403,
                                                "MissingAuthenticationToken"),
        "IncompleteSignatureException": (400, "IncompleteSignature"),
        "UnrecognizedClientException": (403, "InvalidClientTokenId"),
        "InvalidSignatureException": (403, "SignatureDoesNotMatch"),
        "ExpiredTokenException": (400, "ExpiredToken"),
    }

    def _sts_error(self, e, action):
        status, code = self.STS_CODES.get(e.code, (e.status, e.code))
        kind = "Receiver" if status >= 500 else "Sender"
        self._record(status, code, "sts." + (action or "?"))
        body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n'
                '    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>'
                '\n  <RequestId>00000000-fake</RequestId>\n</ErrorResponse>\n'
                % (self.STS_NS, kind, code, xml_escape(e.message)))
        self._send(status, body, "text/xml")

    def _sts(self, body):
        sc = self.server.scenario
        action = None
        try:
            ctype = self.headers.get("Content-Type", "")
            if ctype.split(";")[0].strip() != FORM_TYPE:
                raise AwsError(400, "InvalidParameterValue",
                               "Content-Type must be " + FORM_TYPE)
            try:
                form = urllib.parse.parse_qs(body.decode("utf-8"),
                                             keep_blank_values=True,
                                             strict_parsing=True)
            except (ValueError, UnicodeDecodeError):
                raise AwsError(400, "MalformedQueryString",
                               "the body is not a form")
            if any(len(v) != 1 for v in form.values()):
                raise AwsError(400, "InvalidParameterValue",
                               "a parameter given twice")
            form = {k: v[0] for k, v in form.items()}
            action = form.get("Action")
            self.sts_form = form
            if form.get("Version") != "2011-06-15":
                raise AwsError(400, "InvalidAction",
                               "Could not find operation %s for version %s"
                               % (action, form.get("Version")))
            if action == "AssumeRole":
                self._verify(body, "sts")
            elif action == "AssumeRoleWithWebIdentity":
                if "Authorization" in self.headers or \
                        "X-Amz-Security-Token" in self.headers:
                    raise AwsError(400, "IncompleteSignature",
                                   "(fake) AssumeRoleWithWebIdentity is "
                                   "called unsigned")
            else:
                raise AwsError(400, "InvalidAction",
                               "Could not find operation %s for version "
                               "2011-06-15" % action)
            out = self._assume(action, form)
        except AwsError as e:
            self._sts_error(e, action)
            return
        self._record(200, None, "sts." + action)
        self._send(200, out, "text/xml")

    def _assume(self, action, form):
        sc = self.server.scenario
        arn = form.get("RoleArn", "")
        session = form.get("RoleSessionName", "")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
            raise AwsError(400, "ValidationError",
                           "1 validation error detected: Value '%s' at "
                           "'roleSessionName' failed to satisfy constraint"
                           % session)
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+",
                            arn):
            raise AwsError(400, "ValidationError",
                           "1 validation error detected: Value '%s' at "
                           "'roleArn' failed to satisfy constraint" % arn)
        duration = form.get("DurationSeconds",
                            str(sc.sts.get("duration", 3600)))
        if not duration.isdigit() or not 900 <= int(duration) <= 43200:
            raise AwsError(400, "ValidationError",
                           "1 validation error detected: Value at "
                           "'durationSeconds' failed to satisfy constraint")
        role = sc.sts.get("roles", {}).get(arn)
        if action == "AssumeRoleWithWebIdentity":
            token = form.get("WebIdentityToken", "")
            if role is None or "web_identity_token" not in role:
                raise AwsError(403, "AccessDenied",
                               "Not authorized to perform "
                               "sts:AssumeRoleWithWebIdentity")
            if not hmac.compare_digest(token.encode(),
                                       role["web_identity_token"].encode()):
                raise AwsError(400, "InvalidIdentityToken",
                               "Couldn't retrieve verification key from "
                               "your identity provider,  please reference "
                               "AssumeRoleWithWebIdentity documentation for "
                               "requirements")
        else:
            a = parse_authorization(self.headers.get("Authorization", ""))
            caller = a["akid"]
            if role is None or caller not in role.get("trust", [caller]):
                raise AwsError(403, "AccessDenied",
                               "User: arn:aws:iam::%s:user/caller is not "
                               "authorized to perform: sts:AssumeRole on "
                               "resource: %s" % (ACCOUNT, arn))
            want_ext = role.get("external_id")
            if want_ext is not None and form.get("ExternalId") != want_ext:
                raise AwsError(403, "AccessDenied",
                               "User: arn:aws:iam::%s:user/caller is not "
                               "authorized to perform: sts:AssumeRole on "
                               "resource: %s" % (ACCOUNT, arn))
        if role.get("region_disabled"):
            raise AwsError(403, "RegionDisabledException",
                           "STS is not activated in this region for account:"
                           "%s. Your account administrator can activate STS "
                           "in this region using the IAM Console." % ACCOUNT)
        c = role["credentials"]
        exp = (datetime.datetime.now(datetime.timezone.utc) +
               datetime.timedelta(seconds=int(duration)))
        name = arn.split("/")[-1]
        extra = ""
        if action == "AssumeRoleWithWebIdentity":
            extra = ("    <SubjectFromWebIdentityToken>system:serviceaccount:"
                     "default:app</SubjectFromWebIdentityToken>\n"
                     "    <Audience>sts.amazonaws.com</Audience>\n"
                     "    <Provider>arn:aws:iam::%s:oidc-provider/"
                     "oidc.example</Provider>\n" % ACCOUNT)
        return ('<%sResponse xmlns="%s">\n  <%sResult>\n%s'
                '    <AssumedRoleUser>\n      <AssumedRoleId>AROAFAKE:%s'
                '</AssumedRoleId>\n      <Arn>arn:aws:sts::%s:assumed-role/%s/%s'
                '</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n'
                '      <AccessKeyId>%s</AccessKeyId>\n'
                '      <SecretAccessKey>%s</SecretAccessKey>\n'
                '      <SessionToken>%s</SessionToken>\n'
                '      <Expiration>%s</Expiration>\n    </Credentials>\n'
                '  </%sResult>\n  <ResponseMetadata>\n'
                '    <RequestId>00000000-fake</RequestId>\n'
                '  </ResponseMetadata>\n</%sResponse>\n'
                % (action, self.STS_NS, action, extra, session, ACCOUNT, name,
                   session, xml_escape(c["access_key_id"]),
                   xml_escape(c["secret_access_key"]),
                   xml_escape(c.get("session_token", "")),
                   exp.strftime("%Y-%m-%dT%H:%M:%SZ"), action, action))

    def do_POST(self):
        body = self._body()
        target = self.headers.get("X-Amz-Target")
        if target is None and self.path == "/":
            self._sts(body)
            return
        try:
            if self.path != "/" or target not in self.OPERATIONS:
                raise AwsError(400, "UnknownOperationException",
                               "unknown operation")
            if self.headers.get("Content-Type") != JSON_TYPE:
                raise AwsError(400, "SerializationException",
                               "Content-Type must be " + JSON_TYPE)
            service, method = self.OPERATIONS[target]
            self._verify(body, service)
            self._faults()
            try:
                req = json.loads(body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                raise AwsError(400, "SerializationException",
                               "malformed JSON body")
            if not isinstance(req, dict):
                raise AwsError(400, "SerializationException",
                               "the body must be a JSON object")
            out = getattr(self, method)(req)
        except AwsError as e:
            self._aws_error(e, target)
            return
        self._record(200, None, target)
        self._send(200, json.dumps(out), "application/x-amz-json-1.1")

    # -- credential endpoints --

    def _creds_doc(self, c, imds):
        doc = {"AccessKeyId": c["access_key_id"],
               "SecretAccessKey": c["secret_access_key"],
               "Token": c.get("session_token", ""),
               "Expiration": "2099-01-01T00:00:00Z"}
        if imds:
            doc.update({"Code": self.server.scenario.imds.get("code",
                                                              "Success"),
                        "LastUpdated": "2024-01-01T00:00:00Z",
                        "Type": "AWS-HMAC"})
        return json.dumps(doc)

    def do_GET(self):
        sc = self.server.scenario
        path = self.path
        if sc.ecs is not None and path == sc.ecs.get("path"):
            want = sc.ecs.get("token")
            got = self.headers.get("Authorization")
            if want is not None and (got is None or not hmac.compare_digest(
                    got.encode(), want.encode())):
                self._record(401)
                self._send(401, json.dumps({"message": "unauthorized"}))
                return
            status = sc.ecs.get("status", 200)
            self._record(status)
            self._send(status, self._creds_doc(sc.ecs["credentials"], False)
                       if status == 200 else "{}")
            return
        prefix = "/latest/meta-data/iam/security-credentials/"
        if sc.imds is not None and path.startswith(prefix):
            tok = self.headers.get("X-aws-ec2-metadata-token")
            if tok is None or tok not in sc.imds_tokens:
                self._record(401)
                self._send(401, "", "text/plain")
                return
            role = sc.imds.get("role")
            if path == prefix:
                self._record(200 if role else 404)
                self._send(200 if role else 404, role or "", "text/plain")
            elif role and path == prefix + role:
                self._record(200)
                self._send(200, self._creds_doc(sc.imds["credentials"], True))
            else:
                self._record(404)
                self._send(404, "", "text/plain")
            return
        self._record(404)
        self._send(404, "", "text/plain")

    def do_PUT(self):
        sc = self.server.scenario
        self._body()
        if sc.imds is None or self.path != "/latest/api/token":
            self._record(404)
            self._send(404, "", "text/plain")
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self._record(400)
            self._send(400, "", "text/plain")
            return
        token = "imds-" + hashlib.sha256(
            str(len(sc.imds_tokens)).encode()).hexdigest()[:32]
        with sc.lock:
            sc.imds_tokens.add(token)
        self._record(200)
        self._send(200, token, "text/plain")


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        return selftest()
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
