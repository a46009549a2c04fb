# SPDX-License-Identifier: MIT
# The data of the etcd node of the audit cases (server "etcd audit"): one
# transaction on a fresh node, so the store is at revision 2.
# shellcheck shell=bash
set -e
etcdctl txn -i=false <<'TXN' | grep -q SUCCESS

put /audit/db/host db.audit.internal
put /audit/db/pass @CANARY@


TXN
