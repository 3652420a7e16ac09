"""Hostile input on wickd's HTTP front, with real clients (curl with its
defaults, Node's http, Python's http.client and raw sockets): what a
function returns must not reach the client as another response, an answer
that has no content must send none, and a request with bytes that are not
UTF-8 must still get its AWS error rather than a closed connection."""
import json
import socket
import subprocess

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
