"""The control plane through boto3 and the awscli, unmodified, against a real wickd."""
import base64
import hashlib
import json
import os
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, client_for, create, make_zip, ACCESS_KEY_ID, SECRET_ACCESS_KEY, signed_request


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_create_get_list_delete(lam):
    zipped = make_zip({"bootstrap": (b"#!/bin/sh\n", 0o755)})
    created = lam.create_function(FunctionName="hello", Runtime="provided.al2023", Role=ROLE,
                                  Handler="h", Code={"ZipFile": zipped}, MemorySize=256,
                                  Timeout=10, Environment={"Variables": {"GREETING": "hi"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:hello"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(zipped).digest()).decode()
    assert created["CodeSize"] == len(zipped)
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert created["MemorySize"] == 256 and created["Timeout"] == 10
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["Architectures"] == ["x86_64"]
    assert created["PackageType"] == "Zip"
    assert created["Version"] == "$LATEST"

    lam.get_waiter("function_active_v2").wait(FunctionName="hello")
    got = lam.get_function(FunctionName="hello")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["RevisionId"] == created["RevisionId"]
    # Code.Location serves the zip back.
    assert urllib.request.urlopen(got["Code"]["Location"]).read() == zipped

    by_arn = lam.get_function_configuration(FunctionName=created["FunctionArn"])
    assert by_arn["FunctionName"] == "hello"
    partial = lam.get_function_configuration(FunctionName="000000000000:function:hello")
    assert partial["FunctionName"] == "hello"
    assert lam.get_function_configuration(FunctionName="hello", Qualifier="$LATEST")["Version"] == "$LATEST"

    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert names == ["hello"]

    lam.delete_function(FunctionName="hello")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as excinfo:
        lam.get_function(FunctionName="hello")
    assert "Function not found: arn:aws:lambda:us-east-1:000000000000:function:hello" in str(excinfo.value)


def test_duplicate_is_a_conflict(lam):
    create(lam, "dup")
    with pytest.raises(lam.exceptions.ResourceConflictException) as excinfo:
        create(lam, "dup")
    assert "Function already exist: dup" in str(excinfo.value)


def test_update_configuration_and_code_change_revision(lam):
    first = create(lam, "upd")
    updated = lam.update_function_configuration(FunctionName="upd", MemorySize=512, Description="d",
                                                Environment={"Variables": {"AB": "1"}})
    assert updated["MemorySize"] == 512 and updated["Description"] == "d"
    assert updated["RevisionId"] != first["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName="upd")
    new_zip = make_zip({"bootstrap": (b"#!/bin/sh\necho v2\n", 0o755)})
    code = lam.update_function_code(FunctionName="upd", ZipFile=new_zip)
    assert code["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert code["RevisionId"] != updated["RevisionId"]
    lam.get_waiter("function_updated").wait(FunctionName="upd")
    assert lam.get_function_configuration(FunctionName="upd")["LastUpdateStatus"] == "Successful"
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_configuration(FunctionName="upd", Timeout=5, RevisionId=first["RevisionId"])


@pytest.mark.parametrize("overrides, code, text", [
    (dict(MemorySize=10241), "ValidationException", "memorySize"),
    (dict(Timeout=901), "ValidationException", "timeout"),
    (dict(EphemeralStorage={"Size": 10241}), "ValidationException", "ephemeralStorage.size"),
    (dict(Description="x" * 257), "ValidationException", "description"),
    (dict(Handler="has space"), "ValidationException", "handler"),
    (dict(Role="not-an-arn"), "ValidationException", "role"),
    (dict(Runtime="cobol42"), "InvalidParameterValueException", "runtime parameter of cobol42"),
    (dict(Environment={"Variables": {"AWS_REGION": "x"}}), "InvalidParameterValueException",
     "Reserved keys used in this request: AWS_REGION"),
    (dict(Environment={"Variables": {"BIG": "x" * 4100}}), "InvalidParameterValueException",
     "exceeded the 4KB limit"),
    (dict(Environment={"Variables": {"1BAD": "x"}}), "ValidationException", "environment.variables"),
    (dict(FunctionName="bad/name"), "ValidationException", "functionName"),
    (dict(FunctionName="x" * 65), "ValidationException", "functionName"),
    (dict(Architectures=["arm64"]), "InvalidParameterValueException", "arm64"),
])
# (Minima are checked by botocore itself before sending; maxima are ours.)
def test_validation_errors_map_to_aws_exceptions(lam, overrides, code, text):
    args = dict(overrides)
    name = args.pop("FunctionName", "v")
    with pytest.raises(ClientError) as excinfo:
        create(lam, name, **args)
    assert error_code(excinfo) == code
    assert text in excinfo.value.response["Error"]["Message"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert lam.list_functions()["Functions"] == []


@pytest.mark.parametrize("files, text", [
    ({"../escape": b"x"}, "path leaves the destination"),
    ({"/etc/evil": b"x"}, "path leaves the destination"),
])
def test_hostile_zips_are_rejected(lam, daemon, files, text):
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create(lam, "hostile", Code={"ZipFile": make_zip(files)})
    assert text in str(excinfo.value)
    state = daemon.state_dir
    assert not os.path.exists(os.path.join(state, "escape"))
    assert not os.path.exists(os.path.join(os.path.dirname(state), "escape"))
    trees = os.listdir(os.path.join(state, "code", "trees"))
    assert trees == [], "nothing partial is left behind"


def test_symlink_out_of_the_zip_is_rejected(lam):
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777) << 16
        z.writestr(info, "/etc/shadow")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create(lam, "symlink", Code={"ZipFile": buffer.getvalue()})
    assert "points outside the destination" in str(excinfo.value)


def test_not_a_zip_and_missing_code(lam):
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        create(lam, "garbage", Code={"ZipFile": b"this is not a zip"})
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        create(lam, "s3", Code={"S3Bucket": "bucket", "S3Key": "key"})


def test_executable_bootstrap_stays_executable(lam, daemon):
    create(lam, "modes")
    trees = os.path.join(daemon.state_dir, "code", "trees")
    (tree,) = os.listdir(trees)
    assert os.stat(os.path.join(trees, tree, "bootstrap")).st_mode & 0o777 == 0o755


def test_list_functions_pages_with_marker(lam):
    for i in range(5):
        create(lam, f"page{i}")
    first = lam.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and "NextMarker" in first
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 2}) for f in page["Functions"]]
    assert names == [f"page{i}" for i in range(5)]


def test_concurrency_and_account_settings(lam):
    create(lam, "conc")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="conc")
    assert lam.put_function_concurrency(FunctionName="conc", ReservedConcurrentExecutions=10)[
        "ReservedConcurrentExecutions"] == 10
    assert lam.get_function_concurrency(FunctionName="conc")["ReservedConcurrentExecutions"] == 10
    assert lam.get_function(FunctionName="conc")["Concurrency"] == {"ReservedConcurrentExecutions": 10}
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    assert settings["AccountUsage"]["FunctionCount"] == 1
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.put_function_concurrency(FunctionName="conc", ReservedConcurrentExecutions=901)
    assert "below its minimum value of [100]" in str(excinfo.value)
    lam.delete_function_concurrency(FunctionName="conc")
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def test_tags(lam):
    arn = create(lam, "tagged", Tags={"team": "a"})["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "prod", "team": "b"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "b", "env": "prod"}
    lam.untag_resource(Resource=arn, TagKeys=["team", "env"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}


def test_dry_run_invoke_and_an_unknown_invocation_type(daemon, lam):
    create(lam, "dry")
    assert lam.invoke(FunctionName="dry", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope", InvocationType="DryRun")
    # Event is served (tests/e2e/test_async.py); anything else is refused by name.
    status, headers, _ = signed_request(daemon, "POST", "/2015-03-31/functions/dry/invocations",
                                        b"{}", {"X-Amz-Invocation-Type": "Later"})
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"


def test_unknown_route_is_a_json_error(daemon):
    status, headers, body = signed_request(daemon, "GET", "/2099-01-01/nothing")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "Unknown operation" in json.loads(body)["message"]
    # A known path with a method it does not take: 405, saying which it takes.
    status, headers, _ = signed_request(daemon, "PATCH", "/2015-03-31/functions")
    assert status == 405
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert set(headers["allow"].split(", ")) == {"GET", "POST"}


def test_restart_keeps_every_function(daemon):
    lam = client_for(daemon)
    for i in range(3):
        create(lam, f"keep{i}", MemorySize=128 + i)
    daemon.stop()
    daemon.start()
    lam = client_for(daemon)
    configs = lam.list_functions()["Functions"]
    assert [(c["FunctionName"], c["MemorySize"]) for c in configs] == [
        ("keep0", 128), ("keep1", 129), ("keep2", 130)]


def test_awscli_unmodified(daemon, tmp_path):
    zip_path = tmp_path / "f.zip"
    zip_path.write_bytes(make_zip({"bootstrap": (b"#!/bin/sh\n", 0o755)}))
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY, AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="")
    aws = ["/usr/bin/aws", "--endpoint-url", daemon.endpoint, "lambda"]
    out = subprocess.run(aws + ["create-function", "--function-name", "cli", "--runtime", "provided.al2",
                                "--role", ROLE, "--handler", "h", "--zip-file", f"fileb://{zip_path}"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["FunctionName"] == "cli"
    out = subprocess.run(aws + ["get-function-configuration", "--function-name", "cli"], env=env,
                         capture_output=True, text=True)
    assert json.loads(out.stdout)["Runtime"] == "provided.al2"
    out = subprocess.run(aws + ["create-function", "--function-name", "cli2", "--runtime", "provided.al2",
                                "--role", ROLE, "--memory-size", "99999", "--zip-file", f"fileb://{zip_path}"],
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "ValidationException" in out.stderr
    out = subprocess.run(aws + ["delete-function", "--function-name", "cli"], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
