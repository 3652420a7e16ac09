#!/bin/bash
# A custom runtime with curl, the way the Lambda custom-runtime tutorial writes
# one; $CURL_ARGS picks the framing (default options, Connection: close, HTTP/1.0).
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
cd /tmp
while true; do
  curl -sS $CURL_ARGS -D head -o event "$api/next" || exit 3
  id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' head | tr -d '\r' | cut -d' ' -f2)
  op=$(grep -o '"op": *"[a-z]*"' event | head -n1 | sed 's/.*"\([a-z]*\)"$/\1/')
  case "$op" in
    fail)
      curl -sS $CURL_ARGS -o /dev/null -H 'Lambda-Runtime-Function-Error-Type: Test.Failure' \
        --data-binary '{"errorMessage":"asked to fail","errorType":"Test.Failure"}' "$api/$id/error" ;;
    size)
      n=$(grep -o '"n": *[0-9]*' event | grep -o '[0-9]*$')
      { printf '"'; head -c $((n - 2)) /dev/zero | tr '\0' x; printf '"'; } > response
      curl -sS $CURL_ARGS -o /dev/null --data-binary @response "$api/$id/response" ;;
    *)
      curl -sS $CURL_ARGS -o /dev/null --data-binary @event "$api/$id/response" ;;
  esac
done
