^envinject: http:http://127\.0\.0\.1:[0-9]+/myapp/nope/settings\.json \(http://127\.0\.0\.1:[0-9]+/myapp/nope/settings\.json\): not found \(HTTP 404\)$
^envinject: warning: http:http://127\.0\.0\.1:[0-9]+/myapp/nope/settings\.json \(http://127\.0\.0\.1:[0-9]+/myapp/nope/settings\.json\): skipped optional layer: not found \(HTTP 404\)$
