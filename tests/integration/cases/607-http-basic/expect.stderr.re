^envinject: http:http://127\.0\.0\.1:[0-9]+/basic/settings\.json \(http://127\.0\.0\.1:[0-9]+/basic/settings\.json\): authentication failed \(HTTP 401, basic authentication sent; the server asks for: Bearer realm="config", Basic realm="config"\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/basic/settings\.json \(http://127\.0\.0\.1:[0-9]+/basic/settings\.json\): permission denied \(HTTP 403, basic authentication sent\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/basic/settings\.json \(token_file\): give token_file \(Bearer\) or username and password_file \(Basic\), not both$
^envinject: basic \(@CASEDIR@/password\): password_file: readable by group or others \(mode 0640\); run: chmod 600 @CASEDIR@/password$
