^fresh 0$
^cached 0$
^  layer service http "\\"[0-9a-f]+\\""$
^  layer service http "cached:\\"[0-9a-f]+\\""$
^key_id same$
^API_KEY same$
^DB_HOST same$
^no canary in the record or cache$
^same revision$
