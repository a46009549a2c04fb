^envinject: per-env \(@CASEDIR@/config/prod\.env\): no such file.*$
^envinject: per-env \(@CASEDIR@/config/prod\.env\): no such file.*$
^envinject: config/bad\.conf:2: syntax error$
^envinject: per-env \(dev\.env:1\): undefined variable NOPE referenced by URL$
