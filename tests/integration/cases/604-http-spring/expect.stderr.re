^envinject: http:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+/myapp/default/nope\): not found \(HTTP 404\)$
