"""A custom runtime with Python's HTTP clients ($CLIENT_MODE): http.client over one
keep-alive connection, urllib (a connection per request, Connection: close), or a raw
socket that sends its answer and the next poll in one go, in small pieces."""
import http.client
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime/invocation"
MODE = os.environ.get("CLIENT_MODE", "httpclient")


def answer_for(event):
    """(path suffix, body, extra headers) for an event."""
    op = json.loads(event).get("op")
    if op == "fail":
        return "error", b'{"errorMessage":"asked to fail","errorType":"Test.Failure"}', {
            "Lambda-Runtime-Function-Error-Type": "Test.Failure"}
    if op == "size":
        n = json.loads(event)["n"]
        return "response", b'"' + b"x" * (n - 2) + b'"', {}
    return "response", event, {}


class HttpClient:
    def __init__(self):
        host, port = API.split(":")
        self.connection = http.client.HTTPConnection(host, int(port))

    def request(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
        return response.status, dict(response.getheaders()), data


class Urllib:
    def request(self, method, path, body=None, headers=None):
        request = urllib.request.Request(f"http://{API}{path}", data=body, method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, dict(response.getheaders()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


class Raw:
    """HTTP by hand: responses read by Content-Length, requests written in pieces,
    the answer and the next long poll pipelined in one connection."""
    def __init__(self):
        host, port = API.split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.buffer = b""

    def send(self, data):
        for at in range(0, len(data), 7 if len(data) < 4096 else 65536):
            self.sock.sendall(data[at:at + (7 if len(data) < 4096 else 65536)])

    def read_response(self):
        while b"\r\n\r\n" not in self.buffer:
            self.fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            sys.exit(4)
        self.buffer += chunk

    @staticmethod
    def next_request():
        return f"GET {BASE}/next HTTP/1.1\r\nHost: {API}\r\n\r\n".encode()

    def run(self):
        self.send(self.next_request())
        while True:
            status, headers, event = self.read_response()
            request_id = headers["lambda-runtime-aws-request-id"]
            verb, body, extra = answer_for(event)
            head = f"POST {BASE}/{request_id}/{verb} HTTP/1.1\r\nHost: {API}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            head += f"Content-Length: {len(body)}\r\n\r\n"
            # The answer and the next poll in one write: pipelining.
            self.send(head.encode() + body + self.next_request())
            status, _, _ = self.read_response()
            print(f"answer {request_id}: {status}", flush=True)


def main():
    if MODE == "raw":
        Raw().run()
    client = HttpClient() if MODE == "httpclient" else Urllib()
    while True:
        status, headers, event = client.request("GET", f"{BASE}/next")
        if status != 200:
            time.sleep(0.05)
            continue
        request_id = {k.lower(): v for k, v in headers.items()}["lambda-runtime-aws-request-id"]
        verb, body, extra = answer_for(event)
        status, _, _ = client.request("POST", f"{BASE}/{request_id}/{verb}", body, extra)
        print(f"answer {request_id}: {status}", flush=True)


main()
