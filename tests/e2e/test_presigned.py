"""Presigned (query-string) SigV4 requests (issue 15), made by botocore's own
presigners (boto3's generate_presigned_url and botocore.auth.SigV4QueryAuth),
on the Lambda API (GetFunction, Invoke) and on an AWS_IAM function URL: valid
ones accepted for their X-Amz-Expires; expired, future-dated, tampered and
mixed (Authorization header and query) ones refused with AWS's errors, each
refusal logged."""
import datetime
import json
import re
import unittest.mock
import urllib.error
import urllib.parse
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from conftest import (ACCESS_KEY_ID, REGION, ROLE, SECRET_ACCESS_KEY, client_for,
                      credentials_ini, free_port, running_daemon, runtime_zip, sign_headers,
                      wait_active, wait_listening)

INVOKER_KEY = "AKIAINVOKEREXAMPLE02"
INVOKER_SECRET = "invoker-secret-abcdefghijklmno0123456789"
# Temporary keys: valid only with their session token.
TEMP_KEY = "ASIATEMPORARYEXAMPL2"
TEMP_SECRET = "temporary-secret-0123456789abcdefghijklm"
TEMP_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/Token+With=Specials"


@pytest.fixture(scope="module")
def served():
    """A daemon with the session's admin, an invoker that is not an admin, a
    function that echoes its event, and an AWS_IAM URL for it."""
    url_port = free_port()
    with running_daemon("wick-e2e-presigned-", ["--url-listen", f"127.0.0.1:{url_port}"],
                        credentials=credentials_ini() + credentials_ini(
                            "invoker", INVOKER_KEY, INVOKER_SECRET, admin=False) +
                        credentials_ini("temporary", TEMP_KEY, TEMP_SECRET) +
                        f"aws_session_token = {TEMP_TOKEN}\n") as daemon:
        wait_listening(url_port, "the URL listener")  # it opens just after the API's
        lam = client_for(daemon)
        lam.create_function(FunctionName="echo", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()})
        wait_active(lam, "echo")
        url = lam.create_function_url_config(FunctionName="echo", AuthType="AWS_IAM")
        daemon.lam = lam
        daemon.url_port = url_port
        # http://<id>.lambda-url.us-east-1.localhost:<port>/
        daemon.url_host = urllib.parse.urlsplit(url["FunctionUrl"]).netloc
        yield daemon


def presign(url, method="GET", expires=300, key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY,
            at=None, unsigned_payload=False, token=None):
    """`url` presigned by botocore's SigV4QueryAuth (as of `at`, a UTC datetime).
    With unsigned_payload the payload is UNSIGNED-PAYLOAD (what botocore signs
    over https when payload signing is off)."""
    if unsigned_payload:
        url = "https" + url[len("http"):]
    request = botocore.awsrequest.AWSRequest(method=method, url=url)
    request.context["payload_signing_enabled"] = not unsigned_payload
    signer = botocore.auth.SigV4QueryAuth(botocore.credentials.Credentials(key, secret, token),
                                          "lambda", REGION, expires=expires)
    if at is None:
        signer.add_auth(request)
    else:
        with unittest.mock.patch("botocore.auth.datetime") as clock:
            clock.datetime.utcnow.return_value = at
            signer.add_auth(request)
    signed = request.url
    return "http" + signed[len("https"):] if unsigned_payload else signed


def fetch(url, method="GET", body=None, headers=None, port=None, host=None):
    """(status, headers, body bytes) of one request to `url`'s path and query,
    sent to 127.0.0.1:`port` with Host `host` (default: the URL's)."""
    parts = urllib.parse.urlsplit(url)
    target = f"http://127.0.0.1:{port or parts.port}{parts.path}"
    if parts.query:
        target += "?" + parts.query
    all_headers = {"Host": host or parts.netloc}
    all_headers.update(headers or {})
    request = urllib.request.Request(target, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def error_of(reply):
    status, headers, body = reply
    return status, headers.get("x-amzn-ErrorType"), json.loads(body).get("message")


def log_of(daemon):
    with open(daemon.log_path) as log:
        return log.read()


def test_get_function_presigned_by_boto3(served):
    url = served.lam.generate_presigned_url("get_function", Params={"FunctionName": "echo"},
                                            ExpiresIn=120)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
    status, _, body = fetch(url)
    assert status == 200, body
    assert json.loads(body)["Configuration"]["FunctionName"] == "echo"
    # The same URL refused once anything it covers changes.
    tampered = url.replace("/functions/echo", "/functions/ech%6F")
    assert error_of(fetch(tampered))[:2] == (403, "InvalidSignatureException")
    assert error_of(fetch(url + "&Qualifier=1"))[:2] == (403, "InvalidSignatureException")
    assert error_of(fetch(url, host=f"localhost:{served.port}"))[:2] == (
        403, "InvalidSignatureException")


def test_invoke_presigned_by_botocore(served):
    invoke = f"{served.endpoint}/2015-03-31/functions/echo/invocations"
    # Over http botocore signs the (empty) body's SHA-256...
    status, _, body = fetch(presign(invoke, "POST"), "POST", b"")
    assert status == 200, body
    # ...and with payload signing off, UNSIGNED-PAYLOAD: any body the URL's holder sends.
    url = presign(invoke, "POST", unsigned_payload=True)
    status, headers, body = fetch(url, "POST", b'{"hello": "presigned"}',
                                  {"Content-Type": "application/json"})
    assert status == 200, body
    assert json.loads(body) == {"hello": "presigned"}
    # A body under a URL that signed the empty body's hash is a tampered body.
    assert error_of(fetch(presign(invoke, "POST"), "POST", b'{"a":1}'))[:2] == (
        403, "InvalidSignatureException")


def test_presigned_requests_are_refused_as_aws_refuses_them(served):
    get = f"{served.endpoint}/2015-03-31/functions/echo"
    now = datetime.datetime.utcnow()

    expired = error_of(fetch(presign(get, expires=60, at=now - datetime.timedelta(seconds=90))))
    assert expired[:2] == (403, "InvalidSignatureException")
    assert expired[2].startswith("Signature expired: ") and expired[2].endswith(" - 60 sec.)")

    future = error_of(fetch(presign(get, at=now + datetime.timedelta(minutes=10))))
    assert future[:2] == (403, "InvalidSignatureException")
    assert future[2].startswith("Signature not yet current: ")

    week = error_of(fetch(presign(get, expires=604801)))
    assert week[:2] == (400, "IncompleteSignatureException")
    assert week[2].startswith("X-Amz-Expires must be less than a week")
    assert fetch(presign(get, expires=604800))[0] == 200

    url = presign(get)
    signature = url[url.index("&X-Amz-Signature=") + 17:]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert error_of(fetch(forged))[:2] == (403, "InvalidSignatureException")
    assert error_of(fetch(presign(get, secret="wrong" + SECRET_ACCESS_KEY[5:])))[:2] == (
        403, "InvalidSignatureException")
    assert error_of(fetch(presign(get, key="AKIAUNKNOWNEXAMPLE02")))[:2] == (
        403, "UnrecognizedClientException")

    # Signed twice, in the header and in the query: refused before either is checked.
    mixed = error_of(fetch(url, headers={
        k: v for k, v in sign_headers("GET", get).items() if k.lower() != "host"}))
    assert mixed == (400, "InvalidSignatureException",
                     "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' "
                     "as HTTP header.")

    incomplete = error_of(fetch(url.replace("X-Amz-Date=", "X-Amz-Dat=")))
    assert incomplete == (400, "IncompleteSignatureException",
                          "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the "
                          "query-string parameters.")

    # A presigned call is its principal's: one that is not an admin may only invoke.
    assert error_of(fetch(presign(get, key=INVOKER_KEY, secret=INVOKER_SECRET)))[:2] == (
        403, "AccessDeniedException")
    invoke = f"{served.endpoint}/2015-03-31/functions/echo/invocations"
    assert fetch(presign(invoke, "POST", key=INVOKER_KEY, secret=INVOKER_SECRET), "POST",
                 b"")[0] == 200

    log = log_of(served)
    assert "both an Authorization header and a presigned query" in log
    assert re.search(r"presigned (9\d|1\d\d) s ago, valid for 60", log)
    assert SECRET_ACCESS_KEY not in log


def test_temporary_keys_presign_with_their_session_token(served):
    get = f"{served.endpoint}/2015-03-31/functions/echo"
    url = presign(get, key=TEMP_KEY, secret=TEMP_SECRET, token=TEMP_TOKEN)
    assert "X-Amz-Security-Token=" in url  # botocore puts it in the query, signed
    status, _, body = fetch(url)
    assert status == 200, body
    for token in (None, TEMP_TOKEN + "x"):
        refused = error_of(fetch(presign(get, key=TEMP_KEY, secret=TEMP_SECRET, token=token)))
        assert refused[:2] == (403, "UnrecognizedClientException"), refused
    assert "missing or wrong session token for temporary" in log_of(served)


def test_aws_iam_url_presigned(served):
    url = f"http://{served.url_host}/report?day=mon&x=a%20b"
    status, _, body = fetch(presign(url), port=served.url_port)
    assert status == 200, body
    event = json.loads(body)
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == ACCESS_KEY_ID
    assert event["rawPath"] == "/report"
    assert event["queryStringParameters"]["day"] == "mon"

    # Refused as the API refuses them (the URL's error body: "Message"), the reason logged.
    def url_error(reply):
        status, headers, body = reply
        return status, headers.get("x-amzn-ErrorType"), json.loads(body)["Message"]

    now = datetime.datetime.utcnow()
    expired = url_error(fetch(presign(url, expires=30, at=now - datetime.timedelta(seconds=60)),
                              port=served.url_port))
    assert expired[:2] == (403, "InvalidSignatureException")
    assert expired[2].startswith("Signature expired: ") and expired[2].endswith(" - 30 sec.)")
    future = url_error(fetch(presign(url, at=now + datetime.timedelta(minutes=10)),
                             port=served.url_port))
    assert future[:2] == (403, "InvalidSignatureException")
    assert future[2].startswith("Signature not yet current: ")
    tampered = url_error(fetch(presign(url).replace("day=mon", "day=tue"), port=served.url_port))
    assert tampered[:2] == (403, "InvalidSignatureException")
    assert tampered[2].startswith("The request signature we calculated does not match")
    assert url_error(fetch(presign(url, key="AKIAUNKNOWNEXAMPLE03"), port=served.url_port)) == (
        403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    mixed = url_error(fetch(presign(url), port=served.url_port,
                            headers={k: v for k, v in sign_headers("GET", url).items()
                                     if k.lower() != "host"}))
    assert mixed == (400, "InvalidSignatureException",
                     "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' "
                     "as HTTP header.")
    # Unsigned: the URL's own Forbidden.
    status, _, body = fetch(url, port=served.url_port)
    assert status == 403 and json.loads(body)["Message"].startswith("Forbidden."), body
    log = log_of(served)
    url_id = served.url_host.split(".")[0]
    assert f"function URL {url_id} of echo: both an Authorization header and a presigned" in log
    assert f"function URL {url_id} of echo: signed " in log  # the future-dated one
    assert f"function URL {url_id} of echo: signature does not match" in log
