#!/bin/bash
# A custom runtime with busybox wget (HTTP/1.1, Connection: close on every request).
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
wget=/var/task/busybox
cd /tmp
while true; do
  $wget wget -q -S -O event "$api/next" 2> head || exit 3
  id=$(grep -i 'Lambda-Runtime-Aws-Request-Id:' head | tr -d '\r' | sed 's/.*: *//')
  op=$(grep -o '"op": *"[a-z]*"' event | head -n1 | sed 's/.*"\([a-z]*\)"$/\1/')
  case "$op" in
    fail)
      $wget wget -q -O /dev/null --header 'Lambda-Runtime-Function-Error-Type: Test.Failure' \
        --post-data '{"errorMessage":"asked to fail","errorType":"Test.Failure"}' "$api/$id/error" ;;
    size)
      n=$(grep -o '"n": *[0-9]*' event | grep -o '[0-9]*$')
      { printf '"'; head -c $((n - 2)) /dev/zero | tr '\0' x; printf '"'; } > response
      # Over the limit, wget reports the 413 and fails: the runtime carries on.
      $wget wget -q -O /dev/null --post-file response "$api/$id/response" ;;
    *)
      $wget wget -q -O /dev/null --post-file event "$api/$id/response" ;;
  esac
done
