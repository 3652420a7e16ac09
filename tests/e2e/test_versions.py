"""Versions and aliases through boto3: PublishVersion snapshots, qualified
invokes (number, alias, $LATEST), X-Amz-Executed-Version and
AWS_LAMBDA_FUNCTION_VERSION inside the sandbox, deletes, weighted aliases."""
import json

import botocore.exceptions
import pytest

from conftest import ROLE, make_zip, runtime_zip, wait_active, admin_request

# A shell runtime client: answers every event with what it runs as.
REPORTER = b"""#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
marker=$(cat /var/task/marker)
while true; do
  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d '\\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
  curl -s -o /dev/null -X POST "$api/$id/response" \\
    -d "{\\"version\\":\\"$AWS_LAMBDA_FUNCTION_VERSION\\",\\"marker\\":\\"$marker\\",\\"stream\\":\\"$AWS_LAMBDA_LOG_STREAM_NAME\\"}"
done
"""


def code(marker):
    return make_zip({"bootstrap": (REPORTER, 0o755), "marker": marker.encode()})


def create_reporter(lam, name, marker="one", **overrides):
    args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="x",
                Code={"ZipFile": code(marker)})
    args.update(overrides)
    reply = lam.create_function(**args)
    wait_active(lam, name)
    return reply


def call(lam, name, qualifier=None):
    args = dict(FunctionName=name, Payload=b"{}")
    if qualifier:
        args["Qualifier"] = qualifier
    response = lam.invoke(**args)
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return response, body


def test_publish_invoke_by_number_and_alias(lam):
    create_reporter(lam, "ver", "one")
    v1 = lam.publish_version(FunctionName="ver", Description="first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"].endswith(":function:ver:1")
    assert v1["Description"] == "first"
    # Nothing changed: no new version.
    assert lam.publish_version(FunctionName="ver")["Version"] == "1"

    lam.update_function_code(FunctionName="ver", ZipFile=code("two"))
    lam.get_waiter("function_updated_v2").wait(FunctionName="ver")
    latest = lam.get_function_configuration(FunctionName="ver")
    with pytest.raises(botocore.exceptions.ClientError) as stale:
        lam.publish_version(FunctionName="ver", CodeSha256=v1["CodeSha256"])
    assert stale.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(botocore.exceptions.ClientError) as stale:
        lam.publish_version(FunctionName="ver", RevisionId="0" * 36)
    assert stale.value.response["Error"]["Code"] == "PreconditionFailedException"
    v2 = lam.publish_version(FunctionName="ver", CodeSha256=latest["CodeSha256"],
                             RevisionId=latest["RevisionId"])
    assert v2["Version"] == "2"
    lam.get_waiter("published_version_active").wait(FunctionName="ver", Qualifier="2")

    for qualifier, version, marker in [(None, "$LATEST", "two"), ("$LATEST", "$LATEST", "two"),
                                       ("1", "1", "one"), ("2", "2", "two")]:
        response, body = call(lam, "ver", qualifier)
        assert response["ExecutedVersion"] == version
        assert body["version"] == version and body["marker"] == marker
        assert f"[{version}]" in body["stream"]
    # The qualifier may come with the name, and as an ARN.
    response, body = call(lam, "ver:1")
    assert body["marker"] == "one"
    response, body = call(lam, v1["FunctionArn"])
    assert body["marker"] == "one"

    alias = lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1",
                             Description="production")
    assert alias["AliasArn"].endswith(":function:ver:live")
    response, body = call(lam, "ver", "live")
    assert response["ExecutedVersion"] == "1" and body["marker"] == "one"
    assert lam.get_function_configuration(FunctionName="ver", Qualifier="live")["Version"] == "1"
    updated = lam.update_alias(FunctionName="ver", Name="live", FunctionVersion="2",
                               RevisionId=alias["RevisionId"])
    assert updated["FunctionVersion"] == "2"
    response, body = call(lam, "ver:live")
    assert response["ExecutedVersion"] == "2" and body["marker"] == "two"

    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in everything] == \
        [("ver", "$LATEST"), ("ver", "1"), ("ver", "2")]
    assert [f["Version"] for f in lam.list_functions()["Functions"]] == ["$LATEST"]
    versions = lam.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":ver:$LATEST")
    assert [a["Name"] for a in lam.list_aliases(FunctionName="ver")["Aliases"]] == ["live"]
    assert lam.list_aliases(FunctionName="ver", FunctionVersion="1")["Aliases"] == []


def test_version_errors_and_deletes(lam):
    create_reporter(lam, "del", "one")
    lam.publish_version(FunctionName="del")
    lam.update_function_configuration(FunctionName="del", Description="changed")
    lam.get_waiter("function_updated_v2").wait(FunctionName="del")
    lam.update_function_code(FunctionName="del", ZipFile=code("two"))
    lam.get_waiter("function_updated_v2").wait(FunctionName="del")
    assert lam.publish_version(FunctionName="del")["Version"] == "2"
    lam.create_alias(FunctionName="del", Name="pinned", FunctionVersion="1")

    def error_of(call_, **kwargs):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            call_(**kwargs)
        return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]

    assert error_of(lam.create_alias, FunctionName="del", Name="pinned",
                    FunctionVersion="2")[0] == "ResourceConflictException"
    assert error_of(lam.create_alias, FunctionName="del", Name="123",
                    FunctionVersion="2")[0] == "ValidationException"
    assert error_of(lam.create_alias, FunctionName="del", Name="nine",
                    FunctionVersion="9")[0] == "ResourceNotFoundException"
    assert error_of(lam.get_alias, FunctionName="del", Name="nope")[0] == "ResourceNotFoundException"
    assert error_of(lam.invoke, FunctionName="del", Qualifier="7")[0] == "ResourceNotFoundException"
    assert error_of(lam.create_alias, FunctionName="del", Name="w", FunctionVersion="$LATEST",
                    RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})[0] == \
        "InvalidParameterValueException"
    assert error_of(lam.create_alias, FunctionName="del", Name="w", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})[0] == "ValidationException"
    code_, message = error_of(lam.delete_function, FunctionName="del", Qualifier="1")
    assert code_ == "ResourceConflictException" and "pinned" in message
    assert error_of(lam.delete_function, FunctionName="del",
                    Qualifier="$LATEST")[0] == "InvalidParameterValueException"

    lam.delete_function(FunctionName="del", Qualifier="2")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="del")["Versions"]] == \
        ["$LATEST", "1"]
    # Numbers are never reused.
    assert lam.publish_version(FunctionName="del")["Version"] == "3"
    lam.delete_alias(FunctionName="del", Name="pinned")
    lam.delete_function(FunctionName="del", Qualifier="1")
    response, body = call(lam, "del", "3")
    assert body["marker"] == "two"
    # Without a qualifier: the function, every version and alias.
    lam.delete_function(FunctionName="del")
    assert error_of(lam.get_function, FunctionName="del", Qualifier="3")[0] == \
        "ResourceNotFoundException"


def test_create_with_publish(lam):
    reply = create_reporter(lam, "pub", "one", Publish=True)
    assert reply["Version"] == "1"
    response, body = call(lam, "pub", "1")
    assert body["version"] == "1"


def test_weighted_alias_split(daemon, lam):
    # The C test runtime (about 1 ms a warm invoke); the two versions differ
    # by a file, and X-Amz-Executed-Version tells which one ran.
    lam.create_function(FunctionName="split", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code={"ZipFile": runtime_zip({"v": b"1"})})
    wait_active(lam, "split")
    lam.publish_version(FunctionName="split")
    lam.update_function_code(FunctionName="split", ZipFile=runtime_zip({"v": b"2"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="split")
    lam.publish_version(FunctionName="split")
    weight = 0.3
    alias = lam.create_alias(FunctionName="split", Name="canary", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": weight}})
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": weight}
    counts = {"1": 0, "2": 0}
    total = 1000
    for _ in range(total):
        response = lam.invoke(FunctionName="split", Qualifier="canary", Payload=b'{"echo":1}')
        assert response["Payload"].read() == b'{"echo":1}'
        counts[response["ExecutedVersion"]] += 1
    share = counts["2"] / total
    print(f"weighted alias: {counts} -> {share:.3f} for weight {weight}")
    # Binomial(1000, 0.3): sd 1.45 %; 4 % is 2.8 sd.
    assert abs(share - weight) < 0.04, counts
    # Each version keeps its own warm environment: one log stream per
    # version, not a cold start at every switch.
    status, logs = admin_request(daemon, "GET", "/wick/v1/functions/split/logs")
    assert status == 200, logs
    streams = [s["name"] for s in logs["streams"]]
    versions = sorted(s.split("[")[1].split("]")[0] for s in streams)
    assert versions == ["1", "2"], streams
