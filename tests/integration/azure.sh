#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the azure-keyvault provider against tests/fakes/azure_fake.py, a
# fake Key Vault and Entra ID (https with the test CA of
# tests/fakes/azure-tls, and plain http for managed identity): the case
# folders cases/8NN-azure-* (server "azure SEED", seeds in
# seeds/azure-*.json), run by run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server azure
