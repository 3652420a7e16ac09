"""HTTP/1.1 as ordinary clients speak it (issue 10), end to end through a real wickd:

- the Runtime API inside real sandboxes, with runtimes written with curl (defaults,
  Connection: close, HTTP/1.0), busybox wget, Python's http.client and urllib, Node's http
  with and without keep-alive, and a raw socket that pipelines and splits its writes
  (tests/e2e/http_clients/), each given small, 1 MB, 5 MB and over-limit events and
  responses and an error, twice (the second round warm);
- the three reproductions of the issue: Connection: close on the long poll, Connection: close
  after a refused response, curl's Expect: 100-continue;
- a runtime that exits before taking its event is reported as its exit;
- wickd's own API with curl (defaults, Expect, Connection: close) and a raw client."""
import io
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from conftest import (ACCESS_KEY_ID, REGION, ROLE, SECRET_ACCESS_KEY, client_for, running_daemon,
                      sign_headers, signed_head_lines, wait_active)

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "http_clients")
MAX_RESPONSE = 6_291_556


@pytest.fixture(scope="module")
def http_daemon():
    with running_daemon("wick-e2e-http-") as daemon:
        yield daemon


@pytest.fixture(scope="module")
def lam(http_daemon):
    return client_for(http_daemon)


def code(files):
    """A zip of {name in the zip: path on the host}, executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, open(path, "rb").read())
    return buffer.getvalue()


def at(name):
    return os.path.join(CLIENTS, name)


WRAPPED = {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}
PYTHON_FILES = {"client.py": at("client.py"), "wrapper.sh": at("wrapper.sh")}
NODE_FILES = {"client.js": at("client.js"), "wrapper.sh": at("wrapper.sh")}

# name: (Runtime, files, environment)
CLIENT_RUNTIMES = {
    "curl": ("provided.al2023", {"bootstrap": at("curl.sh")}, {"CURL_ARGS": ""}),
    "curl-close": ("provided.al2023", {"bootstrap": at("curl.sh")},
                   {"CURL_ARGS": "-H Connection:close"}),
    "curl-http1.0": ("provided.al2023", {"bootstrap": at("curl.sh")}, {"CURL_ARGS": "--http1.0"}),
    "busybox-wget": ("provided.al2023",
                     {"bootstrap": at("wget.sh"), "busybox": shutil.which("busybox") or "/bin/busybox"},
                     {}),
    "python-http.client": ("python3.11", PYTHON_FILES, {**WRAPPED, "CLIENT_MODE": "httpclient"}),
    "python-urllib": ("python3.11", PYTHON_FILES, {**WRAPPED, "CLIENT_MODE": "urllib"}),
    "python-raw-pipelined": ("python3.11", PYTHON_FILES, {**WRAPPED, "CLIENT_MODE": "raw"}),
    "node-keepalive": ("nodejs20.x", NODE_FILES, {**WRAPPED, "CLIENT_MODE": "keepalive"}),
    "node-close": ("nodejs20.x", NODE_FILES, {**WRAPPED, "CLIENT_MODE": "close"}),
}

_serial = iter(range(1, 1_000_000))


def deploy(lam, client, memory=1769, timeout=10):
    runtime, files, env = CLIENT_RUNTIMES[client]
    name = f"http-{client.replace('.', '')}-{next(_serial)}"
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler="none",
                        Code={"ZipFile": code(files)}, MemorySize=memory, Timeout=timeout,
                        Environment={"Variables": env})
    wait_active(lam, name)
    return name


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def function_error(self):
        return self.headers.get("x-amz-function-error")

    def __repr__(self):
        return (f"<{self.status} error={self.function_error} {len(self.body)} bytes "
                f"{self.body[:300]!r} in {self.seconds:.2f} s>")


def invoke(daemon, name, payload):
    """POST .../invocations with urllib: (status, lower-case headers, body)."""
    url = f"{daemon.endpoint}/2015-03-31/functions/{name}/invocations"
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers=sign_headers("POST", url, payload, headers))
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body,
                          time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read(),
                      time.monotonic() - started)


def echo_event(size):
    """A JSON object of about `size` bytes that asks to be echoed."""
    head = b'{"op":"echo","tail":"\xc3\xa9 \xe2\x98\x83","pad":"'
    return head + b"p" * max(0, size - len(head) - 2) + b'"}'


def check_round(daemon, name):
    for size in (64, 1 << 20, 5 << 20):
        event = echo_event(size)
        answer = invoke(daemon, name, event)
        assert answer.status == 200 and answer.function_error is None, answer
        assert answer.body == event, f"{size}-byte event came back changed: {answer}"

    answer = invoke(daemon, name, json.dumps({"op": "size", "n": 1 << 20}).encode())
    assert answer.status == 200 and answer.function_error is None, answer
    assert answer.body == b'"' + b"x" * ((1 << 20) - 2) + b'"', answer

    # A response over the limit fails the invocation; the runtime carries on.
    answer = invoke(daemon, name, json.dumps({"op": "size", "n": MAX_RESPONSE + 1}).encode())
    assert answer.status == 200 and answer.function_error == "Unhandled", answer
    assert json.loads(answer.body)["errorType"] == "Function.ResponseSizeTooLarge", answer

    # An event over the limit never reaches the runtime.
    answer = invoke(daemon, name, echo_event(6_291_457))
    assert answer.status == 413, answer
    assert answer.headers.get("x-amzn-errortype") == "RequestTooLargeException", answer

    answer = invoke(daemon, name, b'{"op":"fail"}')
    assert answer.function_error == "Unhandled", answer
    assert json.loads(answer.body) == {"errorMessage": "asked to fail",
                                       "errorType": "Test.Failure"}, answer

    # What follows a refused response is served at once, not after a timeout.
    answer = invoke(daemon, name, b'{"op":"echo"}')
    assert answer.status == 200 and answer.body == b'{"op":"echo"}', answer
    assert answer.seconds < 5, answer


@pytest.mark.parametrize("client", list(CLIENT_RUNTIMES))
def test_every_client_every_payload_size_twice(http_daemon, lam, client):
    name = deploy(lam, client)
    check_round(http_daemon, name)
    check_round(http_daemon, name)  # warm
    lam.delete_function(FunctionName=name)


def test_curl_with_default_options_does_not_wait_for_100_continue(http_daemon, lam):
    """Reproduction 3: curl sends Expect: 100-continue for bodies over 1 MB and waited a second
    for an answer that never came."""
    default = deploy(lam, "curl")
    runtime, files, _ = CLIENT_RUNTIMES["curl"]
    no_expect = f"http-curl-noexpect-{next(_serial)}"
    lam.create_function(FunctionName=no_expect, Runtime=runtime, Role=ROLE, Handler="none",
                        Code={"ZipFile": code(files)}, MemorySize=1769, Timeout=10,
                        Environment={"Variables": {"CURL_ARGS": "-H Expect:"}})
    wait_active(lam, no_expect)
    event = json.dumps({"op": "size", "n": 2 << 20}).encode()
    for name in (default, no_expect):
        assert invoke(http_daemon, name, event).status == 200  # warm them
    times = {default: [], no_expect: []}
    for _ in range(3):
        for name in (default, no_expect):
            answer = invoke(http_daemon, name, event)
            assert answer.status == 200 and len(answer.body) == 2 << 20, answer
            times[name].append(answer.seconds)
    best_default, best_plain = min(times[default]), min(times[no_expect])
    assert best_default < best_plain + 0.3, (
        f"2 MB response: {best_default:.3f} s with curl's defaults, {best_plain:.3f} s with "
        "-H 'Expect:'")


def test_a_runtime_that_exits_before_its_event_is_reported_as_its_exit(http_daemon, lam):
    """Reproduction 1's second half: the runtime asks for its event with Connection: close and
    leaves at once; the caller hears its exit status, never 'write to wick-agent: Broken pipe'."""
    script = ("#!/bin/bash\n"
              "exec 3<>/dev/tcp/${AWS_LAMBDA_RUNTIME_API%:*}/${AWS_LAMBDA_RUNTIME_API#*:}\n"
              "printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\n"
              "Host: x\\r\\nConnection: close\\r\\n\\r\\n' >&3\n"
              "exit 7\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        archive.writestr(info, script)
    name = f"http-exits-{next(_serial)}"
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none",
                        Code={"ZipFile": buffer.getvalue()}, MemorySize=256, Timeout=5)
    wait_active(lam, name)
    for _ in range(3):
        answer = invoke(http_daemon, name, b"{}")
        assert answer.function_error == "Unhandled", answer
        error = json.loads(answer.body)
        assert error["errorType"] == "Runtime.ExitError", answer
        assert "exit status 7" in error["errorMessage"], answer
        assert "Broken pipe" not in answer.body.decode(), answer


# --------------------------------------------------------------------------- wickd's API


def curl(daemon, *args):
    """curl with its defaults, signing as AWS's SDKs do (--aws-sigv4)."""
    started = time.monotonic()
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                          "--aws-sigv4", f"aws:amz:{REGION}:lambda",
                          "--user", f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.stdout, time.monotonic() - started


@pytest.fixture(scope="module")
def echo_function(lam):
    return deploy(lam, "python-http.client")


@pytest.mark.parametrize("args", [[], ["-H", "Expect: 100-continue"], ["-H", "Connection: close"],
                                  ["--http1.0"], ["-H", "Transfer-Encoding: chunked"]],
                         ids=["defaults", "expect", "close", "http1.0", "chunked"])
def test_wickd_api_with_curl(http_daemon, echo_function, tmp_path, args):
    url = f"{http_daemon.endpoint}/2015-03-31/functions/{echo_function}/invocations"
    payload = tmp_path / "event.json"
    payload.write_bytes(echo_event(2 << 20))  # over curl's 1 MB Expect threshold
    curl(http_daemon, "--data-binary", f"@{payload}", url)  # warm
    # Against the same upload without Expect, in the same run: curl waits a
    # whole second for a 100 Continue that does not come.
    _, plain = curl(http_daemon, "-H", "Expect:", "--data-binary", f"@{payload}", url)
    status, seconds = curl(http_daemon, *args, "--data-binary", f"@{payload}", url)
    assert status == "200"
    assert seconds < plain + 0.5, (
        f"a 2 MB invoke took {seconds:.2f} s, {plain:.2f} s without Expect")


def raw_exchange(daemon, data, pieces=1, read_until_close=True):
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        step = max(1, len(data) // pieces)
        for at in range(0, len(data), step):
            sock.sendall(data[at:at + step])
        if not read_until_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def test_wickd_api_raw_pipelined_and_split(http_daemon):
    signed = signed_head_lines(http_daemon, "GET", "/2016-08-19/account-settings")
    get = b"GET /2016-08-19/account-settings HTTP/1.1\r\n" + signed + b"\r\n"
    last = (b"GET /2016-08-19/account-settings HTTP/1.1\r\n" + signed +
            b"Connection: close\r\n\r\n")
    received = raw_exchange(http_daemon, get + get + last, pieces=40)
    assert received.count(b"HTTP/1.1 200 OK") == 3, received[:500]


def test_wickd_api_refusals_answer_then_close(http_daemon):
    # A body over the limit announced with Expect: the final status at once, no 100.
    huge = (b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 900000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", http_daemon.port), timeout=10) as sock:
        sock.sendall(huge)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert b"100 Continue" not in answer
    # An Invoke over 6 MB with Expect: refused by its head, before any of the upload
    # (signed: an unsigned one is refused by its head too, as unsigned).
    invoke_head = (b"POST /2015-03-31/functions/any/invocations HTTP/1.1\r\n" +
                   signed_head_lines(http_daemon, "POST", "/2015-03-31/functions/any/invocations",
                                     b"x" * 7000000) +
                   b"Expect: 100-continue\r\nContent-Length: 7000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", http_daemon.port), timeout=10) as sock:
        sock.sendall(invoke_head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert b"RequestTooLargeException" in answer, answer
    # Malformed: 400 and the connection ends; nothing after it is served.
    received = raw_exchange(http_daemon, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"
                            b"GET /2016-08-19/account-settings HTTP/1.1\r\nHost: x\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 400"), received[:300]
    assert received.count(b"HTTP/1.1") == 1, received[:500]
    # Headers over 64 KiB: 431.
    received = raw_exchange(http_daemon, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 431"), received[:300]
