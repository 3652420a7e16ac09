#!/bin/sh
# AWS_LAMBDA_EXEC_WRAPPER: run this directory's client instead of wick's runtime client.
if command -v node >/dev/null 2>&1; then exec node /var/task/client.js; fi
exec python3 /var/task/client.py
