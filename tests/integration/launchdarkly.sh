#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the launchdarkly provider against tests/fakes/launchdarkly_fake.py,
# a fake of LaunchDarkly's polling endpoint: the case folders
# cases/73N-ld-* and 74N-ld-* (server "launchdarkly SEED", seeds in
# seeds/launchdarkly-*.json), run by run-cases.sh.
exec "$(dirname "$0")/run-cases.sh" --server launchdarkly
