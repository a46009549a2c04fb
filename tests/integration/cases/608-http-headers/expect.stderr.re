^envinject: http:http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json \(headers\): header 1 has a control character \(CR, LF, \.\.\.\) in its value$
^envinject: http:http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json \(headers\): header 1 is not "Name: value" \(a name of letters, digits and !#\$%&'\*\+-\.\^_`\|~, then ':'\)$
^envinject: http:http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json \(headers\): header 1 is an Authorization header, and token_file or username gives one too: choose one$
