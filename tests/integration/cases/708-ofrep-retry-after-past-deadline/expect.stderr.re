^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): HTTP 429 after 1 attempt \(retry after 3600 s is past the deadline\)$
