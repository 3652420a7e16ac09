"""The CloudWatch Logs subset over wickd's log streams, driven by the awscli and
boto3 as a user would: `aws logs tail [--follow]`, filter-log-events with a
pattern and pages, get-log-events both ways, describe-log-groups and
describe-log-streams, retention policies, and the errors each refuses with."""
import os
import subprocess
import threading
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ROLE, running_daemon, runtime_zip, wait_active, wait_for, client_for, ACCESS_KEY_ID, SECRET_ACCESS_KEY

GROUP = "/aws/lambda/logged"


def aws_env():
    return dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
                AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")


@pytest.fixture(scope="module")
def logged():
    """A daemon with one function invoked three times (two environments' worth
    of streams are not needed: one is)."""
    with running_daemon() as daemon:
        lam = client_for(daemon)
        lam.create_function(FunctionName="logged", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=10)
        wait_active(lam, "logged")
        ids = []
        for n in range(3):
            reply = lam.invoke(FunctionName="logged", Payload=b'{"print": true}')
            ids.append(reply["ResponseMetadata"]["RequestId"])
        daemon.request_ids = ids
        daemon.lam = lam
        daemon.logs = boto3.client(
            "logs", endpoint_url=daemon.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
            config=botocore.config.Config(retries={"max_attempts": 1}))
        yield daemon


def aws(daemon, *args):
    return subprocess.run(["/usr/bin/aws", "--endpoint-url", daemon.endpoint, "logs", *args],
                          capture_output=True, text=True, env=aws_env(), timeout=60)


def test_aws_logs_tail_prints_each_invocation(logged):
    out = aws(logged, "tail", GROUP)
    assert out.returncode == 0, out.stderr
    for request_id in logged.request_ids:
        assert f"START RequestId: {request_id} Version: $LATEST" in out.stdout
        assert f"REPORT RequestId: {request_id}\tDuration: " in out.stdout
    # `detailed` format: an ISO time with microseconds, the stream, the message.
    first = out.stdout.splitlines()[0].split(" ", 2)
    assert first[0].endswith("+00:00") and "T" in first[0], first
    assert first[1].startswith(time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime())), first


def test_aws_logs_tail_follow_shows_a_new_invocation(logged):
    def reported(request_id):
        return lambda: any(f"REPORT RequestId: {request_id}" in line for line in list(lines))
    # An invocation just before the follower starts: once it has printed it,
    # its first poll is done and the next invocation is one it must follow.
    before = logged.lam.invoke(FunctionName="logged", Payload=b"{}")["ResponseMetadata"]["RequestId"]
    follower = subprocess.Popen(
        ["/usr/bin/aws", "--endpoint-url", logged.endpoint, "logs", "tail", GROUP, "--follow",
         "--since", "1m", "--format", "short"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=aws_env())
    try:
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(follower.stdout), daemon=True)
        reader.start()
        wait_for(reported(before), timeout=20, what="the follower's first poll")
        reply = logged.lam.invoke(FunctionName="logged", Payload=b"{}")
        request_id = reply["ResponseMetadata"]["RequestId"]
        # tail --follow polls every 5 s.
        wait_for(reported(request_id), timeout=20, what="the new invocation in the follower",
                 interval=0.2)
        seen = "".join(lines)
        assert f"REPORT RequestId: {request_id}" in seen, seen
        assert seen.count(f"START RequestId: {request_id}") == 1, "no event twice"
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_filter_log_events_matches_and_pages(logged):
    logs = logged.logs
    reply = logs.filter_log_events(logGroupName=GROUP, filterPattern='"REPORT RequestId"')
    messages = [e["message"] for e in reply["events"]]
    assert len(messages) >= 3 and all(m.startswith("REPORT RequestId: ") for m in messages)
    assert reply["searchedLogStreams"] == [] and "nextToken" not in reply
    for event in reply["events"]:
        assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
        assert len(event["eventId"]) == 56 and event["eventId"].isdigit()

    everything = logs.filter_log_events(logGroupName=GROUP)["events"]
    paged = []
    for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=GROUP, PaginationConfig={"PageSize": 2}):
        assert len(page["events"]) <= 2
        paged += page["events"]
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in everything]
    assert len({e["eventId"] for e in everything}) == len(everything)
    assert [e["timestamp"] for e in everything] == sorted(e["timestamp"] for e in everything)

    later = everything[-1]["timestamp"] + 1
    assert logs.filter_log_events(logGroupName=GROUP, startTime=later)["events"] == []
    excluded = logs.filter_log_events(logGroupName=GROUP, filterPattern="RequestId -REPORT")
    assert excluded["events"] and not any("REPORT" in e["message"] for e in excluded["events"])

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.filter_log_events(logGroupName=GROUP, filterPattern='{ $.level = "x" }')
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.filter_log_events(logGroupName=GROUP, nextToken="garbage")
    assert refused.value.response["Error"]["Message"] == "The specified nextToken is invalid."


def test_get_log_events_reads_a_stream_both_ways(logged):
    logs = logged.logs
    (stream,) = [s["logStreamName"]
                 for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]]
    # Forward from the head, two at a time, until the token comes back unchanged.
    forward, token = [], None
    while True:
        args = dict(logGroupName=GROUP, logStreamName=stream, startFromHead=True, limit=2)
        if token:
            args["nextToken"] = token
        reply = logs.get_log_events(**args)
        assert reply["nextForwardToken"].startswith("f/") and len(reply["nextForwardToken"]) == 58
        forward += reply["events"]
        if reply["nextForwardToken"] == token:
            break
        token = reply["nextForwardToken"]
    # Every record of the stream, once, in order: what FilterLogEvents finds in it.
    whole = logs.filter_log_events(logGroupName=GROUP, logStreamNames=[stream])["events"]
    assert [e["message"] for e in forward] == [e["message"] for e in whole]
    assert any(e["message"].startswith("START RequestId:") for e in forward)
    # Without a token: the newest events, oldest first.
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=2)["events"]
    assert [e["message"] for e in tail] == [e["message"] for e in forward[-2:]]
    assert tail[-1]["message"].startswith("REPORT RequestId:")

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.get_log_events(logGroupName=GROUP, logStreamName="2026/01/01/[$LATEST]" + "0" * 32)
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert refused.value.response["Error"]["Message"] == "The specified log stream does not exist."


def test_describe_groups_and_streams(logged):
    logs = logged.logs
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert group["logGroupName"] == GROUP
    assert group["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:*"
    assert group["retentionInDays"] == 30 and group["storedBytes"] > 0
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/x")["logGroups"] == []
    assert logs.describe_log_groups(logGroupNamePattern="LOGGED")["logGroups"][0]["logGroupName"] \
        == GROUP

    streams = logs.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime",
                                        descending=True)["logStreams"]
    assert streams and streams[0]["lastEventTimestamp"] >= streams[0]["firstEventTimestamp"]
    assert abs(streams[0]["lastEventTimestamp"] / 1000 - time.time()) < 300
    assert streams[0]["arn"].endswith(":log-stream:" + streams[0]["logStreamName"])

    for call, args, code in [
        (logs.describe_log_streams, dict(logGroupName="/aws/lambda/nope"),
         "ResourceNotFoundException"),
        (logs.describe_log_groups, dict(logGroupNamePrefix="/a", logGroupNamePattern="b"),
         "InvalidParameterException"),
        (logs.describe_log_streams, dict(logGroupName=GROUP, orderBy="LastEventTime",
                                         logStreamNamePrefix="2026"), "InvalidParameterException"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            call(**args)
        assert refused.value.response["Error"]["Code"] == code, args


def test_limits_out_of_range_are_refused_as_aws_does(logged):
    out = aws(logged, "filter-log-events", "--log-group-name", GROUP, "--limit", "10001")
    assert out.returncode != 0
    assert "InvalidParameterException" in out.stderr
    assert "Member must have value less than or equal to 10000" in out.stderr


def test_tokens_whose_numbers_overflow_are_invalid_not_a_server_error(logged):
    # Digits past 2^64 in a token: what the API says of any token it did not make.
    logs = logged.logs
    (stream,) = [s["logStreamName"]
                 for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]]
    for call, args in [
        (logs.get_log_events, dict(logGroupName=GROUP, logStreamName=stream,
                                   nextToken="f/" + "9" * 56)),
        (logs.describe_log_streams, dict(logGroupName=GROUP, nextToken="wick1/" + "9" * 30)),
        (logs.describe_log_groups, dict(nextToken="wick1/" + "9" * 30)),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            call(**args)
        error = refused.value.response["Error"]
        assert (error["Code"], error["Message"]) == \
            ("InvalidParameterException", "The specified nextToken is invalid."), args


def test_retention_policies(logged):
    logs = logged.logs
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=4)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    logs.delete_retention_policy(logGroupName=GROUP)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 30
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_retention_policy(logGroupName="/aws/lambda/nope", retentionInDays=7)
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
