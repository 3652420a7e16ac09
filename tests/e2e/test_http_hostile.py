"""Hostile input on wickd's HTTP front, with real clients (curl with its
defaults, Node's http, Python's http.client and raw sockets): what a
function returns must not reach the client as another response, an answer
that has no content must send none, and a request with bytes that are not
UTF-8 must still get its AWS error rather than a closed connection."""
import json
import os
import resource
import socket
import subprocess
import time

from conftest import running_daemon, signed_head_lines, signed_request
from test_function_urls import header, lam, public_url, request, returns, urls_daemon  # noqa: F401


def read_response(sock):
    """One HTTP/1.1 response with a Content-Length off `sock`: (head text, body bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        rest += chunk
    return head.decode(), rest


def test_an_interim_status_cannot_smuggle_a_response(urls_daemon, public_url):
    # A 1xx is not a final answer: a client reads past it, so its body would be
    # taken for the response, headers and all, past every check of the mapping.
    smuggled = ("HTTP/1.1 200 OK\r\nSet-Cookie: session=attacker\r\n"
                "Access-Control-Allow-Origin: https://evil.example\r\nContent-Length: 2\r\n\r\nhi")
    event = json.dumps({"value": {"statusCode": 100, "body": smuggled}})
    url = f"http://127.0.0.1:{urls_daemon.url_port}/{public_url}/return"
    curl = subprocess.run(["curl", "-s", "-i", "-m", "20", "-H", "Content-Type: application/json",
                           "--data-binary", event, url], capture_output=True, timeout=30)
    out = curl.stdout.decode(errors="replace")
    assert "session=attacker" not in out and "evil.example" not in out, out
    assert out.startswith("HTTP/1.1 502"), out
    for status in (101, "103", 4294967496):  # 2^32 + 200 must not wrap into 200
        got, _, body = returns(urls_daemon, public_url, {"statusCode": status, "body": "x"})
        assert (got, body) == (502, b"Internal Server Error"), status


def test_no_content_statuses_send_no_body(urls_daemon, public_url):
    # A 204 or 304 with a body: the status without it, and the connection
    # still serves its next request (the body is not left to be misread).
    for status in (204, 304):
        with socket.create_connection(("127.0.0.1", urls_daemon.url_port), timeout=30) as sock:
            event = json.dumps({"value": {"statusCode": status, "body": "HTTP/1.1 200 OK"}})
            sock.sendall((f"POST /{public_url}/return HTTP/1.1\r\nHost: a\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(event)}\r\n"
                          f"\r\n{event}").encode())
            head, body = read_response(sock)
            assert head.startswith(f"HTTP/1.1 {status} "), head
            assert body == b""
            sock.sendall(f"GET /{public_url}/next HTTP/1.1\r\nHost: a\r\n\r\n".encode())
            head, body = read_response(sock)
            assert head.startswith("HTTP/1.1 200 "), head
            assert json.loads(body)["rawPath"] == "/next"


NODE_HEAD_THEN_GET = r"""
const http = require('http');
const agent = new http.Agent({keepAlive: true, maxSockets: 1});
const [port, prefix] = process.argv.slice(1);
function go(method, path) {
  return new Promise((resolve, reject) => {
    const r = http.request({host: '127.0.0.1', port, path, method, agent}, (res) => {
      let body = '';
      const socket = res.socket.localPort;
      res.on('data', (d) => body += d);
      res.on('end', () => resolve({status: res.statusCode, length: res.headers['content-length'],
                                   body, socket}));
    });
    r.on('error', reject);
    r.end();
  });
}
(async () => {
  const head = await go('HEAD', prefix + '/first');
  const get = await go('GET', prefix + '/second');
  console.log(JSON.stringify({head, get}));
  agent.destroy();
})().catch((e) => { console.log(JSON.stringify({error: e.code || e.message})); agent.destroy(); });
"""


def test_head_answers_send_no_body(urls_daemon, public_url):
    # Node keeps the connection for the GET after the HEAD: bytes of a body
    # after the HEAD's head would be parsed as the GET's status line.
    node = subprocess.run(["node", "-e", NODE_HEAD_THEN_GET, str(urls_daemon.url_port),
                           f"/{public_url}"], capture_output=True, text=True, timeout=60)
    assert node.stdout, node.stderr
    result = json.loads(node.stdout)
    assert "error" not in result, result
    assert result["head"]["status"] == 200 and result["head"]["body"] == ""
    assert int(result["head"]["length"]) > 0  # the length a GET would get
    assert result["get"]["status"] == 200
    assert json.loads(result["get"]["body"])["rawPath"] == "/second"
    assert result["get"]["socket"] == result["head"]["socket"]  # one connection
    # The API's answers too: a HEAD on an API route is answered by its head.
    with socket.create_connection(("127.0.0.1", urls_daemon.port), timeout=30) as sock:
        sock.sendall(b"HEAD /2015-03-31/functions/ HTTP/1.1\r\n" +
                     signed_head_lines(urls_daemon, "HEAD", "/2015-03-31/functions/") + b"\r\n" +
                     b"GET /2015-03-31/functions/ HTTP/1.1\r\n" +
                     signed_head_lines(urls_daemon, "GET", "/2015-03-31/functions/") + b"\r\n")
        head, _ = read_response_head_only(sock)
        assert head.startswith("HTTP/1.1 "), head
        head, body = read_response(sock)
        assert head.startswith("HTTP/1.1 200 "), head
        assert "Functions" in json.loads(body)


def read_response_head_only(sock):
    """A HEAD's answer: its head, and whatever bytes came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data.decode(), b""


def test_bytes_that_are_not_utf8_still_get_their_aws_error(urls_daemon):
    # Refusals and errors quote what the client sent; before, bytes that are
    # not UTF-8 there closed the connection without an answer.
    with socket.create_connection(("127.0.0.1", urls_daemon.port), timeout=30) as sock:
        sock.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: \xff\xfe Credential=x\r\n\r\n")
        head, body = read_response(sock)
    assert head.startswith("HTTP/1.1 400 "), head
    assert "x-amzn-ErrorType: IncompleteSignatureException" in head
    assert json.loads(body)["message"] == "Unsupported AWS 'algorithm': '\ufffd\ufffd'"
    # Signed, with such bytes in the function's name.
    for path in ("/2015-03-31/functions/%FF%FE/configuration",
                 "/2015-03-31/functions/echo/aliases/%FF"):
        status, headers, body = signed_request(urls_daemon, "GET", path)
        assert 400 <= status < 500, (path, status, body)
        assert headers["x-amzn-errortype"] and json.loads(body), (path, body)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_the_listener_waits_instead_of_spinning():
    # Connections that hold every descriptor wickd may open: each accept then
    # fails at once (the connection stays queued). wickd used to retry in a
    # loop, a core at 100 % and ~500,000 warnings a second in its log.
    with running_daemon() as daemon:
        pid = daemon.process.pid
        soft_limit = len(os.listdir(f"/proc/{pid}/fd")) + 20
        hard_limit = resource.prlimit(pid, resource.RLIMIT_NOFILE)[1]
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft_limit, hard_limit))
        held = []
        try:
            for _ in range(40):  # more than the limit leaves: the rest queue
                held.append(socket.create_connection(("127.0.0.1", daemon.port), timeout=10))
            time.sleep(0.5)  # wickd takes what it can, then fails to accept
            cpu_before, log_before = cpu_seconds(pid), os.path.getsize(daemon.log_path)
            time.sleep(3)
            cpu_used = cpu_seconds(pid) - cpu_before
            logged = os.path.getsize(daemon.log_path) - log_before
            assert cpu_used < 1.0, f"{cpu_used:.2f} s of CPU in 3 s while out of descriptors"
            assert logged < 20000, f"{logged} bytes of log in 3 s"
        finally:
            for sock in held:
                sock.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (hard_limit, hard_limit))
        # Descriptors free again: it serves.
        status, _, _ = signed_request(daemon, "GET", "/2015-03-31/functions/")
        assert status == 200
