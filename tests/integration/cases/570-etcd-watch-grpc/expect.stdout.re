^exit 0$
^start LEVEL=one EXTRA=x$
^start LEVEL=two EXTRA=x$
^start LEVEL=two EXTRA=unset$
^the same value restarted nothing$
^each change ended a watch stream$
^envinject: restarting the program: changed LEVEL \(etcd:http://127\.0\.0\.1:[0-9]+\)$
^envinject: restarting the program: changed EXTRA \(etcd:http://127\.0\.0\.1:[0-9]+, removed\)$
