"""Synchronous invoke end to end: boto3 -> wickd -> sandbox -> wick-agent -> a
static C runtime (tests/runtimes/test_runtime.c) and back."""
import base64
import concurrent.futures
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import ROLE, Daemon, client_for, make_zip, runtime_zip, wait_active, wait_for



def create_runtime_function(lam, name, **overrides):
    args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none",
                Code={"ZipFile": runtime_zip()}, Timeout=10)
    args.update(overrides)
    lam.create_function(**args)
    wait_active(lam, name)


def invoke(lam, name, event, **kwargs):
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response, response["Payload"].read()


def sandbox_slices(daemon):
    parent = f"wick-e2e-{daemon.port}"
    found = []
    for root in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup"):
        path = os.path.join(root, parent)
        if os.path.isdir(path):
            found += [d for d in os.listdir(path) if d.startswith("wick-")]
    return found


def test_invoke_returns_the_functions_json(lam):
    create_runtime_function(lam, "echo")
    response, body = invoke(lam, "echo", {"echo": {"hello": "world"}})
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(body) == {"echo": {"hello": "world"}}


def test_warm_invokes_reuse_the_environment_and_logs_tail(lam, daemon):
    create_runtime_function(lam, "warm")
    _, _ = invoke(lam, "warm", {"n": 1})
    response, body = invoke(lam, "warm", {"print": True}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId:" in tail and "END RequestId:" in tail and "REPORT RequestId:" in tail
    assert "stdout line for" in tail and "stderr line for" in tail
    assert "Init Duration" not in tail, "a warm invoke reports no init"
    assert "Memory Size: 128 MB" in tail
    assert len(sandbox_slices(daemon)) == 1


def test_a_failing_function_is_a_200_with_function_error(lam):
    create_runtime_function(lam, "fails")
    response, body = invoke(lam, "fails", {"fail": "please"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(body) == {"errorMessage": "asked to fail", "errorType": "TestError"}


def test_timeout_kills_the_sandbox(lam, daemon):
    create_runtime_function(lam, "slow", Timeout=1)
    started = time.time()
    response, body = invoke(lam, "slow", {"sleep": 30})
    assert time.time() - started < 10
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    # The next invoke gets a new, working environment.
    response, body = invoke(lam, "slow", {"echo": 1})
    assert "FunctionError" not in response and json.loads(body) == {"echo": 1}


def test_out_of_memory_is_a_runtime_exit_error(lam):
    create_runtime_function(lam, "hungry", MemorySize=128)
    response, body = invoke(lam, "hungry", {"alloc": 400})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Runtime.ExitError"
    assert "signal: killed" in error["errorMessage"]


def test_a_crashing_bootstrap_is_a_runtime_exit_error(lam):
    create_runtime_function(lam, "crashes")
    response, body = invoke(lam, "crashes", {"crash": 3})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]


def test_missing_bootstrap_is_invalid_entrypoint(lam):
    lam.create_function(FunctionName="nobootstrap", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code={"ZipFile": make_zip({"handler.sh": b"echo hi\n"})})
    wait_active(lam, "nobootstrap")
    response, body = invoke(lam, "nobootstrap", {})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    request_id = response["ResponseMetadata"]["RequestId"]
    assert error["errorMessage"] == (f"RequestId: {request_id} Error: Couldn't find valid "
                                     "bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")


def test_payload_must_be_json_and_at_most_6mb(lam):
    create_runtime_function(lam, "payloads")
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="payloads", Payload=b"not json")
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="payloads", Payload=b'"' + b"x" * 6_291_456 + b'"')
    big = {"echo": "y" * (5 * 1024 * 1024)}
    response, body = invoke(lam, "payloads", big)
    assert json.loads(body) == big


def test_reserved_concurrency_zero_throttles(lam):
    create_runtime_function(lam, "throttled")
    lam.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as excinfo:
        lam.invoke(FunctionName="throttled", Payload=b"{}")
    assert excinfo.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"


def test_update_takes_effect_on_the_next_invoke(lam):
    create_runtime_function(lam, "updated")
    invoke(lam, "updated", {"echo": 1})
    lam.update_function_code(
        FunctionName="updated",
        ZipFile=make_zip({"bootstrap": (b"#!/bin/sh\nexit 9\n", 0o755)}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="updated")
    response, body = invoke(lam, "updated", {"echo": 2})
    assert response["FunctionError"] == "Unhandled"
    assert "exit status 9" in json.loads(body)["errorMessage"]


def test_parallel_invokes_scale_out_and_are_reused(lam, daemon):
    create_runtime_function(lam, "parallel")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda i: invoke(client_for(daemon), "parallel", {"sleep": 1, "i": i})[1],
                               range(20)))
    assert sorted(json.loads(b)["i"] for b in bodies) == list(range(20))
    created = len(sandbox_slices(daemon))
    assert 1 < created <= 20
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda i: invoke(client_for(daemon), "parallel", {"i": i}), range(10)))
    assert len(sandbox_slices(daemon)) == created, "warm environments were reused"


def test_sigterm_drains_and_leaves_nothing(daemon):
    lam = client_for(daemon)
    create_runtime_function(lam, "drain")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(invoke, client_for(daemon), "drain", {"sleep": 2, "i": i}) for i in range(3)]
        # Each invoke has its own environment once it is in flight (the
        # sandbox is made inside the invoke): then SIGTERM must drain all three.
        wait_for(lambda: len(sandbox_slices(daemon)) == 3, timeout=30,
                 what="three invokes in flight")
        daemon.process.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    assert all("FunctionError" not in r for r, _ in results)
    assert daemon.process.wait(timeout=30) == 0
    assert sandbox_slices(daemon) == []
    # Nothing of this daemon's stays mounted (other test runs on the machine
    # may hold mounts of their own: look only at this one's state).
    root = os.path.dirname(os.path.abspath(daemon.state_dir))
    with open("/proc/self/mountinfo") as mounts:
        assert root not in mounts.read()
    daemon.start()  # for the fixture's teardown


def test_wick_logs_prints_the_streams(lam, daemon):
    create_runtime_function(lam, "logged")
    invoke(lam, "logged", {"print": True})
    wick = os.path.join(os.path.dirname(os.environ.get("WICKD", "build/bin/wickd")), "wick")
    out = subprocess.run([wick, "logs", "logged", "--endpoint", daemon.wick_endpoint], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "test runtime ready" in out.stdout
    assert "START RequestId:" in out.stdout and "REPORT RequestId:" in out.stdout


# A runtime logs one record of several lines (as the Python runtime logs a
# traceback: lines joined by \r, so the record stays one line of the stream).
TRACEBACK_RUNTIME = b"""#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d '\\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
  printf '[ERROR] Boom: it broke\\rTraceback (most recent call last):\\r  File "app.py", line 1\\n'
  curl -s -o /dev/null -X POST "$api/$id/response" -d '{}'
done
"""


def test_wick_logs_shows_a_multi_line_record_on_several_lines(lam, daemon):
    lam.create_function(FunctionName="traceback", Runtime="provided.al2023", Role=ROLE,
                        Handler="x", MemorySize=1024,
                        Code={"ZipFile": make_zip({"bootstrap": (TRACEBACK_RUNTIME, 0o755)})})
    wait_active(lam, "traceback")
    invoke(lam, "traceback", {})
    wick = os.path.join(os.path.dirname(os.environ.get("WICKD", "build/bin/wickd")), "wick")
    out = subprocess.run([wick, "logs", "traceback", "--endpoint", daemon.wick_endpoint],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = lines.index("[ERROR] Boom: it broke")
    assert lines[at + 1:at + 3] == ["Traceback (most recent call last):", '  File "app.py", line 1']
    assert "\r" not in out.stdout


def test_wick_logs_of_an_unknown_function_fails(daemon):
    wick = os.path.join(os.path.dirname(os.environ.get("WICKD", "build/bin/wickd")), "wick")
    out = subprocess.run([wick, "logs", "never-created", "--endpoint", daemon.wick_endpoint],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "Function not found: never-created" in out.stderr
    assert out.stdout == ""


def test_wick_without_a_verb_prints_its_usage():
    wick = os.path.join(os.path.dirname(os.environ.get("WICKD", "build/bin/wickd")), "wick")
    out = subprocess.run([wick], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Usage: wick" in out.stderr and "runtimes" in out.stderr


SHELL_RUNTIME = b"""#!/bin/sh
# A runtime client in shell with curl: the function reports what it can see of PID 1.
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d '\\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
  environ=$(cat /proc/1/environ 2>&1 >/dev/null | head -c 80)
  mem=$(head -c 1 /proc/1/mem 2>&1 >/dev/null | head -c 80)
  fds=$(ls /proc/self/fd | tr '\\n' ' ')
  curl -s -o /dev/null -X POST "$api/$id/response" -d "{\\"environ\\":\\"$environ\\",\\"mem\\":\\"$mem\\",\\"uid\\":\\"$(id -u)\\",\\"fds\\":\\"$fds\\"}"
done
"""


def test_a_shell_runtime_cannot_reach_into_the_agent(lam):
    lam.create_function(FunctionName="shell", Runtime="provided.al2", Role=ROLE, Handler="x",
                        Code={"ZipFile": make_zip({"bootstrap": (SHELL_RUNTIME, 0o755)})})
    wait_active(lam, "shell")
    for _ in range(3):  # several invocations in a row through the same runtime
        response, body = invoke(lam, "shell", {})
        assert "FunctionError" not in response, body
        seen = json.loads(body)
        assert seen["uid"] == "993"
        assert "Permission denied" in seen["environ"]
        assert "Permission denied" in seen["mem"]
        assert seen["fds"].split() == ["0", "1", "2", "3"], "no host socket in the runtime"


def test_idle_environments_are_frozen_then_destroyed_after_the_keep_alive(tmp_path):
    config = tmp_path / "wickd.conf"
    config.write_text("idle_keep_alive_seconds: 1\n")
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.start()
    try:
        lam = client_for(daemon)
        create_runtime_function(lam, "idle")
        invoke(lam, "idle", {"echo": 1})
        (slice_name,) = sandbox_slices(daemon)
        freezer = f"/sys/fs/cgroup/freezer/wick-e2e-{daemon.port}/{slice_name}/freezer.state"
        if os.path.exists(freezer):  # cgroup v1 here; v2 hosts use cgroup.freeze
            def frozen():
                try:
                    with open(freezer) as state:
                        return state.read().strip() == "FROZEN"
                except FileNotFoundError:
                    return False  # destroyed already: the wait fails, as it should
            wait_for(frozen, timeout=5, what="the idle environment to be frozen")
        wait_for(lambda: sandbox_slices(daemon) == [], timeout=10,
                 what="the environment to be destroyed after the keep-alive")
        response, body = invoke(lam, "idle", {"echo": 2})
        assert json.loads(body) == {"echo": 2}, "and a new one serves the next event"
    finally:
        daemon.stop()


def test_a_crashed_daemons_sandboxes_are_reclaimed_at_the_next_start(daemon):
    lam = client_for(daemon)
    create_runtime_function(lam, "survivor")
    invoke(lam, "survivor", {"echo": 1})
    assert len(sandbox_slices(daemon)) == 1
    daemon.process.kill()  # no drain, no cleanup: a crash
    daemon.process.wait()
    assert len(sandbox_slices(daemon)) == 1, "a crash leaves the slice behind"
    daemon.start()
    assert sandbox_slices(daemon) == [], "reclaimed before serving"
    response, body = invoke(client_for(daemon), "survivor", {"echo": 2})
    assert json.loads(body) == {"echo": 2}


# Answers one event, then exits: the next event must not be lost to the dead
# environment (Node's client does this after an unhandled rejection).
ONE_SHOT_RUNTIME = b"""#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
id=$(curl -s -D - -o /dev/null "$api/next" | tr -d '\\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
curl -s -o /dev/null -X POST "$api/$id/response" -d '{"served":true}'
exit 0
"""


def test_runtime_that_exits_after_answering_does_not_lose_the_next_event(lam):
    lam.create_function(FunctionName="oneshot", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code={"ZipFile": make_zip({"bootstrap": (ONE_SHOT_RUNTIME, 0o755)})})
    wait_active(lam, "oneshot")
    for delay in (0, 0, 0.3, 0):
        response, body = invoke(lam, "oneshot", {})
        assert "FunctionError" not in response, body
        assert json.loads(body) == {"served": True}
        # The behaviour under test: the runtime exits while its environment
        # is idle (after a pause) or just as the next event comes (none).
        time.sleep(delay)
