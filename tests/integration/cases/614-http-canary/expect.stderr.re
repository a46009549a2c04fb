^envinject: secure: GET 127\.0\.0\.1:[0-9]+ /secure/settings\.json -> 200 \([0-9]+ ms\)$
^envinject: secure: ETag kept for the next read \(34 bytes\)$
^envinject: secure: 1 key in [0-9]+ ms$
^envinject: warning: 1 secret value left out; --reveal writes it$
^envinject: secure: GET 127\.0\.0\.1:[0-9]+ /secure/settings\.json -> 200 \([0-9]+ ms\)$
^envinject: secure: ETag kept for the next read \(34 bytes\)$
^envinject: secure: 1 key in [0-9]+ ms$
^envinject: warning: 1 secret value left out; --reveal writes it$
^envinject: secure: GET 127\.0\.0\.1:[0-9]+ /secure/settings\.json -> 200 \([0-9]+ ms\)$
^envinject: secure: ETag kept for the next read \(34 bytes\)$
^envinject: secure: 1 key in [0-9]+ ms$
^envinject: http:http://127\.0\.0\.1:[0-9]+/broken\.json: GET 127\.0\.0\.1:[0-9]+ /broken\.json -> 200 \([0-9]+ ms\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/broken\.json \(http://127\.0\.0\.1:[0-9]+/broken\.json:1\): '\}' expected near end of file at column 51$
^envinject: http:http://127\.0\.0\.1:[0-9]+/login\.json: GET 127\.0\.0\.1:[0-9]+ /login\.json -> 200 \([0-9]+ ms\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/login\.json \(http://127\.0\.0\.1:[0-9]+/login\.json\): the server sent an HTML page \(Content-Type text/html, 92 bytes\), not json: a login page or a proxy's error page\?$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json: GET 127\.0\.0\.1:[0-9]+ /secure/settings\.json -> 401 \([0-9]+ ms\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(http://127\.0\.0\.1:[0-9]+/secure/settings\.json\): authentication failed \(HTTP 401, the Authorization header of headers sent; the server asks for: Bearer realm="config", error="invalid_token", Basic realm="config"\)$
