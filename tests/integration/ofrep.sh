#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the ofrep provider against tests/fakes/ofrep_fake.py, a fake OFREP
# server whose answers are flagd's own evaluations: the case folders
# cases/7NN-ofrep-* (server "ofrep SEED", seeds in seeds/ofrep-*.json),
# run by run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server ofrep
