^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(http://127\.0\.0\.1:[0-9]+/secure/settings\.json\): authentication failed \(HTTP 401, the bearer token of token_file sent; the server asks for: Bearer realm="config", error="invalid_token", Basic realm="config"\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(http://127\.0\.0\.1:[0-9]+/secure/settings\.json\): permission denied \(HTTP 403, the bearer token of token_file sent\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(http://127\.0\.0\.1:[0-9]+/secure/settings\.json\): authentication failed \(HTTP 401, no credentials sent; the server asks for: Bearer realm="config", Basic realm="config"\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(@CASEDIR@/token\): token_file: readable by group or others \(mode 0644\); run: chmod 600 @CASEDIR@/token$
^envinject: http:http://127\.0\.0\.1:[0-9]+/secure/settings\.json \(@CASEDIR@/nope\): token_file: no such file$
