^envinject: http:http://127\.0\.0\.1:[0-9]+/down/settings\.json \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: http:http://127\.0\.0\.1:[0-9]+/slow/settings\.json \(http://127\.0\.0\.1:[0-9]+\): no endpoint answered within [0-9]+ ms \(last: timeout\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/settings\.json \(http://127\.0\.0\.1:[0-9]+\): no endpoint answered within [0-9]+ ms \(last: connection refused\)$
^envinject: warning: http:http://127\.0\.0\.1:[0-9]+/settings\.json \(http://127\.0\.0\.1:[0-9]+\): skipped optional layer: no endpoint answered within [0-9]+ ms \(last: connection refused\)$
