^envinject: etcd:http://127\.0\.0\.1:[0-9]+: POST 127\.0\.0\.1:[0-9]+ /v3/kv/range -> 200 \([0-9]+ ms\)$
^envinject: etcd:http://127\.0\.0\.1:[0-9]+: 0 keys in [0-9]+ ms$
^envinject: etcd:http://127\.0\.0\.1:[0-9]+: layer is empty$
^envinject: etcd:http://127\.0\.0\.1:[0-9]+: POST 127\.0\.0\.1:[0-9]+ /etcdserverpb\.KV/Range -> 200 \(gRPC 0\) \([0-9]+ ms\)$
^envinject: etcd:http://127\.0\.0\.1:[0-9]+: 0 keys in [0-9]+ ms$
^envinject: etcd:http://127\.0\.0\.1:[0-9]+: layer is empty$
