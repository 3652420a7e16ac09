"""Schedules (the EventBridge Scheduler subset) through a real wickd, driven by
boto3 and the awscli v2: create/get/list/update/delete with their errors, a
rate(1 minute) schedule firing (a minute is 1 s in this daemon's config), and
an at() schedule firing once and deleting itself (ActionAfterCompletion
DELETE). What the function received is read from the failed-event store: the
Input asks the test runtime to fail, with no retries, so the event is kept
with its record (requestPayload = the event as delivered)."""
import collections
import datetime
import json
import os
import subprocess
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ROLE, Daemon, client_for, runtime_zip, wait_active, ACCESS_KEY_ID, SECRET_ACCESS_KEY, admin_request, signed_request
from test_async import wait_for

CONFIG = "scheduler_minute_ms: 1000\n"
SCHED_ROLE = "arn:aws:iam::000000000000:role/scheduler"
TARGET = "arn:aws:lambda:us-east-1:000000000000:function:ticker"


@pytest.fixture(scope="module")
def sched_daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sched")
    (tmp / "wickd.conf").write_text(CONFIG)
    daemon = Daemon(str(tmp / "state"), ["--config", str(tmp / "wickd.conf")])
    daemon.start()
    try:  # a failed setup stops wickd too
        lam = client_for(daemon)
        lam.create_function(FunctionName="ticker", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5)
        wait_active(lam, "ticker")
        lam.put_function_event_invoke_config(FunctionName="ticker", MaximumRetryAttempts=0)
        daemon.sched = boto3.client(
            "scheduler", endpoint_url=daemon.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
            config=botocore.config.Config(retries={"max_attempts": 1}))
        yield daemon
    finally:
        daemon.stop()


def target(**extra):
    return {"Arn": TARGET, "RoleArn": SCHED_ROLE, **extra}


def failed_payloads(daemon):
    status, events = admin_request(daemon, "GET", "/wick/v1/events?function=ticker")
    assert status == 200, events
    return [e["Record"]["requestPayload"] for e in events["Failed"]]


def aws(daemon, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    return subprocess.run(["/usr/bin/aws", "--endpoint-url", daemon.endpoint, "scheduler", *args],
                          capture_output=True, text=True, env=env)


def test_create_get_list_update_delete_and_errors(sched_daemon):
    s = sched_daemon.sched
    arn = s.create_schedule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)",
                            ScheduleExpressionTimezone="Europe/Berlin",
                            FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED",
                            Target=target(Input='{"job":"compact"}'))["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly"
    got = s.get_schedule(Name="nightly")
    assert got["Arn"] == arn and got["GroupName"] == "default" and got["State"] == "DISABLED"
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["Target"]["Input"] == '{"job":"compact"}'
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400,
                                            "MaximumRetryAttempts": 185}
    assert isinstance(got["CreationDate"], datetime.datetime)

    with pytest.raises(s.exceptions.ConflictException):
        s.create_schedule(Name="nightly", ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"}, Target=target())
    for bad in ["rate(10 seconds)", "at(2021-12-31T23:59:59Z)", "cron(0 1 * * * *)"]:
        with pytest.raises(s.exceptions.ValidationException, match="Invalid Schedule Expression"):
            s.create_schedule(Name="bad", ScheduleExpression=bad,
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target())
    with pytest.raises(s.exceptions.ValidationException, match="not supported"):
        s.create_schedule(Name="bad", ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"},
                          Target={"Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                                  "RoleArn": SCHED_ROLE})
    with pytest.raises(s.exceptions.ValidationException):
        s.create_schedule(Name="bad", ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "FLEXIBLE"}, Target=target())
    with pytest.raises(s.exceptions.ValidationException, match="JSON"):
        s.create_schedule(Name="bad", ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"}, Target=target(Input="{nope"))
    with pytest.raises(s.exceptions.ResourceNotFoundException):
        s.get_schedule(Name="missing")

    s.update_schedule(Name="nightly", ScheduleExpression="rate(2 hours)",
                      FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                      State="DISABLED", Target=target())
    got = s.get_schedule(Name="nightly")
    assert got["ScheduleExpression"] == "rate(2 hours)"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    with pytest.raises(s.exceptions.ResourceNotFoundException):
        s.update_schedule(Name="missing", ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"}, Target=target())

    # The awscli v2, unmodified.
    out = aws(sched_daemon, "create-schedule", "--name", "from-cli",
              "--schedule-expression", "cron(30 6 ? * MON-FRI *)",
              "--schedule-expression-timezone", "America/New_York",
              "--flexible-time-window", "Mode=OFF", "--state", "DISABLED",
              "--target", json.dumps(target(Input='{"x":1}')))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ScheduleArn"].endswith(":schedule/default/from-cli")
    out = aws(sched_daemon, "list-schedules", "--name-prefix", "night")
    assert out.returncode == 0, out.stderr
    (summary,) = json.loads(out.stdout)["Schedules"]
    assert summary["Name"] == "nightly" and summary["Target"] == {"Arn": TARGET}
    out = aws(sched_daemon, "list-schedules", "--state", "DISABLED", "--page-size", "1")
    assert out.returncode == 0, out.stderr
    assert [x["Name"] for x in json.loads(out.stdout)["Schedules"]] == ["from-cli", "nightly"]
    assert aws(sched_daemon, "delete-schedule", "--name", "from-cli").returncode == 0
    out = aws(sched_daemon, "get-schedule", "--name", "nope")
    assert out.returncode != 0 and "ResourceNotFoundException" in out.stderr
    assert aws(sched_daemon, "delete-schedule", "--name", "nightly").returncode == 0
    with pytest.raises(s.exceptions.ResourceNotFoundException):
        s.delete_schedule(Name="nightly")
    assert s.list_schedules()["Schedules"] == []


def client_error(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**kwargs)
    error = refused.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]


def test_client_token_makes_create_schedule_idempotent(sched_daemon):
    """The same ClientToken with the same request answers as the first time
    (a retried create does not fail); with another request it is a 409
    ConflictException, as AWS answers a reused token. boto3 fills a fresh
    token when none is given, so a plain second create conflicts as before."""
    s = sched_daemon.sched
    request = dict(Name="tokened", ScheduleExpression="rate(1 hour)",
                   FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED",
                   Target=target(Input='{"n":1}'))
    first = s.create_schedule(ClientToken="token-1", **request)["ScheduleArn"]
    created = s.get_schedule(Name="tokened")["CreationDate"]
    again = s.create_schedule(ClientToken="token-1", **request)["ScheduleArn"]
    assert again == first
    assert s.get_schedule(Name="tokened")["CreationDate"] == created  # not made twice
    changed = dict(request, Target=target(Input='{"n":2}'))
    assert client_error(s.create_schedule, ClientToken="token-1", **changed) == \
        (409, "ConflictException")
    assert client_error(s.create_schedule, ClientToken="token-1",
                        **dict(request, Name="other-name")) == (409, "ConflictException")
    assert client_error(s.create_schedule, **request) == (409, "ConflictException")
    assert client_error(s.create_schedule, ClientToken="bad token!", **request)[1] == \
        "ValidationException"
    for body in ({"ClientToken": 5}, {"GroupName": ["default"]}):
        status, _, reply = signed_request(
            sched_daemon, "POST", "/schedules/typed",
            json.dumps(dict(body, ScheduleExpression="rate(1 hour)",
                            FlexibleTimeWindow={"Mode": "OFF"}, Target=target())).encode(),
            {"Content-Type": "application/json"}, service="scheduler")
        assert status == 400 and b"must be a string" in reply, reply
    # A delete retried with its token answers as the first time.
    s.delete_schedule(Name="tokened", ClientToken="delete-1")
    s.delete_schedule(Name="tokened", ClientToken="delete-1")
    assert client_error(s.delete_schedule, Name="tokened") == (404, "ResourceNotFoundException")
    # The awscli sends the same token twice when told to.
    args = ["create-schedule", "--name", "cli-tokened", "--schedule-expression", "rate(5 minutes)",
            "--flexible-time-window", "Mode=OFF", "--state", "DISABLED",
            "--target", json.dumps(target()), "--client-token", "cli-token-1"]
    one, two = aws(sched_daemon, *args), aws(sched_daemon, *args)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert json.loads(one.stdout) == json.loads(two.stdout)
    s.delete_schedule(Name="cli-tokened")


def test_schedule_groups(sched_daemon):
    s = sched_daemon.sched
    default = s.get_schedule_group(Name="default")
    assert default["Arn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default"
    assert default["State"] == "ACTIVE" and isinstance(default["CreationDate"], datetime.datetime)
    arn = s.create_schedule_group(Name="team-a", Tags=[{"Key": "k", "Value": "v"}])
    assert arn["ScheduleGroupArn"].endswith(":schedule-group/team-a")
    assert client_error(s.create_schedule_group, Name="team-a") == (409, "ConflictException")
    assert client_error(s.get_schedule_group, Name="nope") == (404, "ResourceNotFoundException")
    assert client_error(s.create_schedule_group, Name="bad/name")[0] in (400, 404)
    names = [g["Name"] for g in s.get_paginator("list_schedule_groups").paginate(
        PaginationConfig={"PageSize": 1}).build_full_result()["ScheduleGroups"]]
    assert names == ["default", "team-a"]
    assert [g["Name"] for g in s.list_schedule_groups(NamePrefix="team")["ScheduleGroups"]] == \
        ["team-a"]

    # The same name in two groups: two schedules, each with its group's ARN.
    for group in ("default", "team-a"):
        s.create_schedule(Name="same", GroupName=group, ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED",
                          Target=target(Input=json.dumps({"group": group})))
    got = s.get_schedule(Name="same", GroupName="team-a")
    assert got["GroupName"] == "team-a" and got["Arn"].endswith(":schedule/team-a/same")
    assert got["Target"]["Input"] == '{"group": "team-a"}'
    assert s.get_schedule(Name="same")["Target"]["Input"] == '{"group": "default"}'
    assert [x["GroupName"] for x in s.list_schedules(GroupName="team-a")["Schedules"]] == ["team-a"]
    assert sorted(x["GroupName"] for x in s.list_schedules(NamePrefix="same")["Schedules"]) == \
        ["default", "team-a"]
    assert client_error(s.get_schedule, Name="same", GroupName="nope") == \
        (404, "ResourceNotFoundException")
    assert client_error(s.create_schedule, Name="x", GroupName="nope",
                        ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                        Target=target()) == (404, "ResourceNotFoundException")

    # Deleting a group deletes its schedules; the default group stays.
    out = aws(sched_daemon, "delete-schedule-group", "--name", "team-a")
    assert out.returncode == 0, out.stderr
    assert client_error(s.get_schedule, Name="same", GroupName="team-a")[1] == \
        "ResourceNotFoundException"
    assert client_error(s.get_schedule_group, Name="team-a")[0] == 404
    assert s.get_schedule(Name="same")["GroupName"] == "default"
    assert client_error(s.delete_schedule_group, Name="default")[1] == "ValidationException"
    out = aws(sched_daemon, "list-schedule-groups")
    assert out.returncode == 0, out.stderr
    assert [g["Name"] for g in json.loads(out.stdout)["ScheduleGroups"]] == ["default"]
    s.delete_schedule(Name="same")


def test_rate_schedule_fires_with_the_context_attributes_replaced(sched_daemon):
    s = sched_daemon.sched
    s.create_schedule(Name="every", ScheduleExpression="rate(1 minute)",
                      FlexibleTimeWindow={"Mode": "OFF"},
                      Target=target(Input=json.dumps({
                          "fail": "every", "arn": "<aws.scheduler.schedule-arn>",
                          "at": "<aws.scheduler.scheduled-time>",
                          "id": "<aws.scheduler.execution-id>",
                          "n": "<aws.scheduler.attempt-number>"})))
    fired = wait_for(lambda: [p for p in failed_payloads(sched_daemon) if p.get("fail") == "every"]
                     if len([p for p in failed_payloads(sched_daemon)
                             if p.get("fail") == "every"]) >= 2 else None,
                     timeout=30, what="two firings")
    s.delete_schedule(Name="every")
    first = fired[0]
    assert first["arn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/every"
    assert first["n"] == "1" and len(first["id"]) == 16
    datetime.datetime.strptime(first["at"], "%Y-%m-%dT%H:%M:%SZ")
    assert len({p["id"] for p in fired}) == len(fired)


def test_at_schedule_fires_once_and_deletes_itself(sched_daemon):
    s = sched_daemon.sched
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
    # Debian 12's botocore predates ActionAfterCompletion: the request as a
    # newer client sends it (rest-json, SigV4 for the scheduler service).
    body = {"ScheduleExpression": f"at({when:%Y-%m-%dT%H:%M:%S})",
            "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
            "Target": target(Input='{"fail": "once", "at": "<aws.scheduler.scheduled-time>"}')}
    status, _, reply = signed_request(sched_daemon, "POST", "/schedules/once",
                                      json.dumps(body).encode(),
                                      {"Content-Type": "application/json"}, service="scheduler")
    assert status == 200, reply
    assert json.loads(reply)["ScheduleArn"].endswith(":schedule/default/once")
    status, _, reply = signed_request(sched_daemon, "GET", "/schedules/once", service="scheduler")
    assert json.loads(reply)["ActionAfterCompletion"] == "DELETE"
    fired = wait_for(lambda: [p for p in failed_payloads(sched_daemon) if p.get("fail") == "once"],
                     timeout=30, what="the at() firing")
    assert fired == [{"fail": "once", "at": f"{when:%Y-%m-%dT%H:%M:%S}Z"}]
    with pytest.raises(s.exceptions.ResourceNotFoundException):
        s.get_schedule(Name="once")


def test_a_restart_resumes_and_delivers_the_firings_missed_meanwhile(sched_daemon):
    s = sched_daemon.sched
    s.create_schedule(Name="resumed", ScheduleExpression="rate(1 minute)",
                      FlexibleTimeWindow={"Mode": "OFF"},
                      Target=target(Input='{"fail": "resumed", '
                                          '"at": "<aws.scheduler.scheduled-time>"}'))

    def scheduled_times():
        return sorted(p["at"] for p in failed_payloads(sched_daemon) if p.get("fail") == "resumed")
    wait_for(scheduled_times, timeout=30, what="a first firing")
    sched_daemon.stop()
    stopped = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(4)  # the behaviour under test: firings fall due while wickd is down
    restarted = datetime.datetime.now(datetime.timezone.utc)
    sched_daemon.start()
    assert s.get_schedule(Name="resumed")["ScheduleExpression"] == "rate(1 minute)"

    def missed():
        return [t for t in scheduled_times()
                if f"{stopped:%Y-%m-%dT%H:%M:%S}Z" < t < f"{restarted:%Y-%m-%dT%H:%M:%S}Z"]
    late = wait_for(lambda: missed() if len(missed()) >= 2 else None, timeout=30,
                    what="the firings missed while wickd was down")
    assert len(late) == len(set(late))
    s.delete_schedule(Name="resumed")


def test_a_firing_whose_target_is_gone_goes_to_the_schedules_dead_letter_queue(tmp_path):
    """Scheduler invokes a Lambda target asynchronously: once the invoke is
    accepted the function's own retries apply; the schedule's RetryPolicy and
    DeadLetterConfig apply to the invoke failing. A target that no longer
    exists is not retried: the firing's event goes at once to the schedule's
    SQS dead-letter queue (through the configured SQS endpoint, signed), with
    Scheduler's message attributes. Without a DeadLetterConfig it is kept in
    the failed-event store."""
    import http.server
    import threading
    from test_destinations import KEY, SECRET, Recorder
    sqs = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    sqs.received = []
    threading.Thread(target=sqs.serve_forever, daemon=True).start()
    (tmp_path / "wickd.conf").write_text(
        CONFIG + f'destination_access_key_id: "{KEY}"\n'
        f'destination_secret_access_key: "{SECRET}"\n'
        f'destination_endpoints {{ service: "sqs" url: "http://127.0.0.1:{sqs.server_port}" }}\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(tmp_path / "wickd.conf")])
    daemon.start()
    try:
        lam = client_for(daemon)
        for name in ("doomed", "doomed-too"):
            lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                Handler="none", Code={"ZipFile": runtime_zip()})
            wait_active(lam, name)
        s = client_for(daemon, "scheduler")
        dlq = "arn:aws:sqs:us-east-1:000000000000:sched-dlq"
        arn = s.create_schedule(
            Name="orphan", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": TARGET.replace("ticker", "doomed"), "RoleArn": SCHED_ROLE,
                    "Input": '{"at": "<aws.scheduler.scheduled-time>"}',
                    "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
                    "DeadLetterConfig": {"Arn": dlq}})["ScheduleArn"]
        s.create_schedule(
            Name="orphan-no-dlq", ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": TARGET.replace("ticker", "doomed-too"), "RoleArn": SCHED_ROLE})
        lam.delete_function(FunctionName="doomed")
        lam.delete_function(FunctionName="doomed-too")

        (sent, *_) = wait_for(lambda: [r for r in sqs.received if b"sched-dlq" in r["body"]],
                              timeout=30, what="the dead letter")
        assert sent["signature_ok"] and sent["service"] == "sqs"
        message = json.loads(sent["body"])
        assert message["QueueUrl"].endswith("/000000000000/sched-dlq")
        body = json.loads(message["MessageBody"])  # the target's event, as it would have been
        assert datetime.datetime.strptime(body["at"], "%Y-%m-%dT%H:%M:%SZ")
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert {v["DataType"] for v in message["MessageAttributes"].values()} == {"String"}
        assert attributes["SCHEDULE_ARN"] == arn
        assert attributes["TARGET_ARN"] == TARGET.replace("ticker", "doomed")
        assert attributes["ERROR_CODE"] == "ResourceNotFoundException"
        assert attributes["RETRY_ATTEMPTS"] == "0"  # a missing target is not retried
        assert "EXHAUSTED_RETRY_CONDITION" not in attributes
        assert attributes["SCHEDULED_TIME"] == body["at"]
        assert attributes["IS_PAYLOAD_TRUNCATED"] == "false" and attributes["EXECUTION_ID"]

        def kept():
            status, events = admin_request(daemon, "GET", "/wick/v1/events?function=doomed-too")
            return events["Failed"]
        failed = wait_for(kept, timeout=30, what="the firing without a DLQ kept")
        assert failed[0]["Condition"] == "TargetNotInvoked"
        assert "no DeadLetterConfig" in failed[0]["Reason"]
        s.delete_schedule(Name="orphan")
        s.delete_schedule(Name="orphan-no-dlq")
        status, events = admin_request(daemon, "GET", "/wick/v1/events?function=doomed")
        assert not events["Delivering"] and not events["Failed"], events
    finally:
        daemon.stop()
        sqs.shutdown()
        sqs.server_close()


def test_a_refused_invoke_is_retried_by_the_schedules_retry_policy(tmp_path):
    """A target that cannot run (its runtime's base root cannot be built: the
    function is not Active, so Lambda's Invoke fails with
    ResourceConflictException) is retried by the schedule's RetryPolicy with
    backoff, MaximumRetryAttempts times, and then the firing goes to the
    dead-letter queue with EXHAUSTED_RETRY_CONDITION MaximumRetryAttempts."""
    import http.server
    import threading
    from test_destinations import KEY, SECRET, Recorder
    sqs = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    sqs.received = []
    threading.Thread(target=sqs.serve_forever, daemon=True).start()
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "build-base").write_text("#!/bin/sh\necho 'no base roots here' >&2\nexit 1\n")
    (rootfs / "build-base").chmod(0o755)
    (tmp_path / "wickd.conf").write_text(
        CONFIG + f'rootfs_dir: "{rootfs}"\n'
        "async_throttle_backoff_first_ms: 200\nasync_throttle_backoff_max_ms: 400\n"
        f'destination_access_key_id: "{KEY}"\n'
        f'destination_secret_access_key: "{SECRET}"\n'
        f'destination_endpoints {{ service: "sqs" url: "http://127.0.0.1:{sqs.server_port}" }}\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(tmp_path / "wickd.conf")],
                    runtimes_dir=str(tmp_path / "runtimes"))
    daemon.start()
    try:
        lam = client_for(daemon)
        lam.create_function(FunctionName="unbuildable", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()})
        s = client_for(daemon, "scheduler")
        arn = s.create_schedule(
            Name="refused", ScheduleExpression="rate(5 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": TARGET.replace("ticker", "unbuildable"), "RoleArn": SCHED_ROLE,
                    "Input": '{"n": 1}',
                    "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
                    "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:refused"}}
        )["ScheduleArn"]
        (sent, *_) = wait_for(lambda: [r for r in sqs.received if b"refused" in r["body"]],
                              timeout=30, what="the dead letter after the retries")
        s.delete_schedule(Name="refused")
        message = json.loads(sent["body"])
        assert message["MessageBody"] == '{"n": 1}'
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes["ERROR_CODE"] == "ResourceConflictException"
        assert "following state" in attributes["ERROR_MESSAGE"]
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert attributes["RETRY_ATTEMPTS"] == "2"
        assert attributes["SCHEDULE_ARN"] == arn
        log = open(daemon.log_path).read()
        retries = collections.Counter(
            line.split("scheduled event ")[1].split(":")[0] for line in log.splitlines()
            if "scheduled event" in line and " retry " in line and "due in" in line)
        assert max(retries.values()) == 2, retries  # two retries per firing, then the DLQ
    finally:
        daemon.stop()
        sqs.shutdown()
        sqs.server_close()
