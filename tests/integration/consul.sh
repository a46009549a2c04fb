#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the consul provider against tests/fakes/consul_fake.py, a fake
# Consul agent: the case folders cases/45N-consul-* and 46N-consul-*
# (server "consul SEED", seeds in seeds/consul-*.json), run by
# run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server consul
