^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): bulk reply: malformed JSON at byte [0-9]+ of [0-9]+: .*$
^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): bulk reply: malformed JSON at byte [0-9]+ of [0-9]+: .*$
^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): bulk reply: flag a appears twice$
^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): bulk reply: flags\[0\] has no key$
^envinject: ofrep:http://127\.0\.0\.1:[0-9]+ \(http://127\.0\.0\.1:[0-9]+\): the server answered 304 Not Modified to a request without If-None-Match$
