"""Crash safety at the scale issue 12 asks for: 1,000 asynchronous events,
each with an OnSuccess destination in another service (a local SQS-shaped
server here), and a kill -9 of wickd while they are being processed. After a
restart on the same state directory every accepted event's record reaches the
queue at least once, and nothing is left queued, being delivered or failed.
Duplicates are allowed (at least once, as on Lambda) and counted."""
import http.server
import json
import signal
import threading
import time

from conftest import ROLE, Daemon, client_for, runtime_zip, wait_active, wait_for
from test_async import events_of

ACCOUNT = "000000000000"
EVENTS = 1000
SENDERS = 8


class SqsRecorder(http.server.BaseHTTPRequestHandler):
    """SendMessage's JSON 1.0 shape; each record's request id is noted."""
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            assert self.headers["X-Amz-Target"] == "AmazonSQS.SendMessage"
            record = json.loads(json.loads(body)["MessageBody"])
            with self.server.lock:
                self.server.records.append(record["requestContext"]["requestId"])
                self.server.conditions.add(record["requestContext"]["condition"])
        except (AssertionError, KeyError, ValueError) as error:
            self.server.malformed.append(f"{error!r}: {body[:200]!r}")
        reply = json.dumps({"MessageId": "m", "MD5OfMessageBody": "x"}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:
            pass  # wickd was killed while waiting for this answer

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a connection cut by the kill -9; a malformed request is noted by the handler


def test_a_thousand_events_survive_kill_9_with_each_record_delivered(tmp_path):
    server = QuietServer(("127.0.0.1", 0), SqsRecorder)
    server.records, server.conditions, server.lock = [], set(), threading.Lock()
    server.malformed = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "wickd.conf"
    config.write_text("async_max_in_flight: 8\n"
                      "async_throttle_backoff_first_ms: 50\nasync_throttle_backoff_max_ms: 200\n"
                      "destination_retry_delays_ms: [200, 500, 1000]\n"
                      'destination_access_key_id: "AKIDCRASH"\n'
                      'destination_secret_access_key: "crash/secret"\n'
                      f'destination_endpoints {{ service: "sqs" '
                      f'url: "http://127.0.0.1:{server.server_port}" }}\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    daemon.start()
    try:
        lam = client_for(daemon)
        lam.create_function(FunctionName="fast", Runtime="provided.al2023", Role=ROLE,
                            Handler="none", Code={"ZipFile": runtime_zip()}, Timeout=5)
        wait_active(lam, "fast")
        lam.put_function_event_invoke_config(FunctionName="fast", DestinationConfig={
            "OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:records"}})

        accepted, lock = [], threading.Lock()
        began = time.monotonic()

        def send(numbers):
            client = client_for(daemon, connect_timeout=2, read_timeout=10)
            for n in numbers:
                while True:  # until this event gets its 202 (the daemon may be down)
                    try:
                        reply = client.invoke(FunctionName="fast", InvocationType="Event",
                                              Payload=json.dumps({"echo": n}).encode())
                    except Exception:
                        time.sleep(0.1)
                        continue
                    assert reply["StatusCode"] == 202
                    with lock:
                        accepted.append(reply["ResponseMetadata"]["RequestId"])
                    break

        senders = [threading.Thread(target=send, args=(range(i, EVENTS, SENDERS),))
                   for i in range(SENDERS)]
        for sender in senders:
            sender.start()
        # In the middle of processing: a quarter of the records are out.
        wait_for(lambda: len(server.records) >= EVENTS // 4, timeout=60,
                 what=f"{EVENTS // 4} records delivered")
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait()
        killed_at = (len(accepted), len(server.records))
        daemon.log.close()
        daemon.start()  # same port, same state dir: the queue resumes
        for sender in senders:
            sender.join(timeout=120)
        assert len(accepted) == EVENTS

        def drained():
            events = events_of(daemon, "")
            return not events["Queued"] and not events["Delivering"] and events
        events = wait_for(drained, timeout=120, interval=0.2, what="the queue to drain")
        assert not events["Failed"], events["Failed"][:3]
        missing = set(accepted) - set(server.records)
        assert not missing, f"{len(missing)} of {EVENTS} accepted events have no record"
        assert server.conditions == {"Success"} and not server.malformed, server.malformed
        duplicates = len(server.records) - len(set(server.records))
        unacknowledged = len(set(server.records) - set(accepted))
        print(f"\n{EVENTS} events, kill -9 after {killed_at[0]} accepted and {killed_at[1]} "
              f"records delivered; after the restart every record arrived: "
              f"{len(server.records)} records, {duplicates} duplicates, {unacknowledged} for "
              f"events whose 202 the crash cut off; {time.monotonic() - began:.1f} s in all")
    finally:
        daemon.stop()
        server.shutdown()
        server.server_close()
