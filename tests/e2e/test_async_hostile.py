"""Hostile and odd input to the asynchronous-invocation and Scheduler APIs of a
real wickd, and an event that outlived its MaximumEventAgeInSeconds in the
queue: each answered as AWS does (a 400 for a bad request, never a 500 or a
crash, never garbage kept), found by a review of that code."""
import json
import sqlite3
import time
import uuid

import boto3
import botocore.config
import pytest

from conftest import (ROLE, Daemon, client_for, runtime_zip, wait_active, wait_for,
                      ACCESS_KEY_ID, SECRET_ACCESS_KEY, signed_request)
from test_async import events_of

CONFIG = "scheduler_minute_ms: 1000\n"
SCHED_ROLE = "arn:aws:iam::000000000000:role/scheduler"
TARGET = "arn:aws:lambda:us-east-1:000000000000:function:hostile"


@pytest.fixture(scope="module")
def hostile_daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "wickd.conf").write_text(CONFIG)
    daemon = Daemon(str(tmp / "state"), ["--config", str(tmp / "wickd.conf")])
    daemon.start()
    try:  # a failed setup stops wickd too
        lam = client_for(daemon)
        lam.create_function(FunctionName="hostile", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5)
        wait_active(lam, "hostile")
        daemon.lam = lam
        daemon.sched = boto3.client(
            "scheduler", endpoint_url=daemon.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
            config=botocore.config.Config(retries={"max_attempts": 1}))
        yield daemon
    finally:
        daemon.stop()


def alive(daemon):
    return daemon.process.poll() is None


def create_schedule_raw(daemon, name, body):
    """CreateSchedule as raw signed JSON (boto3 refuses most of these bodies itself)."""
    status, headers, raw = signed_request(daemon, "POST", f"/schedules/{name}", json.dumps(body),
                                          {"Content-Type": "application/json"}, service="scheduler")
    return status, headers.get("x-amzn-errortype", ""), raw


def schedule_body(**extra):
    body = {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "DISABLED", "Target": {"Arn": TARGET, "RoleArn": SCHED_ROLE}}
    body.update(extra)
    return body


def test_a_cron_step_past_its_field_neither_crashes_nor_adds_firings(hostile_daemon):
    # `v += step` overflowed int: the year field wrote outside its bitset and
    # wickd died of SIGSEGV; the minutes field fired at minute 0 too.
    s = hostile_daemon.sched
    for i, expression in enumerate(["cron(0 0 1 1 ? 2199/2147483647)",
                                    "cron(1/2147483647 * * * ? *)"]):
        s.create_schedule(Name=f"huge-step-{i}", ScheduleExpression=expression,
                          FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED",
                          Target={"Arn": TARGET, "RoleArn": SCHED_ROLE})
        assert alive(hostile_daemon)
        assert s.get_schedule(Name=f"huge-step-{i}")["ScheduleExpression"] == expression


def test_event_invoke_config_members_of_the_wrong_type_are_a_400(hostile_daemon):
    path = "/2019-09-25/functions/hostile/event-invoke-config"
    sqs = "arn:aws:sqs:us-east-1:000000000000:q"
    for body in [
            # A number as the ARN: json::value threw, a 500.
            {"DestinationConfig": {"OnSuccess": {"Destination": 5}}},
            # A bad OnSuccess ARN is described with OnFailure's, whose type threw.
            {"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:iam::000000000000:role/r"},
                                   "OnFailure": {"Destination": ["x"]}}},
            # A string where the OnFailure structure goes was kept as "no destination".
            {"DestinationConfig": {"OnFailure": sqs}}]:
        for method in ["PUT", "POST"]:
            status, headers, raw = signed_request(hostile_daemon, method, path, json.dumps(body))
            assert status == 400, (body, status, raw)
            assert headers["x-amzn-errortype"] == "ValidationException", raw
    # A well-formed one still works.
    status, _, raw = signed_request(hostile_daemon, "PUT", path, json.dumps(
        {"DestinationConfig": {"OnFailure": {"Destination": sqs}}}))
    assert status == 200, raw
    assert json.loads(raw)["DestinationConfig"]["OnFailure"] == {"Destination": sqs}
    hostile_daemon.lam.delete_function_event_invoke_config(FunctionName="hostile")


def test_schedule_numbers_of_the_wrong_type_or_size_are_a_400(hostile_daemon):
    target = {"Arn": TARGET, "RoleArn": SCHED_ROLE}
    for i, body in enumerate([
            # 2^32 + 1 was narrowed to int 1 and kept as a 1-minute window.
            schedule_body(FlexibleTimeWindow={"Mode": "FLEXIBLE",
                                              "MaximumWindowInMinutes": 4294967297}),
            schedule_body(FlexibleTimeWindow={"Mode": "FLEXIBLE",
                                              "MaximumWindowInMinutes": "15"}),
            # These threw from json::value: a 500.
            schedule_body(Target={**target, "RetryPolicy": "none"}),
            schedule_body(Target={**target, "RetryPolicy": {"MaximumRetryAttempts": "3"}}),
            schedule_body(Target={**target, "RetryPolicy": {"MaximumEventAgeInSeconds": 1.5e300}}),
            # 1e17 s overflowed llround: kept as an EndDate in year -292 million,
            # which GetSchedule then sent to clients that cannot parse it.
            schedule_body(EndDate=1e17),
            schedule_body(EndDate=-1e11),  # year -1200: no client parses it either
            schedule_body(StartDate=1e300)]):
        status, error_type, raw = create_schedule_raw(hostile_daemon, f"bad-number-{i}", body)
        assert status == 400, (body, status, raw)
        assert error_type == "ValidationException", raw
    assert alive(hostile_daemon)
    names = [s["Name"] for s in hostile_daemon.sched.list_schedules()["Schedules"]]
    assert not [n for n in names if n.startswith("bad-number-")]
    # Within range, the same members are kept.
    status, _, raw = create_schedule_raw(hostile_daemon, "good-numbers", schedule_body(
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={**target, "RetryPolicy": {"MaximumRetryAttempts": 3,
                                          "MaximumEventAgeInSeconds": 600}}))
    assert status == 200, raw
    got = hostile_daemon.sched.get_schedule(Name="good-numbers")
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3,
                                            "MaximumEventAgeInSeconds": 600}


def test_an_event_that_aged_out_in_the_queue_is_not_run(hostile_daemon):
    """An event that waited in the queue past MaximumEventAgeInSeconds (here:
    wickd was down for two minutes) goes to failure handling as
    EventAgeExceeded without an attempt, as on Lambda; it used to run."""
    lam = hostile_daemon.lam
    lam.put_function_event_invoke_config(FunctionName="hostile", MaximumEventAgeInSeconds=60,
                                         MaximumRetryAttempts=0)
    hostile_daemon.stop()
    now = int(time.time() * 1000)
    event_id = str(uuid.uuid4())
    db = sqlite3.connect(f"{hostile_daemon.state_dir}/events.db")
    with db:  # what accept() writes, two minutes ago
        db.execute("INSERT INTO events (id, function, qualifier, payload, enqueued_ms, "
                   "next_attempt_ms, function_attempts, throttles, last_error) "
                   "VALUES (?, 'hostile', '', '{\"aged\":true}', ?, ?, 0, 0, '')",
                   (event_id, now - 120_000, now - 120_000))
    db.close()
    hostile_daemon.start()
    try:
        def failed():
            return [e for e in events_of(hostile_daemon, "hostile")["Failed"]
                    if e["Id"] == event_id]
        wait_for(failed, what="the aged event in the failed-event store", timeout=30)
        [kept] = failed()
        assert kept["Condition"] == "EventAgeExceeded", kept
        assert kept["Attempts"] == 0, kept
        record = kept["Record"]
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["requestPayload"] == {"aged": True}
        assert "responseContext" not in record
    finally:
        lam.delete_function_event_invoke_config(FunctionName="hostile")


def test_a_deeply_nested_event_does_not_crash_wickd(hostile_daemon):
    """300,000 nested arrays are a valid 600 KB event. Its failure record
    embedded it as parsed JSON, whose serializer recursed once per level
    until a worker's stack overflowed: wickd died of SIGSEGV."""
    lam = hostile_daemon.lam
    lam.create_function(FunctionName="deep", Runtime="provided.al2023", Role=ROLE,
                        Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5)
    wait_active(lam, "deep")
    # Reserved concurrency 0: straight to failure handling, the record made at once.
    lam.put_function_concurrency(FunctionName="deep", ReservedConcurrentExecutions=0)
    payload = "[" * 300_000 + "]" * 300_000
    reply = lam.invoke(FunctionName="deep", InvocationType="Event", Payload=payload.encode())
    assert reply["StatusCode"] == 202
    request_id = reply["ResponseMetadata"]["RequestId"]

    def failed():
        return [e for e in events_of(hostile_daemon, "deep")["Failed"] if e["Id"] == request_id]
    wait_for(lambda: failed() or not alive(hostile_daemon), what="the event's failure record")
    assert alive(hostile_daemon)
    [kept] = failed()
    assert kept["Condition"] == "ZeroReservedConcurrency"
    assert kept["Record"]["requestPayload"] == payload  # kept whole, as a string


def test_deeply_nested_request_bodies_are_a_400_not_a_crash(hostile_daemon):
    """Request members echoed in an error (value.dump()) or a whole body kept
    for the client token (body.dump()) were serialized recursively: 300,000
    nested arrays overflowed a worker's stack and wickd died of SIGSEGV."""
    deep = "[" * 300_000 + "]" * 300_000
    status, headers, raw = signed_request(
        hostile_daemon, "PUT", "/2019-09-25/functions/hostile/event-invoke-config",
        '{"MaximumRetryAttempts": ' + deep + "}")
    assert alive(hostile_daemon)
    assert status == 400, raw
    status, headers, raw = signed_request(
        hostile_daemon, "POST", "/schedules/deep",
        json.dumps(schedule_body())[:-1] + ', "Deep": ' + deep + "}",
        {"Content-Type": "application/json"}, service="scheduler")
    assert alive(hostile_daemon)
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException", raw
    status, headers, raw = signed_request(
        hostile_daemon, "POST", "/schedule-groups/deep", '{"Tags": ' + deep + "}",
        {"Content-Type": "application/json"}, service="scheduler")
    assert alive(hostile_daemon)
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException", raw


def test_a_record_too_big_for_an_event_reaches_its_function_destination(hostile_daemon):
    """A 5.5 MB answer to a 1 MB event makes a 6.5 MB success record. Handed
    whole to a destination function it was refused by the invoke path (413,
    over the 6 MB limit) at every try and retried as a system error for the
    event's whole maximum age (6 hours). It now goes without its payloads.
    big -> sink (runs, echoes) -> well (reserved concurrency 0: its record,
    holding what sink received, is kept in the failed-event store)."""
    lam = hostile_daemon.lam
    for name in ["big", "sink", "well"]:
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=10,
                            MemorySize=512)
    for name in ["big", "sink", "well"]:
        wait_active(lam, name)
    lam.put_function_concurrency(FunctionName="well", ReservedConcurrentExecutions=0)
    for source, destination in [("big", "sink"), ("sink", "well")]:
        lam.put_function_event_invoke_config(
            FunctionName=source,
            DestinationConfig={"OnSuccess": {"Destination": TARGET.replace("hostile", destination)}})
    event = {"bytes": 5_500_000, "pad": "x" * 1_000_000}
    reply = lam.invoke(FunctionName="big", InvocationType="Event",
                       Payload=json.dumps(event).encode())
    assert reply["StatusCode"] == 202
    request_id = reply["ResponseMetadata"]["RequestId"]
    wait_for(lambda: events_of(hostile_daemon, "well")["Failed"], timeout=60,
             what="sink run with big's record, and its own record kept by well")
    assert not events_of(hostile_daemon, "big")["Queued"]
    assert not events_of(hostile_daemon, "sink")["Queued"]
    [kept] = events_of(hostile_daemon, "well")["Failed"]
    sink_record = kept["Record"]["requestPayload"]
    assert sink_record["requestContext"]["condition"] == "Success"
    received = sink_record["requestPayload"]  # what sink was invoked with
    assert received["requestContext"]["requestId"] == request_id
    assert received["requestContext"]["condition"] == "Success"
    assert received["responseContext"]["statusCode"] == 200
    assert "requestPayload" not in received and "responsePayload" not in received


def test_long_arns_are_a_400_not_a_crash(hostile_daemon):
    """std::regex (libstdc++) recurses once per character it matches: a
    100 KB RoleArn, schedule DeadLetterConfig.Arn or destination ARN, matched
    before its length was checked, overflowed a worker's stack (SIGSEGV)."""
    long = "a" * 100_000
    target = {"Arn": TARGET, "RoleArn": SCHED_ROLE}
    for i, body in enumerate([
            schedule_body(Target={**target, "RoleArn": "arn:aws:iam::000000000000:role/" + long}),
            schedule_body(Target={**target, "DeadLetterConfig": {
                "Arn": "arn:aws:sqs:us-east-1:000000000000:" + long}})]):
        status, error_type, raw = create_schedule_raw(hostile_daemon, f"long-{i}", body)
        assert alive(hostile_daemon)
        assert status == 400 and error_type == "ValidationException", raw[:300]
    status, headers, raw = signed_request(
        hostile_daemon, "PUT", "/2019-09-25/functions/hostile/event-invoke-config",
        json.dumps({"DestinationConfig": {"OnFailure": {
            "Destination": "arn:aws:sqs:us-east-1:000000000000:" + long}}}))
    assert alive(hostile_daemon)
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException", raw[:300]
    assert b"less than or equal to 350" in raw
