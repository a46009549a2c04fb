^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
^envinject: warning: 2 secret values left out; --reveal writes them$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
^envinject: warning: layer 'service' unavailable \(HTTP 503 after [0-9]+ attempts\); using values cached [0-9]+s ago$
