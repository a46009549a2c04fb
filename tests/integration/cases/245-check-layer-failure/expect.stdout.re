^layer per-env: no such file.* \(@CASEDIR@/config/prod\.env; envinject\.conf:4\)$
^layer broken: expected KEY=VALUE \(broken\.env:2; envinject\.conf:5\)$
^2 problems; nothing validated, since the configuration did not resolve$
^text 66$
^::error file=config/envinject\.conf,line=4,title=envinject check::layer per-env: no such file.* \(@CASEDIR@/config/prod\.env; envinject\.conf:4\)$
^::error file=config/broken\.env,line=2,title=envinject check::layer broken: expected KEY=VALUE \(broken\.env:2; envinject\.conf:5\)$
^github 66$
^json 66$
^false$
^\[null,"layer","per-env","config/envinject\.conf",4\]$
^\[null,"layer","broken","config/broken\.env",2\]$
^::error file=config/bad\.conf,line=2,title=envinject check::syntax error \(config/bad\.conf:2\)$
^syntax 65$
^reference 78$
^\["error","layer per-env: undefined variable NOPE referenced by URL","config/dev\.env",1\]$
