"""Destinations in other services: a real wickd delivers asynchronous
invocations' records to SQS (SendMessage), SNS (Publish) and EventBridge
(PutEvents) endpoints from its config, and a failed event to the function's
DeadLetterConfig queue, as signed requests. The endpoint is a local HTTP
server in this test that recomputes each SigV4 signature with botocore's own
signer and checks each service's wire shape; an endpoint that is down leaves
the record in the failed-event store with the reason."""
import contextlib
import http.server
import json
import re
import signal
import ssl
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROLE, Daemon, client_for, free_port, runtime_zip, wait_active
from test_async import WICK, events_of, wait_for

KEY, SECRET = "AKIDDESTINATION", "destination/secret+key"
ACCOUNT = "000000000000"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


def botocore_signature(port, path, headers, body):
    """botocore's signature of the request as it arrived (its signed headers)."""
    match = AUTH.match(headers["Authorization"])
    assert match, headers["Authorization"]
    key, date, region, service, signed, signature = match.groups()
    assert key == KEY and headers["X-Amz-Date"].startswith(date)
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}{path}", data=body,
                         headers={name: headers[name] for name in signed.split(";")})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(KEY, SECRET), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)),
                                request)
    return service, signature, expected


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        service, got, expected = botocore_signature(self.server.server_port, self.path,
                                                    self.headers, body)
        self.server.received.append({"service": service, "signature_ok": got == expected,
                                     "headers": dict(self.headers), "body": body})
        self.send_response(200 if got == expected else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def aws():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def start(tmp_path, endpoints, extra=""):
    config = tmp_path / "wickd.conf"
    config.write_text(extra + "async_retry_delays_ms: [100, 100]\n"
                      "destination_retry_delays_ms: [100, 200]\n"
                      "destination_timeout_ms: 2000\n"
                      f'destination_access_key_id: "{KEY}"\n'
                      f'destination_secret_access_key: "{SECRET}"\n' +
                      "".join(f'destination_endpoints {{ service: "{s}" url: "{u}" }}\n'
                              for s, u in endpoints.items()))
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.start()
    try:
        daemon.lam = client_for(daemon)
    except BaseException:
        daemon.stop()  # a failed setup stops wickd too
        raise
    return daemon


def make_function(daemon, name, **extra):
    daemon.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                               Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5,
                               **extra)
    wait_active(daemon.lam, name)


@pytest.fixture(scope="module")
def daemon(aws, tmp_path_factory):
    url = f"http://127.0.0.1:{aws.server_port}"
    daemon = start(tmp_path_factory.mktemp("dest"), {"sqs": url, "sns": url, "events": url})
    yield daemon
    daemon.stop()


def delivered(aws, service, needle):
    return [r for r in aws.received if r["service"] == service and needle in r["body"]]


def test_success_record_to_sqs_as_send_message(daemon, aws):
    make_function(daemon, "to-sqs")
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:results"
    daemon.lam.put_function_event_invoke_config(
        FunctionName="to-sqs", DestinationConfig={"OnSuccess": {"Destination": queue}})
    request_id = daemon.lam.invoke(FunctionName="to-sqs", InvocationType="Event",
                                   Payload=b'{"n": 1}')["ResponseMetadata"]["RequestId"]
    (sent,) = wait_for(lambda: delivered(aws, "sqs", request_id.encode()), what="SendMessage")
    assert sent["signature_ok"]
    assert sent["headers"]["X-Amz-Target"] == "AmazonSQS.SendMessage"
    assert sent["headers"]["Content-Type"] == "application/x-amz-json-1.0"
    message = json.loads(sent["body"])
    assert message["QueueUrl"] == f"http://127.0.0.1:{aws.server_port}/{ACCOUNT}/results"
    record = json.loads(message["MessageBody"])
    assert record["requestContext"] == {"requestId": request_id,
                                        "functionArn": FUNCTION_ARN + "to-sqs:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    wait_for(lambda: not events_of(daemon, "to-sqs")["Queued"], what="an empty queue")
    assert not events_of(daemon, "to-sqs")["Failed"]


def test_failure_record_to_sns_as_publish(daemon, aws):
    make_function(daemon, "to-sns")
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:failures"
    daemon.lam.put_function_event_invoke_config(
        FunctionName="to-sns", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}})
    request_id = daemon.lam.invoke(FunctionName="to-sns", InvocationType="Event",
                                   Payload=b'{"fail": "x"}')["ResponseMetadata"]["RequestId"]
    (sent,) = wait_for(lambda: delivered(aws, "sns", request_id.encode()), what="Publish")
    assert sent["signature_ok"]
    assert sent["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = urllib.parse.parse_qs(sent["body"].decode(), strict_parsing=True)
    assert form["Action"] == ["Publish"] and form["TopicArn"] == [topic]
    record = json.loads(form["Message"][0])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"
    wait_for(lambda: not events_of(daemon, "to-sns")["Queued"], what="an empty queue")
    assert not events_of(daemon, "to-sns")["Failed"]


def test_record_to_eventbridge_as_put_events(daemon, aws):
    make_function(daemon, "to-bus")
    bus = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    daemon.lam.put_function_event_invoke_config(
        FunctionName="to-bus", DestinationConfig={"OnSuccess": {"Destination": bus}})
    request_id = daemon.lam.invoke(FunctionName="to-bus", InvocationType="Event",
                                   Payload=b'{"n": 2}')["ResponseMetadata"]["RequestId"]
    (sent,) = wait_for(lambda: delivered(aws, "events", request_id.encode()), what="PutEvents")
    assert sent["signature_ok"]
    assert sent["headers"]["X-Amz-Target"] == "AWSEvents.PutEvents"
    assert sent["headers"]["Content-Type"] == "application/x-amz-json-1.1"
    (entry,) = json.loads(sent["body"])["Entries"]
    assert entry["Source"] == "lambda"
    assert entry["DetailType"] == "Lambda Function Invocation Result - Success"
    assert entry["Resources"] == [bus, FUNCTION_ARN + "to-bus:$LATEST"]
    assert json.loads(entry["Detail"])["requestContext"]["requestId"] == request_id


def test_failed_event_to_the_dead_letter_queue(daemon, aws):
    dlq = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"
    make_function(daemon, "with-dlq", DeadLetterConfig={"TargetArn": dlq})
    daemon.lam.put_function_event_invoke_config(FunctionName="with-dlq", MaximumRetryAttempts=0)
    request_id = daemon.lam.invoke(FunctionName="with-dlq", InvocationType="Event",
                                   Payload=b'{"fail": "dead"}')["ResponseMetadata"]["RequestId"]
    (sent,) = wait_for(lambda: delivered(aws, "sqs", request_id.encode()), what="the DLQ message")
    assert sent["signature_ok"]
    message = json.loads(sent["body"])
    assert message["QueueUrl"].endswith(f"/{ACCOUNT}/dlq")
    assert message["MessageBody"] == '{"fail": "dead"}'  # the original event, verbatim
    assert message["MessageAttributes"] == {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "asked to fail"}}
    wait_for(lambda: not events_of(daemon, "with-dlq")["Queued"], what="an empty queue")
    assert not events_of(daemon, "with-dlq")["Failed"]


def test_an_endpoint_that_is_down_keeps_the_record(tmp_path):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    metrics_port = free_port()
    daemon = start(tmp_path, {"sqs": down}, f'metrics_listen: "127.0.0.1:{metrics_port}"\n')
    try:
        make_function(daemon, "to-nowhere")
        queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:gone"
        sns = f"arn:aws:sns:us-east-1:{ACCOUNT}:unconfigured"
        daemon.lam.put_function_event_invoke_config(
            FunctionName="to-nowhere", MaximumRetryAttempts=0,
            DestinationConfig={"OnSuccess": {"Destination": queue},
                               "OnFailure": {"Destination": sns}})
        ok = daemon.lam.invoke(FunctionName="to-nowhere", InvocationType="Event",
                               Payload=b'{}')["ResponseMetadata"]["RequestId"]
        bad = daemon.lam.invoke(FunctionName="to-nowhere", InvocationType="Event",
                                Payload=b'{"fail": 1}')["ResponseMetadata"]["RequestId"]

        def kept():
            failed = {e["Id"]: e for e in events_of(daemon, "to-nowhere")["Failed"]}
            return failed if ok in failed and bad in failed else None
        failed = wait_for(kept, what="both records kept")
        assert failed[ok]["Condition"] == "Success"
        assert f"delivery to {queue} failed after 3 tries" in failed[ok]["Reason"]
        assert "Connection refused" in failed[ok]["Reason"], failed[ok]["Reason"]
        assert failed[ok]["Record"]["requestContext"]["requestId"] == ok
        assert "no destination endpoint configured for service sns" in failed[bad]["Reason"]
        # Lambda's DestinationDeliveryFailures: the record whose tries ran out.
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as reply:
            text = reply.read().decode()
        assert 'lambda_destination_delivery_failures_total{function_name="to-nowhere"} 1' in text
        assert "lambda_dead_letter_errors_total{" not in text
    finally:
        daemon.stop()


class Flaky(http.server.BaseHTTPRequestHandler):
    """An endpoint answering server.status (500 until a test says otherwise),
    recording when each try came and what it carried."""
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.tries.append((time.monotonic(), body))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture()
def flaky():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    server.status, server.tries = 500, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def tries_of(server, needle):
    return [at for at, body in server.tries if needle in body]


def test_a_failing_endpoint_stalls_no_other_delivery_or_invoke(tmp_path, aws, flaky):
    """Retries of a failing endpoint are scheduled, not slept on a thread:
    while eight records keep failing at one endpoint (a 500 each try, three
    retries 3 s apart), records for another endpoint arrive and synchronous
    invokes answer promptly. (Sleeping on the two worker threads, as wick
    once did, held both for 9 s per record: 36 s of nothing else.)"""
    failing = f"http://127.0.0.1:{flaky.server_port}"
    working = f"http://127.0.0.1:{aws.server_port}"
    config = tmp_path / "wickd.conf"
    config.write_text("destination_retry_delays_ms: [3000, 3000, 3000]\n"
                      "destination_timeout_ms: 2000\nworker_threads: 2\n"
                      f'destination_access_key_id: "{KEY}"\n'
                      f'destination_secret_access_key: "{SECRET}"\n'
                      f'destination_endpoints {{ service: "sqs" url: "{failing}" }}\n'
                      f'destination_endpoints {{ service: "events" url: "{working}" }}\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.start()
    try:
        daemon.lam = client_for(daemon)
        for name in ("to-failing", "to-working", "plain"):
            make_function(daemon, name)
        daemon.lam.put_function_event_invoke_config(
            FunctionName="to-failing", DestinationConfig={
                "OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:broken"}})
        bus = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
        daemon.lam.put_function_event_invoke_config(
            FunctionName="to-working", DestinationConfig={"OnSuccess": {"Destination": bus}})
        daemon.lam.invoke(FunctionName="plain", Payload=b'{"warm": 1}')  # its cold start

        stuck = [daemon.lam.invoke(FunctionName="to-failing", InvocationType="Event",
                                   Payload=b'{"n": %d}' % i)["ResponseMetadata"]["RequestId"]
                 for i in range(8)]
        wait_for(lambda: all(tries_of(flaky, r.encode()) for r in stuck), timeout=30,
                 what="a first (failing) try of each of the eight records")
        delivering = events_of(daemon, "to-failing")["Delivering"]
        assert {d["Id"] for d in delivering} == set(stuck), delivering
        assert all(d["Tries"] >= 1 and "answered 500" in d["LastError"] for d in delivering)
        listing = subprocess.run([WICK, "events", "to-failing", "--endpoint", daemon.wick_endpoint],
                                 capture_output=True, text=True)
        assert listing.returncode == 0, listing.stderr
        assert "DELIVERING" in listing.stdout and "arn:aws:sqs:us-east-1:000000000000:broken" in \
            listing.stdout, listing.stdout

        began = time.monotonic()
        ok = [daemon.lam.invoke(FunctionName="to-working", InvocationType="Event",
                                Payload=b'{"ok": %d}' % i)["ResponseMetadata"]["RequestId"]
              for i in range(5)]
        wait_for(lambda: all(delivered(aws, "events", r.encode()) for r in ok), timeout=30,
                 what="the working endpoint's five records")
        records_s = time.monotonic() - began
        sync = []
        for i in range(5):
            start_at = time.monotonic()
            reply = daemon.lam.invoke(FunctionName="plain", Payload=b'{"echo": %d}' % i)
            assert reply["StatusCode"] == 200 and "FunctionError" not in reply
            sync.append(time.monotonic() - start_at)
        still_failing = [r for r in stuck if len(tries_of(flaky, r.encode())) < 4]
        print(f"while {len(still_failing)} records were being retried: 5 records delivered "
              f"in {records_s:.2f} s, sync invokes {max(sync) * 1000:.0f} ms at most")
        assert still_failing, "the check ran after the failing retries were over"
        assert records_s < 6, f"records for the working endpoint took {records_s:.1f} s"
        assert max(sync) < 3, f"a synchronous invoke took {max(sync):.1f} s"

        # The failing records: four tries each, about 3 s apart, then kept.
        def all_failed():
            failed = {e["Id"]: e for e in events_of(daemon, "to-failing")["Failed"]}
            return failed if set(failed) == set(stuck) else None
        failed = wait_for(all_failed, timeout=60, what="the eight records given up")
        for request_id in stuck:
            times = tries_of(flaky, request_id.encode())
            assert len(times) == 4, times
            gaps = [b - a for a, b in zip(times, times[1:])]
            assert all(2.8 <= gap < 10 for gap in gaps), gaps
            assert "failed after 4 tries" in failed[request_id]["Reason"]
            assert "answered 500" in failed[request_id]["Reason"]
            assert failed[request_id]["Record"]["requestContext"]["requestId"] == request_id
        assert not events_of(daemon, "to-failing")["Delivering"]
    finally:
        daemon.stop()


def test_a_delivery_being_retried_survives_kill_9(tmp_path, flaky):
    """A record whose endpoint failed is kept with its next try's time: a
    kill -9 of wickd loses nothing, and the restarted daemon delivers it once
    the endpoint answers."""
    daemon = start(tmp_path, {"sqs": f"http://127.0.0.1:{flaky.server_port}"})
    try:
        make_function(daemon, "survivor")
        daemon.lam.put_function_event_invoke_config(
            FunctionName="survivor", DestinationConfig={
                "OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:later"}})
        config = tmp_path / "wickd.conf"
        config.write_text(config.read_text().replace("destination_retry_delays_ms: [100, 200]",
                                                     "destination_retry_delays_ms: [1500, 1500]"))
        daemon.stop()
        daemon.start()
        request_id = daemon.lam.invoke(FunctionName="survivor", InvocationType="Event",
                                       Payload=b'{"keep": 1}')["ResponseMetadata"]["RequestId"]
        wait_for(lambda: tries_of(flaky, request_id.encode()), what="a first failing try")
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait()
        daemon.log.close()
        flaky.status = 200
        daemon.start()
        wait_for(lambda: len(tries_of(flaky, request_id.encode())) >= 2, timeout=30,
                 what="the delivery after the restart")
        wait_for(lambda: not events_of(daemon, "survivor")["Delivering"], what="no delivery left")
        events = events_of(daemon, "survivor")
        assert not events["Queued"] and not events["Failed"], events
        body = json.loads(flaky.tries[-1][1])
        assert json.loads(body["MessageBody"])["requestContext"]["requestId"] == request_id
    finally:
        daemon.stop()


def self_signed(directory, name, san):
    """A self-signed certificate and key (PEM) whose subjectAltName is `san`."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class QuietTlsServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # handshakes the client refused (the tests that expect it check the reason)


@contextlib.contextmanager
def https_recorder(cert, key):
    server = QuietTlsServer(("127.0.0.1", 0), Recorder)
    server.received = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_https_endpoints_with_the_operators_ca_file(tmp_path):
    """An https:// endpoint: TLS, the peer's certificate verified against the
    CA file of the config (here the test server's self-signed one) and its
    name checked. Without that CA, or for a certificate naming another host,
    nothing is sent and the record is kept with the reason."""
    good_cert, good_key = self_signed(tmp_path, "local", "IP:127.0.0.1")
    other_cert, other_key = self_signed(tmp_path, "other", "DNS:other.example")
    with https_recorder(good_cert, good_key) as good, \
            https_recorder(other_cert, other_key) as misnamed:
        def run(name, url, ca_file, queue):
            directory = tmp_path / name
            directory.mkdir()
            daemon = start(directory, {"sqs": url})
            if ca_file:
                config = directory / "wickd.conf"
                config.write_text(config.read_text() + f'destination_ca_file: "{ca_file}"\n')
                daemon.stop()
                daemon.start()
            make_function(daemon, name)
            daemon.lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={
                    "OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"}})
            request_id = daemon.lam.invoke(FunctionName=name, InvocationType="Event",
                                           Payload=b'{"tls": 1}')["ResponseMetadata"]["RequestId"]
            return daemon, request_id

        daemon, request_id = run("verified", f"https://127.0.0.1:{good.server_port}/",
                                 good_cert, "over-tls")
        try:
            (sent,) = wait_for(lambda: delivered(good, "sqs", request_id.encode()),
                               what="SendMessage over TLS")
            assert sent["signature_ok"]
            message = json.loads(sent["body"])
            assert message["QueueUrl"] == \
                f"https://127.0.0.1:{good.server_port}/{ACCOUNT}/over-tls"
            assert json.loads(message["MessageBody"])["requestContext"]["requestId"] == request_id
            wait_for(lambda: not events_of(daemon, "verified")["Delivering"], what="delivered")
            assert not events_of(daemon, "verified")["Failed"]
        finally:
            daemon.stop()

        for name, url, ca_file, why in [
                ("unknown-ca", f"https://127.0.0.1:{good.server_port}", None,
                 "self-signed certificate"),
                ("wrong-name", f"https://127.0.0.1:{misnamed.server_port}", other_cert,
                 "the certificate does not name 127.0.0.1")]:
            daemon, request_id = run(name, url, ca_file, name)
            try:
                def kept():
                    failed = events_of(daemon, name)["Failed"]
                    return failed if failed else None
                (failed,) = wait_for(kept, what=f"the record kept ({name})")
                assert failed["Id"] == request_id
                assert "TLS handshake" in failed["Reason"], failed["Reason"]
                assert "certificate verify failed" in failed["Reason"], failed["Reason"]
                assert why in failed["Reason"], failed["Reason"]
            finally:
                daemon.stop()
        assert not [r for r in good.received if b"unknown-ca" in r["body"]]
        assert not misnamed.received
