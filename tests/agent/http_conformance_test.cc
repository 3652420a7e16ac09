// HTTP/1.1 as ordinary clients speak it (RFC 9112), against the real
// wick-agent: Connection: close (also on a parked long poll), HTTP/1.0,
// Expect: 100-continue, pipelining, requests in many small writes, chunked
// bodies, and what follows a refused request.
#include "tests/agent/agent_test_support.h"

namespace wick::agent {
namespace {

using testing::FakeHost;
using testing::RuntimeClient;

constexpr const char* kNext = "/2018-06-01/runtime/invocation/next";
std::string responsePath(const std::string& id) {
  return "/2018-06-01/runtime/invocation/" + id + "/response";
}
std::string nextRequest(const std::string& version = "HTTP/1.1", const std::string& extra = "") {
  return std::string("GET ") + kNext + " " + version + "\r\nHost: x\r\n" + extra + "\r\n";
}

class HttpConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.startIdleRuntime();
    port_ = host_.apiPort();
  }
  // The first next makes the agent Ready; later ones just park.
  void expectReadyOnce() {
    if (ready_) return;
    auto ready = host_.next();
    ASSERT_TRUE(ready && ready->has_ready());
    ready_ = true;
  }
  void expectResult(const std::string& id, const std::string& payload) {
    auto result = host_.next();
    ASSERT_TRUE(result && result->has_result());
    EXPECT_EQ(result->result().request_id(), id);
    EXPECT_FALSE(result->result().function_error());
    EXPECT_EQ(result->result().payload(), payload);
  }
  FakeHost host_;
  int port_ = 0;
  bool ready_ = false;
};

// Reproduction 1 of issue 10: the parked long poll was closed unanswered.
TEST_F(HttpConformance, ConnectionCloseOnAParkedNextIsAnsweredThenClosed) {
  for (const std::string id : {"close-1", "close-2"}) {
    RuntimeClient client(port_);
    client.sendRaw(nextRequest("HTTP/1.1", "Connection: close\r\n"));
    expectReadyOnce();
    EXPECT_FALSE(client.readable(100)) << "next must wait for an event";
    host_.invoke(id, "{\"n\":1}");
    auto event = client.read();
    EXPECT_EQ(event.status, 200);
    EXPECT_EQ(event.body, "{\"n\":1}");
    EXPECT_EQ(event.header("connection"), "close");
    EXPECT_TRUE(client.closedByPeer());
    RuntimeClient poster(port_);
    poster.sendRaw("POST " + responsePath(id) +
                   " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(poster.read().status, 202);
    EXPECT_TRUE(poster.closedByPeer());
    expectResult(id, "ok");
  }
}

TEST_F(HttpConformance, Http10IsAnsweredAndClosedUnlessItAsksForKeepAlive) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest("HTTP/1.0"));
  expectReadyOnce();
  host_.invoke("old", "{}");
  EXPECT_EQ(client.read().status, 200);
  EXPECT_TRUE(client.closedByPeer());

  RuntimeClient keep(port_);
  keep.sendRaw("POST " + responsePath("old") +
               " HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\ndone");
  auto accepted = keep.read();
  EXPECT_EQ(accepted.status, 202);
  EXPECT_EQ(accepted.header("connection"), "keep-alive");
  expectResult("old", "done");
  keep.sendRaw(nextRequest("HTTP/1.0", "Connection: keep-alive\r\n"));
  host_.invoke("old-2", "{}");
  EXPECT_EQ(keep.read().status, 200) << "the kept connection serves the next request";
}

// Reproduction 3 of issue 10: curl waited a second for a 100 Continue.
TEST_F(HttpConformance, ExpectContinueIsAnsweredBeforeTheBody) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("expect", "{}");
  client.read();
  const std::string body(2 << 20, 'b');
  client.sendRaw("POST " + responsePath("expect") +
                 " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n");
  auto interim = client.read(500);
  EXPECT_EQ(interim.status, 100) << "the client waits for this before its body";
  client.sendRaw(body);
  EXPECT_EQ(client.read().status, 202);
  expectResult("expect", body);
}

TEST_F(HttpConformance, ExpectContinueWithAChunkedBody) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("chunks", "{}");
  client.read();
  client.sendRaw("POST " + responsePath("chunks") +
                 " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(client.read(500).status, 100);
  client.sendRaw("4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n");
  EXPECT_EQ(client.read().status, 202);
  expectResult("chunks", "abcdef");
}

TEST_F(HttpConformance, ExpectContinueOverTheLimitGetsTheFinalStatusAtOnceAndTheConnectionEnds) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("huge", "{}");
  client.read();
  client.sendRaw("POST " + responsePath("huge") +
                 " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7000000\r\n\r\n");
  auto refused = client.read(500);
  EXPECT_EQ(refused.status, 413) << "no 100 Continue for a body that will be refused";
  EXPECT_EQ(refused.header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
  auto failed = host_.next();
  ASSERT_TRUE(failed && failed->has_result());
  EXPECT_NE(failed->result().payload().find("Function.ResponseSizeTooLarge"), std::string::npos);
  // The runtime carries on with the next event.
  RuntimeClient again(port_);
  again.sendRaw(nextRequest());
  host_.invoke("after-huge", "{}");
  EXPECT_EQ(again.read().status, 200);
}

// Reproduction 2 of issue 10: after a 413 the connection stayed open and the
// runtime (waiting for the close it asked for) never came back to next.
TEST_F(HttpConformance, ConnectionCloseAfterA413ClosesTheConnection) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("too-big", "{}");
  client.read();
  const std::string body(6'291'557, 'r');
  client.sendRaw("POST " + responsePath("too-big") +
                 " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);
  auto refused = client.read();
  EXPECT_EQ(refused.status, 413);
  EXPECT_EQ(refused.header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer()) << "a clean close (the body was drained), not a reset";
  auto failed = host_.next();
  ASSERT_TRUE(failed && failed->has_result());
  EXPECT_TRUE(failed->result().function_error());
}

TEST_F(HttpConformance, AKeptConnectionServesPipelinedRequestsAfterA413) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("pipe-1", "{}");
  client.read();
  // A refused response, a good one and the next long poll, in one write.
  const std::string big(6'291'557, 'r');
  client.sendRaw("POST " + responsePath("pipe-1") + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                 std::to_string(big.size()) + "\r\n\r\n" + big + "POST " + responsePath("pipe-1") +
                 " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" + nextRequest());
  EXPECT_EQ(client.read().status, 413);
  EXPECT_EQ(client.read().status, 403) << "the invocation already failed: a second answer";
  auto failed = host_.next();
  ASSERT_TRUE(failed && failed->has_result());
  EXPECT_TRUE(failed->result().function_error());
  EXPECT_FALSE(client.readable(100)) << "the pipelined next is parked";
  host_.invoke("pipe-2", "{\"p\":2}");
  auto event = client.read();
  EXPECT_EQ(event.status, 200);
  EXPECT_EQ(event.body, "{\"p\":2}");
}

TEST_F(HttpConformance, PipelinedResponseAndNextInOneWrite) {
  RuntimeClient client(port_);
  client.sendRaw(nextRequest());
  expectReadyOnce();
  host_.invoke("p-1", "{}");
  client.read();
  client.sendRaw("POST " + responsePath("p-1") +
                 " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none" + nextRequest());
  EXPECT_EQ(client.read().status, 202);
  expectResult("p-1", "one");
  host_.invoke("p-2", "{\"two\":2}");
  EXPECT_EQ(client.read().body, "{\"two\":2}");
}

TEST_F(HttpConformance, RequestsSplitAcrossManySmallWrites) {
  RuntimeClient client(port_);
  const std::string next = nextRequest();
  for (char c : next) {
    client.sendRaw(std::string(1, c));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  expectReadyOnce();
  host_.invoke("split", "{}");
  client.read();
  const std::string post = "POST " + responsePath("split") +
                           " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nsplit\r\n3;ext=1\r\n-up\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (size_t at = 0; at < post.size(); at += 3) {
    client.sendRaw(post.substr(at, 3));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_EQ(client.read().status, 202);
  expectResult("split", "split-up");
}

TEST_F(HttpConformance, MalformedAndOversizedHeadersAnswerThenClose) {
  RuntimeClient bad(port_);
  bad.sendRaw("GET /x HTTP/1.1\r\nBad Header\r\n\r\n" + nextRequest());
  auto refused = bad.read();
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.header("connection"), "close");
  EXPECT_TRUE(bad.closedByPeer()) << "nothing after a malformed request is served";
  RuntimeClient huge(port_);
  huge.sendRaw("GET /x HTTP/1.1\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_EQ(huge.read().status, 431);
  EXPECT_TRUE(huge.closedByPeer());
}

}  // namespace
}  // namespace wick::agent
