"""Fields far longer than the API models are refused as not matching, not by a
dead wickd: libstdc++'s std::regex recurses once per character, and a 60 KB
layer ARN in a query or a 300 KB environment variable name overflowed a
worker's stack (SIGSEGV) before they went through common/bounded_regex.h."""
import botocore
import pytest

from conftest import ROLE, admin_request, client_for, running_daemon, runtime_zip

LONG = "a" * 300_000
IN_A_LINE = "a" * 60_000  # paths and queries: under the 64 KB header bound


@pytest.fixture(scope="module")
def daemon():
    with running_daemon() as d:
        d.lam = client_for(d, retries={"max_attempts": 1})
        d.lam.create_function(FunctionName="f", Runtime="provided.al2023", Role=ROLE,
                              Handler="x", Code={"ZipFile": runtime_zip()})
        yield d


def create(lam, name, **fields):
    return lambda: lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                       Handler="x", Code={"ZipFile": runtime_zip()}, **fields)


PROBES = {
    "environment variable name": lambda lam: create(
        lam, "env", Environment={"Variables": {"A" + LONG: "v"}}),
    "layer ARN of CreateFunction": lambda lam: create(
        lam, "layers", Layers=[f"arn:aws:lambda:us-{LONG}-1:123456789012:layer:x:1"]),
    "GetLayerVersionByArn": lambda lam: lambda: lam.get_layer_version_by_arn(
        Arn=f"arn:aws:lambda:us-{IN_A_LINE}-1:123456789012:layer:x:1"),
    "ListLayerVersions of a layer ARN": lambda lam: lambda: lam.list_layer_versions(
        LayerName=f"arn:aws:lambda:us-{IN_A_LINE}-1:123456789012:layer:x"),
    "AddPermission principal": lambda lam: lambda: lam.add_permission(
        FunctionName="f", StatementId="s", Action="lambda:InvokeFunctionUrl", Principal="1" * 300_000,
        FunctionUrlAuthType="NONE"),
    "AddPermission action": lambda lam: lambda: lam.add_permission(
        FunctionName="f", StatementId="s", Action="lambda:" + LONG, Principal="*",
        FunctionUrlAuthType="NONE"),
}


@pytest.mark.parametrize("what", list(PROBES))
def test_a_long_field_is_a_400_and_wickd_lives(daemon, what):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        PROBES[what](daemon.lam)()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404), \
        refused.value.response
    assert daemon.process.poll() is None, "wickd died"
    assert daemon.lam.get_function(FunctionName="f")["Configuration"]["FunctionName"] == "f"


def test_a_long_log_stream_name_is_refused_and_wickd_lives(daemon):
    status, answer = admin_request(daemon, "GET",
                                   f"/wick/v1/functions/f/logs?stream=2020/01/01/[{IN_A_LINE}]",
                                   timeout=20)
    assert status in (400, 404), answer  # not a stream name, so no such stream
    assert daemon.process.poll() is None, "wickd died"


def test_a_runtimes_deeply_nested_init_error_does_not_crash_wickd(daemon):
    """A hostile runtime's init error, JSON nested 300,000 deep, whose errorMessage reads as
    the agent's own ("Error: ..."): wickd dumped it again to add the request id (dump()
    recurses once per level) and died of SIGSEGV. It is answered as the runtime wrote it."""
    from conftest import make_zip
    deep = b"[" * 300_000 + b"]" * 300_000
    error = b'{"errorMessage":"Error: deep","errorType":"Deep","nested":' + deep + b"}"
    bootstrap = (b"#!/bin/sh\n"
                 b"curl -s -X POST -H 'Lambda-Runtime-Function-Error-Type: Deep' "
                 b"--data-binary @/var/task/error.json "
                 b"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error\n"
                 b"exit 1\n")
    daemon.lam.create_function(FunctionName="deep-init", Runtime="provided.al2023", Role=ROLE,
                               Handler="x", Code={"ZipFile": make_zip(
                                   {"bootstrap": (bootstrap, 0o755), "error.json": error})})
    from conftest import wait_active
    wait_active(daemon.lam, "deep-init")
    reply = daemon.lam.invoke(FunctionName="deep-init", Payload=b"{}")
    assert reply.get("FunctionError") == "Unhandled", reply
    assert reply["Payload"].read() == error
    assert daemon.process.poll() is None, "wickd died"
