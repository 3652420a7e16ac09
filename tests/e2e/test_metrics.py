"""Metrics (issue 16): wickd with metrics_listen set serves /metrics in the
Prometheus text format; a real Prometheus (Debian's) scrapes it every second
and answers queries for Lambda's metrics through its HTTP API."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import botocore.exceptions
import pytest

from conftest import Daemon, client_for, create, free_port, runtime_zip, wait_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


@pytest.fixture()
def metrics_daemon(tmp_path):
    port = free_port()
    config = tmp_path / "wickd.conf"
    config.write_text(f'metrics_listen: "127.0.0.1:{port}"\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.metrics_port = port
    daemon.start()
    yield daemon
    daemon.stop()


def get(url):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.status, reply.headers.get("Content-Type"), reply.read().decode()


class Prometheus:
    """A real Prometheus on loopback with a temporary storage dir, scraping
    `target` every second; stopped and removed by stop()."""

    def __init__(self, target):
        self.root = tempfile.mkdtemp(prefix="wick-prometheus-")
        self.port = free_port()
        config = os.path.join(self.root, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: wickd\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(os.path.join(self.root, "prometheus.log"), "wb")
        self.process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.root}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, expression):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expression}))
        _, _, body = get(url)
        reply = json.loads(body)
        assert reply["status"] == "success", reply
        return reply["data"]["result"]

    def wait_for(self, expression, expected, timeout=30):
        """The value of a query that gives one series, once it equals `expected`."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            assert self.process.poll() is None, self.logs()
            try:
                result = self.query(expression)
                last = result
                if len(result) == 1 and float(result[0]["value"][1]) == expected:
                    return result[0]
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        raise AssertionError(f"{expression}: {last}, expected {expected}\n{self.logs()}")

    def logs(self):
        with open(os.path.join(self.root, "prometheus.log")) as f:
            return f.read()[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def invoke(lam, name, event):
    return lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())


def exercise(lam):
    """Three invocations of `worker` (one a function error); an invoke of
    `closed` refused with a 429, which the client sends twice (botocore's
    max_attempts 1 is one retry): two throttles."""
    create(lam, "worker", Code={"ZipFile": runtime_zip()}, MemorySize=256)
    create(lam, "closed", Code={"ZipFile": runtime_zip()})
    lam.put_function_concurrency(FunctionName="closed", ReservedConcurrentExecutions=0)
    assert "FunctionError" not in invoke(lam, "worker", {"echo": 1})
    assert "FunctionError" not in invoke(lam, "worker", {"echo": 2})
    assert invoke(lam, "worker", {"fail": "no"})["FunctionError"] == "Unhandled"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        invoke(lam, "closed", {})
    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_metrics_text_format(metrics_daemon):
    lam = client_for(metrics_daemon)
    exercise(lam)
    status, content_type, text = get(f"http://127.0.0.1:{metrics_daemon.metrics_port}/metrics")
    assert status == 200 and content_type.startswith("text/plain"), content_type
    labels = 'executed_version="$LATEST",function_name="worker"'
    assert f"lambda_invocations_total{{{labels}}} 3" in text, text
    assert f"lambda_errors_total{{{labels}}} 1" in text, text
    assert ('lambda_throttles_total{executed_version="$LATEST",function_name="closed"} 2'
            in text), text
    assert f"lambda_duration_milliseconds_count{{{labels}}} 3" in text, text
    assert f"lambda_init_duration_milliseconds_count{{{labels}}} 1" in text, text
    assert f"lambda_concurrent_executions{{{labels}}} 0" in text, text
    assert f'wick_cold_starts_total{{cause="none_idle",{labels}}} 1' in text, text
    assert f"wick_sandbox_create_seconds_count{{{labels}}} 1" in text, text
    assert "# TYPE lambda_duration_milliseconds histogram" in text
    # The one environment is idle now (warm, or frozen after 50 ms).
    idle = [line for line in text.splitlines()
            if line.startswith("wick_environments{") and 'function_name="worker"' in line]
    assert sum(float(line.split()[-1]) for line in idle) == 1, idle


def test_metrics_off_by_default(daemon):
    # No listener: wickd serves the Lambda API only (and says nothing of metrics).
    assert "metrics on" not in open(daemon.log_path).read()


def test_prometheus_scrapes_wickd(metrics_daemon):
    assert os.access(PROMETHEUS, os.X_OK), "Debian's prometheus (scripts/setup installs it)"
    lam = client_for(metrics_daemon)
    prometheus = Prometheus(f"127.0.0.1:{metrics_daemon.metrics_port}")
    try:
        exercise(lam)
        worker = '{function_name="worker",executed_version="$LATEST"}'
        prometheus.wait_for(f"lambda_invocations_total{worker}", 3)
        prometheus.wait_for(f"lambda_errors_total{worker}", 1)
        prometheus.wait_for('lambda_throttles_total{function_name="closed"}', 2)
        prometheus.wait_for(f"lambda_duration_milliseconds_count{worker}", 3)
        prometheus.wait_for(f"lambda_init_duration_milliseconds_count{worker}", 1)
        prometheus.wait_for('up{job="wickd"}', 1)
        # A histogram's quantile is there to query, and the durations are positive.
        median = prometheus.query(
            f"histogram_quantile(0.5, lambda_duration_milliseconds_bucket{worker})")
        assert len(median) == 1 and float(median[0]["value"][1]) > 0, median
    finally:
        prometheus.stop()
    assert prometheus.process.poll() is not None
    assert not os.path.exists(prometheus.root)


def test_async_event_metrics(metrics_daemon):
    lam = client_for(metrics_daemon)
    create(lam, "worker", Code={"ZipFile": runtime_zip()}, MemorySize=256)
    create(lam, "closed", Code={"ZipFile": runtime_zip()})
    lam.put_function_concurrency(FunctionName="closed", ReservedConcurrentExecutions=0)
    for name in ("worker", "closed"):
        reply = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"echo": 1}')
        assert reply["StatusCode"] == 202
    url = f"http://127.0.0.1:{metrics_daemon.metrics_port}/metrics"
    expected = [
        'lambda_async_events_received_total{function_name="worker"} 1',
        'lambda_async_events_received_total{function_name="closed"} 1',
        'lambda_async_event_age_milliseconds_count{function_name="worker"} 1',
        'lambda_async_events_dropped_total{function_name="closed",reason="ZeroReservedConcurrency"} 1',
        'lambda_invocations_total{executed_version="$LATEST",function_name="worker"} 1',
    ]
    def scraped():
        text = get(url)[2]
        return text if all(line in text for line in expected) else None
    text = wait_for(scraped, timeout=30, what=f"{expected} in the scrape", interval=0.2)
    # The closed function's event never ran: no attempt, so no age for it.
    assert 'lambda_async_event_age_milliseconds_count{function_name="closed"}' not in text
    assert 'lambda_async_events_dropped_total{function_name="worker"' not in text
