# SPDX-License-Identifier: MIT
# The data of the etcd node of the cases with server "etcd refs": keys that
# ref+etcd:// references name (run-cases.sh runs it with etcdctl, with
# ETCDCTL_ENDPOINTS naming the node; @CANARY@ is replaced).
# shellcheck shell=bash
set -e
etcdctl put /refs/db/password '@CANARY@' >/dev/null
etcdctl put /refs/app/config '{"db": {"user": "app", "password": "@CANARY@"}}' >/dev/null
etcdctl put /refs/plain 'db.internal:5432' >/dev/null
