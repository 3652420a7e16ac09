"""HTTP/1.0 clients of streaming responses (issue 15): HTTP/1.0 has no
chunked encoding, so InvokeWithResponseStream and RESPONSE_STREAM function
URLs send such a client the raw bytes and end the body by closing the
connection. Checked with curl --http1.0 (--aws-sigv4 for the API, a NONE URL)
and with a hand-written HTTP/1.0 client on a socket, also one that asks for
keep-alive, and one that sends more bytes after its request: the whole body
arrives, sent as it is written, with no chunk framing, and the server closes
the connection cleanly at its end (no reset)."""
import json
import socket
import subprocess
import tempfile
import time
import urllib.parse

import botocore.eventstream
import pytest

from conftest import (ACCESS_KEY_ID, REGION, ROLE, SECRET_ACCESS_KEY, client_for, free_port,
                      make_zip, running_daemon, signed_head_lines, signed_request, wait_active,
                      wait_listening)

# A runtime that streams its answer (Lambda-Runtime-Function-Response-Mode:
# streaming, chunked to the Runtime API by hand): three short lines 0.3 s
# apart, or, for an event that mentions "big", 64 blocks of 32 KiB.
BOOTSTRAP = r"""#!/bin/bash
export LC_ALL=C
API=$AWS_LAMBDA_RUNTIME_API
HOST=${API%:*}
PORT=${API#*:}
while true; do
  EVENT=$(curl -sS -D /tmp/next-headers "http://$API/2018-06-01/runtime/invocation/next")
  ID=$(grep -i '^lambda-runtime-aws-request-id:' /tmp/next-headers | tr -d '\r' | cut -d' ' -f2)
  exec 3<>/dev/tcp/$HOST/$PORT
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nLambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n' "$ID" "$API" >&3
  case "$EVENT" in
    *big*)
      for i in $(seq 64); do
        LINE=$(printf '%-32767s\n' "block $i")
        printf '%x\r\n%s\n\r\n' 32768 "$LINE" >&3
      done ;;
    *)
      for i in 1 2 3; do
        LINE="line $i"
        printf '%x\r\n%s\n\r\n' $(( ${#LINE} + 1 )) "$LINE" >&3
        sleep 0.3
      done ;;
  esac
  printf '0\r\n\r\n' >&3
  read -r STATUS <&3
  exec 3>&-
done
"""
SMALL = b"line 1\nline 2\nline 3\n"
BIG = b"".join(f"block {i}".ljust(32767).encode() + b"\n" for i in range(1, 65))
PUBLIC = dict(StatementId="FunctionURLAllowPublicAccess", Action="lambda:InvokeFunctionUrl",
              Principal="*", FunctionUrlAuthType="NONE")


@pytest.fixture(scope="module")
def served():
    url_port = free_port()
    with running_daemon("wick-e2e-http10-", ["--url-listen", f"127.0.0.1:{url_port}"]) as daemon:
        wait_listening(url_port, "the URL listener")  # it opens just after the API's
        lam = client_for(daemon)
        lam.create_function(FunctionName="streamer", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Timeout=60, MemorySize=256,
                            Code={"ZipFile": make_zip({"bootstrap": (BOOTSTRAP.encode(), 0o755)})})
        wait_active(lam, "streamer")
        # A NONE URL in RESPONSE_STREAM mode, by the raw API (Debian's botocore
        # does not model InvokeMode), open to the public.
        status, _, data = signed_request(
            daemon, "POST", "/2021-10-31/functions/streamer/url",
            b'{"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}',
            {"Content-Type": "application/json"})
        assert status == 201, data
        lam.add_permission(FunctionName="streamer", **PUBLIC)
        daemon.url_port = url_port
        daemon.url_host = urllib.parse.urlsplit(json.loads(data)["FunctionUrl"]).netloc
        yield daemon


def curl10(url, *args):
    """curl --http1.0: (exit code, status line, headers lower-case, body bytes)."""
    with tempfile.NamedTemporaryFile(prefix="wick-http10-") as body_file:
        out = subprocess.run(["curl", "-sS", "--http1.0", "--max-time", "60", "-D", "-",
                              "-o", body_file.name, *args, url], capture_output=True)
        body = body_file.read()
    head = out.stdout.decode(errors="replace").split("\r\n\r\n")[0].split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return out.returncode, head[0], headers, body, out.stderr.decode(errors="replace")


def raw10(port, head_lines, timeout=60, then=b"", read_after=0.0):
    """An HTTP/1.0 exchange on a socket: (head text, body bytes, whether the
    server closed the connection: recv gave EOF before `timeout`, seconds
    from the first body byte to the close). `then` is sent 0.1 s after the
    request (bytes the server reads only after it); reading starts
    `read_after` seconds later (the answer waits in the socket meanwhile)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(head_lines)
        if then:
            time.sleep(0.1)
            connection.sendall(then)
        time.sleep(read_after)
        received = b""
        closed = False
        first_body_byte = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = connection.recv(65536)
            except socket.timeout:
                break
            if not data:
                closed = True
                break
            received += data
            if first_body_byte is None and b"\r\n\r\n" in received and \
                    not received.endswith(b"\r\n\r\n"):
                first_body_byte = time.monotonic()
        ended = time.monotonic()
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), body, closed, ended - (first_body_byte or ended)


def assert_unframed(headers):
    """No length and no chunking: the end of the connection ends the body."""
    assert "transfer-encoding" not in headers, headers
    assert "content-length" not in headers, headers
    assert headers.get("connection", ["close"]) == ["close"], headers


def event_stream(body):
    """The payload chunks and the InvokeComplete event of an event-stream body,
    and whether every byte was part of a whole frame."""
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(body)
    payload, complete, consumed = b"", None, 0
    for message in buffer:
        consumed += message.prelude.total_length
        kind = message.headers.get(":event-type")
        if kind == "PayloadChunk":
            payload += message.payload
        elif kind == "InvokeComplete":
            complete = message.payload
    return payload, complete, consumed == len(body)


@pytest.mark.parametrize("event,expected", [(b'"small"', SMALL), (b'"big"', BIG)], ids=["small", "big"])
def test_invoke_with_response_stream_over_http_1_0(served, event, expected):
    url = f"{served.endpoint}/2021-11-15/functions/streamer/response-streaming-invocations"
    code, status, headers, body, err = curl10(
        url, "--aws-sigv4", f"aws:amz:{REGION}:lambda", "--user",
        f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}", "--data-binary", event)
    # Exit 0 with neither a length nor chunks: curl saw the server close.
    assert code == 0, err
    assert status.startswith("HTTP/1.0 200"), status
    assert headers["content-type"] == ["application/vnd.amazon.eventstream"]
    assert_unframed(headers)
    payload, complete, whole = event_stream(body)
    assert whole, "bytes outside event-stream frames (chunk framing?)"
    assert payload == expected
    assert complete is not None and b"ErrorCode" not in complete, complete


def test_invoke_with_response_stream_by_hand_with_keep_alive(served):
    """An HTTP/1.0 client that asks for keep-alive still gets the close: the
    body has no other end."""
    path = "/2021-11-15/functions/streamer/response-streaming-invocations"
    body = b'"small"'
    head = (f"POST {path} HTTP/1.0\r\nConnection: keep-alive\r\n"
            f"Content-Length: {len(body)}\r\n").encode()
    head += signed_head_lines(served, "POST", path, body, {"Connection": "keep-alive"})
    head_text, received, closed, streamed_for = raw10(served.port, head + b"\r\n" + body)
    assert closed, "the server did not close the connection"
    assert head_text.startswith("HTTP/1.0 200"), head_text
    lower = head_text.lower()
    assert "transfer-encoding" not in lower and "content-length" not in lower
    assert "keep-alive" not in lower, head_text
    payload, complete, whole = event_stream(received)
    assert whole and payload == SMALL and complete is not None
    # Sent as written: the first line 0.6 s (two pauses) before the end, not all at once.
    assert streamed_for > 0.3, streamed_for


@pytest.mark.parametrize("path,expected", [("/small", SMALL), ("/big", BIG)], ids=["small", "big"])
def test_response_stream_url_over_http_1_0(served, path, expected):
    url = f"http://127.0.0.1:{served.url_port}{path}"
    code, status, headers, body, err = curl10(url, "-H", f"Host: {served.url_host}")
    assert code == 0, err
    assert status.startswith("HTTP/1.0 200"), status
    assert headers["content-type"] == ["text/plain"]
    assert_unframed(headers)
    assert body == expected  # whole, and no chunk-size lines in it

    head_text, received, closed, streamed_for = raw10(
        served.url_port,
        f"GET {path} HTTP/1.0\r\nHost: {served.url_host}\r\nConnection: keep-alive\r\n\r\n"
        .encode())
    assert closed, "the server did not close the connection"
    assert head_text.startswith("HTTP/1.0 200"), head_text
    assert "transfer-encoding" not in head_text.lower()
    assert "keep-alive" not in head_text.lower(), head_text
    assert received == expected
    if expected == SMALL:  # sent as written, not gathered until the end
        assert streamed_for > 0.3, streamed_for


def test_more_bytes_after_the_request_do_not_reset_the_connection(served):
    """A client that sends more after its request (a second request on a
    connection it asked to keep, a stray CRLF after a POST body, as old
    clients do) gets the whole answer and a clean end: the server shuts its
    side and drains, where closing with those bytes unread would reset the
    connection and discard the answer's unread tail."""
    request = (f"GET /big HTTP/1.0\r\nHost: {served.url_host}\r\n"
               "Connection: keep-alive\r\n\r\n").encode()
    head_text, received, closed, _ = raw10(served.url_port, request, then=request,
                                           read_after=1.0)
    assert closed and head_text.startswith("HTTP/1.0 200"), head_text
    assert len(received) == len(BIG) and received == BIG

    path = "/2021-11-15/functions/streamer/response-streaming-invocations"
    body = b'"big"'
    head = f"POST {path} HTTP/1.0\r\nContent-Length: {len(body)}\r\n".encode()
    head += signed_head_lines(served, "POST", path, body)
    head_text, received, closed, _ = raw10(served.port, head + b"\r\n" + body, then=b"\r\n",
                                           read_after=1.0)
    assert closed and head_text.startswith("HTTP/1.0 200"), head_text
    payload, complete, whole = event_stream(received)
    assert whole and payload == BIG and complete is not None


def test_http_1_1_still_streams_chunked(served):
    """The same URL to an HTTP/1.1 client: chunked, and the connection stays."""
    with tempfile.NamedTemporaryFile(prefix="wick-http11-") as body_file:
        out = subprocess.run(["curl", "-sS", "--max-time", "60", "-D", "-", "-o", body_file.name,
                              "-H", f"Host: {served.url_host}",
                              f"http://127.0.0.1:{served.url_port}/small"], capture_output=True)
        body = body_file.read()
    assert out.returncode == 0, out.stderr
    head = out.stdout.decode().lower()
    assert head.startswith("http/1.1 200") and "transfer-encoding: chunked" in head, head
    assert body == SMALL
