^envinject: gone \(http://127\.0\.0\.1:[0-9]+/c903a/prod/settings\.json\): .*404
^envinject: locked \(http://127\.0\.0\.1:[0-9]+/c903b/prod/settings\.json\): .*403
^envinject: warning: layer 'maybe' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
^envinject: warning: layer 'maybe' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
^envinject: warning: maybe \(http://127\.0\.0\.1:[0-9]+\): skipped optional layer: HTTP 503 after [0-9]+ attempts$
