^envinject: ofrep: POST 127\.0\.0\.1:[0-9]+ /ofrep/v1/evaluate/flags -> 200 \([0-9]+ ms\)$
^envinject: ofrep: 1 flags from http://127\.0\.0\.1:[0-9]+, 0 left out$
