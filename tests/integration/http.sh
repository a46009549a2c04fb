#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the http provider against tests/fakes/http_fake.py, a fake
# configuration service (generic JSON, dotenv and YAML documents, Spring
# Cloud Config): the case folders cases/60N-http-* to 64N-http-* and the
# last-known-good cache cases/90N-cache-* (server
# "http SEED", seeds in seeds/http-*.json), run by run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server http
