^envinject: env \(--layer #1\): poll_interval must be from 100 to 86400000 ms$
