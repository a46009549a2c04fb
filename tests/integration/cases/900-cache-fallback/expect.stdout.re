^fresh 0$
^folder 700$
^file 600$
^1$
^no canary in the file$
^no value in the file$
^# layer=service provider=http locator=http://127\.0\.0\.1:[0-9]+/c900/prod/settings\.json \(cached, age [0-9]+s\) secret$
^# API_KEY is secret: left out \(--reveal writes it\)$
^# layer=service provider=http locator=http://127\.0\.0\.1:[0-9]+/c900/prod/settings\.json \(cached, age [0-9]+s\) overrides=defaults secret$
^# DB_HOST is secret: left out \(--reveal writes it\)$
^LOG_LEVEL=info$
^cached 0$
^DB_HOST$
^  defaults  file  defaults\.env:2 +localhost$
^\* service   http  http://127\.0\.0\.1:[0-9]+/c900/prod/settings\.json \(cached, age [0-9]+s\)  <secret>$
^  final: <secret>$
^explain 0$
^run: reached$
^run: db\.c900$
^run 0$
^key passed: no$
^0$
^db\.c900$
^quiet 0$
