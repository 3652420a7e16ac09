"""Fixtures that start a real wickd on a free port with a temporary state dir,
and real AWS clients (boto3, the awscli) pointed at it.

The API is authenticated (SigV4, issue 15): every test daemon gets a
credentials file holding this session's admin key (ACCESS_KEY_ID,
SECRET_ACCESS_KEY) before it starts, so clients sign with those:
client_for(daemon) for boto3, aws_env() for the awscli and other
subprocesses, signed_request() for raw HTTP. wick's admin routes (/wick/v1/...)
are on the daemon's Unix socket only: daemon.wick_endpoint for the wick CLI
(--endpoint or WICK_ENDPOINT), admin_request() for raw HTTP."""
import contextlib
import http.client
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import zipfile

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import pytest

WICKD = os.environ.get("WICKD", os.path.join(os.path.dirname(__file__), "../../build/bin/wickd"))
# Base roots depend only on their recipe: every test daemon shares one cache,
# so each base is built once per build tree (and again when its recipe
# changes). It lives in the build tree, so removing that leaves nothing behind.
RUNTIMES_DIR = os.environ.get(
    "WICK_TEST_RUNTIMES_DIR", os.path.join(os.path.dirname(os.path.abspath(WICKD)), "..",
                                           "test-runtimes"))


REGION = "us-east-1"
# This session's admin key, written into every test daemon's credentials file.
ACCESS_KEY_ID = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
SECRET_ACCESS_KEY = secrets.token_urlsafe(30)[:40]


def credentials_ini(profile="wick", key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY, admin=True):
    return (f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n" +
            ("wick_admin = true\n" if admin else ""))


def write_credentials(path, text):
    """A credentials file as wickd accepts it: root's (the tests run as root), mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def aws_env(**extra):
    """The environment of an awscli (or any SDK) subprocess signing as this session's admin."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    env.update(extra)
    return env


def sign_headers(method, url, body=b"", headers=None, service="lambda", key=ACCESS_KEY_ID,
                 secret=SECRET_ACCESS_KEY):
    """The headers (Authorization, X-Amz-Date...) botocore would send with this request."""
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                             headers=dict(headers or {}))
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), service,
                            REGION).add_auth(request)
    return dict(request.headers.items())


def signed_head_lines(daemon, method, path, body=b"", headers=None, service="lambda"):
    """Host and the SigV4 headers of a request, as raw header lines (b"Name: value\r\n"...),
    for tests that write HTTP by hand."""
    signed = sign_headers(method, daemon.endpoint + path, body, headers, service)
    signed.setdefault("Host", f"127.0.0.1:{daemon.port}")
    return "".join(f"{k}: {v}\r\n" for k, v in signed.items()
                   if k.lower() not in {h.lower() for h in (headers or {})}).encode()


def signed_request(daemon, method, path, body=b"", headers=None, service="lambda", timeout=60):
    """A SigV4-signed request on the daemon's TCP listener: (status, lower-case headers, body)."""
    if isinstance(body, str):
        body = body.encode()
    all_headers = sign_headers(method, daemon.endpoint + path, body, headers, service)
    connection = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def admin_request(daemon, method, path, body=None, timeout=60):
    """A request on the daemon's admin Unix socket (wick's /wick/v1 routes):
    (status, parsed JSON or raw bytes). `body` may be a dict (sent as JSON)."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    connection = UnixHTTPConnection(daemon.admin_socket, timeout)
    try:
        connection.request(method, path, body=data,
                           headers={"Content-Type": "application/json"} if data else {})
        reply = connection.getresponse()
        raw = reply.read()
        try:
            return reply.status, json.loads(raw)
        except ValueError:
            return reply.status, raw
    finally:
        connection.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, state_dir, extra_args=(), runtimes_dir=None, credentials=True,
                 network=False):
        self.state_dir = state_dir
        # wick's default network (bridge wick0) is one per host: only the network
        # suite's test of it turns it on; other daemons' sandboxes have loopback.
        self.network = network
        # True: this session's admin key; a string: that file content; None: wickd makes its own.
        self.credentials = credentials
        self.extra_args = list(extra_args)
        self.runtimes_dir = runtimes_dir or RUNTIMES_DIR
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(os.path.dirname(state_dir), f"wickd-{self.port}.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_socket(self):
        return os.path.join(self.state_dir, "wickd.sock")

    @property
    def wick_endpoint(self):
        """What the wick CLI takes as --endpoint: the admin socket."""
        return "unix:" + self.admin_socket

    @property
    def credentials_path(self):
        return os.path.join(self.state_dir, "credentials")

    def start(self):
        if self.credentials is not None and not os.path.exists(self.credentials_path):
            os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
            write_credentials(self.credentials_path, credentials_ini()
                              if self.credentials is True else self.credentials)
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [WICKD, "--listen", f"127.0.0.1:{self.port}", "--state-dir", self.state_dir,
             "--cgroup-parent", f"wick-e2e-{self.port}", "--runtimes-dir", self.runtimes_dir,
             "--log-level", "debug"] + ([] if self.network else ["--no-default-network"])
            + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                # The admin socket is bound just after the TCP listener.
                while not os.path.exists(self.admin_socket) and time.time() < deadline:
                    time.sleep(0.01)
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
def running_daemon(prefix="wick-e2e-", extra_args=(), runtimes_dir=None, credentials=True,
                   network=False):
    """A started wickd on a fresh temporary state directory, stopped (cleanly,
    leaving nothing) and removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    d = Daemon(os.path.join(root, "state"), extra_args, runtimes_dir, credentials, network)
    d.root = root
    d.start()
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def daemon():
    with running_daemon() as d:
        yield d


def client_for(daemon, service="lambda", **config):
    """A boto3 client of `service` signing as this session's admin."""
    options = dict(retries={"max_attempts": 1}, read_timeout=120)
    options.update(config)
    return boto3.client(
        service, endpoint_url=daemon.endpoint, region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        config=botocore.config.Config(**options))


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
