"""Schedules (the EventBridge Scheduler subset) through a real wickd, driven by
boto3 and the awscli v2: create/get/list/update/delete with their errors, a
rate(1 minute) schedule firing (a minute is 1 s in this daemon's config), and
an at() schedule firing once and deleting itself (ActionAfterCompletion
DELETE). What the function received is read from the failed-event store: the
Input asks the test runtime to fail, with no retries, so the event is kept
with its record (requestPayload = the event as delivered)."""
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
