# SPDX-License-Identifier: MIT
# The etcd node of the cases with server "etcd auth", loaded by
# run-cases.sh with etcdctl (ETCDCTL_ENDPOINTS names the node): users root
# and reader, whose role may read /app/prod/ only, and auth enabled.  The
# reader's password has the canary: no message may show it.
# shellcheck shell=bash
set -e
etcdctl put /app/prod/db/host db.auth
etcdctl put /app/dev/db/host db.auth.dev
etcdctl user add root --new-user-password=rootpw --interactive=false
etcdctl user add reader --new-user-password='s3cret pass ✓ @CANARY@' \
    --interactive=false
etcdctl role add appread
etcdctl role grant-permission --prefix=true appread read /app/prod/
etcdctl user grant-role reader appread
etcdctl auth enable
