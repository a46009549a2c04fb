^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached 23h3m ago$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached 1d ago$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts; the cache is too old \(written 1d ago, max_age 1d\)$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts; the cache is too old \(written 8d ago, max_age 1d\)$
^envinject: warning: cache for layer 'service' was written in the future \(was the clock changed\?\); ignored$
^envinject: service \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached 0s ago$
