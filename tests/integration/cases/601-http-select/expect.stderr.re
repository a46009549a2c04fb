^envinject: http:http://127\.0\.0\.1:[0-9]+/wrapped\.json \(http://127\.0\.0\.1:[0-9]+/wrapped\.json\): select "/data/nope": the object at "/data" has no member "nope"$
^envinject: http:http://127\.0\.0\.1:[0-9]+/wrapped\.json \(http://127\.0\.0\.1:[0-9]+/wrapped\.json\): select "/meta/version" is a number, not an object$
^envinject: http:http://127\.0\.0\.1:[0-9]+/wrapped\.json \(http://127\.0\.0\.1:[0-9]+/wrapped\.json\): select "/items/-": "-" at "/items" names the element after the last of the array, which never exists$
^envinject: http:http://127\.0\.0\.1:[0-9]+/wrapped\.json \(http://127\.0\.0\.1:[0-9]+/wrapped\.json\): select "/items/01": "/items" holds an array, and an array index is 0 or digits without a leading zero$
^envinject: http:http://127\.0\.0\.1:[0-9]+/wrapped\.json \(select\): select is a JSON Pointer \(RFC 6901\): "" or "/member/0/\.\.\.", starting with '/'$
