"""Function URLs with InvokeMode RESPONSE_STREAM through a real wickd (issue
13): a Node.js handler using awslambda.streamifyResponse through wick's
runtime client, called with curl (defaults) and Python's http.client. The
response is sent as the function writes it (time to first byte well before
the function ends); awslambda.HttpResponseStream.from's prelude becomes the
status, headers and cookies, also when it arrives split over chunks; without
it, 200 with the stream's content type; an error before the first byte is the
buffered URL's 502, after it the body is cut off; CORS as for buffered URLs;
a BUFFERED URL answers as before."""
import http.client
import json
import re
import subprocess
import tempfile
import time

import pytest

from conftest import (ROLE, Daemon, client_for, free_port, make_zip, signed_request,
                      wait_active, wait_listening)

NODE_HANDLER = r"""
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';
const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  const q = event.queryStringParameters || {};
  const chunks = Number(q.chunks || 3);
  const pause = Number(q.pause || 0);
  const path = event.rawPath;
  if (path === '/fail-early') throw new Error('broke before the first byte');
  if (path === '/prelude') {
    stream = awslambda.HttpResponseStream.from(stream, {
      statusCode: 201, headers: {'x-custom': 'yes', 'content-type': 'text/plain'},
      cookies: ['a=1; Path=/', 'b=2']});
  } else if (path === '/split') {
    // The prelude by hand, cut inside the JSON and inside the 8 NULs.
    stream.setContentType(HTTP_INTEGRATION);
    const whole = JSON.stringify({statusCode: 202, headers: {'x-split': 'yes'}}) +
                  '\0'.repeat(8) + 'after the prelude\n';
    for (const piece of [whole.slice(0, 10), whole.slice(10, 40), whole.slice(40, whole.length - 21),
                         whole.slice(whole.length - 21)]) {
      stream.write(piece);
      await sleep(0.2);
    }
  } else if (path === '/bad-prelude') {
    stream.setContentType(HTTP_INTEGRATION);
    stream.write('{"statusCode": "nope"}' + '\0'.repeat(8) + 'never sent');
  } else if (path === '/no-delimiter') {
    // Announces a prelude but writes 80 KiB without the 8 NULs.
    stream.setContentType(HTTP_INTEGRATION);
    stream.write('{"statusCode":201,"pad":"' + 'p'.repeat(80 * 1024) + '"}');
  } else if (path === '/text') {
    stream.setContentType('text/plain; charset=utf-8');
  }
  for (let i = 1; i <= chunks; i++) {
    stream.write(`chunk ${i}\n`);
    await sleep(pause);
  }
  if (path === '/fail') throw new Error('broke mid-stream');
  stream.end();
});

exports.buffered = async (event) => ({
  statusCode: 203, headers: {'x-buffered': 'yes'}, cookies: ['c=3'], body: 'whole'});
"""

PUBLIC = dict(StatementId="FunctionURLAllowPublicAccess", Action="lambda:InvokeFunctionUrl",
              Principal="*", FunctionUrlAuthType="NONE")
URL_ID = re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.")


def create_url(daemon, function, mode, cors=None):
    """A URL by the raw API (Debian's botocore does not model InvokeMode)."""
    body = {"AuthType": "NONE", "InvokeMode": mode}
    if cors:
        body["Cors"] = cors
    status, _, data = signed_request(daemon, "POST", f"/2021-10-31/functions/{function}/url",
                                     json.dumps(body), {"Content-Type": "application/json"})
    assert status == 201, data
    config = json.loads(data)
    assert config["InvokeMode"] == mode
    return URL_ID.match(config["FunctionUrl"]).group(1)


@pytest.fixture(scope="module")
def urls(tmp_path_factory):
    """(daemon, {name: url id}) for the streaming and buffered handlers."""
    root = tmp_path_factory.mktemp("urlstream")
    conf = root / "wickd.conf"
    conf.write_text("")
    url_port = free_port()
    daemon = Daemon(str(root / "state"), ["--config", str(conf), "--url-listen",
                                          f"127.0.0.1:{url_port}"])
    daemon.url_port = url_port
    daemon.start()
    try:
        wait_listening(url_port, "the URL listener")
        lam = client_for(daemon)
        code = make_zip({"index.js": NODE_HANDLER.encode()})
        ids = {}
        for name, handler, mode, cors in (
                ("streamer", "index.handler", "RESPONSE_STREAM", None),
                ("streamer-cors", "index.handler", "RESPONSE_STREAM",
                 {"AllowOrigins": ["https://app.example"], "ExposeHeaders": ["x-custom"]}),
                ("whole", "index.buffered", "RESPONSE_STREAM", None),
                ("whole-buffered", "index.buffered", "BUFFERED", None)):
            lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE,
                                Handler=handler, Timeout=30,
                                Code={"ZipFile": code})
            wait_active(lam, name)
            ids[name] = create_url(daemon, name, mode, cors)
            lam.add_permission(FunctionName=name, **PUBLIC)
        yield daemon, ids
    finally:
        daemon.stop()


def url_of(urls, name, path):
    daemon, ids = urls
    return f"http://{ids[name]}.lambda-url.us-east-1.localhost:{daemon.url_port}{path}"


def curl(url, *args):
    """curl with its defaults: (exit code, status, headers dict lower-case
    with lists, body bytes, time_starttransfer, time_total)."""
    with tempfile.NamedTemporaryFile(prefix="wick-urlstream-") as body_file:
        out = subprocess.run(["curl", "-sS", "-D", "-", "-o", body_file.name, "--max-time", "60",
                              "-w", "\n%{time_starttransfer} %{time_total}\n", *args, url],
                             capture_output=True)
        body = body_file.read()
    text = out.stdout.decode()
    head, _, timing = text.rpartition("\n\n")
    head = head.split("\r\n\r\n")[0] if "\r\n\r\n" in head else head
    lines = head.split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    first, total = (float(x) for x in timing.split())
    return out.returncode, status, headers, body, first, total


def chunk_times(url_host, port, path):
    """Python's http.client: each line of the body with when it arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        started = time.monotonic()
        connection.request("GET", path, headers={"Host": url_host})
        response = connection.getresponse()
        lines = []
        while True:
            line = response.readline()
            if not line:
                break
            lines.append((time.monotonic() - started, line))
        return response, lines, time.monotonic() - started
    finally:
        connection.close()


def test_curl_sees_the_first_chunk_before_the_function_ends(urls):
    url = url_of(urls, "streamer", "/text?chunks=3&pause=1")
    curl(url)  # warm: the cold start is not what is measured
    code, status, headers, body, first, total = curl(url)
    assert code == 0 and status == 200, (code, status, body)
    assert headers["content-type"] == ["text/plain; charset=utf-8"]
    assert headers["transfer-encoding"] == ["chunked"] and "content-length" not in headers
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-requestid"][0])
    assert body == b"chunk 1\nchunk 2\nchunk 3\n"
    print(f"\nRESPONSE_STREAM URL, curl: time to first byte {first * 1000:.1f} ms,"
          f" whole response {total * 1000:.0f} ms")
    # The function pauses 1 s after each chunk: a buffered answer would come at the end.
    assert total - first > 2.0, (first, total)

    daemon, ids = urls
    response, lines, ended = chunk_times(f"{ids['streamer']}.lambda-url.us-east-1.localhost",
                                         daemon.url_port, "/text?chunks=3&pause=1")
    assert [line for _, line in lines] == [b"chunk 1\n", b"chunk 2\n", b"chunk 3\n"]
    assert ended - lines[0][0] > 2.0, lines
    assert lines[1][0] - lines[0][0] > 0.5, lines


def test_the_prelude_sets_status_headers_and_cookies(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/prelude?chunks=2"))
    assert code == 0 and status == 201, (status, body)
    assert headers["x-custom"] == ["yes"]
    assert headers["content-type"] == ["text/plain"]
    assert headers["set-cookie"] == ["a=1; Path=/", "b=2"]
    assert body == b"chunk 1\nchunk 2\n"  # no prelude, no NULs


def test_a_prelude_split_over_chunks(urls):
    code, status, headers, body, first, total = curl(url_of(urls, "streamer", "/split?chunks=1"))
    assert code == 0 and status == 202, (status, body)
    assert headers["x-split"] == ["yes"]
    assert headers["content-type"] == ["application/octet-stream"]
    assert body == b"after the prelude\nchunk 1\n"


def test_without_a_prelude_200_octet_stream(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/plain?chunks=2"))
    assert code == 0 and status == 200
    assert headers["content-type"] == ["application/octet-stream"]  # the Node client's default
    assert body == b"chunk 1\nchunk 2\n"


def test_a_prelude_without_its_delimiter_within_64_kib_is_body(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/no-delimiter?chunks=1"))
    assert code == 0 and status == 200
    assert headers["content-type"] == ["application/octet-stream"]
    assert body.startswith(b'{"statusCode":201,"pad":"ppp') and body.endswith(b'"}chunk 1\n')
    assert len(body) == len('{"statusCode":201,"pad":""}chunk 1\n') + 80 * 1024


def test_a_bad_prelude_is_502(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/bad-prelude?chunks=1"))
    assert code == 0 and status == 502
    assert body == b"Internal Server Error"


def test_an_error_before_the_first_byte_is_502(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/fail-early"))
    assert code == 0 and status == 502
    assert body == b"Internal Server Error"
    assert "transfer-encoding" not in headers


def test_an_error_mid_stream_cuts_the_body_off(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer", "/fail?chunks=2"))
    assert status == 200  # the head had gone out
    assert body == b"chunk 1\nchunk 2\n"
    # No last chunk: curl reports the transfer as cut short.
    assert code == 18, code
    daemon, ids = urls
    connection = http.client.HTTPConnection("127.0.0.1", daemon.url_port, timeout=60)
    try:
        connection.request("GET", "/fail?chunks=1",
                           headers={"Host": f"{ids['streamer']}.lambda-url.us-east-1.localhost"})
        response = connection.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        connection.close()


def test_cors_headers_as_for_buffered_urls(urls):
    code, status, headers, body, _, _ = curl(url_of(urls, "streamer-cors", "/prelude?chunks=1"),
                                             "-H", "Origin: https://app.example")
    assert code == 0 and status == 201
    assert headers["access-control-allow-origin"] == ["https://app.example"]
    assert headers["access-control-expose-headers"] == ["x-custom"]
    assert headers["x-custom"] == ["yes"]
    # The preflight is answered without invoking, as before.
    code, status, headers, body, _, _ = curl(
        url_of(urls, "streamer-cors", "/"), "-X", "OPTIONS", "-H", "Origin: https://app.example",
        "-H", "Access-Control-Request-Method: GET")
    assert status == 200 and headers["access-control-allow-origin"] == ["https://app.example"]


def test_a_function_that_does_not_stream_is_mapped_as_buffered(urls):
    for name in ("whole", "whole-buffered"):
        code, status, headers, body, _, _ = curl(url_of(urls, name, "/"))
        assert code == 0 and status == 203, (name, status, body)
        assert headers["x-buffered"] == ["yes"] and headers["set-cookie"] == ["c=3"]
        assert headers["content-length"] == ["5"] and "transfer-encoding" not in headers
        assert body == b"whole"
