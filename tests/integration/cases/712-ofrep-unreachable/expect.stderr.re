^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): no endpoint answered within 2000 ms \(last: connection refused\)$
