"""Managed-runtime conformance suite: the same handlers (notes: runtimes.md) in Python
(tests/e2e/runtimes/python) and Node.js (tests/e2e/runtimes/nodejs), each directory zipped as
the function's code, run by a real wickd with Runtime python3.11 / nodejs20.x, invoked with
boto3. What the runtime clients must do: lambda-contract.md 1 (Runtime API, init errors) and
what AWS's own clients do (context, logs, error bodies).

Node-only and Python-only cases are keyed on the runtime; the Node.js cases are skipped until
tests/e2e/runtimes/nodejs/app.js exists."""
import base64
import io
import json
import os
import re
import time
import urllib.parse
import zipfile

import pytest

from conftest import ROLE, client_for, running_daemon, wait_active, admin_request

HERE = os.path.dirname(os.path.abspath(__file__))
CODE_DIRS = {"python3.11": os.path.join(HERE, "runtimes", "python"),
             "nodejs20.x": os.path.join(HERE, "runtimes", "nodejs")}

RUNTIMES = [
    pytest.param("python3.11", id="python3.11"),
    pytest.param("nodejs20.x", id="nodejs20.x", marks=pytest.mark.skipif(
        not os.path.exists(os.path.join(CODE_DIRS["nodejs20.x"], "app.js")),
        reason="tests/e2e/runtimes/nodejs/app.js does not exist yet")),
]


@pytest.fixture(scope="module")
def runtime_daemon():
    """One wickd for the whole module: each test creates functions of its own."""
    with running_daemon("wick-e2e-runtimes-") as daemon:
        yield daemon


@pytest.fixture(scope="module")
def lam(runtime_daemon):
    return client_for(runtime_daemon)


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


_zips = {}


def code_zip(runtime):
    """The runtime's handler directory as a zip (files keep their modes)."""
    if runtime not in _zips:
        buffer = io.BytesIO()
        top = CODE_DIRS[runtime]
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for directory, subdirs, files in os.walk(top):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    archive.write(path, os.path.relpath(path, top))
        _zips[runtime] = buffer.getvalue()
    return _zips[runtime]


_names = iter(range(1, 1_000_000))


def deploy(lam, runtime, handler, **settings):
    """Creates a function of the suite's code with this handler; returns its configuration."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", f"{runtime}-{handler}")[:40] + f"-{next(_names)}"
    configuration = lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                        Handler=handler, Code={"ZipFile": code_zip(runtime)},
                                        **settings)
    wait_active(lam, name)  # the runtime's base root may be building
    return configuration


class Invocation:
    def __init__(self, response):
        self.response = response
        self.body = response["Payload"].read()
        self.request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        self.tail = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.body)

    def __str__(self):
        """What an assertion shows: the whole outcome and the function's log."""
        return (f"<invoke {self.request_id}: status {self.response['StatusCode']} "
                f"FunctionError={self.response.get('FunctionError')} body={self.body!r}\n"
                f"log tail:\n{self.tail}>")


def invoke(lam, name, event=None, **kwargs):
    return Invocation(lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(),
                                 LogType="Tail", **kwargs))


def function_log(daemon, name):
    """Every log stream of the function, from wickd's log API (what `wick logs` prints)."""
    def get(query=""):
        status, answer = admin_request(daemon, "GET", f"/wick/v1/functions/{name}/logs{query}",
                                       timeout=10)
        assert status == 200, answer
        return answer

    text = ""
    for stream in get()["streams"]:
        offset = 0
        while offset < stream["size"]:
            stream_name = urllib.parse.quote(stream["name"], safe="")
            chunk = get(f"?stream={stream_name}&offset={offset}")
            if chunk["offset"] <= offset:
                break
            text += chunk["data"]
            offset = chunk["offset"]
    return text


def succeeded(invocation):
    return invocation.response["StatusCode"] == 200 and "FunctionError" not in invocation.response


# ---------------------------------------------------------------------------------------
# Both runtimes


EVENTS = [
    {"str": "x", "int": 7, "float": 1.5, "null": None, "bool": False,
     "list": [1, "a", {"b": [True, None]}], "nested": {"deep": {"deeper": []}},
     "unicode": "é ☃ 𝄞", "empty": {}},
    ["a", 1, None],
    "just a string",
    42,
]


@pytest.mark.parametrize("event", EVENTS, ids=["object", "array", "string", "number"])
def test_echo_returns_the_event(lam, runtime, event):
    name = deploy(lam, runtime, "app.echo")["FunctionName"]
    result = invoke(lam, name, event)
    assert succeeded(result), str(result)
    assert result.response["ExecutedVersion"] == "$LATEST"
    assert result.json == event, str(result)


def test_a_large_event_round_trips(lam, runtime):
    # Correctness, not the machine's speed: one whole vCPU (1769 MB) and room in
    # the timeout; scripts/bench-payload measures the speed.
    name = deploy(lam, runtime, "app.echo", MemorySize=1769, Timeout=15)["FunctionName"]
    event = {"blob": "x" * (5 << 20), "tail": "é ☃"}  # 5 MiB: read in many pieces
    result = invoke(lam, name, event)
    assert succeeded(result), str(result)[:2000]
    assert result.json == event, "the large event came back changed"


def test_context_carries_the_invocation(lam, runtime):
    config = deploy(lam, runtime, "app.context", MemorySize=256, Timeout=7)
    name = config["FunctionName"]
    client_context = {"custom": {"k": "v", "n": 1}, "env": {"locale": "en-GB"},
                      "client": {"installation_id": "install-1", "app_title": "suite"}}
    result = invoke(lam, name, {},
                    ClientContext=base64.b64encode(json.dumps(client_context).encode()).decode())
    assert succeeded(result), str(result)
    context = result.json
    assert context["function_name"] == name, str(result)
    assert context["function_version"] == "$LATEST", str(result)
    assert context["invoked_function_arn"] == config["FunctionArn"], str(result)
    # Both AWS clients give the memory size as the environment's string.
    assert context["memory_limit_in_mb"] == "256", str(result)
    # The daemon's request id (x-amzn-RequestId) is the invocation id the runtime sees.
    assert context["aws_request_id"] == result.request_id, str(result)
    assert context["log_group_name"] == f"/aws/lambda/{name}", str(result)
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}",
                        context["log_stream_name"]), str(result)
    assert 5000 < context["remaining_ms"] <= 7000, str(result)
    assert context["client_context_custom"] == {"k": "v", "n": 1}, str(result)
    assert context["has_callback_waits"] is True, str(result)
    if runtime == "python3.11":
        # AWS's Python context always has an identity object, empty without Cognito.
        assert context["identity"] == {"cognito_identity_id": None,
                                       "cognito_identity_pool_id": None}, str(result)
    else:
        assert context.get("identity") is None, str(result)

    # A warm invoke: a new request id, no client context.
    again = invoke(lam, name, {})
    assert succeeded(again), str(again)
    assert again.json["aws_request_id"] == again.request_id != result.request_id, str(again)
    assert again.json["client_context_custom"] is None, str(again)
    assert again.json["log_stream_name"] == context["log_stream_name"], "same environment"


def log_patterns(runtime, request_id, msg):
    """The two lines app.log must leave in the log, as each AWS runtime formats them."""
    timestamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
    rid = re.escape(request_id)
    if runtime == "python3.11":
        return [rf"^print-line {msg}$", rf"^\[INFO\]\t{timestamp}\t{rid}\tlogged-line {msg}$"]
    return [rf"^{timestamp}\t{rid}\tINFO\tprint-line {msg}$",
            rf"^{timestamp}\t{rid}\tINFO\tlogged-line {msg}$"]


def test_log_lines_reach_the_tail_tagged_with_the_request(lam, runtime):
    name = deploy(lam, runtime, "app.log")["FunctionName"]
    for msg in ("first", "second"):  # cold, then warm
        result = invoke(lam, name, {"msg": msg})
        assert succeeded(result) and result.json == "ok", str(result)
        lines = result.tail.splitlines()
        start = lines.index(next(l for l in lines if l.startswith("START RequestId: ")))
        assert lines[start] == f"START RequestId: {result.request_id} Version: $LATEST", str(result)
        end = lines.index(f"END RequestId: {result.request_id}")
        assert lines[end + 1].startswith(f"REPORT RequestId: {result.request_id}\t"), str(result)
        body = lines[start + 1:end]
        positions = []
        for pattern in log_patterns(runtime, result.request_id, msg):
            found = [i for i, line in enumerate(body) if re.match(pattern, line)]
            assert len(found) == 1, f"{pattern!r} should match one log line: {result}"
            positions += found
        assert positions == sorted(positions), f"print-line before logged-line: {result}"


def test_an_exception_is_an_unhandled_function_error(lam, runtime):
    name = deploy(lam, runtime, "app.fail")["FunctionName"]
    result = invoke(lam, name, {"msg": "it went wrong ☃"})
    assert result.response["StatusCode"] == 200, str(result)
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    error = result.json
    if runtime == "python3.11":
        assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"], str(result)
        assert error["requestId"] == result.request_id, str(result)
        trace = error["stackTrace"]
        # The trace starts in the user's code: the runtime's own frames are cut.
        assert trace and all(isinstance(frame, str) for frame in trace), str(result)
        assert trace[0].startswith('  File "/var/task/app.py", line '), str(result)
        assert "in fail\n    raise MyError(event[\"msg\"])" in trace[-1], str(result)
        assert "[ERROR] MyError: it went wrong ☃\rTraceback (most recent call last):" \
            in result.tail, str(result)
    else:
        assert set(error) == {"errorType", "errorMessage", "trace"}, str(result)
        assert error["trace"][0] == "MyError: it went wrong ☃", str(result)
        assert "MyError" in result.tail and "it went wrong ☃" in result.tail, str(result)
    assert error["errorType"] == "MyError", str(result)
    assert error["errorMessage"] == "it went wrong ☃", str(result)

    # A function error does not cost the environment.
    again = invoke(lam, name, {"msg": "again"})
    assert again.json["errorMessage"] == "again", str(again)
    assert "Init Duration" not in again.tail, str(again)


def test_globals_survive_between_warm_invokes(lam, runtime):
    name = deploy(lam, runtime, "app.counter")["FunctionName"]
    for n in (1, 2, 3):
        result = invoke(lam, name, {})
        assert succeeded(result), str(result)
        assert result.json == {"count": n, "init_count": 1}, str(result)
        assert ("Init Duration" in result.tail) == (n == 1), f"only the cold invoke inits: {result}"


def test_remaining_time_counts_down(lam, runtime):
    name = deploy(lam, runtime, "app.sleep", Timeout=3)["FunctionName"]
    result = invoke(lam, name, {"ms": 300})
    assert succeeded(result), str(result)
    assert 0 < result.json["remaining_ms"] <= 3000 - 300, str(result)


def test_a_handler_past_its_timeout_is_stopped(lam, runtime):
    name = deploy(lam, runtime, "app.sleep", Timeout=1)["FunctionName"]
    started = time.monotonic()
    result = invoke(lam, name, {"ms": 3000})
    elapsed = time.monotonic() - started
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    assert result.json["errorType"] == "Sandbox.Timedout", str(result)
    assert "Task timed out after 1.00 seconds" in result.json["errorMessage"], str(result)
    assert elapsed < 2.8, f"the timeout took {elapsed:.2f} s: {result}"
    # The next invoke gets a fresh environment.
    again = invoke(lam, name, {"ms": 1})
    assert succeeded(again) and 0 < again.json["remaining_ms"] <= 1000, str(again)


def test_returning_nothing_is_null(lam, runtime):
    handler = "app.returns_none" if runtime == "python3.11" else "app.returns_undefined"
    name = deploy(lam, runtime, handler)["FunctionName"]
    result = invoke(lam, name, {"x": 1})
    assert succeeded(result), str(result)
    assert result.body == b"null", str(result)


def test_unicode_survives_the_round_trip(lam, runtime):
    name = deploy(lam, runtime, "app.unicode")["FunctionName"]
    result = invoke(lam, name, {})
    assert succeeded(result), str(result)
    assert result.json == {"text": "héllo ☃"}, str(result)


def test_a_handler_in_a_package_path(lam, runtime):
    name = deploy(lam, runtime, "pkg/sub/mod.handler")["FunctionName"]
    result = invoke(lam, name, {})
    assert succeeded(result), str(result)
    assert result.json == {"nested": True}, str(result)


INIT_ERRORS = [
    # handler, errorType (lambda-contract.md 1.5), Python's message (as AWS's client words it)
    ("nosuchmodule.handler", "Runtime.ImportModuleError",
     "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"),
    ("bad_import.handler", "Runtime.ImportModuleError",
     "Unable to import module 'bad_import': No module named 'wick_module_that_does_not_exist'"),
    ("syntax_error.handler", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'syntax_error': invalid syntax (syntax_error.py, line 5)"),
    ("app.no_such_handler", "Runtime.HandlerNotFound",
     "Handler 'no_such_handler' missing on module 'app'"),
    ("badhandlername", "Runtime.MalformedHandlerName",
     "Bad handler 'badhandlername': not enough values to unpack (expected 2, got 1)"),
]


@pytest.mark.parametrize("handler,error_type,python_message", INIT_ERRORS,
                         ids=[case[1].split(".")[1] + "-" + case[0] for case in INIT_ERRORS])
def test_init_errors_fail_every_invoke(lam, runtime_daemon, runtime, handler, error_type,
                                      python_message):
    name = deploy(lam, runtime, handler)["FunctionName"]
    for attempt in (1, 2):  # a failed init is not kept: the next invoke inits again
        result = invoke(lam, name, {})
        assert result.response.get("FunctionError") == "Unhandled", str(result)
        error = result.json
        assert error["errorType"] == error_type, str(result)
        if runtime == "python3.11":
            assert error["errorMessage"] == python_message, str(result)
            assert error["requestId"] == "", str(result)
            # A new environment's tail starts with its init output.
            assert f"[ERROR] {error_type}: {python_message}" in result.tail, str(result)
    if runtime == "python3.11":
        # Init output precedes START in the function's log.
        log = function_log(runtime_daemon, name)
        assert log.count(f"[ERROR] {error_type}: {python_message}\r") == 2, log


# ---------------------------------------------------------------------------------------
# Python only


def python_only(runtime):
    if runtime != "python3.11":
        pytest.skip("Python-only case")


def test_python_an_exception_while_importing_is_an_init_error(lam, runtime):
    python_only(runtime)
    name = deploy(lam, runtime, "init_raises.handler")["FunctionName"]
    result = invoke(lam, name, {})
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    error = result.json
    assert error["errorType"] == "ValueError", str(result)
    assert error["errorMessage"] == "raised while importing", str(result)
    assert any('File "/var/task/init_raises.py", line 1' in frame
               for frame in error["stackTrace"]), str(result)
    assert not any("wick_runtime" in frame for frame in error["stackTrace"]), str(result)


def test_python_an_unserialisable_result_is_a_marshal_error(lam, runtime):
    python_only(runtime)
    name = deploy(lam, runtime, "app.unserialisable")["FunctionName"]
    result = invoke(lam, name, {})
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    assert result.json == {"errorMessage": "Unable to marshal response: Object of type set is "
                                           "not JSON serializable",
                           "errorType": "Runtime.MarshalError",
                           "requestId": result.request_id, "stackTrace": []}, str(result)


def test_python_a_response_over_6_mb_fails_only_that_invoke(lam, runtime):
    python_only(runtime)
    name = deploy(lam, runtime, "app.big", MemorySize=512)["FunctionName"]
    result = invoke(lam, name, {"bytes": 7 << 20})
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    assert result.json["errorType"] == "Function.ResponseSizeTooLarge", str(result)
    # The runtime was refused (413) and carried on: the next invoke is warm.
    again = invoke(lam, name, {"bytes": 3})
    assert succeeded(again) and again.json == "xxx", str(again)
    assert "Init Duration" not in again.tail, str(again)


def test_python_environment_per_invoke(lam, runtime):
    python_only(runtime)
    name = deploy(lam, runtime, "app.environment")["FunctionName"]
    first, second = invoke(lam, name, {}), invoke(lam, name, {})
    assert succeeded(first) and succeeded(second), f"{first}\n{second}"
    trace = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]"
    assert re.fullmatch(trace, first.json["trace_id"]), str(first)
    assert re.fullmatch(trace, second.json["trace_id"]), str(second)
    assert first.json["trace_id"] != second.json["trace_id"], "a trace id per invoke"
    assert first.json["sys_path"][:3] == ["/var/task", "/opt/python/lib/python3.11/site-packages",
                                          "/opt/python"], str(first)
    assert first.json["cwd"] == "/var/task", str(first)
    assert first.json["stdout_encoding"] == "utf-8", str(first)
    assert first.json["uid"] == 993, str(first)
    assert first.json["wrapped_by"] is None, str(first)


def test_python_exec_wrapper_runs_the_runtime(lam, runtime):
    python_only(runtime)
    name = deploy(lam, runtime, "app.environment", Environment={
        "Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}})["FunctionName"]
    result = invoke(lam, name, {})
    assert succeeded(result), str(result)
    # The wrapper got the interpreter's command line (python3.11 and its arguments).
    assert result.json["wrapped_by"].startswith("wrapper.sh "), str(result)
    assert int(result.json["wrapped_by"].split()[1]) >= 6, str(result)


# ---------------------------------------------------------------------------------------
# Node.js only (handlers in tests/e2e/runtimes/nodejs)


def node_only(runtime):
    if runtime != "nodejs20.x":
        pytest.skip("Node.js-only case")


@pytest.mark.parametrize("handler,expected", [
    ("callback.handler", {"via": "callback"}),
    ("succeed.handler", {"via": "succeed"}),
    ("done.handler", {"via": "done"}),
    ("esm.handler", {"via": "esm"}),
])
def test_node_result_styles(lam, runtime, handler, expected):
    node_only(runtime)
    name = deploy(lam, runtime, handler)["FunctionName"]
    result = invoke(lam, name, {})
    assert succeeded(result), str(result)
    assert result.json == expected, str(result)


@pytest.mark.parametrize("handler,message", [
    ("failing.handler", "boom"),
    ("callback_error.handler", "cb-boom"),
])
def test_node_error_styles(lam, runtime, handler, message):
    node_only(runtime)
    name = deploy(lam, runtime, handler)["FunctionName"]
    result = invoke(lam, name, {})
    assert result.response.get("FunctionError") == "Unhandled", str(result)
    assert result.json["errorType"] == "Error", str(result)
    assert result.json["errorMessage"] == message, str(result)
    assert isinstance(result.json["trace"], list), str(result)
