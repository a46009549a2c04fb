^envinject: ofrep \(http://127\.0\.0\.1:[0-9]+\): authentication failed \(HTTP 401, bearer token from token_file .*/token\)$
^envinject: ofrep \(http://127\.0\.0\.1:[0-9]+\): permission denied \(HTTP 403, bearer token from token_file .*/token\)$
^envinject: ofrep \(.*/token\): token_file: readable by group or others \(mode 0644\); run: chmod 600 .*/token$
^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): authentication failed \(HTTP 401, no credentials: set token_file or an Authorization header in headers\)$
