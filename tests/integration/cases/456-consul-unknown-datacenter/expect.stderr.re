envinject: consul:config/app/ \(http://127\.0\.0\.1:[0-9]+\): HTTP 500 after [0-9]+ attempts$
