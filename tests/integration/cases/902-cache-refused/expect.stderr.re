^envinject: warning: cache for layer 'service' failed authentication; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: cache for layer 'service' failed authentication; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: cache for layer 'service' failed authentication; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: cache for layer 'service' failed authentication; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: cache for layer 'service' failed authentication \(written with another key\); ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: cache for layer 'service' was written for other options of the layer; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
^envinject: warning: cache for layer 'service' was written for other options of the layer; ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
