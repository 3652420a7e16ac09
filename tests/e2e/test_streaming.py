"""Response streaming end to end (issue 13): boto3's invoke_with_response_stream
-> wickd (application/vnd.amazon.eventstream, HTTP chunked) -> wick-agent
(ResponseChunk frames) -> a runtime posting its response with
Lambda-Runtime-Function-Response-Mode: streaming. The runtimes: a bash
bootstrap on provided.al2023 writing chunked HTTP by hand (so the chunks,
pauses and trailers are exactly what the test says), and a Node.js handler
using awslambda.streamifyResponse through wick's runtime client."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

import boto3
import botocore.config
import botocore.session
import pytest

from conftest import (ACCESS_KEY_ID, ROLE, SECRET_ACCESS_KEY, aws_env, client_for, make_zip,
                      running_daemon, wait_active)

# InvokeWithResponseStream as AWS's Lambda model defines it (botocore 1.29.100
# and later ship it). Debian 12's botocore (1.29.27) predates it: the client
# then gets the model it has plus these shapes, so it decodes the event
# stream with its own (unchanged) eventstream parser.
STREAMING_SHAPES = {
    "InvokeWithResponseStreamRequest": {
        "type": "structure", "required": ["FunctionName"], "payload": "Payload",
        "members": {
            "FunctionName": {"shape": "NamespacedFunctionName", "location": "uri",
                             "locationName": "FunctionName"},
            "InvocationType": {"shape": "ResponseStreamingInvocationType", "location": "header",
                               "locationName": "X-Amz-Invocation-Type"},
            "LogType": {"shape": "LogType", "location": "header", "locationName": "X-Amz-Log-Type"},
            "ClientContext": {"shape": "String", "location": "header",
                              "locationName": "X-Amz-Client-Context"},
            "Qualifier": {"shape": "Qualifier", "location": "querystring",
                          "locationName": "Qualifier"},
            "Payload": {"shape": "Blob"}}},
    "InvokeWithResponseStreamResponse": {
        "type": "structure", "payload": "EventStream",
        "members": {
            "StatusCode": {"shape": "Integer", "location": "statusCode"},
            "ExecutedVersion": {"shape": "Version", "location": "header",
                                "locationName": "X-Amz-Executed-Version"},
            "EventStream": {"shape": "InvokeWithResponseStreamResponseEvent"},
            "ResponseStreamContentType": {"shape": "String", "location": "header",
                                          "locationName": "Content-Type"}}},
    "InvokeWithResponseStreamResponseEvent": {
        "type": "structure", "eventstream": True,
        "members": {"PayloadChunk": {"shape": "InvokeResponseStreamUpdate"},
                    "InvokeComplete": {"shape": "InvokeWithResponseStreamCompleteEvent"}}},
    "InvokeResponseStreamUpdate": {
        "type": "structure", "event": True,
        "members": {"Payload": {"shape": "Blob", "eventpayload": True}}},
    "InvokeWithResponseStreamCompleteEvent": {
        "type": "structure", "event": True,
        "members": {"ErrorCode": {"shape": "String"}, "ErrorDetails": {"shape": "String"},
                    "LogResult": {"shape": "String"}}},
    "ResponseStreamingInvocationType": {"type": "string", "enum": ["RequestResponse", "DryRun"]},
}


def streaming_client(daemon, model_dir):
    """A boto3 Lambda client with invoke_with_response_stream."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("lambda", "service-2")
    if "InvokeWithResponseStream" not in model["operations"]:
        model["shapes"].update(STREAMING_SHAPES)
        model["operations"]["InvokeWithResponseStream"] = {
            "name": "InvokeWithResponseStream",
            "http": {"method": "POST",
                     "requestUri": "/2021-11-15/functions/{FunctionName}/response-streaming-invocations"},
            "input": {"shape": "InvokeWithResponseStreamRequest"},
            "output": {"shape": "InvokeWithResponseStreamResponse"},
            "errors": [{"shape": name} for name in (
                "ServiceException", "ResourceNotFoundException", "InvalidRequestContentException",
                "RequestTooLargeException", "TooManyRequestsException",
                "InvalidParameterValueException") if name in model["shapes"]]}
        version = model["metadata"]["apiVersion"]
        os.makedirs(os.path.join(model_dir, "lambda", version), exist_ok=True)
        with open(os.path.join(model_dir, "lambda", version, "service-2.json"), "w") as f:
            json.dump(model, f)
        loader.search_paths.insert(0, model_dir)
    client = boto3.Session(botocore_session=session).client(
        "lambda", endpoint_url=daemon.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=300))
    assert hasattr(client, "invoke_with_response_stream")
    return client


@pytest.fixture()
def lam(daemon, tmp_path):
    return streaming_client(daemon, str(tmp_path / "models"))

# Reads `next` with curl; the response goes over /dev/tcp by hand. The event
# is a JSON string of words: "CHUNKS PAUSE [fail|big MIB|close]".
STREAMING_BOOTSTRAP = r"""#!/bin/bash
export LC_ALL=C
API=$AWS_LAMBDA_RUNTIME_API
HOST=${API%:*}
PORT=${API#*:}
while true; do
  HEADERS=/tmp/next-headers
  EVENT=$(curl -sS -D $HEADERS "http://$API/2018-06-01/runtime/invocation/next")
  ID=$(grep -i '^lambda-runtime-aws-request-id:' $HEADERS | tr -d '\r' | cut -d' ' -f2)
  set -- $(echo "$EVENT" | tr -d '"')
  CHUNKS=$1; PAUSE=$2; MODE=$3; MIB=$4
  exec 3<>/dev/tcp/$HOST/$PORT
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nLambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\nContent-Type: text/plain\r\n\r\n' "$ID" "$API" >&3
  if [ "$MODE" = big ]; then
    for i in $(seq "$MIB"); do
      printf '100000\r\n' >&3
      head -c 1048576 /dev/zero >&3
      printf '\r\n' >&3
    done
  else
    for i in $(seq "$CHUNKS"); do
      LINE="chunk $i at $(date +%s.%N)"
      printf '%x\r\n%s\r\n' "${#LINE}" "$LINE" >&3
      echo "wrote chunk $i"
      sleep "$PAUSE"
    done
  fi
  if [ "$MODE" = fail ]; then
    BODY=$(printf '{"errorType":"StreamBroke","errorMessage":"failed after %s chunks"}' "$CHUNKS" | base64 -w0)
    printf '0\r\nLambda-Runtime-Function-Error-Type: StreamBroke\r\nLambda-Runtime-Function-Error-Body: %s\r\n\r\n' "$BODY" >&3
  else
    printf '0\r\n\r\n' >&3
  fi
  read -r STATUS <&3
  echo "runtime api: $STATUS"
  exec 3>&-
done
"""

NODE_HANDLER = r"""
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.http) {
    responseStream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201, headers: {'x-custom': 'yes'}});
  } else {
    responseStream.setContentType('text/plain');
  }
  for (let i = 1; i <= event.chunks; i++) {
    responseStream.write(`node chunk ${i} at ${Date.now()}\n`);
    await new Promise((resolve) => setTimeout(resolve, event.pause * 1000));
  }
  if (event.fail) throw new Error('node stream broke');
  responseStream.end();
});
exports.buffered = async (event) => ({hello: event.name});
"""


def create_bash(lam, name, **overrides):
    args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none",
                Code={"ZipFile": make_zip({"bootstrap": (STREAMING_BOOTSTRAP.encode(), 0o755)})},
                Timeout=60, MemorySize=256)
    args.update(overrides)
    lam.create_function(**args)
    wait_active(lam, name)


def read_stream(response):
    """(chunks with their arrival times, the InvokeComplete event, time of the end)."""
    chunks = []
    complete = None
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append((time.monotonic(), event["PayloadChunk"]["Payload"]))
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    return chunks, complete, time.monotonic()


def test_chunks_arrive_before_the_function_ends(lam):
    create_bash(lam, "bash-stream")
    # A warm environment: the figure below is the stream's, not a cold start's.
    read_stream(lam.invoke_with_response_stream(FunctionName="bash-stream",
                                                Payload=json.dumps("1 0").encode()))
    started = time.monotonic()
    response = lam.invoke_with_response_stream(FunctionName="bash-stream",
                                               Payload=json.dumps("3 1.5").encode(),
                                               LogType="Tail")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    chunks, complete, ended = read_stream(response)
    body = b"".join(data for _, data in chunks)
    assert [line.split(b" at ")[0] for line in body.split(b"chunk ")[1:]] == [b"1", b"2", b"3"]
    first_byte = chunks[0][0] - started
    print(f"\ntime to first byte {first_byte * 1000:.1f} ms; whole stream {(ended - started) * 1000:.0f} ms")
    # The function pauses 1.5 s after each chunk: the first came long before the end.
    assert ended - chunks[0][0] > 2.0, (first_byte, ended - started)
    assert complete is not None and "ErrorCode" not in complete, complete
    tail = base64.b64decode(complete["LogResult"]).decode()
    assert "wrote chunk 3" in tail and "REPORT RequestId:" in tail


def test_an_error_mid_stream_is_in_invoke_complete(lam):
    create_bash(lam, "bash-fail")
    response = lam.invoke_with_response_stream(FunctionName="bash-fail",
                                               Payload=json.dumps("2 0 fail").encode())
    chunks, complete, _ = read_stream(response)
    assert b"chunk 2" in b"".join(data for _, data in chunks)
    assert complete["ErrorCode"] == "StreamBroke", complete
    assert "failed after 2 chunks" in complete["ErrorDetails"]
    # The environment stays usable (a function error, as on Lambda).
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(
        FunctionName="bash-fail", Payload=json.dumps("1 0").encode()))
    assert b"chunk 1" in chunks[0][1] and "ErrorCode" not in complete


def test_a_timeout_mid_stream_is_in_invoke_complete(lam):
    create_bash(lam, "bash-slow", Timeout=2)
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(
        FunctionName="bash-slow", Payload=json.dumps("10 1").encode()))
    assert chunks and b"chunk 1" in chunks[0][1]
    assert complete["ErrorCode"] == "Sandbox.Timedout", complete
    assert "Task timed out after 2.00 seconds" in complete["ErrorDetails"]


def test_a_client_that_goes_away_does_not_stop_the_function(lam, daemon):
    create_bash(lam, "bash-leaver")
    response = lam.invoke_with_response_stream(FunctionName="bash-leaver",
                                               Payload=json.dumps("3 0.5").encode())
    first = next(iter(response["EventStream"]))
    assert "PayloadChunk" in first
    response["EventStream"].close()  # gone after the first chunk
    # The function runs to its end, as on Lambda: all its chunks, then REPORT.
    logs = client_for(daemon, "logs")
    deadline = time.time() + 20
    messages = []
    while time.time() < deadline:
        events = logs.filter_log_events(logGroupName="/aws/lambda/bash-leaver")["events"]
        messages = [event["message"] for event in events]
        if any(message.startswith("REPORT") for message in messages):
            break
        time.sleep(0.2)
    assert any("wrote chunk 3" in message for message in messages), messages
    report = next(message for message in messages if message.startswith("REPORT"))
    assert "Status" not in report, report
    # And wickd serves the next one.
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(
        FunctionName="bash-leaver", Payload=json.dumps("1 0").encode()))
    assert b"chunk 1" in chunks[0][1] and "ErrorCode" not in complete


def test_a_buffered_invoke_of_a_streaming_function_gets_the_whole_body(lam):
    create_bash(lam, "bash-buffered")
    reply = lam.invoke(FunctionName="bash-buffered", Payload=json.dumps("3 0").encode())
    body = reply["Payload"].read()
    assert "FunctionError" not in reply
    assert body.count(b"chunk ") == 3


def test_errors_before_the_stream_are_aws_errors(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke_with_response_stream(FunctionName="nope", Payload=b"{}")
    create_bash(lam, "bash-errors")
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke_with_response_stream(FunctionName="bash-errors", Payload=b"{not json")
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke_with_response_stream(FunctionName="bash-errors",
                                        Payload=b'"' + b"x" * (6 << 20) + b'"')
    dry = lam.invoke_with_response_stream(FunctionName="bash-errors", InvocationType="DryRun",
                                          Payload=b"{}")
    assert dry["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.put_function_concurrency(FunctionName="bash-errors", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke_with_response_stream(FunctionName="bash-errors", Payload=b"\"1 0\"")


def test_a_function_that_does_not_stream_is_one_chunk(lam):
    bootstrap = (b"#!/bin/sh\nwhile true; do\n"
                 b"  ID=$(curl -sS -D - -o /dev/null http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"
                 b" | tr -d '\\r' | grep -i '^lambda-runtime-aws-request-id:' | cut -d' ' -f2)\n"
                 b"  curl -sS -o /dev/null -d '{\"whole\":true}' http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response\n"
                 b"done\n")
    lam.create_function(FunctionName="plain", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code={"ZipFile": make_zip({"bootstrap": (bootstrap, 0o755)})})
    wait_active(lam, "plain")
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(FunctionName="plain",
                                                                      Payload=b"{}"))
    assert [data for _, data in chunks] == [b'{"whole":true}']
    assert complete == {} or "ErrorCode" not in complete


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def agent_pids(daemon_pid):
    """wick-agent processes descending from this wickd."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if not f.read().startswith(b"wick-agent\0"):
                    continue
            pid = int(entry)
            ancestor = pid
            while ancestor > 1:
                with open(f"/proc/{ancestor}/status") as f:
                    ancestor = int(next(l for l in f if l.startswith("PPid:")).split()[1])
                if ancestor == daemon_pid:
                    found.append(pid)
                    break
        except (OSError, StopIteration):
            continue
    return found


def test_a_200_mb_stream_keeps_wickd_and_the_agent_small(lam, daemon):
    create_bash(lam, "bash-big", Timeout=300)
    read_stream(lam.invoke_with_response_stream(FunctionName="bash-big",
                                                Payload=json.dumps("1 0").encode()))
    agents = agent_pids(daemon.process.pid)
    assert len(agents) == 1, agents
    # The peaks start from now (clear_refs 5 resets VmHWM to the current RSS).
    for pid in (daemon.process.pid, agents[0]):
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    wickd_before = rss_kib(daemon.process.pid, "VmHWM")
    agent_before = rss_kib(agents[0], "VmHWM")
    response = lam.invoke_with_response_stream(FunctionName="bash-big",
                                               Payload=json.dumps("0 0 big 200").encode())
    total = 0
    complete = None
    started = time.monotonic()
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            total += len(event["PayloadChunk"]["Payload"])
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    seconds = time.monotonic() - started
    assert total == 200 << 20
    assert complete is not None and "ErrorCode" not in complete, complete
    wickd_growth = rss_kib(daemon.process.pid, "VmHWM") - wickd_before
    agent_after = rss_kib(agents[0], "VmHWM")
    print(f"\n200 MiB in {seconds:.1f} s ({200 / seconds:.0f} MiB/s); wickd VmHWM +{wickd_growth} KiB;"
          f" agent VmHWM {agent_before} -> {agent_after} KiB")
    assert wickd_growth < 64 << 10
    assert agent_after - agent_before < 16 << 10


def test_over_200_mb_fails_with_response_size_too_large(lam):
    create_bash(lam, "bash-huge", Timeout=300)
    response = lam.invoke_with_response_stream(FunctionName="bash-huge",
                                               Payload=json.dumps("0 0 big 201").encode())
    total = 0
    complete = None
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            total += len(event["PayloadChunk"]["Payload"])
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert total <= 200 << 20
    assert complete["ErrorCode"] == "Function.ResponseSizeTooLarge", complete


def test_the_bandwidth_shape_is_an_option(tmp_path):
    """stream_bandwidth_shaping: the burst at full speed, then the rate (here
    1 MiB, then 1 MiB/s: 4 MiB take about 3 s); off (every other test), the
    same stream takes a fraction of that."""
    config = tmp_path / "wickd.conf"
    config.write_text("stream_bandwidth_shaping: true\n"
                      "stream_bytes_per_second: 1048576\nstream_burst_bytes: 1048576\n")
    with running_daemon("wick-e2e-shape-", ["--config", str(config)]) as shaped:
        lam = streaming_client(shaped, str(tmp_path / "models"))
        create_bash(lam, "bash-shaped")
        read_stream(lam.invoke_with_response_stream(FunctionName="bash-shaped",
                                                    Payload=json.dumps("1 0").encode()))
        started = time.monotonic()
        chunks, complete, ended = read_stream(lam.invoke_with_response_stream(
            FunctionName="bash-shaped", Payload=json.dumps("0 0 big 4").encode()))
        assert sum(len(data) for _, data in chunks) == 4 << 20
        assert "ErrorCode" not in complete
        first_mib = next(t for t, _ in chunks) - started
        print(f"\nshaped: 4 MiB in {ended - started:.2f} s (first chunk after {first_mib:.2f} s)")
        assert ended - started > 2.5


# ------------------------------------------------------------------ Node.js

@pytest.fixture()
def node_function(lam):
    lam.create_function(FunctionName="node-stream", Runtime="nodejs20.x", Role=ROLE,
                        Handler="index.handler", Timeout=30,
                        Code={"ZipFile": make_zip({"index.js": NODE_HANDLER.encode()})})
    wait_active(lam, "node-stream")
    return "node-stream"


def test_node_streamify_response_streams(lam, node_function):
    payload = json.dumps({"chunks": 3, "pause": 1}).encode()
    read_stream(lam.invoke_with_response_stream(FunctionName=node_function, Payload=payload))
    started = time.monotonic()
    chunks, complete, ended = read_stream(
        lam.invoke_with_response_stream(FunctionName=node_function, Payload=payload))
    body = b"".join(data for _, data in chunks)
    assert body.count(b"node chunk ") == 3, body
    print(f"\nnode: time to first byte {(chunks[0][0] - started) * 1000:.1f} ms;"
          f" whole stream {(ended - started) * 1000:.0f} ms")
    assert ended - chunks[0][0] > 1.5
    assert "ErrorCode" not in complete


def test_node_http_response_stream_prelude_is_passed_on(lam, node_function):
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(
        FunctionName=node_function, Payload=json.dumps({"chunks": 1, "pause": 0, "http": True}).encode()))
    body = b"".join(data for _, data in chunks)
    prelude, _, rest = body.partition(b"\0" * 8)
    assert json.loads(prelude) == {"statusCode": 201, "headers": {"x-custom": "yes"}}
    assert rest.startswith(b"node chunk 1")


def test_node_error_mid_stream(lam, node_function):
    chunks, complete, _ = read_stream(lam.invoke_with_response_stream(
        FunctionName=node_function, Payload=json.dumps({"chunks": 2, "pause": 0, "fail": True}).encode()))
    assert b"node chunk 2" in b"".join(data for _, data in chunks)
    assert complete["ErrorCode"] == "Error", complete
    assert "node stream broke" in complete["ErrorDetails"]


JS_CLIENT = r"""
const { LambdaClient, InvokeWithResponseStreamCommand } = require('@aws-sdk/client-lambda');
(async () => {
  const client = new LambdaClient({endpoint: process.argv[2], region: 'us-east-1',
    credentials: {accessKeyId: process.env.AWS_ACCESS_KEY_ID,
                  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY}});
  const out = await client.send(new InvokeWithResponseStreamCommand({
    FunctionName: 'node-stream', Payload: Buffer.from(JSON.stringify({chunks: 2, pause: 0.2}))}));
  let text = ''; let complete = null;
  for await (const event of out.EventStream) {
    if (event.PayloadChunk) text += Buffer.from(event.PayloadChunk.Payload).toString();
    if (event.InvokeComplete) complete = event.InvokeComplete;
  }
  console.log(JSON.stringify({text, complete, version: out.ExecutedVersion}));
})().catch((err) => { console.error(err); process.exit(1); });
"""


def test_js_sdk_v3_decodes_the_stream(lam, daemon, node_function):
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed")
    work = tempfile.mkdtemp(prefix="wick-jssdk-")
    try:
        installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent",
                                    "@aws-sdk/client-lambda@3"], cwd=work, capture_output=True,
                                   timeout=240)
        if installed.returncode != 0:
            pytest.skip("@aws-sdk/client-lambda could not be installed: "
                        + installed.stderr.decode()[-300:])
        with open(os.path.join(work, "client.js"), "w") as f:
            f.write(JS_CLIENT)
        ran = subprocess.run(["node", "client.js", daemon.endpoint], cwd=work,
                             capture_output=True, timeout=120, env=aws_env())
        assert ran.returncode == 0, ran.stderr.decode()
        result = json.loads(ran.stdout)
        assert result["text"].count("node chunk ") == 2
        assert result["version"] == "$LATEST"
        assert not result["complete"].get("ErrorCode")
    finally:
        shutil.rmtree(work, ignore_errors=True)
