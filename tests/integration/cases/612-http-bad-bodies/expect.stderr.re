^envinject: http:http://127\.0\.0\.1:[0-9]+/broken\.json \(http://127\.0\.0\.1:[0-9]+/broken\.json:1\): '\}' expected near end of file at column 51$
^envinject: http:http://127\.0\.0\.1:[0-9]+/array\.json \(http://127\.0\.0\.1:[0-9]+/array\.json\): top level is an array, expected an object$
^envinject: http:http://127\.0\.0\.1:[0-9]+/login\.json \(http://127\.0\.0\.1:[0-9]+/login\.json\): the server sent an HTML page \(Content-Type text/html, 92 bytes\), not json: a login page or a proxy's error page\?$
^envinject: http:http://127\.0\.0\.1:[0-9]+/moved/settings\.json \(http://127\.0\.0\.1:[0-9]+/moved/settings\.json\): the server redirects \(HTTP 302\) to https://sso\.example/login; envinject follows no redirect: set url to the final address$
