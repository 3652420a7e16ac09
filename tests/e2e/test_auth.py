"""API authentication (issue 15, finding 2), as clients and attackers meet it:
SigV4 from boto3, the awscli, the JS SDK v3 and curl --aws-sigv4 accepted with
the configured keys; unsigned, wrong-key, wrong-secret, stale, tampered,
foreign-Host and Origin requests refused with the errors AWS clients expect,
each logged; the admin key wickd makes at first start, root's alone; wick's
admin routes on a root-only Unix socket and absent on TCP; download URLs that
only wickd can make."""
import configparser
import contextlib
import datetime
import http.client
import importlib
import json
import os
import shutil
import socket
import stat
import subprocess
import types
import unittest.mock
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.config
import botocore.exceptions
import botocore.session
import pytest

from conftest import (ACCESS_KEY_ID, REGION, ROLE, SECRET_ACCESS_KEY, WICKD, aws_env,
                      admin_request, client_for, credentials_ini, make_zip, running_daemon,
                      runtime_zip, sign_headers, signed_request, wait_active, write_credentials)

WICK = os.path.join(os.path.dirname(os.path.abspath(WICKD)), "wick")
NODE_SDK_DIR = os.environ.get("WICK_TEST_NODE_SDK", os.path.join(
    os.path.dirname(os.path.abspath(WICKD)), "..", "test-node-sdk"))
INVOKER_KEY = "AKIAINVOKEREXAMPLE01"
INVOKER_SECRET = "invoker-secret-0123456789abcdefghijklmno"


@pytest.fixture(scope="module")
def served():
    """A daemon with the session's admin and an invoker that is not an admin, and a function."""
    with running_daemon("wick-e2e-auth-", credentials=credentials_ini() + credentials_ini(
            "invoker", INVOKER_KEY, INVOKER_SECRET, admin=False)) as daemon:
        lam = client_for(daemon)
        lam.create_function(FunctionName="echo", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()})
        wait_active(lam, "echo")
        daemon.lam = lam
        yield daemon


def client_with(daemon, key, secret, service="lambda"):
    return boto3.client(service, endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
        response["Error"]["Message"]


def log_of(daemon):
    with open(daemon.log_path) as log:
        return log.read()


# --------------------------------------------------------------------------- accepted


def test_boto3_signs_and_invokes(served):
    reply = served.lam.invoke(FunctionName="echo", Payload=b'{"echo": "signed"}')
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert json.loads(reply["Payload"].read()) == {"echo": "signed"}


def test_the_awscli_signs_with_the_daemons_credentials_file(served, tmp_path):
    """The file wickd reads is a shared credentials file the awscli takes as it is."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=served.credentials_path, AWS_CONFIG_FILE=os.devnull,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
    out = subprocess.run(["/usr/bin/aws", "--profile", "wick", "--endpoint-url", served.endpoint,
                          "lambda", "invoke", "--function-name", "echo", "--payload",
                          '{"echo": "from the awscli"}', "--cli-binary-format", "raw-in-base64-out",
                          str(tmp_path / "out.json")],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"echo": "from the awscli"}
    out = subprocess.run(["/usr/bin/aws", "--profile", "invoker", "--endpoint-url",
                          served.endpoint, "lambda", "list-functions"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0
    assert "AccessDeniedException" in out.stderr, out.stderr


def test_curl_aws_sigv4_is_accepted(served):
    base = ["curl", "-sS", "-w", "\n%{http_code}", "--aws-sigv4", f"aws:amz:{REGION}:lambda",
            "--user", f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}"]
    out = subprocess.run(base + [f"{served.endpoint}/2015-03-31/functions/echo/invocations",
                                 "-H", "Content-Type: application/json",
                                 "--data-binary", '{"echo": "from curl"}'],
                         capture_output=True, text=True, timeout=60)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "200", out.stdout + out.stderr
    assert json.loads(body) == {"echo": "from curl"}
    listed = subprocess.run(base + [f"{served.endpoint}/2015-03-31/functions/"],
                            capture_output=True, text=True, timeout=60)
    body, status = listed.stdout.rsplit("\n", 1)
    assert status == "200", listed.stdout
    assert [f["FunctionName"] for f in json.loads(body)["Functions"]] == ["echo"]


JS_CALLER = """
const { LambdaClient, InvokeCommand, ListFunctionsCommand, GetFunctionCommand } =
  require("@aws-sdk/client-lambda");
(async () => {
  const client = new LambdaClient({ endpoint: process.env.ENDPOINT, region: "us-east-1",
    credentials: { accessKeyId: process.env.KEY, secretAccessKey: process.env.SECRET } });
  const out = {};
  const reply = await client.send(new InvokeCommand({ FunctionName: "echo",
    Payload: Buffer.from(JSON.stringify({ echo: "from the JS SDK" })) }));
  out.invoked = JSON.parse(Buffer.from(reply.Payload).toString());
  out.functions = (await client.send(new ListFunctionsCommand({}))).Functions.map(f => f.FunctionName);
  // GetFunction's reply carries wick's own "Wick" member, which the SDK skips.
  const got = await client.send(new GetFunctionCommand({ FunctionName: "echo" }));
  out.got = [got.Configuration.FunctionName, "Wick" in got];
  const wrong = new LambdaClient({ endpoint: process.env.ENDPOINT, region: "us-east-1",
    credentials: { accessKeyId: process.env.KEY, secretAccessKey: "wrong" }, maxAttempts: 1 });
  try { await wrong.send(new ListFunctionsCommand({})); out.wrong = "accepted"; }
  catch (e) { out.wrong = e.name; }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
"""


def node_sdk():
    """The AWS SDK for JavaScript v3's Lambda client, installed once per build tree from the
    npm registry (the only registry besides Debian's this project's machines reach)."""
    module = os.path.join(NODE_SDK_DIR, "node_modules", "@aws-sdk", "client-lambda")
    if not os.path.isdir(module):
        if not shutil.which("npm"):
            pytest.skip("no npm to install the JS SDK v3 with")
        os.makedirs(NODE_SDK_DIR, exist_ok=True)
        out = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                              NODE_SDK_DIR, "@aws-sdk/client-lambda@3"],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            pytest.skip("the JS SDK v3 could not be installed from npm: " + out.stderr[-300:])
    return NODE_SDK_DIR


def test_the_js_sdk_v3_signs_and_is_accepted(served, tmp_path):
    if not shutil.which("node"):
        pytest.skip("no node")
    script = tmp_path / "caller.js"
    script.write_text(JS_CALLER)
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, NODE_PATH=os.path.join(node_sdk(), "node_modules"),
                                  ENDPOINT=served.endpoint, KEY=ACCESS_KEY_ID,
                                  SECRET=SECRET_ACCESS_KEY))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {"invoked": {"echo": "from the JS SDK"}, "functions": ["echo"],
                      "got": ["echo", False], "wrong": "InvalidSignatureException"}, result


# --------------------------------------------------------------------------- refused


def test_unsigned_requests_are_refused(served):
    for method, path, body in [("GET", "/2015-03-31/functions", None),
                               ("POST", "/2015-03-31/functions/echo/invocations", b"{}")]:
        request = urllib.request.Request(served.endpoint + path, data=body, method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert refused.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        assert json.loads(refused.value.read())["message"] == "Missing Authentication Token"
    assert "refused GET /2015-03-31/functions from 127.0.0.1:" in log_of(served)
    assert "unsigned (no Authorization header)" in log_of(served)


def test_an_unknown_key_and_a_wrong_secret_are_refused_as_aws_does(served):
    stranger = client_with(served, "AKIASTRANGEREXAMPLE1", SECRET_ACCESS_KEY)
    assert error_of(stranger.list_functions) == (
        403, "UnrecognizedClientException",
        "The security token included in the request is invalid.")
    forger = client_with(served, ACCESS_KEY_ID, "not-" + SECRET_ACCESS_KEY)
    status, code, message = error_of(lambda: forger.invoke(FunctionName="echo", Payload=b"{}"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match the signature "
                              "you provided.")
    log = log_of(served)
    assert "(access key AKIASTRANGEREXAMPLE1): unknown access key id" in log
    assert f"(access key {ACCESS_KEY_ID}): signature does not match" in log
    assert SECRET_ACCESS_KEY not in log


@contextlib.contextmanager
def signing_clock_shifted(minutes):
    """botocore's signer reads a clock `minutes` off (the rest of the process does not)."""
    shifted = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)

    class Shifted(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return shifted

        @classmethod
        def now(cls, tz=None):
            return shifted.replace(tzinfo=tz) if tz else shifted

    clock = types.SimpleNamespace(**{name: getattr(datetime, name) for name in dir(datetime)
                                     if not name.startswith("__")})
    clock.datetime = Shifted
    # botocore signs with its own SigV4Auth, or with the AWS CRT's signer when awscrt is
    # installed (Debian's python3-awscrt is): both read the clock through `datetime`.
    signers = [botocore.auth]
    try:
        signers.append(importlib.import_module("botocore.crt.auth"))
    except ImportError:
        pass
    with contextlib.ExitStack() as patches:
        for module in signers:
            if hasattr(module, "datetime"):
                patches.enter_context(unittest.mock.patch.object(module, "datetime", clock))
            if hasattr(module, "get_current_datetime"):  # newer botocore
                patches.enter_context(unittest.mock.patch.object(
                    module, "get_current_datetime", lambda *args, **kwargs: shifted))
        yield


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_request_signed_with_a_shifted_clock_is_refused(served, minutes):
    """boto3 on a machine whose clock is off by more than AWS's 5 minutes."""
    with signing_clock_shifted(minutes):
        status, code, message = error_of(served.lam.list_functions)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature expired:" if minutes < 0 else
                              "Signature not yet current:"), message
    # Within the 5 minutes, as AWS: accepted.
    with signing_clock_shifted(4 if minutes > 0 else -4):
        assert served.lam.list_functions()["Functions"]


def test_curl_with_a_stale_date_is_refused(served):
    stale = (datetime.datetime.utcnow() - datetime.timedelta(minutes=10)).strftime(
        "%Y%m%dT%H%M%SZ")
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "--aws-sigv4",
                          f"aws:amz:{REGION}:lambda", "--user",
                          f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}", "-H", f"X-Amz-Date: {stale}",
                          f"{served.endpoint}/2015-03-31/functions/"],
                         capture_output=True, text=True, timeout=30)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "403", out.stdout
    assert json.loads(body)["message"].startswith(f"Signature expired: {stale} is now earlier"), body


def test_a_tampered_body_query_or_header_is_refused(served):
    path = "/2015-03-31/functions/echo/invocations"
    signed = sign_headers("POST", served.endpoint + path, b'{"echo": "a"}',
                          {"Content-Type": "application/json"})
    for body, changed in [(b'{"echo": "b"}', {}),
                          (b'{"echo": "a"}', {"Content-Type": "text/plain"})]:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        connection.request("POST", path, body=body, headers={**signed, **changed})
        reply = connection.getresponse()
        assert reply.status == 403, reply.read()
        assert reply.getheader("x-amzn-ErrorType") == "InvalidSignatureException"
        connection.close()
    # The same, untouched: accepted (the check is the signature, nothing else).
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("POST", path, body=b'{"echo": "a"}', headers=signed)
    reply = connection.getresponse()
    assert (reply.status, json.loads(reply.read())) == (200, {"echo": "a"})
    connection.close()
    listed = "/2015-03-31/functions/?MaxItems=1"
    signed = sign_headers("GET", served.endpoint + listed)
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("GET", "/2015-03-31/functions/?MaxItems=50", headers=signed)
    assert connection.getresponse().status == 403
    connection.close()


def test_a_foreign_host_or_an_origin_is_refused(served):
    """DNS rebinding (a page's name resolving to 127.0.0.1) and CSRF: refused even when
    correctly signed for that name."""
    path = "/2015-03-31/functions"
    status, headers, body = signed_request_to_host(served, f"attacker.example:{served.port}",
                                                   path)
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert "is not a name of this wickd" in json.loads(body)["message"]
    for host in (f"localhost:{served.port}", f"127.0.0.1:{served.port}"):
        status, _, _ = signed_request_to_host(served, host, path)
        assert status == 200, host
    status, headers, body = signed_request(served, "GET", path,
                                           headers={"Origin": "http://attacker.example"})
    assert status == 403 and headers["x-amzn-errortype"] == "AccessDeniedException", body
    assert "Origin" in json.loads(body)["message"]
    log = log_of(served)
    assert "foreign Host attacker.example:" in log
    assert "Origin http://attacker.example" in log


def signed_request_to_host(daemon, host, path):
    signed = sign_headers("GET", f"http://{host}{path}")
    connection = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host)
    for name, value in signed.items():
        connection.putheader(name, value)
    connection.endheaders()
    reply = connection.getresponse()
    result = reply.status, dict(reply.getheaders()), reply.read()
    connection.close()
    return result


def test_a_principal_that_is_not_an_admin_may_only_invoke(served):
    invoker = client_with(served, INVOKER_KEY, INVOKER_SECRET)
    reply = invoker.invoke(FunctionName="echo", Payload=b'{"echo": "invoker"}')
    assert json.loads(reply["Payload"].read()) == {"echo": "invoker"}
    status, code, message = error_of(invoker.list_functions)
    assert (status, code) == (403, "AccessDeniedException")
    assert message.startswith("User: arn:aws:iam::000000000000:user/invoker is not authorized")
    assert error_of(lambda: invoker.get_function(FunctionName="echo"))[1] == \
        "AccessDeniedException"
    assert error_of(lambda: invoker.delete_function(FunctionName="echo"))[1] == \
        "AccessDeniedException"
    assert served.lam.get_function(FunctionName="echo")


def test_the_logs_and_scheduler_apis_are_signed_for_their_own_service(served):
    logs = client_for(served, "logs")
    assert "logGroups" in logs.describe_log_groups()
    # A signature scoped to lambda does not open the Logs API.
    status, headers, body = signed_request(
        served, "POST", "/", b"{}", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                                     "Content-Type": "application/x-amz-json-1.1"})
    assert status == 403, body
    assert "Credential should be scoped to correct service: 'logs'" in json.loads(body)["message"]


# --------------------------------------------------------------------------- code downloads


def test_code_locations_are_presigned_and_nothing_else_fetches_code(served):
    location = served.lam.get_function(FunctionName="echo")["Code"]["Location"]
    assert "X-Wick-Signature=" in location and "X-Wick-Expires=" in location
    with urllib.request.urlopen(location, timeout=10) as reply:  # unsigned GET, as for S3's
        assert reply.read() == runtime_zip()
    bare = location.split("?")[0]
    forged = location[:-4] + ("0000" if not location.endswith("0000") else "1111")
    for url in (bare, forged):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 403, url


# --------------------------------------------------------------------------- the admin socket


def test_admin_routes_are_on_the_root_socket_and_absent_on_tcp(served):
    mode = os.stat(served.admin_socket)
    assert stat.S_ISSOCK(mode.st_mode) and stat.S_IMODE(mode.st_mode) == 0o600
    assert mode.st_uid == 0
    for path in ("/wick/v1/runtimes", "/wick/v1/images", "/wick/v1/events",
                 "/wick/v1/functions/echo/logs", "//wick/v1/runtimes", "/%77ick/v1/images",
                 "/./wick/v1/runtimes"):
        status, headers, body = signed_request(served, "GET", path)
        assert status == 404, (path, body)
        assert headers["x-amzn-errortype"] == "UnknownOperationException"
        status, reply = admin_request(served, "GET", path)
        assert status == 200, (path, reply)
    # The image import that made root read any path: never on TCP, however signed.
    status, _, _ = signed_request(served, "POST", "/wick/v1/images/imports",
                                  json.dumps({"Path": "/etc/shadow"}).encode())
    assert status == 404
    assert "an admin route on TCP" in log_of(served)


def test_the_cli_works_as_root_through_the_socket(served):
    served.lam.invoke(FunctionName="echo", Payload=b'{"echo": "logged"}')
    env = dict(os.environ, WICK_ENDPOINT=served.wick_endpoint)
    out = subprocess.run([WICK, "runtimes"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "python3.11" in out.stdout
    out = subprocess.run([WICK, "logs", "echo"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "START RequestId:" in out.stdout


def as_nobody(code):
    """Python `code` run as the unprivileged user nobody (setpriv, no groups)."""
    return subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                           "/usr/bin/python3", "-c", code],
                          capture_output=True, text=True, timeout=30)


def test_an_unprivileged_user_can_neither_connect_nor_read_the_keys(served, tmp_path):
    connect = ("import socket, sys\n"
               "s = socket.socket(socket.AF_UNIX)\n"
               "try:\n"
               f"    s.connect({served.admin_socket!r})\n"
               "except PermissionError as e:\n"
               "    print('refused', e.errno); sys.exit(0)\n"
               "print('connected'); sys.exit(1)\n")
    read = ("import sys\n"
            "try:\n"
            f"    open({served.credentials_path!r}).read()\n"
            "except PermissionError as e:\n"
            "    print('refused', e.errno); sys.exit(0)\n"
            "print('read'); sys.exit(1)\n")
    for code in (connect, read):
        out = as_nobody(code)
        assert out.returncode == 0 and out.stdout.startswith("refused"), out.stdout + out.stderr
    # Not only the state directory's 0700 stops them: the socket and the file themselves,
    # reached through a path nobody may traverse, still say no.
    os.chmod(served.state_dir, 0o711)
    try:
        for code in (connect, read):
            out = as_nobody(code)
            assert out.returncode == 0 and out.stdout.startswith("refused"), \
                out.stdout + out.stderr
    finally:
        os.chmod(served.state_dir, 0o700)
    # And as nobody, the CLI says why.
    out = subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                          WICK, "runtimes", "--endpoint", served.wick_endpoint],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "Permission denied" in out.stderr, out.stderr


# --------------------------------------------------------------------------- the credentials file


def test_first_start_makes_an_admin_key_only_root_reads():
    with running_daemon("wick-e2e-auth-new-", credentials=None) as daemon:
        info = os.stat(daemon.credentials_path)
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == 0
        ini = configparser.ConfigParser()
        ini.read(daemon.credentials_path)
        assert ini["wick"]["wick_admin"] == "true"
        key = ini["wick"]["aws_access_key_id"]
        assert key.startswith("AKIA") and len(key) == 20
        assert len(ini["wick"]["aws_secret_access_key"]) == 40
        session = botocore.session.Session()
        session.set_config_variable("credentials_file", daemon.credentials_path)
        session.set_config_variable("config_file", os.devnull)
        lam = boto3.Session(botocore_session=session, profile_name="wick").client(
            "lambda", endpoint_url=daemon.endpoint, region_name=REGION)
        assert lam.list_functions()["Functions"] == []
        log = log_of(daemon)
        assert f"created an admin key (profile [wick], access key {key})" in log
        assert ini["wick"]["aws_secret_access_key"] not in log
        # The session's key is no key of this daemon.
        assert error_of(client_for(daemon).list_functions)[1] == "UnrecognizedClientException"
        # A restart keeps the key it made.
        daemon.stop()
        daemon.start()
        assert lam.list_functions()["Functions"] == []


@pytest.mark.parametrize("problem", ["group-readable", "not-root", "malformed", "symlink"])
def test_wickd_refuses_to_start_with_a_credentials_file_others_could_read(tmp_path, problem):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    path = state / "credentials"
    write_credentials(path, credentials_ini())
    expected = {"group-readable": f"has mode 0640: group or others may read or change it, so "
                                  f"wickd refuses it (chmod 600 {path})",
                "not-root": "is owned by uid 65534, not root",
                "malformed": "line 2: expected '[profile]' or 'key = value'",
                "symlink": "Too many levels of symbolic links"}[problem]
    if problem == "group-readable":
        os.chmod(path, 0o640)
    elif problem == "not-root":
        os.chown(path, 65534, 65534)
    elif problem == "malformed":
        write_credentials(path, "[wick]\nthis is not a key\n")
    else:
        os.rename(path, tmp_path / "elsewhere")
        os.symlink(tmp_path / "elsewhere", path)
    out = subprocess.run([WICKD, "--listen", "127.0.0.1:0", "--state-dir", str(state),
                          "--cgroup-parent", f"wick-e2e-auth-{os.getpid()}"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "API authentication: " in out.stdout + out.stderr
    assert expected in out.stdout + out.stderr, out.stdout + out.stderr


def test_insecure_no_auth_keeps_the_old_behaviour_and_says_so_at_every_start():
    with running_daemon("wick-e2e-noauth-", ["--insecure-no-auth"], credentials=None) as daemon:
        with urllib.request.urlopen(daemon.endpoint + "/2015-03-31/functions", timeout=10) as r:
            assert json.load(r)["Functions"] == []
        assert not os.path.exists(daemon.credentials_path)
        assert "insecure_no_auth: the Lambda API on 127.0.0.1:" in log_of(daemon)
        # The admin routes stay off TCP even so.
        with pytest.raises(urllib.error.HTTPError) as absent:
            urllib.request.urlopen(daemon.endpoint + "/wick/v1/runtimes", timeout=10)
        assert absent.value.code == 404
        daemon.stop()
        daemon.start()
        assert log_of(daemon).count("insecure_no_auth: the Lambda API") == 2
