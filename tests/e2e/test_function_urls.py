"""Function URLs through a real wickd: the URL config API and the resource
policy with boto3 and the awscli (Lambda's shapes and errors), the URL listener
with curl and Python's http.client (routing by Host and by path, the 2.0 event
field by field, Lambda's response mapping, 403 without the policy, CORS
preflight answered without invoking, errors, throttles, limits), and behind a
real nginx terminating TLS with a certificate made here."""
import base64
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zipfile

import botocore.exceptions
import pytest

from conftest import (ROLE, Daemon, aws_env, client_for, credentials_ini, free_port,
                      signed_request, wait_active, wait_listening)

HANDLER = r'''
import base64, json, time

def handler(event, context):
    path = event.get("rawPath")
    if path == "/raise":
        raise RuntimeError("boom")
    if path == "/sleep":
        time.sleep(10)
    if path == "/return":
        body = event["body"]
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        return json.loads(body)["value"]
    return event
'''

PUBLIC = dict(StatementId="FunctionURLAllowPublicAccess", Action="lambda:InvokeFunctionUrl",
              Principal="*", FunctionUrlAuthType="NONE")
URL_PATTERN = re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/$")


def code_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("app.py")
        info.external_attr = 0o100644 << 16
        archive.writestr(info, HANDLER)
    return buffer.getvalue()


def start(tmp_path, config=""):
    conf = tmp_path / "wickd.conf"
    conf.write_text(config)
    url_port = free_port()
    daemon = Daemon(str(tmp_path / "state"),
                    ["--config", str(conf), "--url-listen", f"127.0.0.1:{url_port}"])
    daemon.url_port = url_port
    daemon.start()
    try:  # the URL listener opens just after the API's
        wait_listening(url_port, "the URL listener")
    except BaseException:
        daemon.stop()  # a failed start stops wickd too
        raise
    return daemon


@pytest.fixture(scope="module")
def urls_daemon(tmp_path_factory):
    daemon = start(tmp_path_factory.mktemp("urls"))
    try:  # a failed setup stops wickd too
        lam = client_for(daemon)
        for name in ("echo", "other"):
            lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                                Handler="app.handler", Code={"ZipFile": code_zip()}, Timeout=3)
            wait_active(lam, name)
        version = lam.publish_version(FunctionName="echo")["Version"]
        lam.create_alias(FunctionName="echo", Name="live", FunctionVersion=version)
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def lam(urls_daemon):
    return client_for(urls_daemon)


def error_of(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
        response["Error"]["Message"]


def request(daemon, method, path, body=None, headers=None, host=None):
    """One request to the URL listener; returns (status, headers, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", daemon.url_port, timeout=60)
    try:
        all_headers = dict(headers or {})
        if host:
            all_headers["Host"] = host
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def api(daemon, method, path, body=None):
    """A raw call on the Lambda API, for what Debian's botocore (1.29) does not
    model yet: InvokeMode. Returns (status, JSON body or None)."""
    status, _, data = signed_request(daemon, method, path,
                                     b"" if body is None else json.dumps(body).encode())
    return status, json.loads(data) if data else None


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    return values[0] if values else None


@pytest.fixture(scope="module")
def public_url(urls_daemon, lam):
    """echo's $LATEST URL, AuthType NONE, with the public statement."""
    config = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    lam.add_permission(FunctionName="echo", **PUBLIC)
    return URL_PATTERN.match(config["FunctionUrl"]).group(1)


def test_create_get_update_list_delete_shapes(urls_daemon, lam):
    created = lam.create_function_url_config(FunctionName="other", AuthType="AWS_IAM")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    match = URL_PATTERN.match(created["FunctionUrl"])
    assert match and int(match.group(2)) == urls_daemon.url_port, created["FunctionUrl"]
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:other"
    assert created["AuthType"] == "AWS_IAM"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", created["CreationTime"])
    assert "LastModifiedTime" not in created and "InvokeMode" not in created
    assert "Cors" not in created

    got = lam.get_function_url_config(FunctionName="other")
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]
    assert api(urls_daemon, "GET", "/2021-10-31/functions/other/url")[1]["InvokeMode"] == "BUFFERED"

    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"], "ExposeHeaders": ["x-request-id"], "MaxAge": 300,
            "AllowCredentials": True}
    time.sleep(0.01)
    updated = lam.update_function_url_config(FunctionName="other", AuthType="NONE", Cors=cors)
    assert updated["AuthType"] == "NONE" and updated["Cors"] == cors
    assert updated["FunctionUrl"] == created["FunctionUrl"]  # never changes
    assert updated["LastModifiedTime"] > updated["CreationTime"]
    status, streaming = api(urls_daemon, "PUT", "/2021-10-31/functions/other/url",
                            {"InvokeMode": "RESPONSE_STREAM"})
    assert status == 200 and streaming["InvokeMode"] == "RESPONSE_STREAM"
    assert streaming["Cors"] == cors and streaming["AuthType"] == "NONE"
    # Update without InvokeMode keeps it.
    again = lam.update_function_url_config(FunctionName="other", AuthType="NONE")
    assert again["Cors"] == cors
    assert api(urls_daemon, "GET", "/2021-10-31/functions/other/url")[1]["InvokeMode"] == \
        "RESPONSE_STREAM"

    lam.publish_version(FunctionName="other")
    lam.create_alias(FunctionName="other", Name="prod", FunctionVersion="1")
    status, alias_url = api(urls_daemon, "POST", "/2021-10-31/functions/other/url?Qualifier=prod",
                            {"AuthType": "NONE", "InvokeMode": "BUFFERED"})
    assert status == 201
    assert alias_url["FunctionArn"].endswith(":function:other:prod")
    assert alias_url["InvokeMode"] == "BUFFERED"  # sent: echoed
    assert alias_url["FunctionUrl"] != created["FunctionUrl"]

    listed = lam.list_function_url_configs(FunctionName="other")["FunctionUrlConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == [created["FunctionArn"],
                                                       alias_url["FunctionArn"]]
    first = lam.list_function_url_configs(FunctionName="other", MaxItems=1)
    assert len(first["FunctionUrlConfigs"]) == 1 and "NextMarker" in first
    second = lam.list_function_url_configs(FunctionName="other", MaxItems=1,
                                           Marker=first["NextMarker"])
    assert len(second["FunctionUrlConfigs"]) == 1 and "NextMarker" not in second
    assert second["FunctionUrlConfigs"][0] != first["FunctionUrlConfigs"][0]

    deleted = lam.delete_function_url_config(FunctionName="other", Qualifier="prod")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lam.get_function_url_config, FunctionName="other", Qualifier="prod") == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")
    # Re-creating gives a new url-id.
    recreated = lam.create_function_url_config(FunctionName="other", Qualifier="prod",
                                               AuthType="NONE")
    assert recreated["FunctionUrl"] != alias_url["FunctionUrl"]
    lam.delete_function_url_config(FunctionName="other", Qualifier="prod")
    lam.delete_function_url_config(FunctionName="other")


def test_url_config_validation_and_errors(urls_daemon, lam):
    lam.create_function_url_config(FunctionName="other", AuthType="NONE")
    try:
        assert error_of(lam.create_function_url_config, FunctionName="other", AuthType="NONE")[:2] \
            == (409, "ResourceConflictException")
        for qualifier in ("$LATEST", "1"):
            status, code, message = error_of(lam.create_function_url_config, FunctionName="other",
                                             Qualifier=qualifier, AuthType="NONE")
            assert (status, code) == (400, "ValidationException")
            assert message == (f"1 validation error detected: Value '{qualifier}' at 'qualifier' "
                               "failed to satisfy constraint: Member must satisfy regular "
                               "expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
        status, reply = api(urls_daemon, "PUT", "/2021-10-31/functions/other/url",
                            {"InvokeMode": "UNKNOWN"})
        assert status == 400 and reply["Type"] == "User"
        assert reply["message"] == ("1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to "
                           "satisfy constraint: Member must satisfy enum value set: "
                           "[RESPONSE_STREAM, BUFFERED]")
        assert error_of(lam.update_function_url_config, FunctionName="other",
                        AuthType="OPEN")[:2] == (400, "ValidationException")
        assert error_of(lam.update_function_url_config, FunctionName="other",
                        Cors={"MaxAge": 86401})[:2] == (400, "ValidationException")
        assert error_of(lam.update_function_url_config, FunctionName="other",
                        Cors={"AllowMethods": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                               "OPTIONS"]})[:2] == (400, "ValidationException")
        assert error_of(lam.create_function_url_config, FunctionName="missing",
                        AuthType="NONE") == (404, "ResourceNotFoundException",
                                             "Function does not exist")
        assert error_of(lam.create_function_url_config, FunctionName="other", Qualifier="nope",
                        AuthType="NONE")[:2] == (404, "ResourceNotFoundException")
        assert error_of(lam.get_function_url_config, FunctionName="missing")[:2] == (
            404, "ResourceNotFoundException")
        assert error_of(lam.delete_function_url_config, FunctionName="echo", Qualifier="live")[:2] \
            == (404, "ResourceNotFoundException")
        assert error_of(lam.list_function_url_configs, FunctionName="missing")[:2] == (
            404, "ResourceNotFoundException")
    finally:
        lam.delete_function_url_config(FunctionName="other")
    # AuthType missing: botocore refuses it before sending; the wire answer is Lambda's.
    status, _, data = signed_request(urls_daemon, "POST", "/2021-10-31/functions/other/url", b"{}")
    assert status == 400
    assert json.loads(data)["message"] == (
        "1 validation error detected: Value 'null' at 'authType' failed to satisfy constraint: "
        "Member must not be null")


def test_url_config_with_the_awscli(urls_daemon):
    env = aws_env()
    aws = ["/usr/bin/aws", "--endpoint-url", urls_daemon.endpoint, "lambda"]
    created = subprocess.run(aws + ["create-function-url-config", "--function-name", "other",
                                    "--auth-type", "NONE", "--cors",
                                    "AllowOrigins=https://a.example,MaxAge=60"],
                             capture_output=True, text=True, env=env)
    assert created.returncode == 0, created.stderr
    config = json.loads(created.stdout)
    assert URL_PATTERN.match(config["FunctionUrl"])
    assert config["Cors"]["AllowOrigins"] == ["https://a.example"]
    got = subprocess.run(aws + ["get-function-url-config", "--function-name", "other"],
                         capture_output=True, text=True, env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["FunctionUrl"] == config["FunctionUrl"]
    deleted = subprocess.run(aws + ["delete-function-url-config", "--function-name", "other"],
                             capture_output=True, text=True, env=env)
    assert deleted.returncode == 0, deleted.stderr


def test_resource_policy_shapes_and_errors(urls_daemon, lam):
    added = lam.add_permission(FunctionName="other", StatementId="public",
                               Action="lambda:InvokeFunctionUrl", Principal="*",
                               FunctionUrlAuthType="NONE")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:other",
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
    lam.add_permission(FunctionName="other", StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
                       SourceAccount="123456789012")
    policy = lam.get_policy(FunctionName="other")
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17" and document["Id"] == "default"
    assert [s["Sid"] for s in document["Statement"]] == ["public", "s3"]
    assert document["Statement"][1]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert document["Statement"][1]["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": "123456789012"},
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}
    assert re.match(r"^[0-9a-f-]{36}$", policy["RevisionId"])

    status, code, message = error_of(lam.add_permission, FunctionName="other", StatementId="s3",
                                     Action="lambda:InvokeFunction", Principal="*")
    assert (status, code) == (409, "ResourceConflictException")
    assert message == ("The statement id (s3) provided already exists. Please provide a new "
                       "statement id, or remove the existing statement.")
    assert error_of(lam.add_permission, FunctionName="other", StatementId="x",
                    Action="s3:GetObject", Principal="*")[:2] == (400, "ValidationException")
    assert error_of(lam.add_permission, FunctionName="other", StatementId="x",
                    Action="lambda:InvokeFunction", Principal="*",
                    RevisionId="00000000-0000-0000-0000-000000000000")[:2] == (
        412, "PreconditionFailedException")
    assert error_of(lam.add_permission, FunctionName="missing", StatementId="x",
                    Action="lambda:InvokeFunction", Principal="*") == (
        404, "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing")
    assert error_of(lam.get_policy, FunctionName="echo", Qualifier="live")[:2] == (
        404, "ResourceNotFoundException")

    lam.remove_permission(FunctionName="other", StatementId="s3",
                          RevisionId=lam.get_policy(FunctionName="other")["RevisionId"])
    assert error_of(lam.remove_permission, FunctionName="other", StatementId="s3") == (
        404, "ResourceNotFoundException", "Statement s3 is not found in resource policy.")
    lam.remove_permission(FunctionName="other", StatementId="public")
    assert error_of(lam.get_policy, FunctionName="other") == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")


def test_unknown_urls_and_a_url_without_the_policy_are_403(urls_daemon, lam):
    status, headers, body = request(urls_daemon, "GET", "/" + "a" * 32 + "/")
    assert (status, json.loads(body)) == (403, {"Message": None})
    assert header(headers, "x-amzn-ErrorType") == "AccessDeniedException"
    status, _, body = request(urls_daemon, "GET", "/")
    assert (status, json.loads(body)) == (403, {"Message": None})

    config = lam.create_function_url_config(FunctionName="other", AuthType="NONE")
    url_id = URL_PATTERN.match(config["FunctionUrl"]).group(1)
    try:
        status, _, body = request(urls_daemon, "GET", f"/{url_id}/")
        assert status == 403
        assert json.loads(body) == {"Message": (
            "Forbidden. For troubleshooting Function URL authorization issues, see: "
            "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")}
        # A statement for an account, or for AWS_IAM, does not open it to the public.
        lam.add_permission(FunctionName="other", StatementId="iam",
                           Action="lambda:InvokeFunctionUrl", Principal="*",
                           FunctionUrlAuthType="AWS_IAM")
        assert request(urls_daemon, "GET", f"/{url_id}/")[0] == 403
        lam.add_permission(FunctionName="other", **PUBLIC)
        assert request(urls_daemon, "GET", f"/{url_id}/")[0] == 200
        lam.remove_permission(FunctionName="other", StatementId=PUBLIC["StatementId"])
        assert request(urls_daemon, "GET", f"/{url_id}/")[0] == 403
        # AWS_IAM: nothing unsigned gets in (and no credentials are configured here).
        lam.update_function_url_config(FunctionName="other", AuthType="AWS_IAM")
        assert request(urls_daemon, "GET", f"/{url_id}/")[0] == 403
    finally:
        lam.delete_function_url_config(FunctionName="other")
        lam.remove_permission(FunctionName="other", StatementId="iam")


def test_the_event_is_payload_format_2_0(urls_daemon, public_url):
    status, headers, body = request(
        urls_daemon, "POST", f"/{public_url}/orders/7?expand=items&expand=notes&q=%2Fbar&empty",
        body=b'{"qty":2}',
        headers={"Content-Type": "application/json", "User-Agent": "wick-test/1",
                 "Cookie": "session=abc; theme=dark", "X-Custom": "one"})
    assert status == 200, body
    assert header(headers, "Content-Type") == "application/json"
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/orders/7"
    assert event["rawQueryString"] == "expand=items&expand=notes&q=%2Fbar&empty"
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["queryStringParameters"] == {"expand": "items,notes", "q": "/bar", "empty": ""}
    h = event["headers"]
    assert all(name == name.lower() for name in h)
    assert h["content-type"] == "application/json"
    assert h["user-agent"] == "wick-test/1"
    assert h["x-custom"] == "one"
    assert h["host"] == f"127.0.0.1:{urls_daemon.url_port}"
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert h["x-forwarded-proto"] == "http"
    assert h["x-forwarded-port"] == str(urls_daemon.url_port)
    assert h["x-amzn-trace-id"].startswith("Root=1-")
    assert "cookie" not in h
    rc = event["requestContext"]
    assert rc["accountId"] == "anonymous"
    assert rc["apiId"] == rc["domainPrefix"] == public_url
    assert rc["domainName"] == f"{public_url}.lambda-url.us-east-1.localhost"
    assert rc["http"] == {"method": "POST", "path": "/orders/7", "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "wick-test/1"}
    assert re.match(r"^[0-9a-f-]{36}$", rc["requestId"])
    assert header(headers, "x-amzn-RequestId") == rc["requestId"]
    assert rc["routeKey"] == rc["stage"] == "$default"
    assert abs(rc["timeEpoch"] / 1000 - time.time()) < 60
    assert rc["time"] == time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(rc["timeEpoch"] // 1000))
    assert "authorizer" not in rc
    assert event["body"] == '{"qty":2}' and event["isBase64Encoded"] is False

    # No query, no cookies, no body; and a binary body comes base64.
    event = json.loads(request(urls_daemon, "GET", f"/{public_url}")[2])
    assert event["rawPath"] == "/" and event["rawQueryString"] == ""
    assert "queryStringParameters" not in event and "cookies" not in event
    assert "body" not in event and event["isBase64Encoded"] is False
    binary = bytes(range(256))
    event = json.loads(request(urls_daemon, "PUT", f"/{public_url}/bin", body=binary,
                               headers={"Content-Type": "application/octet-stream"})[2])
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary
    assert event["requestContext"]["http"]["method"] == "PUT"


def returns(daemon, url_id, value):
    """The function returns `value`: the URL's answer to it."""
    return request(daemon, "POST", f"/{url_id}/return", body=json.dumps({"value": value}),
                   headers={"Content-Type": "application/json"})


def test_response_mapping(urls_daemon, public_url):
    status, headers, body = returns(urls_daemon, public_url, {
        "statusCode": 201, "headers": {"X-Made": "yes", "Content-Type": "text/plain"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"], "body": "made"})
    assert (status, body) == (201, b"made")
    assert header(headers, "X-Made") == "yes"
    assert header(headers, "Content-Type") == "text/plain"
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2; HttpOnly"]

    status, headers, body = returns(urls_daemon, public_url, {"statusCode": "418"})
    assert status == 418 and header(headers, "Content-Type") == "application/json"
    status, _, body = returns(urls_daemon, public_url, {"statusCode": 200, "body": {"a": 1}})
    assert json.loads(body) == {"a": 1}

    png = bytes([0x89]) + b"PNG\r\n\x1a\n" + bytes(range(200))
    status, headers, body = returns(urls_daemon, public_url, {
        "statusCode": 200, "headers": {"content-type": "image/png"}, "isBase64Encoded": True,
        "body": base64.b64encode(png).decode()})
    assert (status, body) == (200, png)

    for value, expected in (({"hello": "world"}, b'{"hello":"world"}'), ("hello", b"hello"),
                            (3, b"3"), (True, b"true"), (["hello", 3, True], b'["hello",3,true]')):
        status, headers, body = returns(urls_daemon, public_url, value)
        assert (status, body) == (200, expected), value
        assert header(headers, "Content-Type") == "application/json"

    for invalid in ({"statusCode": "abc"}, {"statusCode": 200, "isBase64Encoded": True,
                                            "body": "!!not base64"},
                    {"statusCode": 200, "headers": {"X-Split": "a\r\nInjected: yes"}}):
        status, headers, body = returns(urls_daemon, public_url, invalid)
        assert (status, body) == (502, b"Internal Server Error"), invalid
        assert header(headers, "Injected") is None


def test_function_errors_and_timeouts_are_502(urls_daemon, public_url):
    status, _, body = request(urls_daemon, "GET", f"/{public_url}/raise")
    assert (status, body) == (502, b"Internal Server Error")
    started = time.time()
    status, _, body = request(urls_daemon, "GET", f"/{public_url}/sleep")  # Timeout 3 s
    assert (status, body) == (502, b"Internal Server Error")
    assert time.time() - started < 30


def test_throttles_are_429_and_large_requests_413(urls_daemon, lam, public_url):
    lam.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=0)
    try:
        status, headers, _ = request(urls_daemon, "GET", f"/{public_url}/")
        assert status == 429
        assert header(headers, "x-amzn-ErrorType") == "TooManyRequestsException"
    finally:
        lam.delete_function_concurrency(FunctionName="echo")
    status, _, _ = request(urls_daemon, "POST", f"/{public_url}/", body=b"x" * (6 * 1024 * 1024 + 1),
                           headers={"Content-Type": "text/plain"})
    assert status == 413
    # Under the body limit but over 6 MB as an event (base64 adds a third).
    status, _, _ = request(urls_daemon, "POST", f"/{public_url}/", body=b"\xff" * (5 * 1024 * 1024),
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 413


def test_cors_preflight_is_answered_without_invoking(urls_daemon, lam):
    # The alias's version raises on /raise: a preflight that invoked would be a 502.
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type", "x-token"], "ExposeHeaders": ["x-made"],
            "MaxAge": 600}
    config = lam.create_function_url_config(FunctionName="echo", Qualifier="live", AuthType="NONE",
                                            Cors=cors)
    url_id = URL_PATTERN.match(config["FunctionUrl"]).group(1)
    lam.add_permission(FunctionName="echo", Qualifier="live", **PUBLIC)
    try:
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"}
        status, headers, body = request(urls_daemon, "OPTIONS", f"/{url_id}/raise",
                                        headers=preflight)
        assert (status, body) == (200, b"")
        assert header(headers, "Access-Control-Allow-Origin") == "https://app.example"
        assert header(headers, "Access-Control-Allow-Methods") == "GET,POST"
        assert header(headers, "Access-Control-Allow-Headers") == "content-type,x-token"
        assert header(headers, "Access-Control-Max-Age") == "600"
        # An origin not allowed gets no CORS headers (the browser refuses).
        status, headers, _ = request(urls_daemon, "OPTIONS", f"/{url_id}/raise",
                                     headers=dict(preflight, Origin="https://evil.example"))
        assert status == 200 and header(headers, "Access-Control-Allow-Origin") is None
        # Every response carries them, over the function's own.
        status, headers, body = request(
            urls_daemon, "POST", f"/{url_id}/return",
            body=json.dumps({"value": {"statusCode": 200,
                                       "headers": {"Access-Control-Allow-Origin": "*"},
                                       "body": "x"}}),
            headers={"Origin": "https://app.example", "Content-Type": "application/json"})
        assert (status, body) == (200, b"x")
        assert [v for k, v in headers if k.lower() == "access-control-allow-origin"] == [
            "https://app.example"]
        assert header(headers, "Access-Control-Expose-Headers") == "x-made"
        # The alias's URL runs the alias's version.
        event = json.loads(request(urls_daemon, "GET", f"/{url_id}/")[2])
        assert event["requestContext"]["apiId"] == url_id
    finally:
        lam.delete_function_url_config(FunctionName="echo", Qualifier="live")
        lam.remove_permission(FunctionName="echo", Qualifier="live",
                              StatementId=PUBLIC["StatementId"])


def test_routing_by_host_with_curl(urls_daemon, public_url):
    url = f"http://{public_url}.lambda-url.us-east-1.localhost:{urls_daemon.url_port}/by/host?x=1"
    out = subprocess.run(["curl", "-sS", "--max-time", "60", url], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr  # curl resolves *.localhost to loopback itself
    event = json.loads(out.stdout)
    assert event["rawPath"] == "/by/host"  # no url-id prefix to strip
    assert event["headers"]["host"] == f"{public_url}.lambda-url.us-east-1.localhost:{urls_daemon.url_port}"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["headers"]["user-agent"].startswith("curl/")
    # A Host naming no URL (and no path prefix): Lambda's 403.
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                          f"http://{'b' * 32}.lambda-url.us-east-1.localhost:{urls_daemon.url_port}/"],
                         capture_output=True, text=True)
    assert out.stdout == "403"


def test_deleting_a_function_takes_its_urls_and_policy(urls_daemon, lam):
    lam.create_function(FunctionName="doomed", Runtime="python3.11", Role=ROLE,
                        Handler="app.handler", Code={"ZipFile": code_zip()})
    wait_active(lam, "doomed")
    url_id = URL_PATTERN.match(lam.create_function_url_config(
        FunctionName="doomed", AuthType="NONE")["FunctionUrl"]).group(1)
    lam.add_permission(FunctionName="doomed", **PUBLIC)
    assert request(urls_daemon, "GET", f"/{url_id}/")[0] == 200
    lam.delete_function(FunctionName="doomed")
    status, _, body = request(urls_daemon, "GET", f"/{url_id}/")
    assert (status, json.loads(body)) == (403, {"Message": None})
    lam.create_function(FunctionName="doomed", Runtime="python3.11", Role=ROLE,
                        Handler="app.handler", Code={"ZipFile": code_zip()})
    wait_active(lam, "doomed")
    assert lam.list_function_url_configs(FunctionName="doomed")["FunctionUrlConfigs"] == []
    assert error_of(lam.get_policy, FunctionName="doomed")[:2] == (404, "ResourceNotFoundException")
    lam.delete_function(FunctionName="doomed")


def test_aws_iam_urls_want_a_sigv4_signature_by_a_known_key(tmp_path):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    state = tmp_path / "state"
    state.mkdir()
    credentials = state / "credentials"
    key_id, secret = "AKIAURLTESTERAAAAAA2", "s3cr3t/Key+ForTheUrlTestOfWick0123456789"
    credentials.write_text(credentials_ini() + f"[urltester]\naws_access_key_id = {key_id}\n"
                           f"aws_secret_access_key = {secret}\n")
    os.chmod(credentials, 0o600)
    daemon = start(tmp_path)
    try:
        lam = client_for(daemon)
        lam.create_function(FunctionName="echo", Runtime="python3.11", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": code_zip()})
        wait_active(lam, "echo")
        url = lam.create_function_url_config(FunctionName="echo", AuthType="AWS_IAM")["FunctionUrl"]
        url_id = URL_PATTERN.match(url).group(1)

        def signed(key, secret_key, path="/signed?b=2&a=1", body=b'{"x":1}'):
            aws_request = botocore.awsrequest.AWSRequest(
                method="POST", url=f"{url.rstrip('/')}{path}", data=body,
                headers={"Content-Type": "application/json"})
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret_key), "lambda",
                                    "us-east-1").add_auth(aws_request)
            headers = dict(aws_request.headers.items())
            return request(daemon, "POST", path, body=body, headers=headers,
                           host=headers.pop("host", None) or f"{url_id}.lambda-url.us-east-1.localhost:{daemon.url_port}")

        status, _, body = signed(key_id, secret)
        assert status == 200, body
        event = json.loads(body)
        iam = event["requestContext"]["authorizer"]["iam"]
        assert iam["accessKey"] == key_id and iam["accountId"] == "000000000000"
        assert iam["userArn"] == "arn:aws:iam::000000000000:user/urltester"
        assert event["requestContext"]["accountId"] == "000000000000"
        assert event["body"] == '{"x":1}'
        # A signature that fails: 403 and why, as AWS's IAM check says it.
        status, headers, body = signed(key_id, "wrong" + secret[5:])
        assert status == 403 and header(headers, "x-amzn-ErrorType") == "InvalidSignatureException"
        assert json.loads(body)["Message"].startswith(
            "The request signature we calculated does not match")
        status, headers, body = signed("AKIAUNKNOWNKEYAAAAA2", secret)
        assert status == 403 and header(headers, "x-amzn-ErrorType") == \
            "UnrecognizedClientException"
        assert json.loads(body)["Message"] == \
            "The security token included in the request is invalid."
        # Refused by the API's verifier, and logged as the API logs its refusals.
        with open(daemon.log_path) as log:
            text = log.read()
        assert (f"refused POST /signed from 127.0.0.1:" in text and
                f"(access key {key_id}): function URL {url_id} of echo: signature does not match"
                in text), text[-2000:]
        assert ("(access key AKIAUNKNOWNKEYAAAAA2): function URL "
                f"{url_id} of echo: unknown access key id") in text
        assert secret not in text
        status, _, body = request(daemon, "POST", "/signed", body=b"{}",
                                  host=f"{url_id}.lambda-url.us-east-1.localhost")
        assert status == 403 and json.loads(body)["Message"].startswith("Forbidden.")
        # A policy for the public does not open an AWS_IAM URL.
        lam.add_permission(FunctionName="echo", **PUBLIC)
        assert request(daemon, "GET", f"/{url_id}/")[0] == 403
    finally:
        daemon.stop()


NGINX_CONF = """
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
  access_log {root}/access.log;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name *.lambda-url.us-east-1.localhost;
    ssl_certificate {root}/cert.pem;
    ssl_certificate_key {root}/key.pem;
    client_max_body_size 6m;
    location / {{
      proxy_pass http://127.0.0.1:{url_port};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_read_timeout 900s;
    }}
  }}
}}
"""


def test_behind_nginx_terminating_tls(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.access(nginx, os.X_OK), "nginx is not installed (scripts/setup installs it)"
    port = free_port()
    daemon = start(tmp_path, 'url_public_scheme: "https"\n'
                             f"url_public_port: {port}\n"
                             'url_trusted_proxies: "127.0.0.1"\n')
    root = tempfile.mkdtemp(prefix="wick-nginx-")
    proxy = None
    try:
        lam = client_for(daemon)
        lam.create_function(FunctionName="echo", Runtime="python3.11", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": code_zip()})
        wait_active(lam, "echo")
        function_url = lam.create_function_url_config(FunctionName="echo",
                                                      AuthType="NONE")["FunctionUrl"]
        lam.add_permission(FunctionName="echo", **PUBLIC)
        match = re.match(r"^https://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/$",
                         function_url)
        assert match and int(match.group(2)) == port, function_url
        host = f"{match.group(1)}.lambda-url.us-east-1.localhost"

        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=*.lambda-url.us-east-1.localhost",
                        "-keyout", f"{root}/key.pem", "-out", f"{root}/cert.pem"],
                       check=True, capture_output=True)
        with open(f"{root}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(root=root, port=port, url_port=daemon.url_port))
        proxy = subprocess.Popen([nginx, "-c", f"{root}/nginx.conf", "-p", root, "-e",
                                  f"{root}/error.log"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proxy.poll() is None, open(f"{root}/error.log").read()
                assert time.time() < deadline, "nginx did not listen"
                time.sleep(0.05)
        workers = subprocess.run(["pgrep", "-P", str(proxy.pid)], capture_output=True,
                                 text=True).stdout.split()
        assert workers, "nginx started no worker"

        # The client comes from 127.0.0.2; nginx connects to wickd from 127.0.0.1.
        out = subprocess.run(["curl", "-sS", "--max-time", "60", "--cacert", f"{root}/cert.pem",
                              "--interface", "127.0.0.2", "--resolve", f"{host}:{port}:127.0.0.1",
                              "-H", "X-Forwarded-For: 6.6.6.6", function_url + "through/nginx"],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr + open(f"{root}/error.log").read()
        event = json.loads(out.stdout)
        assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.2"  # not the forged one
        assert event["requestContext"]["domainName"] == host
        assert event["rawPath"] == "/through/nginx"
        assert event["headers"]["host"] == f"{host}:{port}"
        assert event["headers"]["x-forwarded-for"] == "6.6.6.6, 127.0.0.2"
        assert event["headers"]["x-forwarded-proto"] == "https"
        assert event["headers"]["x-forwarded-port"] == str(port)

        # Straight to wickd from an untrusted address, X-Forwarded-For is not believed.
        out = subprocess.run(["curl", "-sS", "--interface", "127.0.0.2", "-H",
                              "X-Forwarded-For: 6.6.6.6",
                              f"http://{host}:{daemon.url_port}/direct"],
                             capture_output=True, text=True)
        event = json.loads(out.stdout)
        assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.2"
        assert event["headers"]["x-forwarded-proto"] == "http"
    finally:
        workers = locals().get("workers", [])
        if proxy is not None:
            proxy.send_signal(signal.SIGQUIT)  # graceful: the master takes its workers with it
            try:
                proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
        deadline = time.time() + 10
        while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.time() < deadline:
            time.sleep(0.05)
        left = [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
        assert not left, f"nginx workers left running: {left}"
