^fresh 0$
^cached 0$
^  layer service http "keyed:[0-9a-f]{64}"$
^  layer service http "cached:keyed:[0-9a-f]{64}"$
^key_id same$
^API_KEY same$
^DB_HOST same$
^no canary in the record or cache$
^same revision$
