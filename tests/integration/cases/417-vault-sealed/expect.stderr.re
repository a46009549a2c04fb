envinject: vault:secret/app/prod \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
