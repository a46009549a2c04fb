envinject: warning: vault:secret/app/prod \(http://127\.0\.0\.1:[0-9]+\): skipped optional layer: HTTP 503 after [0-9]+ attempts$
envinject: vault \(auth/approle/login\): Vault is sealed \(HTTP 503\)$
