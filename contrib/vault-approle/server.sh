#!/bin/sh
# SPDX-License-Identifier: MIT
# Stand-in for the application of the example image: shows what it got
# (lengths only: never print secrets) and waits.
echo "listening on port $PORT, log level $LOG_LEVEL"
echo "DATABASE_PASSWORD: ${#DATABASE_PASSWORD} bytes, STRIPE_API_KEY: ${#STRIPE_API_KEY} bytes"
exec sleep infinity
