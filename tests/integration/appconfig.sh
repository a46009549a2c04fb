#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the aws-appconfig provider against tests/fakes/aws-appconfig_fake.py,
# a loopback fake of AppConfig Data and of the AppConfig Agent that checks
# every Data API signature with aws_fake.py's SigV4 verifier (service
# appconfig) and serves each token once: the case folders
# cases/6NN-appconfig-* (server "aws-appconfig SEED", seeds in
# seeds/aws-appconfig-*.json), run by run-cases.sh.  Every case sets
# AWS_EC2_METADATA_DISABLED=true, so nothing but loopback is contacted.
exec "$(dirname "$0")/run-cases.sh" --server aws-appconfig
