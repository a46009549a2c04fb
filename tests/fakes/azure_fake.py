#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback-only fake of Azure Key Vault (secrets, REST api-version 7.5)
and of the Microsoft Entra ID token endpoints that serve it: the v2.0
client credentials grant (client secret or federated assertion), App
Service managed identity and IMDS.  Written from
shared/protocols-azure-yaml-watch.md sections 1 and 2, and checked once
against the real SDKs (tests/fixtures/azure).

usage: azure_fake.py SCENARIO.json LOG.jsonl

Prints the port it listens on (127.0.0.1, chosen by the kernel) as the
first line of stdout, then serves until SIGTERM.  One port speaks both
https (a connection that opens with a TLS handshake, certificate in
tests/fakes/azure-tls/, signed by its ca.pem) and plain http: Key Vault
and Entra ID answer over https only, the managed identity endpoints over
http only, as in Azure.  Requests are routed by path and Host:

  https  Host NAME.vault.azure.net[.localhost]   Key Vault NAME
  https  POST /TENANT/oauth2/v2.0/token          Entra ID token endpoint
  https  GET /TENANT/v2.0/.well-known/openid-configuration, GET
         /common/discovery/instance              what MSAL asks first
  http   GET /metadata/identity/oauth2/token     IMDS (Metadata: true)
  http   GET /msi/token                          App Service
                                                 (X-IDENTITY-HEADER)

Every request is appended to LOG.jsonl (method, path, query, headers,
body, status, tls, and the reply's headers and body).  Checks, as the
services make them: api-version on every Key Vault request (7.0-7.6 and the dated ones
accepted, as the service does), a bearer
token that this fake issued for audience https://vault.azure.net in the
vault's tenant and not expired, else 401 with the challenge
(WWW-Authenticate: Bearer authorization="AUTHORITY/TENANT",
resource="https://vault.azure.net"); secret names case-insensitive;
disabled secrets 403 Forbidden/SecretDisabled; absent ones 404
SecretNotFound; list pages of page_size items with an absolute nextLink
($skiptoken) until "nextLink": null.  The token endpoint takes only
application/x-www-form-urlencoded with grant_type=client_credentials, a
known client_id, one scope ending in /.default, and either the client's
secret or client_assertion_type jwt-bearer with the client's federated
assertion; errors are OAuth 2.0 bodies with AADSTS codes.  IMDS wants
Metadata: true, api-version and resource; App Service wants the
X-IDENTITY-HEADER value, api-version 2019-08-01 and resource.

The scenario (all members optional):
  "tenant":   "72f988bf-..."             the tenant of vaults and clients
  "authority": "https://login.microsoftonline.com"  named in challenges
  "vaults":   {"myvault": {"page_size": 2, "secrets": {"db-password":
                {"value": "...", "enabled": true, "versions": 1}},
               "allow": ["client-id", "mi:system", "mi:UAMI-CLIENT-ID"],
               "deny_list": false}}     allow absent: every principal
  "clients":  {"client-id": {"secret": "...", "assertion": "..."}}
  "managed_identity": {"system": true, "user": ["uami-client-id"],
                       "identity_header": "..."}
  "token_ttl": 3599,  "expires_as_string": true   (IMDS style numbers)
  "challenge": {"resource": "https://evil.example"}  override its fields
  "faults":   [{"path": "REGEX", "method": "GET", "status": 429,
                "times": 1, "retry_after": "1", "body": {...}}]
  "next_link_host": "evil.example"     nextLink on another host
  "token_marker": "..."                appended to every access token (a
                                       canary: tokens must not leak)
"""

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fakestate import FakeState

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_DIR = os.path.join(HERE, "azure-tls")
KV_RESOURCE = "https://vault.azure.net"
KV_APIS = {"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-06-01",
           "2025-07-01"}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_BODY = 1 << 20
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
CREATED = 1700000000


class State(FakeState):
    def __init__(self, scenario, log_path):
        super().__init__(scenario, log_path)
        self.tenant = scenario.get("tenant",
                                   "72f988bf-86f1-41af-91ab-2d7cd011db47")
        self.authority = scenario.get("authority",
                                      "https://login.microsoftonline.com")
        self.vaults = scenario.get("vaults", {})
        self.clients = scenario.get("clients", {})
        self.mi = scenario.get("managed_identity", {})
        self.tokens = {}  # access token -> claims


STATE = None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue(principal, resource, tenant):
    """A JWT-shaped opaque token, remembered with its claims."""
    ttl = STATE.sc.get("token_ttl", 3599)
    now = int(time.time())
    claims = {"aud": resource, "tid": tenant, "sub": principal,
              "iat": now, "nbf": now, "exp": now + ttl}
    tok = ".".join([b64url(json.dumps({"typ": "JWT", "alg": "none"})
                           .encode()),
                    b64url(json.dumps(claims).encode()),
                    b64url(secrets.token_bytes(24)) +
                    STATE.sc.get("token_marker", "")])
    with STATE.lock:
        STATE.tokens[tok] = claims
    return tok, claims


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, handler):
        super().__init__(addr, handler)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(os.path.join(TLS_DIR, "server.pem"),
                                 os.path.join(TLS_DIR, "server.key"))

    def finish_request(self, request, client_address):
        # one port for both: a TLS connection opens with a handshake
        # record (0x16), plain HTTP with a method name
        try:
            request.settimeout(10)
            first = request.recv(1, socket.MSG_PEEK)
            if first != b"\x16":
                request.settimeout(None)
                self.RequestHandlerClass(request, client_address, self, False)
                return
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # a client that refused the certificate, or went away
        try:
            conn.settimeout(None)
            self.RequestHandlerClass(conn, client_address, self, True)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "azure-fake"
    sys_version = ""

    def __init__(self, request, client_address, server, tls):
        self.tls = tls
        super().__init__(request, client_address, server)

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
        sent = {}
        if body:
            sent["Content-Type"] = "application/json; charset=utf-8"
        sent.update(headers or {})
        self.entry["status"] = status
        # the answer too: tests/fixtures/azure compares it with what the
        # SDKs were given
        self.entry["reply"] = {"headers": sent,
                               "body": body.decode("utf-8", "replace")}
        STATE.record(self.entry)
        try:
            self.send_response(status)
            for k, v in sent.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def kv_error(self, status, code, message, inner=None, headers=None):
        err = {"code": code, "message": message}
        if inner is not None:
            err["innererror"] = {"code": inner}
        h = {"x-ms-request-id": "00000000-0000-4000-8000-%012d" %
             len(STATE.tokens), "x-ms-keyvault-service-version":
             "1.9.1234.1", "x-ms-error-code": code}
        h.update(headers or {})
        self.reply(status, {"error": err}, headers=h)

    def oauth_error(self, status, error, aadsts, text):
        self.reply(status, {
            "error": error,
            "error_description": "%s: %s Trace ID: 0 Correlation ID: 0 "
                                 "Timestamp: 2026-01-01 00:00:00Z" %
                                 (aadsts, text),
            "error_codes": [int(aadsts[6:])], "timestamp":
            "2026-01-01 00:00:00Z", "trace_id": "0", "correlation_id": "0"})

    def handle_any(self):
        url = urlsplit(self.path)
        length = self.headers.get("Content-Length")
        body = b""
        self.entry = {"method": self.command, "path": url.path,
                      "query": url.query, "tls": self.tls,
                      "headers": {k.lower(): v
                                  for k, v in self.headers.items()}}
        if length is not None:
            n = int(length)
            if n > MAX_BODY:
                return self.reply(413, raw="")
            body = self.rfile.read(n)
        self.entry["body"] = body.decode("utf-8", "replace")
        self.body = body
        self.query = parse_qs(url.query, keep_blank_values=True)
        f = STATE.fault(self.command, url.path)
        if f is not None and "status" in f:
            hdrs = {}
            if "retry_after" in f:
                hdrs["Retry-After"] = str(f["retry_after"])
            b = f.get("body")
            return self.reply(f["status"], obj=b if isinstance(b, dict)
                              else None, raw=b if isinstance(b, str)
                              else None, headers=hdrs)
        host = self.headers.get("Host", "").split(":")[0].lower()
        path = url.path
        # MSAL asks for ".../token/": both services take either
        if path.rstrip("/") == "/metadata/identity/oauth2/token":
            return self.imds()
        if path.rstrip("/") == "/msi/token":
            return self.app_service()
        if not self.tls:
            # Key Vault and Entra ID refuse plain http
            return self.reply(403, raw="")
        m = re.fullmatch(r"([0-9a-z-]+)\.vault\.azure\.net(\.localhost)?",
                         host)
        if m:
            return self.keyvault(m.group(1), host, path)
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if m:
            return self.token(m.group(1))
        m = re.fullmatch(r"/([^/]+)/v2\.0/\.well-known/openid-configuration",
                         path)
        if m and self.command == "GET":
            return self.openid(m.group(1))
        if path == "/common/discovery/instance" and self.command == "GET":
            return self.discovery()
        return self.reply(404, raw="")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    # --- Entra ID ---

    def openid(self, tenant):
        base = "https://" + self.headers.get("Host", "")
        self.reply(200, {
            "token_endpoint": "%s/%s/oauth2/v2.0/token" % (base, tenant),
            "authorization_endpoint": "%s/%s/oauth2/v2.0/authorize" %
                                      (base, tenant),
            "issuer": "%s/%s/v2.0" % (base, tenant),
            "jwks_uri": "%s/%s/discovery/v2.0/keys" % (base, tenant),
            "response_types_supported": ["code", "id_token", "token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt",
                 "client_secret_basic"],
            "tenant_region_scope": "NA"})

    def discovery(self):
        host = self.headers.get("Host", "").split(":")[0]
        self.reply(200, {
            "tenant_discovery_endpoint": "https://%s/common/v2.0/"
                                         ".well-known/openid-configuration"
                                         % self.headers.get("Host", ""),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host,
                          "preferred_cache": host, "aliases": [host]}]})

    def token(self, tenant):
        if self.command != "POST":
            return self.oauth_error(405, "invalid_request", "AADSTS900561",
                                    "The endpoint only accepts POST "
                                    "requests.")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded":
            return self.oauth_error(400, "invalid_request", "AADSTS900144",
                                    "The request body must contain the "
                                    "following parameter: 'grant_type'.")
        try:
            form = parse_qs(self.body.decode("ascii"), keep_blank_values=True,
                            strict_parsing=bool(self.body))
        except (ValueError, UnicodeDecodeError):
            return self.oauth_error(400, "invalid_request", "AADSTS90014",
                                    "The request body is malformed.")
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        if any(len(v) != 1 for v in form.values()):
            return self.oauth_error(400, "invalid_request", "AADSTS90015",
                                    "Requested query string is too long.")
        if tenant.lower() not in (STATE.tenant.lower(),):
            return self.oauth_error(400, "invalid_request", "AADSTS90002",
                                    "Tenant '%s' not found." % tenant)
        if one.get("grant_type") != "client_credentials":
            return self.oauth_error(400, "unsupported_grant_type",
                                    "AADSTS70003", "The app requested an "
                                    "unsupported grant type.")
        cid = one.get("client_id")
        client = STATE.clients.get(cid or "")
        if client is None:
            return self.oauth_error(400, "unauthorized_client",
                                    "AADSTS700016", "Application with "
                                    "identifier was not found in the "
                                    "directory.")
        scope = one.get("scope", "")
        if not scope.endswith("/.default") or " " in scope:
            return self.oauth_error(400, "invalid_scope", "AADSTS1002012",
                                    "The provided value for scope is not "
                                    "valid. Client credential flows must "
                                    "have a scope value with /.default "
                                    "suffixed to the resource identifier.")
        if "client_secret" in one:
            if "client_assertion" in one or \
                    one["client_secret"] != client.get("secret"):
                return self.oauth_error(401, "invalid_client",
                                        "AADSTS7000215", "Invalid client "
                                        "secret provided.")
        elif "client_assertion" in one:
            if one.get("client_assertion_type") != ASSERTION_TYPE:
                return self.oauth_error(400, "invalid_request",
                                        "AADSTS50027", "JWT token is "
                                        "invalid or malformed.")
            if one["client_assertion"] != client.get("assertion"):
                return self.oauth_error(400, "invalid_client",
                                        "AADSTS70021", "No matching "
                                        "federated identity record found "
                                        "for presented assertion.")
        else:
            return self.oauth_error(401, "invalid_client", "AADSTS7000218",
                                    "The request body must contain the "
                                    "following parameter: "
                                    "'client_assertion' or "
                                    "'client_secret'.")
        resource = scope[:-len("/.default")]
        tok, claims = issue(cid, resource, STATE.tenant)
        ttl = claims["exp"] - claims["iat"]
        self.reply(200, {"token_type": "Bearer", "expires_in": ttl,
                         "ext_expires_in": ttl, "access_token": tok})

    def mi_token(self, principal, resource, legacy_ttl_string=True):
        tok, claims = issue(principal, resource, STATE.tenant)
        exp = claims["exp"]
        ttl = exp - claims["iat"]
        as_str = STATE.sc.get("expires_as_string", True)
        conv = str if as_str else int
        return tok, {"access_token": tok, "expires_in": conv(ttl),
                     "expires_on": conv(exp), "not_before":
                     conv(claims["nbf"]), "resource": resource,
                     "token_type": "Bearer"}

    def mi_principal(self, client_id):
        if client_id is None:
            return "mi:system" if STATE.mi.get("system") else None
        if client_id in STATE.mi.get("user", []):
            return "mi:" + client_id
        return None

    def imds(self):
        if self.tls or self.command != "GET":
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "bad request"})
        if self.headers.get("Metadata") != "true":
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required metadata"
                                    " header not specified"})
        q = self.query
        if q.get("api-version", [None])[0] is None:
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required "
                                    "query variable 'api-version' is "
                                    "missing"})
        res = q.get("resource", [None])[0]
        if not res:
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required "
                                    "query variable 'resource' is "
                                    "missing"})
        principal = self.mi_principal(q.get("client_id", [None])[0])
        if principal is None:
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Identity not "
                                    "found"})
        _, body = self.mi_token(principal, res.rstrip("/"))
        self.reply(200, body)

    def app_service(self):
        if self.tls or self.command != "GET":
            return self.reply(400, {"statusCode": 400,
                                    "message": "bad request"})
        want = STATE.mi.get("identity_header")
        if want is None or self.headers.get("X-IDENTITY-HEADER") != want:
            return self.reply(401, {"statusCode": 401, "message":
                                    "Unauthorized. X-IDENTITY-HEADER "
                                    "missing or invalid."})
        q = self.query
        if q.get("api-version", [None])[0] != "2019-08-01" or \
                not q.get("resource", [""])[0]:
            return self.reply(400, {"statusCode": 400, "message":
                                    "api-version 2019-08-01 and resource "
                                    "are required"})
        principal = self.mi_principal(q.get("client_id", [None])[0])
        if principal is None:
            return self.reply(400, {"statusCode": 400, "message":
                                    "No managed identity found."})
        _, body = self.mi_token(principal, q["resource"][0].rstrip("/"))
        del body["expires_in"]  # App Service sends expires_on only
        del body["not_before"]
        body["client_id"] = "00000000-0000-4000-8000-000000000abc"
        self.reply(200, body)

    # --- Key Vault ---

    def challenge(self):
        c = {"authorization": "%s/%s" % (STATE.authority, STATE.tenant),
             "resource": KV_RESOURCE}
        c.update(STATE.sc.get("challenge", {}))
        return {"WWW-Authenticate": "Bearer " + ", ".join(
            '%s="%s"' % (k, v) for k, v in c.items())}

    def keyvault(self, name, host, path):
        vault = STATE.vaults.get(name)
        if vault is None:
            # a vault name nobody registered does not resolve
            return self.reply(404, raw="")
        api = self.query.get("api-version", [None])[0]
        if api is None:
            return self.kv_error(400, "BadParameter", "The 'api-version' "
                                 "query parameter is missing.")
        if api not in KV_APIS:
            return self.kv_error(400, "BadParameter", "The specified "
                                 "version (%s) is not recognized. Consider "
                                 "using the latest supported version "
                                 "(7.5)." % api)
        auth = self.headers.get("Authorization")
        if auth is None:
            return self.kv_error(401, "Unauthorized", "AKV10000: Request "
                                 "is missing a Bearer or PoP token.",
                                 headers=self.challenge())
        claims = None
        if auth.startswith("Bearer "):
            with STATE.lock:
                claims = STATE.tokens.get(auth[len("Bearer "):])
        if claims is None:
            return self.kv_error(401, "Unauthorized", "AKV10022: Invalid "
                                 "audience.", headers=self.challenge())
        if claims["aud"].rstrip("/") != KV_RESOURCE or \
                claims["tid"] != STATE.tenant:
            return self.kv_error(401, "Unauthorized", "AKV10022: Invalid "
                                 "audience.", headers=self.challenge())
        if claims["exp"] <= time.time():
            return self.kv_error(401, "Unauthorized", "AKV10032: Token "
                                 "expired.", headers=self.challenge())
        allow = vault.get("allow")
        denied = allow is not None and claims["sub"] not in allow
        if self.command != "GET":
            return self.kv_error(405, "BadParameter", "Method not allowed")
        if path == "/secrets" or path == "/secrets/":
            if denied or vault.get("deny_list"):
                return self.kv_error(403, "Forbidden", "The user, group or "
                                     "application does not have secrets "
                                     "list permission on key vault '%s'." %
                                     name, inner="AccessDenied")
            return self.list_page(vault, host)
        m = re.fullmatch(r"/secrets/([^/]+)(?:/([0-9a-f]{32}))?/?", path)
        if not m or not NAME_RE.match(m.group(1)):
            return self.kv_error(400, "BadParameter", "Invalid secret name")
        if denied:
            return self.kv_error(403, "Forbidden", "The user, group or "
                                 "application does not have secrets get "
                                 "permission on key vault '%s'." % name,
                                 inner="AccessDenied")
        return self.get_secret(vault, host, m.group(1), m.group(2))

    def find(self, vault, name):
        for k, v in vault.get("secrets", {}).items():
            if k.lower() == name.lower():
                return k, v
        return None, None

    def version(self, name, n):
        return hashlib.md5(("%s/%d" % (name.lower(), n)).encode()).hexdigest()

    def get_secret(self, vault, host, name, version):
        key, sec = self.find(vault, name)
        versions = [self.version(key, i)
                    for i in range(sec.get("versions", 1))] if sec else []
        if sec is None or (version is not None and version not in versions):
            return self.kv_error(404, "SecretNotFound", "A secret with "
                                 "(name/id) %s was not found in this key "
                                 "vault. If you recently deleted this "
                                 "secret you may be able to recover it "
                                 "using the correct recovery command. For "
                                 "help resolving this issue, please see "
                                 "https://go.microsoft.com/fwlink/?linkid="
                                 "2125182" % (name if version is None else
                                              name + "/" + version))
        if sec.get("enabled", True) is False:
            return self.kv_error(403, "Forbidden", "Operation get is not "
                                 "allowed on a disabled secret.",
                                 inner="SecretDisabled")
        port = self.headers.get("Host", "").partition(":")[2]
        base = "https://%s%s" % (host, ":" + port if port else "")
        out = {"value": sec.get("value", ""),
               "id": "%s/secrets/%s/%s" % (base, key,
                                          version or versions[-1]),
               "attributes": {"enabled": True, "created": CREATED,
                              "updated": CREATED,
                              "recoveryLevel": "Recoverable+Purgeable",
                              "recoverableDays": 90}}
        if "contentType" in sec:
            out["contentType"] = sec["contentType"]
        if "tags" in sec:
            out["tags"] = sec["tags"]
        self.reply(200, out)

    def list_page(self, vault, host):
        names = sorted(vault.get("secrets", {}), key=str.lower)
        size = vault.get("page_size", 25)
        skip = self.query.get("$skiptoken", [None])[0]
        start = 0
        if skip is not None:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(
                    skip + "=" * (-len(skip) % 4)))["n"])
            except (ValueError, KeyError, TypeError):
                return self.kv_error(400, "BadParameter", "Invalid skip "
                                     "token")
        mr = self.query.get("maxresults", [None])[0]
        if mr is not None:
            if not mr.isdigit() or not 1 <= int(mr) <= 25:
                return self.kv_error(400, "BadParameter", "maxresults must "
                                     "be between 1 and 25")
            size = min(size, int(mr))
        port = self.headers.get("Host", "").partition(":")[2]
        port = ":" + port if port else ""
        base = "https://%s%s" % (host, port)
        next_base = "https://%s%s" % (STATE.sc.get("next_link_host", host),
                                      port)
        page = names[start:start + size]
        items = []
        for k in page:
            sec = vault["secrets"][k]
            item = {"id": "%s/secrets/%s" % (base, k),
                    "attributes": {"enabled": sec.get("enabled", True),
                                   "created": CREATED, "updated": CREATED,
                                   "recoveryLevel": "Recoverable+Purgeable",
                                   "recoverableDays": 90}}
            if "contentType" in sec:
                item["contentType"] = sec["contentType"]
            items.append(item)
        nxt = None
        if start + size < len(names):
            token = b64url(json.dumps({"NextMarker": "2!%d" % start,
                                       "n": start + size}).encode())
            # the service writes an older api-version into nextLink
            # (protocol reference 1.3): clients must not rewrite it
            nxt = "%s/secrets?api-version=7.2&$skiptoken=%s&maxresults=%d" \
                % (next_base, token, size)
        self.reply(200, {"value": items, "nextLink": nxt})


def main():
    global STATE
    if len(sys.argv) != 3:
        sys.stderr.write("usage: azure_fake.py SCENARIO.json LOG.jsonl\n")
        return 64
    with open(sys.argv[1], encoding="utf-8") as f:
        STATE = State(json.load(f), sys.argv[2])
    srv = Server(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
