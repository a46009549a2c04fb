# SPDX-License-Identifier: MIT
# The data of the single etcd node of the cases with server "etcd main",
# loaded by run-cases.sh with etcdctl (ETCDCTL_ENDPOINTS names the node,
# started with --max-txn-ops 10000), in transactions: one etcdctl each
# instead of one for each key.  A fresh node counts revisions from 1: the
# three bulk transactions are revisions 2 to 4, the other keys are 5.
# shellcheck shell=bash
set -e

# 3000 keys /app/prod/bulk/kNNNN with UTF-8 values, 1000 puts a transaction
for from in 1 1001 2001; do
    awk -v a="$from" 'BEGIN {
        print ""
        for (i = a; i < a + 1000; i++)
            printf "put /app/prod/bulk/k%04d \"värde %d ✓ – ñ 日本 \\\"q\\\"\"\n", i, i
        print ""
        print ""
    }' | etcdctl txn -i=false | grep -q SUCCESS
done

# no comparison, the puts, no puts on failure; values are Go string
# literals, the keys outside /app/prod/ are there to be left out
etcdctl txn -i=false <<'TXN' | grep -q SUCCESS

put /app/prod/db/host db.prod.internal
put /app/prod/db/port 5432
put /app/prod/ "the prefix itself"
put /app/prod//feature.flags//new-checkout on
put /app/prod/database/url "postgres://${DB_HOST}:${DB_PORT}/app"
put /app/prod/cmd "echo $(id) `id`"
put /app/prod/multi "line1\nline2 ✓\n\n"
put /app/prod0 outside-after
put /app/production/db/host outside-sibling
put /app/dev/db/host db.dev.internal
put /app/dev/only/dev yes
put /app/prof/db/host outside-before


TXN
