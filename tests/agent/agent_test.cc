// The real wick-agent binary against a fake host and a real HTTP client
// playing the runtime: every endpoint, header, status and state transition.
#include <atomic>

#include "tests/agent/agent_test_support.h"

namespace wick::agent {
namespace {

using testing::FakeHost;
using testing::RuntimeClient;

constexpr const char* kNext = "/2018-06-01/runtime/invocation/next";
std::string responsePath(const std::string& id) {
  return "/2018-06-01/runtime/invocation/" + id + "/response";
}
std::string errorPath(const std::string& id) {
  return "/2018-06-01/runtime/invocation/" + id + "/error";
}

class AgentApi : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.startIdleRuntime();
    client_.emplace(host_.apiPort());
  }
  // next -> Ready (first time) -> Invoke -> the event.
  testing::HttpResponse nextEvent(const std::string& id, const std::string& payload,
                                  const std::string& client_context = "",
                                  bool stream_response = false) {
    client_->sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
    if (!ready_) {
      auto ready = host_.next();
      EXPECT_TRUE(ready && ready->has_ready());
      ready_ = true;
    }
    EXPECT_FALSE(client_->readable(100)) << "next must wait for an event";
    host_.invoke(id, payload, client_context, stream_response);
    return client_->read();
  }
  FakeHost host_;
  std::optional<RuntimeClient> client_;
  bool ready_ = false;
};

TEST_F(AgentApi, NextDeliversTheEventWithEveryHeader) {
  auto event = nextEvent("req-1", "{\"k\":1}", "{\"custom\":{\"a\":\"b\"}}");
  EXPECT_EQ(event.status, 200);
  EXPECT_EQ(event.body, "{\"k\":1}");
  EXPECT_EQ(event.header("lambda-runtime-aws-request-id"), "req-1");
  EXPECT_EQ(event.header("lambda-runtime-deadline-ms"), "1700000000123");
  EXPECT_EQ(event.header("lambda-runtime-invoked-function-arn"),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(event.header("lambda-runtime-trace-id"),
            "Root=1-5e1b4151-5ac6c58f3a9a9b0000000000;Parent=1;Sampled=0");
  EXPECT_EQ(event.header("lambda-runtime-client-context"), "{\"custom\":{\"a\":\"b\"}}");
  EXPECT_EQ(event.header("lambda-runtime-cognito-identity"), "") << "sent only when there is one";
  EXPECT_EQ(event.header("content-type"), "application/json");
}

TEST_F(AgentApi, ResponseIsAcceptedOnceAndForwarded) {
  nextEvent("req-1", "{}");
  auto accepted = client_->request("POST", responsePath("req-1"), "{\"answer\":42}");
  EXPECT_EQ(accepted.status, 202);
  EXPECT_EQ(accepted.body, "{\"status\":\"OK\"}");
  auto result = host_.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_EQ(result->result().request_id(), "req-1");
  EXPECT_FALSE(result->result().function_error());
  EXPECT_EQ(result->result().payload(), "{\"answer\":42}");
  auto again = client_->request("POST", responsePath("req-1"), "{}");
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find("\"errorType\":\"InvalidStateTransition\""), std::string::npos)
      << again.body;
}

TEST_F(AgentApi, UnknownRequestIdIs400) {
  nextEvent("req-1", "{}");
  auto wrong = client_->request("POST", responsePath("not-it"), "{}");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("\"errorType\":\"InvalidRequestID\""), std::string::npos) << wrong.body;
  EXPECT_EQ(client_->request("POST", responsePath("req-1"), "{}").status, 202)
      << "the real one still works";
}

TEST_F(AgentApi, ErrorIsForwardedVerbatimWithItsTypeAsMetadata) {
  nextEvent("req-2", "{}");
  const std::string body = R"({"errorMessage":"boom","errorType":"ValueError","stackTrace":["a"]})";
  auto accepted = client_->request("POST", errorPath("req-2"), body,
                                   "Lambda-Runtime-Function-Error-Type: Function.Boom\r\n");
  EXPECT_EQ(accepted.status, 202);
  auto result = host_.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_TRUE(result->result().function_error());
  EXPECT_EQ(result->result().payload(), body);
  EXPECT_EQ(result->result().error_type(), "Function.Boom");
}

TEST_F(AgentApi, SixMegabytesBothWaysAndOneByteMoreIs413) {
  const std::string big_event = "\"" + std::string(6 * 1024 * 1024 - 2, 'e') + "\"";
  auto event = nextEvent("big", big_event);
  EXPECT_EQ(event.body.size(), big_event.size());
  const std::string largest(6'291'556, 'r');
  EXPECT_EQ(client_->request("POST", responsePath("big"), largest).status, 202);
  auto result = host_.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_EQ(result->result().payload().size(), largest.size());

  RuntimeClient second(host_.apiPort());
  second.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  host_.invoke("too-big", "{}");
  second.read();
  // The agent answers 413 as soon as it sees the length, and reads (and drops)
  // the body so the client gets the answer rather than a reset connection.
  auto refused = second.request("POST", responsePath("too-big"), std::string(6'291'557, 'r'));
  EXPECT_EQ(refused.status, 413);
  EXPECT_NE(refused.body.find("RequestEntityTooLarge"), std::string::npos);
  auto failed = host_.next();
  ASSERT_TRUE(failed && failed->has_result());
  EXPECT_TRUE(failed->result().function_error());
  EXPECT_NE(failed->result().payload().find("Function.ResponseSizeTooLarge"), std::string::npos);
  EXPECT_NE(failed->result().payload().find("6291557 bytes"), std::string::npos);
}

TEST_F(AgentApi, ChunkedResponseBody) {
  nextEvent("chunked", "{}");
  client_->sendRaw("POST " + responsePath("chunked") +
                   " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\":1}\n\r\n0\r\n\r\n");
  EXPECT_EQ(client_->read().status, 202);
  auto result = host_.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_EQ(result->result().payload(), "{\"a\":1}\n");
}

TEST_F(AgentApi, StreamedResponsesAreBufferedAndTrailerErrorsFailTheInvocation) {
  nextEvent("streamed", "{}");
  const std::string head =
      " HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
      "Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n"
      "Trailer: Lambda-Runtime-Function-Error-Type, "
      "Lambda-Runtime-Function-Error-Body\r\n\r\n";
  client_->sendRaw("POST " + responsePath("streamed") + head +
                   "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(client_->read().status, 202);
  auto result = host_.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_FALSE(result->result().function_error());
  EXPECT_EQ(result->result().payload(), "hello world");
  EXPECT_EQ(result->result().content_type(), "application/octet-stream");

  nextEvent("broken-stream", "{}");
  // base64 of {"errorMessage":"mid","errorType":"Oops"}
  client_->sendRaw("POST " + responsePath("broken-stream") + head +
                   "4\r\npart\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.Oops\r\n"
                   "Lambda-Runtime-Function-Error-Body: "
                   "eyJlcnJvck1lc3NhZ2UiOiJtaWQiLCJlcnJvclR5cGUiOiJPb3BzIn0=\r\n\r\n");
  EXPECT_EQ(client_->read().status, 202);
  auto failed = host_.next();
  ASSERT_TRUE(failed && failed->has_result());
  EXPECT_TRUE(failed->result().function_error());
  EXPECT_EQ(failed->result().error_type(), "Function.Oops");
  EXPECT_EQ(failed->result().payload(), R"({"errorMessage":"mid","errorType":"Oops"})");

  nextEvent("bad-mode", "{}");
  auto refused = client_->request("POST", responsePath("bad-mode"), "{}",
                                  "Lambda-Runtime-Function-Response-Mode: sideways\r\n");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("InvalidFunctionResponseMode"), std::string::npos);
  auto invalid = host_.next();
  ASSERT_TRUE(invalid && invalid->has_result());
  EXPECT_EQ(invalid->result().error_type(), "Runtime.InvalidResponseModeHeader");
}

const std::string kStreamingHead =
    " HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
    "Transfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n"
    "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";

TEST_F(AgentApi, AStreamingInvocationPassesChunksOnAsTheyCome) {
  nextEvent("live", "{}", "", true);
  client_->sendRaw("POST " + responsePath("live") + kStreamingHead + "5\r\nhello\r\n");
  auto first = host_.next();
  ASSERT_TRUE(first && first->has_response_chunk());
  EXPECT_EQ(first->response_chunk().request_id(), "live");
  EXPECT_EQ(first->response_chunk().content_type(), "text/event-stream");
  // The first bytes are out before the runtime has finished (or sent more).
  std::string data = first->response_chunk().data();
  if (data.empty()) {
    auto next = host_.next();
    ASSERT_TRUE(next && next->has_response_chunk());
    data = next->response_chunk().data();
  }
  EXPECT_EQ(data, "hello");
  client_->sendRaw("6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(client_->read().status, 202);
  std::string rest;
  std::optional<AgentMessage> message;
  while ((message = host_.next()) && message->has_response_chunk()) {
    EXPECT_TRUE(message->response_chunk().content_type().empty()) << "only the first has it";
    rest += message->response_chunk().data();
  }
  EXPECT_EQ(rest, " world");
  ASSERT_TRUE(message && message->has_result());
  EXPECT_TRUE(message->result().streamed());
  EXPECT_FALSE(message->result().function_error());
  EXPECT_EQ(message->result().payload(), "");

  // An error in the trailers fails it; the chunks before it went out.
  nextEvent("live-broken", "{}", "", true);
  client_->sendRaw("POST " + responsePath("live-broken") + kStreamingHead +
                   "4\r\npart\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.Oops\r\n"
                   "Lambda-Runtime-Function-Error-Body: "
                   "eyJlcnJvck1lc3NhZ2UiOiJtaWQiLCJlcnJvclR5cGUiOiJPb3BzIn0=\r\n\r\n");
  EXPECT_EQ(client_->read().status, 202);
  std::string sent;
  while ((message = host_.next()) && message->has_response_chunk())
    sent += message->response_chunk().data();
  EXPECT_EQ(sent, "part");
  ASSERT_TRUE(message && message->has_result());
  EXPECT_TRUE(message->result().streamed());
  EXPECT_TRUE(message->result().function_error());
  EXPECT_EQ(message->result().error_type(), "Function.Oops");
  EXPECT_EQ(message->result().payload(), R"({"errorMessage":"mid","errorType":"Oops"})");
}

// The host does not read: the agent stops reading the runtime (its writes
// block) and holds no more than its window; once the host reads, all of it
// arrives, in order.
TEST_F(AgentApi, AStreamFollowsTheHostsPaceWithBoundedMemory) {
  nextEvent("slow-host", "{}", "", true);
  constexpr size_t kChunk = 1 << 20;
  constexpr int kChunks = 48;
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::string chunk(kChunk, 'x');
    client_->sendRaw("POST " + responsePath("slow-host") + kStreamingHead);
    for (int i = 0; i < kChunks; ++i) {
      chunk[0] = static_cast<char>('a' + i % 26);
      client_->sendRaw("100000\r\n" + chunk + "\r\n");
    }
    client_->sendRaw("0\r\n\r\n");
    written = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(written) << "the runtime's writes must wait for the host";
  std::ifstream status("/proc/" + std::to_string(host_.pid()) + "/status");
  size_t hwm_kib = 0;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) hwm_kib = std::stoul(line.substr(6));
  EXPECT_LT(hwm_kib, 16u << 10) << "the agent gathered the stream";
  std::string received;
  std::optional<AgentMessage> message;
  while ((message = host_.next(10000)) && message->has_response_chunk())
    received += message->response_chunk().data();
  writer.join();
  EXPECT_TRUE(written);
  ASSERT_EQ(received.size(), kChunk * kChunks);
  for (int i = 0; i < kChunks; ++i)
    ASSERT_EQ(received[static_cast<size_t>(i) * kChunk], static_cast<char>('a' + i % 26));
  ASSERT_TRUE(message && message->has_result());
  EXPECT_TRUE(message->result().streamed());
  EXPECT_EQ(client_->read().status, 202);
}

TEST_F(AgentApi, StateMachineRefusesOtherTransitions) {
  // init/error after init is over.
  nextEvent("req-3", "{}");
  auto late_init_error = client_->request("POST", "/2018-06-01/runtime/init/error", "{}");
  EXPECT_EQ(late_init_error.status, 403);
  EXPECT_NE(late_init_error.body.find("InvalidStateTransition"), std::string::npos);
  // Unknown paths.
  auto unknown = client_->request("GET", "/2018-06-01/runtime/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("\"errorType\""), std::string::npos);
  EXPECT_EQ(client_->request("POST", responsePath("req-3"), "{}").status, 202);
}

TEST_F(AgentApi, RepeatedNextReservesTheCurrentEvent) {
  nextEvent("req-4", "{\"x\":1}");
  auto again = client_->request("GET", kNext);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("lambda-runtime-aws-request-id"), "req-4");
}

TEST_F(AgentApi, SeveralInvocationsInARow) {
  for (int i = 0; i < 20; ++i) {
    const std::string id = "seq-" + std::to_string(i);
    auto event = nextEvent(id, "{\"i\":" + std::to_string(i) + "}");
    EXPECT_EQ(event.header("lambda-runtime-aws-request-id"), id);
    EXPECT_EQ(client_->request("POST", responsePath(id), event.body).status, 202);
    auto result = host_.next();
    ASSERT_TRUE(result && result->has_result());
    EXPECT_EQ(result->result().payload(), event.body);
  }
}

TEST_F(AgentApi, MalformedRequestIsRefusedAndTheAgentSurvives) {
  RuntimeClient hostile(host_.apiPort());
  hostile.sendRaw("POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(hostile.read().status, 400);
  RuntimeClient garbage(host_.apiPort());
  garbage.sendRaw(std::string(70000, 'A'));
  EXPECT_EQ(garbage.read().status, 431);
  auto event = nextEvent("after", "{}");
  EXPECT_EQ(event.status, 200);
}

TEST(Agent, InitErrorIsForwardedAndNextIsThenRefused) {
  FakeHost host;
  host.startIdleRuntime();
  RuntimeClient client(host.apiPort());
  const std::string body =
      R"({"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError"})";
  auto accepted =
      client.request("POST", "/2018-06-01/runtime/init/error", body,
                     "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n");
  EXPECT_EQ(accepted.status, 202);
  auto init_error = host.next();
  ASSERT_TRUE(init_error && init_error->has_init_error());
  EXPECT_EQ(init_error->init_error().error_type(), "Runtime.ImportModuleError");
  EXPECT_EQ(init_error->init_error().payload(), body);
  EXPECT_EQ(client.request("GET", kNext).status, 403);
}

TEST(Agent, MissingBootstrapIsInvalidEntrypoint) {
  FakeHost host;
  HostMessage message;
  message.mutable_start()->set_listen_address("127.0.0.1:0");  // no argv: look for bootstrap
  host.send(message);
  auto init_error = host.next();
  ASSERT_TRUE(init_error && init_error->has_init_error());
  EXPECT_EQ(init_error->init_error().error_type(), "Runtime.InvalidEntrypoint");
  EXPECT_NE(init_error->init_error().payload().find(
                "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"),
            std::string::npos);
}

TEST(Agent, UnexecutableRuntimeAndBadWorkingDirectory) {
  FakeHost host;
  // An executable file that is no program: Lambda's "exec format error".
  const std::string bogus = host.dir() + "/bootstrap";
  std::ofstream(bogus) << "not a program\n";
  ::chmod(bogus.c_str(), 0755);
  HostMessage message;
  message.mutable_start()->add_argv(bogus);
  message.mutable_start()->set_cwd("/");
  message.mutable_start()->set_listen_address("127.0.0.1:0");
  host.send(message);
  auto exec_error = host.next();
  ASSERT_TRUE(exec_error && exec_error->has_init_error());
  EXPECT_EQ(exec_error->init_error().error_type(), "Runtime.InvalidEntrypoint");
  EXPECT_NE(
      exec_error->init_error().payload().find("Error: fork/exec " + bogus + ": exec format error"),
      std::string::npos)
      << exec_error->init_error().payload();

  FakeHost other;
  message.mutable_start()->set_argv(0, "/bin/true");
  message.mutable_start()->set_cwd("/no/such/dir");
  other.send(message);
  auto cwd_error = other.next();
  ASSERT_TRUE(cwd_error && cwd_error->has_init_error());
  EXPECT_EQ(cwd_error->init_error().error_type(), "Runtime.InvalidWorkingDir");
}

TEST(Agent, RuntimeCrashDuringInitAndDuringAnInvocation) {
  FakeHost during_init;
  during_init.startShellRuntime("echo dying; exit 4");
  auto exited = during_init.next();
  ASSERT_TRUE(exited && exited->has_runtime_exited());
  EXPECT_FALSE(exited->runtime_exited().signaled());
  EXPECT_EQ(exited->runtime_exited().code(), 4);
  ASSERT_FALSE(during_init.logs.empty());
  EXPECT_EQ(during_init.logs[0].line(), "dying");

  FakeHost during_invoke;
  during_invoke.startShellRuntime(
      "curl -s http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next >/dev/null; kill "
      "-SEGV $$");
  auto ready = during_invoke.next();
  ASSERT_TRUE(ready && ready->has_ready());
  during_invoke.invoke("doomed", "{}");
  auto crashed = during_invoke.next();
  ASSERT_TRUE(crashed && crashed->has_runtime_exited());
  EXPECT_TRUE(crashed->runtime_exited().signaled());
  EXPECT_EQ(crashed->runtime_exited().signal(), SIGSEGV);
}

TEST(Agent, ARuntimeThatNeverCallsNextSendsNothing) {
  FakeHost host;
  host.startShellRuntime("exec sleep 60");
  EXPECT_FALSE(host.next(500).has_value()) << "no Ready until the runtime asks for an event";
}

TEST(Agent, LogsAreLinesTaggedWithTheInvocationAndPartialLinesFlushed) {
  FakeHost host;
  host.startShellRuntime(
      "echo init line; api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation;"
      "id=$(curl -s -D - -o /dev/null $api/next | tr -d '\\r' | sed -n "
      "'s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p');"
      "echo out line; echo err line >&2; printf partial;"
      "curl -s -o /dev/null -X POST -d '{}' $api/$id/response; exec sleep 60");
  auto ready = host.next();
  ASSERT_TRUE(ready && ready->has_ready());
  host.invoke("logged", "{}");
  auto result = host.next();
  ASSERT_TRUE(result && result->has_result());
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& log : host.logs)
    lines.emplace_back(log.request_id(), log.line());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      std::make_pair(std::string(""), std::string("init line"))),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      std::make_pair(std::string("logged"), std::string("out line"))),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      std::make_pair(std::string("logged"), std::string("err line"))),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      std::make_pair(std::string("logged"), std::string("partial"))),
            lines.end())
      << "a partial last line is flushed when the invocation ends";
}

TEST(Agent, NoisyFunctionsAreCutAtTheLogBound) {
  FakeHost host;
  HostMessage message;
  Start* start = message.mutable_start();
  start->add_argv("/bin/sh");
  start->add_argv("-c");
  start->add_argv(
      "api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation;"
      "id=$(curl -s -D - -o /dev/null $api/next | tr -d '\\r' | sed -n "
      "'s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p');"
      "yes 0123456789 | head -n 5000; curl -s -o /dev/null -X POST -d '{}' $api/$id/response; exec "
      "sleep 60");
  start->add_env("PATH=/usr/bin:/bin");
  start->set_cwd("/");
  start->set_listen_address("127.0.0.1:0");
  start->set_log_bytes_per_invocation(1000);
  host.send(message);
  ASSERT_TRUE(host.next()->has_ready());
  host.invoke("noisy", "{}");
  ASSERT_TRUE(host.next()->has_result());
  size_t bytes = 0;
  for (const auto& log : host.logs)
    bytes += log.line().size() + 1;
  EXPECT_LT(bytes, 1200u);
  EXPECT_NE(host.logs.back().line().find("log output truncated"), std::string::npos);
}

TEST(Agent, SigtermIsForwardedThenTheAgentLeaves) {
  FakeHost host;
  host.startShellRuntime(
      "trap 'echo got term; exit 0' TERM; echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; "
      "while true; do sleep 0.05; done");
  host.apiPort();
  ::kill(host.pid(), SIGTERM);
  auto exited = host.next();
  ASSERT_TRUE(exited && exited->has_runtime_exited());
  EXPECT_EQ(exited->runtime_exited().code(), 0);
  bool said = false;
  for (const auto& log : host.logs)
    said = said || log.line() == "got term";
  EXPECT_TRUE(said);
  int status = 0;
  ASSERT_EQ(::waitpid(host.pid(), &status, 0), host.pid());
  EXPECT_TRUE(WIFEXITED(status));
}

TEST(Agent, SigtermEscalatesToSigkillAfterTheGrace) {
  FakeHost host;
  host.startShellRuntime(
      "trap '' TERM; echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; while true; do sleep 0.05; "
      "done");
  host.apiPort();
  HostMessage shutdown;
  shutdown.mutable_shutdown()->set_grace_ms(200);
  const auto started = std::chrono::steady_clock::now();
  host.send(shutdown);
  auto exited = host.next();
  ASSERT_TRUE(exited && exited->has_runtime_exited());
  EXPECT_TRUE(exited->runtime_exited().signaled());
  EXPECT_EQ(exited->runtime_exited().signal(), SIGKILL);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
}

TEST(Agent, HostSocketClosingEndsTheRuntimeAndTheAgent) {
  pid_t agent = 0;
  std::string dir;
  {
    FakeHost host;
    host.startIdleRuntime();
    host.apiPort();
    agent = host.pid();
  }  // ~FakeHost closes the socket and waits for the agent to leave
  EXPECT_NE(::kill(agent, 0), 0) << "the agent is gone";
}

TEST(Agent, TheHostSocketDoesNotReachTheRuntime) {
  FakeHost host;
  host.startShellRuntime(
      "ls /proc/self/fd > $ADDRESS_FILE.fds; echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; exec "
      "sleep 60");
  host.apiPort();
  std::ifstream in(host.dir() + "/address.fds");
  std::string fds((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(fds, "0\n1\n2\n3\n") << "stdin, stdout, stderr and ls's own directory fd only";
}

}  // namespace
}  // namespace wick::agent
