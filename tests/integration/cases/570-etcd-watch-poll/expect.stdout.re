^exit 0$
^start LEVEL=one$
^start LEVEL=two$
^envinject: restarting the program: changed LEVEL \(etcd:http://127\.0\.0\.1:[0-9]+\)$
