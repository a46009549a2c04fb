^envinject: http:http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json \(http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json:1\): expected KEY=VALUE$
