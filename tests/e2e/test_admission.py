"""Admission under a host budget (issue 16): the memory limits of all
sandboxes stay within the configured budget; idle environments are reclaimed
first (least recently used), then cold starts get 429
TooManyRequestsException with a reason and Retry-After, which boto3 retries.
And SIGHUP reloads what can change live."""
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import Daemon, admin_request, client_for, free_port, runtime_zip, wait_active, ROLE


def start(tmp_path, text):
    config = tmp_path / "wickd.conf"
    config.write_text(text)
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.config_path = config
    daemon.start()
    return daemon


def sandboxes(daemon):
    status, listing = admin_request(daemon, "GET", "/wick/v1/sandboxes", timeout=10)
    assert status == 200, listing
    return listing


def make(lam, name, memory):
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="x",
                        MemorySize=memory, Timeout=60, Code={"ZipFile": runtime_zip()})
    wait_active(lam, name)


def invoke(lam, name, event):
    reply = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    reply["Payload"] = reply["Payload"].read().decode()
    return reply


def busy(lam, name, seconds):
    thread = threading.Thread(target=invoke, args=(lam, name, {"sleep": seconds}))
    thread.start()
    return thread


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def log_of(daemon):
    with open(daemon.log_path) as f:
        return f.read()


@pytest.fixture()
def budget_daemon(tmp_path):
    metrics_port = free_port()
    daemon = start(tmp_path, f'host_memory_budget_mb: 512\nmetrics_listen: "127.0.0.1:{metrics_port}"\n')
    daemon.metrics_port = metrics_port
    yield daemon
    daemon.stop()


def test_idle_environments_are_reclaimed_lru_first_then_cold_starts_get_429(budget_daemon):
    daemon = budget_daemon
    lam = client_for(daemon)
    for name in ("a", "b", "c"):
        make(lam, name, 256)
    invoke(lam, "a", {"echo": 1})
    invoke(lam, "b", {"echo": 1})
    listed = sandboxes(daemon)
    assert listed["Budget"]["MemoryMb"] == 512 and listed["Committed"]["MemoryMb"] == 512
    # c does not fit: a, idle the longest, goes; b stays.
    reply = invoke(lam, "c", {"echo": 1})
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert sorted(s["Function"] for s in sandboxes(daemon)["Sandboxes"]) == ["b", "c"]
    assert "admission reclaims idle environment" in log_of(daemon)

    # b and c busy: nothing idle to reclaim, a's cold start is refused.
    threads = [busy(lam, "b", 3), busy(lam, "c", 3)]
    wait_for(lambda: sum(s["State"] == "busy" for s in sandboxes(daemon)["Sandboxes"]) == 2,
             what="b and c busy")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="a", Payload=b"{}")
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["Reason"] == "HostMemoryBudgetExceeded"
    assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    assert "admission refuses a cold start of a" in log_of(daemon)

    # boto3's standard retries wait it out: b and c go idle, one is reclaimed.
    patient = client_for(daemon, retries={"max_attempts": 10, "mode": "standard"},
                         read_timeout=60)
    reply = patient.invoke(FunctionName="a", Payload=b'{"echo": 2}')
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert reply["ResponseMetadata"]["RetryAttempts"] >= 1
    for thread in threads:
        thread.join(timeout=30)
    with urllib.request.urlopen(f"http://127.0.0.1:{daemon.metrics_port}/metrics") as answer:
        metrics = answer.read().decode()
    assert 'wick_admission_refusals_total{reason="HostMemoryBudgetExceeded"}' in metrics
    assert "wick_host_memory_budget_bytes 536870912" in metrics
    assert 'wick_sandbox_memory_limit_bytes{' in metrics


def test_cpu_overcommit_ratio_refuses_past_the_hosts_vcpus(tmp_path):
    cpus = os.cpu_count()
    # ratio * cpus = 1 vCPU: one 1769 MB sandbox at a time.
    daemon = start(tmp_path, f"cpu_overcommit_ratio: {1 / cpus}\n")
    try:
        lam = client_for(daemon)
        make(lam, "x", 1769)
        make(lam, "y", 1769)
        thread = busy(lam, "x", 3)
        wait_for(lambda: sandboxes(daemon)["Sandboxes"], what="x busy")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            lam.invoke(FunctionName="y", Payload=b"{}")
        assert refused.value.response["Reason"] == "HostCpuOvercommitExceeded"
        thread.join(timeout=30)
        assert invoke(lam, "y", {"echo": 1})["StatusCode"] == 200  # x, idle, reclaimed
    finally:
        daemon.stop()


def test_sighup_reloads_the_budget_and_keep_alive_and_refuses_a_bad_file(tmp_path):
    daemon = start(tmp_path, "host_memory_budget_mb: 128\n")
    try:
        lam = client_for(daemon)
        make(lam, "big", 256)
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            lam.invoke(FunctionName="big", Payload=b"{}")
        assert refused.value.response["Reason"] == "HostMemoryBudgetExceeded"

        daemon.config_path.write_text("host_memory_budget_mb: 1024\nidle_keep_alive_seconds: 1\n")
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "host budget: 1024 MB" in log_of(daemon), what="the reload logged")
        assert "SIGHUP: reloading the configuration" in log_of(daemon)
        assert sandboxes(daemon)["Budget"]["MemoryMb"] == 1024
        assert invoke(lam, "big", {"echo": 1})["StatusCode"] == 200
        # The new keep-alive: the idle sandbox goes after a second.
        wait_for(lambda: sandboxes(daemon)["Sandboxes"] == [], timeout=15, what="keep-alive 1 s")

        daemon.config_path.write_text("host_memory_budget_mb: nonsense\n")
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused, nothing changed" in log_of(daemon), what="refusal")
        assert daemon.process.poll() is None
        assert sandboxes(daemon)["Budget"]["MemoryMb"] == 1024
    finally:
        daemon.stop()


def test_a_sandbox_the_host_cannot_make_is_a_429_not_a_500(tmp_path):
    # One host identity slot (issue 15): a second sandbox at once finds none
    # (EAGAIN), as a host out of pids or memory would refuse it.
    daemon = start(tmp_path, "host_id_first: 3400000\nhost_id_slots: 1\n")
    try:
        lam = client_for(daemon)
        make(lam, "first", 128)
        make(lam, "second", 128)
        thread = busy(lam, "first", 3)
        wait_for(lambda: sandboxes(daemon)["Sandboxes"], what="first running")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            lam.invoke(FunctionName="second", Payload=b"{}")
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["Reason"] == "SandboxResourcesExhausted"
        assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
        assert "no execution environment for lack of a host resource" in log_of(daemon)
        thread.join(timeout=30)
        # first is idle now, holding the slot: it is reclaimed for second.
        reply = invoke(lam, "second", {"echo": 1})
        assert reply["StatusCode"] == 200 and "FunctionError" not in reply
        assert [s["Function"] for s in sandboxes(daemon)["Sandboxes"]] == ["second"]
        assert "reclaiming idle environment" in log_of(daemon)
    finally:
        daemon.stop()


def test_sighup_changes_the_log_level_the_file_sets(tmp_path):
    """Without --log-level, the file's log_level rules and a reload changes it."""
    import subprocess
    from conftest import RUNTIMES_DIR, WICKD
    config = tmp_path / "wickd.conf"
    config.write_text('log_level: "warn"\n')
    port = free_port()
    log_path = tmp_path / "wickd.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [WICKD, "--listen", f"127.0.0.1:{port}", "--state-dir", str(tmp_path / "state"),
             "--cgroup-parent", f"wick-e2e-{port}", "--runtimes-dir", RUNTIMES_DIR,
             "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(endpoint), what="wickd listening")
        assert "wickd listening" not in log_path.read_text(), "info is below warn"
        config.write_text('log_level: "debug"\n')
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: "log level debug (was warning)" in log_path.read_text(),
                 what="the level change logged")
        assert process.poll() is None
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0, log_path.read_text()
    assert not os.path.isdir(f"/sys/fs/cgroup/memory/wick-e2e-{port}")


def _answers(endpoint):
    try:
        urllib.request.urlopen(endpoint + "/2015-03-31/functions/", timeout=1).read()
        return True
    except urllib.error.HTTPError:
        return True  # an unsigned request refused: it is serving
    except OSError:
        return False
