^envinject: http:http://user:pw@127\.0\.0\.1:[0-9]+/x\.json \(url\): credentials in URLs are not allowed: use username and password_file, or token_file$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json#frag \(url\): url has a fragment \(#\.\.\.\), which is never sent to the server: drop it$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json \(format\): unknown format 'toml' \(expected json, dotenv, yaml or spring\)$
^envinject: http: \(--layer #1\): url is required \(such as "http://config-service/myapp/\$\{env\}/settings\.json"\)$
^envinject: http:ftp://127\.0\.0\.1/x\.json \(url\): url is not an http:// or https:// URL$
^envinject: http:http://127\.0\.0\.1:[0-9]+/app\.env \(select\): select applies to format json and yaml only$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json \(username\): username and password_file go together \(HTTP Basic authentication\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json \(application\): application, profile and label are options of format = "spring"$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json \(headers\): header 1: envinject sets Host itself$
^envinject: http:http://127\.0\.0\.1:[0-9]+/x\.json \(--layer #1\): unknown option 'tokenfile' for provider http$
^envinject: http:http://config\.example/x\.json \(--layer #1\): refusing to send a secret layer over plain http to config\.example \(use https, or insecure = true\)$
