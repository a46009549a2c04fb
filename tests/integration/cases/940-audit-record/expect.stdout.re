^started; key passed: no$
^run 0$
^mode 600$
^record 1: environment=prod program="sh" key_id=ed7bcfb7e9469c8f config=sha256$
^  layer defaults file "sha256:[0-9a-f]{64}"$
^  layer files dir "keyed:d474f6bf54b81ed54a6cac4499a4675123ae180ef7cd21104ecddff1587300e3"$
^  layer host env null$
^  key A defaults db8f950cf196d0ef85b87edd923b2f28c09a00dfa5a40a42bb7fc0ba9593116b$
^  key APP_MODE host 870daaffe071ada097607b57d3dbfbdaab39f9819ea203f6ea23b15c4aaa1d50$
^  key DB_PASS defaults [0-9a-f]{64}$
^  key LOG defaults fe2d91bddfc400e0db38dc49712315c51b2b384739c53bed19cea55496eadebc$
^  key TOKEN files e4f0c523d776fe2635e600e55e2584d676b9f8e7b5b14d5f24f5038624014798$
^file revision: the file's SHA-256$
^dir keyed:d474f6bf54b81ed54a6cac4499a4675123ae180ef7cd21104ecddff1587300e3$
^no canary in the record$
^no value in the record$
^db8f950cf196d0ef85b87edd923b2f28c09a00dfa5a40a42bb7fc0ba9593116b$
^DB_PASS hash as computed$
^run 0$
^2$
^key_id same$
^A same$
^APP_MODE same$
^DB_PASS same$
^LOG same$
^TOKEN same$
^print 0$
^record 1: environment=prod program=null key_id=ed7bcfb7e9469c8f config=sha256$
^key_id same$
^A same$
^APP_MODE same$
^DB_PASS same$
^LOG same$
^TOKEN same$
^no path 64$
^reveal 64$
^key 64$
