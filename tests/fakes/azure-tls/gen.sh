#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the long-lived test CA and the server certificate that
# tests/fakes/azure_fake.py serves (Key Vault and Entra ID names under
# .localhost, which libcurl resolves to loopback, and the real names for
# the SDK cross-check in tests/fixtures/azure).  Test material only: the
# key is public.  Run from this folder: sh gen.sh
set -eu
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days $days \
    -subj "/CN=envinject azure fake test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj "/CN=azure fake"
cat >server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:*.vault.azure.net.localhost,DNS:myvault.vault.azure.net.localhost,DNS:login.localhost,DNS:login.microsoftonline.com.localhost,DNS:*.vault.azure.net,DNS:myvault.vault.azure.net,DNS:login.microsoftonline.com,IP:127.0.0.1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days $days -extfile server.ext
rm -f server.csr server.ext ca.srl ca.key
