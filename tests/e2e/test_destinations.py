"""Destinations in other services: a real wickd delivers asynchronous
invocations' records to SQS (SendMessage), SNS (Publish) and EventBridge
(PutEvents) endpoints from its config, and a failed event to the function's
DeadLetterConfig queue, as signed requests. The endpoint is a local HTTP
server in this test that recomputes each SigV4 signature with botocore's own
signer and checks each service's wire shape; an endpoint that is down leaves
the record in the failed-event store with the reason."""
import http.server
import json
import re
import threading
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROLE, Daemon, client_for, free_port, runtime_zip, wait_active
from test_async import events_of, wait_for

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


def start(tmp_path, endpoints):
    config = tmp_path / "wickd.conf"
    config.write_text("async_retry_delays_ms: [100, 100]\n"
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
    daemon = start(tmp_path, {"sqs": down})
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
    finally:
        daemon.stop()
