^envinject: audit: no key: set key_file or \$ENVINJECT_AUDIT_KEY \(64 hex digits\)$
^envinject: audit: no key: set key_file or \$ENVINJECT_AUDIT_KEY \(64 hex digits\)$
^envinject: \$ENVINJECT_AUDIT_KEY: audit key must be 64 hex digits \(32 bytes\), found 8 characters$
^envinject: /.*/open\.key: audit key_file: readable by group or others \(mode 0644\); run: chmod 600 /.*/open\.key$
^envinject: /.*/none\.key: audit key_file: no such file$
^envinject: bad\.conf:1: audit must be a group: audit = \{ path = \.\.\.; key_file = \.\.\.; \};$
^envinject: bad\.conf:1: unknown audit setting 'color' \(expected path, key_file, required\)$
^envinject: bad\.conf:1: audit: path must be a non-empty string \(a path\)$
^envinject: bad\.conf:1: audit: required must be true or false$
^envinject: bad\.conf:1: audit: key_file must be a non-empty string \(a path\)$
^envinject: nopath\.conf:1: audit: path is required \(or run --audit PATH\)$
^envinject: audit: no key: set key_file or \$ENVINJECT_AUDIT_KEY \(64 hex digits\)$
