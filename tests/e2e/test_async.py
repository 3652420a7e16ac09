"""Asynchronous invocation through a real wickd, driven by boto3 and the awscli:
202 once the event is on disk, the event run through the same invoke path,
function errors retried with Lambda's spacing (shortened in this daemon's
config), the failure record kept with every field Lambda writes, replay,
reserved concurrency 0, the deprecated InvokeAsync, the limits, and no event
that got its 202 lost to a kill -9 of the daemon."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ROLE, Daemon, client_for, runtime_zip, wait_active, wait_for, ACCESS_KEY_ID, SECRET_ACCESS_KEY, admin_request

WICK = os.path.join(os.path.dirname(os.environ.get("WICKD", "build/bin/wickd")), "wick")
CONFIG = """
async_retry_delays_ms: [400, 800]
async_throttle_backoff_first_ms: 100
async_throttle_backoff_max_ms: 400
"""


def start_daemon(tmp_path, state=None):
    config = tmp_path / "wickd.conf"
    config.write_text(CONFIG)
    daemon = Daemon(str(state or tmp_path / "state"), ["--config", str(config)])
    daemon.start()
    return daemon


@pytest.fixture(scope="module")
def async_daemon(tmp_path_factory):
    daemon = start_daemon(tmp_path_factory.mktemp("async"))
    try:  # a failed setup stops wickd too
        lam = client_for(daemon)
        lam.create_function(FunctionName="worker", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5)
        wait_active(lam, "worker")
        daemon.lam = lam
        daemon.logs = boto3.client(
            "logs", endpoint_url=daemon.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
            config=botocore.config.Config(retries={"max_attempts": 1}))
        yield daemon
    finally:
        daemon.stop()


def starts_of(daemon, function, request_id):
    """The times (ms) at which the function started this request, from its logs."""
    try:
        events = daemon.logs.filter_log_events(
            logGroupName=f"/aws/lambda/{function}",
            filterPattern=f'"START RequestId: {request_id}"')["events"]
    except botocore.exceptions.ClientError:
        return []  # no log group yet
    return [e["timestamp"] for e in events]


def events_of(daemon, function):
    """The function's async events ({"Queued": [...], "Failed": [...]}), from
    wick's events API on the admin socket: one HTTP request, cheap enough to poll."""
    query = urllib.parse.urlencode({"function": function})
    status, events = admin_request(daemon, "GET", f"/wick/v1/events?{query}")
    assert status == 200, events
    return events


def events_listing(daemon, function):
    """What `wick events FUNCTION` prints (the CLI over the same API)."""
    out = subprocess.run([WICK, "events", function, "--endpoint", daemon.wick_endpoint],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_an_event_invoke_is_202_and_runs(async_daemon):
    reply = async_daemon.lam.invoke(FunctionName="worker", InvocationType="Event",
                                    Payload=b'{"echo": "later"}')
    assert reply["StatusCode"] == 202
    assert reply["Payload"].read() == b""
    request_id = reply["ResponseMetadata"]["RequestId"]
    wait_for(lambda: starts_of(async_daemon, "worker", request_id), what="the event to run")
    wait_for(lambda: not events_of(async_daemon, "worker")["Queued"], what="an empty queue")
    assert request_id not in json.dumps(events_of(async_daemon, "worker")["Failed"])


def test_function_errors_are_retried_with_spacing_then_kept_with_lambdas_record(async_daemon):
    reply = async_daemon.lam.invoke(FunctionName="worker", InvocationType="Event",
                                    Payload=b'{"fail": "boom"}')
    request_id = reply["ResponseMetadata"]["RequestId"]

    def failed():
        return [e for e in events_of(async_daemon, "worker")["Failed"] if e["Id"] == request_id]
    (event,) = wait_for(failed, what="the event to fail for good")
    starts = starts_of(async_daemon, "worker", request_id)
    assert len(starts) == 3, starts  # MaximumRetryAttempts 2 by default
    assert starts[1] - starts[0] >= 400 and starts[2] - starts[1] >= 800, starts

    assert event["Condition"] == "RetriesExhausted" and event["Attempts"] == 3
    record = event["Record"]
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:worker:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"fail": "boom"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "asked to fail"  # the test runtime's

    listing = events_listing(async_daemon, "worker")
    assert request_id in listing and "RetriesExhausted" in listing

    # Replayed: it runs (and fails) three more times, then is kept again.
    replay = subprocess.run([WICK, "events", "--endpoint", async_daemon.wick_endpoint, "replay",
                             request_id], capture_output=True, text=True)
    assert replay.returncode == 0, replay.stderr
    wait_for(lambda: len(starts_of(async_daemon, "worker", request_id)) == 6 and failed(),
             what="the replayed event to run three times")


def test_reserved_concurrency_zero_fails_without_an_attempt(async_daemon):
    lam = async_daemon.lam
    lam.create_function(FunctionName="closed", Runtime="provided.al2023", Role=ROLE,
                        Handler="none", Code={"ZipFile": runtime_zip()})
    wait_active(lam, "closed")
    lam.put_function_concurrency(FunctionName="closed", ReservedConcurrentExecutions=0)
    reply = lam.invoke(FunctionName="closed", InvocationType="Event", Payload=b'{"a": 1}')
    assert reply["StatusCode"] == 202  # as on Lambda: accepted, then failure handling
    request_id = reply["ResponseMetadata"]["RequestId"]
    (event,) = wait_for(lambda: events_of(async_daemon, "closed")["Failed"],
                        what="the event to fail")
    assert event["Id"] == request_id and event["Condition"] == "ZeroReservedConcurrency"
    assert event["Record"]["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in event["Record"] and "responsePayload" not in event["Record"]
    assert starts_of(async_daemon, "closed", request_id) == []
    purged = subprocess.run([WICK, "events", "--endpoint", async_daemon.wick_endpoint, "purge",
                             "closed"], capture_output=True, text=True)
    assert purged.returncode == 0 and "purged 1 events" in purged.stdout, purged


def test_what_an_event_invoke_refuses(async_daemon):
    lam = async_daemon.lam
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="worker", InvocationType="Event",
                   Payload=b'{"a": "' + b"x" * (1 << 20) + b'"}')
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b"{not json")
    assert refused.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="nobody", InvocationType="Event", Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_invoke_async_with_the_awscli(async_daemon, tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"echo": "old api"}')
    out = subprocess.run(
        ["/usr/bin/aws", "--endpoint-url", async_daemon.endpoint, "lambda", "invoke-async",
         "--function-name", "worker", "--invoke-args", str(event)],
        capture_output=True, text=True,
        env=dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
                 AWS_DEFAULT_REGION="us-east-1", AWS_PAGER=""))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"Status": 202}


def test_no_accepted_event_is_lost_to_kill_9(tmp_path):
    daemon = start_daemon(tmp_path)
    try:
        lam = client_for(daemon)
        lam.create_function(FunctionName="durable", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()})
        wait_active(lam, "durable")
        accepted, lock = [], threading.Lock()

        def send(n):
            client = client_for(daemon)
            for i in range(n):
                try:
                    reply = client.invoke(FunctionName="durable", InvocationType="Event",
                                          Payload=json.dumps({"echo": i}).encode())
                except Exception:  # the daemon died under us: not accepted
                    return
                if reply["StatusCode"] == 202:
                    with lock:
                        accepted.append(reply["ResponseMetadata"]["RequestId"])

        senders = [threading.Thread(target=send, args=(100,)) for _ in range(4)]
        for sender in senders:
            sender.start()
        wait_for(lambda: len(accepted) >= 150, timeout=90, what="150 accepted events")
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait()
        for sender in senders:
            sender.join()
        count = len(accepted)
        daemon.start()  # same port, same state: the queue resumes
        daemon.logs = boto3.client(
            "logs", endpoint_url=daemon.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)

        def queue_empty():
            return not admin_request(daemon, "GET", "/wick/v1/events")[1]["Queued"]
        wait_for(queue_empty, timeout=120, what="the queue to drain")
        events = []
        kwargs = dict(logGroupName="/aws/lambda/durable", filterPattern='"START RequestId"')
        for page in daemon.logs.get_paginator("filter_log_events").paginate(**kwargs):
            events += page["events"]
        started = [e["message"].split()[2] for e in events]
        missing = set(accepted) - set(started)
        assert not missing, f"{len(missing)} of {count} accepted events never ran"
        duplicates = len(started) - len(set(started))
        print(f"kill -9 after {count} accepted: all ran; {duplicates} ran twice")
    finally:
        daemon.stop()


def client_error(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**kwargs)
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


def test_event_invoke_config_api_shapes_and_errors(async_daemon):
    lam = async_daemon.lam
    arn = "arn:aws:lambda:us-east-1:000000000000:function:worker"
    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker") == (
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.")
    put = lam.put_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=0)
    assert put["FunctionArn"] == arn + ":$LATEST"
    assert put["MaximumRetryAttempts"] == 0 and "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert abs(put["LastModified"].timestamp() - time.time()) < 60
    merged = lam.update_function_event_invoke_config(FunctionName="worker",
                                                     MaximumEventAgeInSeconds=100)
    assert (merged["MaximumRetryAttempts"], merged["MaximumEventAgeInSeconds"]) == (0, 100)
    replaced = lam.put_function_event_invoke_config(FunctionName="worker",
                                                    MaximumEventAgeInSeconds=120)
    assert "MaximumRetryAttempts" not in replaced and replaced["MaximumEventAgeInSeconds"] == 120
    got = lam.get_function_event_invoke_config(FunctionName="worker")
    assert got["MaximumEventAgeInSeconds"] == 120 and got["FunctionArn"] == arn + ":$LATEST"
    listed = lam.list_function_event_invoke_configs(FunctionName="worker")
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [arn + ":$LATEST"]
    lam.delete_function_event_invoke_config(FunctionName="worker")
    assert client_error(lam.get_function_event_invoke_config, FunctionName="worker") == (
        "ResourceNotFoundException",
        f"The function {arn}:$LATEST doesn't have an EventInvokeConfig")
    assert client_error(lam.update_function_event_invoke_config, FunctionName="worker",
                        MaximumRetryAttempts=1)[0] == "ResourceNotFoundException"

    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker",
                        MaximumRetryAttempts=3)[0] in ("ValidationException", "ParamValidation")
    assert client_error(lam.put_function_event_invoke_config, FunctionName="nobody",
                        MaximumRetryAttempts=1) == ("ResourceNotFoundException",
                                                    "The function doesn't exist.")
    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker:1",
                        Qualifier="2", MaximumRetryAttempts=1)[1] == \
        "The derived qualifier from the function name does not match the specified qualifier."
    self_destination = {"OnFailure": {"Destination": arn}}
    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker",
                        DestinationConfig=self_destination)[1] == \
        "You can't specify the function as a destination for itself."
    missing = "arn:aws:lambda:us-east-1:000000000000:function:nobody"
    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker",
                        DestinationConfig={"OnFailure": {"Destination": missing}})[1] == \
        f"The destination ARN {missing} is invalid."
    iam = "arn:aws:iam::000000000000:role/x"
    assert client_error(lam.put_function_event_invoke_config, FunctionName="worker",
                        DestinationConfig={"OnSuccess": {"Destination": iam}})[1] == \
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam}), onFailure=null) is invalid."


def test_a_deleted_function_takes_its_config_with_it(async_daemon):
    lam = async_daemon.lam
    for _ in range(2):
        lam.create_function(FunctionName="brief", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()})
        wait_active(lam, "brief")
        assert client_error(lam.get_function_event_invoke_config,
                            FunctionName="brief")[0] == "ResourceNotFoundException"
        lam.put_function_event_invoke_config(FunctionName="brief", MaximumRetryAttempts=1)
        lam.delete_function(FunctionName="brief")


# A destination function that logs the event it gets, one line.
SINK = b"""#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  headers=$(mktemp)
  event=$(curl -sS -D "$headers" "$api/next")
  id=$(tr -d '\\r' < "$headers" | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
  rm -f "$headers"
  echo "RECEIVED $event"
  curl -sS -o /dev/null -X POST "$api/$id/response" -d '{}'
done
"""


def received_records(daemon, function):
    try:
        events = daemon.logs.filter_log_events(logGroupName=f"/aws/lambda/{function}",
                                               filterPattern="RECEIVED")["events"]
    except botocore.exceptions.ClientError:
        return []
    return [json.loads(e["message"].split(" ", 1)[1]) for e in events]


def test_the_config_applies_and_records_reach_a_function_destination(async_daemon):
    from conftest import make_zip
    lam = async_daemon.lam
    lam.create_function(FunctionName="sink", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        MemorySize=1024, Code={"ZipFile": make_zip({"bootstrap": (SINK, 0o755)})})
    lam.create_function(FunctionName="flaky", Runtime="provided.al2023", Role=ROLE,
                        Handler="none", Code={"ZipFile": runtime_zip()})
    wait_active(lam, "sink")
    wait_active(lam, "flaky")
    sink = "arn:aws:lambda:us-east-1:000000000000:function:sink"
    lam.put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": sink}, "OnFailure": {"Destination": sink}})

    failed = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"fail": "x"}')
    failed_id = failed["ResponseMetadata"]["RequestId"]
    ok = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"echo": 5}')
    ok_id = ok["ResponseMetadata"]["RequestId"]
    records = wait_for(lambda: len(received_records(async_daemon, "sink")) >= 2 and
                       received_records(async_daemon, "sink"), what="two records at the sink")
    by_id = {r["requestContext"]["requestId"]: r for r in records}

    failure = by_id[failed_id]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1  # MaximumRetryAttempts 0
    assert failure["requestContext"]["functionArn"] == \
        "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST"
    assert failure["requestPayload"] == {"fail": "x"}
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert len(starts_of(async_daemon, "flaky", failed_id)) == 1

    success = by_id[ok_id]
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["approximateInvokeCount"] == 1
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert success["responsePayload"] == {"echo": 5}
    # Delivered: nothing kept as failed.
    assert not [e for e in events_of(async_daemon, "flaky")["Failed"]
                if e["Id"] in (failed_id, ok_id)]
