#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the vault provider against tests/fakes/vault_fake.py, a fake Vault:
# the case folders cases/4NN-vault-* (server "vault SEED", seeds in
# seeds/vault-*.json), run by run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server vault
