^envinject: ofrep:http://127\.0\.0\.1:[0-9]+/flags \(http://127\.0\.0\.1:[0-9]+/flags\): no OFREP bulk evaluation at /ofrep/v1/evaluate/flags \(HTTP 404\)$
^envinject: warning: ofrep:http://127\.0\.0\.1:[0-9]+/flags \(http://127\.0\.0\.1:[0-9]+/flags\): skipped optional layer: no OFREP bulk evaluation at /ofrep/v1/evaluate/flags \(HTTP 404\)$
