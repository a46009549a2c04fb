^print 0$
^  layer http:http://127\.0\.0\.1:[0-9]+/myapp/prod/settings\.json http "\\"17c40ca8129d8293eabb3784aee781a1\\""$
^no canary in the record$
