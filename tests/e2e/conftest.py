"""Fixtures that start a real wickd on a free port with a temporary state dir,
and real AWS clients (boto3, the awscli) pointed at it."""
import contextlib
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
import zipfile

import boto3
import botocore.config
import pytest

WICKD = os.environ.get("WICKD", os.path.join(os.path.dirname(__file__), "../../build/bin/wickd"))
# Base roots depend only on their recipe: every test daemon shares one cache,
# so each base is built once per build tree (and again when its recipe
# changes). It lives in the build tree, so removing that leaves nothing behind.
RUNTIMES_DIR = os.environ.get(
    "WICK_TEST_RUNTIMES_DIR", os.path.join(os.path.dirname(os.path.abspath(WICKD)), "..",
                                           "test-runtimes"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, state_dir, extra_args=(), runtimes_dir=None):
        self.state_dir = state_dir
        self.extra_args = list(extra_args)
        self.runtimes_dir = runtimes_dir or RUNTIMES_DIR
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(os.path.dirname(state_dir), f"wickd-{self.port}.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [WICKD, "--listen", f"127.0.0.1:{self.port}", "--state-dir", self.state_dir,
             "--cgroup-parent", f"wick-e2e-{self.port}", "--runtimes-dir", self.runtimes_dir,
             "--log-level", "debug"] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("wickd exited: " + open(self.log_path).read())
                time.sleep(0.02)
        raise RuntimeError("wickd did not start listening")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            assert self.process.wait(timeout=30) == 0, open(self.log_path).read()
            # A clean stop leaves no cgroup behind, not even the parent slice.
            parent = f"wick-e2e-{self.port}"
            left = [d for d in (f"/sys/fs/cgroup/memory/{parent}", f"/sys/fs/cgroup/{parent}")
                    if os.path.isdir(d)]
            assert not left, f"left behind after a clean stop: {left}"
        self.log.close()


@contextlib.contextmanager
def running_daemon(prefix="wick-e2e-", extra_args=(), runtimes_dir=None):
    """A started wickd on a fresh temporary state directory, stopped (cleanly,
    leaving nothing) and removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    d = Daemon(os.path.join(root, "state"), extra_args, runtimes_dir)
    d.root = root
    d.start()
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def daemon():
    with running_daemon() as d:
        yield d


def client_for(daemon):
    return boto3.client(
        "lambda", endpoint_url=daemon.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=120))


@pytest.fixture()
def lam(daemon):
    return client_for(daemon)


def make_zip(files):
    """files: {name: (content, mode)} or {name: content}"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in files.items():
            content, mode = value if isinstance(value, tuple) else (value, 0o644)
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, content)
    return buffer.getvalue()


TEST_RUNTIME = os.environ.get("WICK_TEST_RUNTIME",
                              os.path.join(os.path.dirname(__file__), "../../build/bin/test_runtime"))


def runtime_zip(extra=None):
    """The static C test runtime (tests/runtimes/test_runtime.c) as a bootstrap."""
    with open(TEST_RUNTIME, "rb") as f:
        files = {"bootstrap": (f.read(), 0o755)}
    files.update(extra or {})
    return make_zip(files)


BOOTSTRAP = b"#!/bin/sh\nset -e\nwhile true; do\n  sleep 1\ndone\n"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def create(lam, name, **overrides):
    args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="function.handler",
                Code={"ZipFile": make_zip({"bootstrap": (BOOTSTRAP, 0o755)})})
    args.update(overrides)
    reply = lam.create_function(**args)
    wait_active(lam, name)
    return reply


def wait_for(condition, timeout=20, what="condition", interval=0.05):
    """The first truthy value of condition(), polled every `interval` seconds;
    an AssertionError naming `what` once `timeout` seconds have passed. Tests
    wait with this for what they can observe, never with a bare sleep."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_active(lam, name, timeout=300):
    """As a Lambda client does before invoking: wait for State Active (a base
    root may be building). Fails on Failed."""
    def active():
        config = lam.get_function_configuration(FunctionName=name)
        assert config["State"] in ("Active", "Pending"), config
        return config if config["State"] == "Active" else None
    return wait_for(active, timeout, f"{name} to be Active", interval=0.2)
