^envinject: svc \(envinject\.conf:1\): on_error = "cache" needs a cache group in the configuration \(cache = \{ dir = \.\.\.; max_age = \.\.\.; \};\)$
^envinject: file \(envinject\.conf:1\): on_error must be "fail", "cache" or "skip"$
^envinject: file \(envinject\.conf:1\): optional = true contradicts on_error = "fail"$
^envinject: file \(envinject\.conf:1\): optional = false contradicts on_error = "skip"$
^envinject: envinject\.conf:1: cache must be a group
^envinject: envinject\.conf:1: cache: dir is required \(the folder of the cache files\)$
^envinject: envinject\.conf:1: cache: max_age is required
^envinject: envinject\.conf:1: cache: max_age must be a duration from 1s to 366d
^envinject: envinject\.conf:1: cache: max_age must be a duration from 1s to 366d
^envinject: envinject\.conf:1: unknown cache setting 'ttl' \(expected dir, key_file, max_age\)$
^envinject: envinject\.conf:1: cache: no key: set key_file or \$ENVINJECT_CACHE_KEY \(64 hex digits\)$
^envinject: .*/nokey: cache key_file: .*
^envinject: .*/short: cache key must be 64 hex digits \(32 bytes\), found 4 characters$
^envinject: .*/open: cache key_file: readable by group or others \(mode 0644\); run: chmod 600 .*/open$
^envinject: \$ENVINJECT_CACHE_KEY: cache key must be 64 hex digits \(32 bytes\), found 3 characters$
^envinject: .*/loose: cache: the folder is open to group or others \(mode 0755\); run: chmod 700 .*/loose$
^envinject: .*/a\.env: cache: dir is not a folder$
^envinject: envinject\.conf:1: start_splay must be a duration from 0 to 1h
^envinject: envinject\.conf:1: start_splay must be a duration from 0 to 1h
^envinject: --start-splay: '5x' is not a duration
