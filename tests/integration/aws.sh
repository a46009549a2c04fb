#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the aws-secrets and aws-ssm providers against tests/fakes/aws_fake.py,
# a loopback fake that checks every signature with its own SigV4 code: the
# case folders cases/5NN-aws-* (server "aws SEED", seeds in
# seeds/aws-*.json), run by run-cases.sh.  Every case sets
# AWS_EC2_METADATA_DISABLED=true (or points it at the fake), so nothing but
# loopback is ever contacted.
exec "$(dirname "$0")/run-cases.sh" --server aws
