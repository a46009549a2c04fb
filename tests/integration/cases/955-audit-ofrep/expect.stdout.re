^print 0$
^print 0$
^  layer ofrep ofrep "\\"[0-9a-f]{32}\\""$
^  layer ofrep ofrep "\\"[0-9a-f]{32}\\""$
^compared$
