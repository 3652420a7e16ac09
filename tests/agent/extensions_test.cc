// The Extensions API 2020-01-01 of the real wick-agent: external extensions
// from a directory, registration and its refusals, INVOKE and SHUTDOWN events,
// init and invocations that end only when every extension is back in next;
// plus the PID 1 duties that need a process tree (zombies).
#include <dirent.h>
#include <sys/stat.h>

#include "tests/agent/agent_test_support.h"

namespace wick::agent {
namespace {

using testing::FakeHost;
using testing::RuntimeClient;

constexpr const char* kNext = "/2018-06-01/runtime/invocation/next";
constexpr const char* kRegister = "/2020-01-01/extension/register";
constexpr const char* kEventNext = "/2020-01-01/extension/event/next";

constexpr const char* kIdleRuntime = "echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; exec sleep 60";

// The idle shell runtime (it reports the API address; the test plays the
// runtime; `runtime` may say more first) with the function's identity,
// external extensions from `dir`.
void startWithExtensions(FakeHost& host, const std::string& extensions_dir,
                         const std::string& runtime = kIdleRuntime) {
  HostMessage message;
  Start* start = message.mutable_start();
  start->add_argv("/bin/sh");
  start->add_argv("-c");
  start->add_argv(runtime);
  start->set_cwd("/");
  start->add_env("PATH=/usr/bin:/bin");
  start->add_env("ADDRESS_FILE=" + host.dir() + "/address");
  start->add_env("AWS_LAMBDA_FUNCTION_NAME=f");
  start->add_env("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
  start->add_env("_HANDLER=app.handler");
  start->set_listen_address("127.0.0.1:0");
  start->set_extensions_dir(extensions_dir);
  host.send(message);
}

void writeExecutable(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0755);
}

// An external extension in shell: registers, then logs every event it gets;
// after an INVOKE it works `work` seconds before asking for the next one.
std::string shellExtension(const std::string& name, const std::string& work) {
  return "#!/bin/sh\n"
         "api=http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension\n"
         "id=$(curl -s -D - -o /dev/null -X POST -H 'Lambda-Extension-Name: " +
         name +
         "' -d '{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}' $api/register | tr -d '\\r' | "
         "sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier: //p')\n"
         "echo \"" +
         name +
         " registered $id handler=$_HANDLER\"\n"
         "while true; do\n"
         "  event=$(curl -s -H \"Lambda-Extension-Identifier: $id\" $api/event/next)\n"
         "  echo \"" +
         name +
         " got $event\"\n"
         "  case \"$event\" in *SHUTDOWN*) exit 0;; esac\n"
         "  sleep " +
         work +
         "\n"
         "done\n";
}

bool logged(const FakeHost& host, const std::string& needle) {
  for (const auto& log : host.logs)
    if (log.line().find(needle) != std::string::npos) return true;
  return false;
}

// The Extensions API over the framings of issue 10: an extension whose curl
// registers with Connection: close and polls over HTTP/1.0 (a connection per
// request) gets its INVOKE and SHUTDOWN events on parked long polls.
TEST(Extensions, ConnectionCloseAndHttp10LongPollsGetTheirEvents) {
  FakeHost host;
  const std::string dir = host.dir() + "/extensions";
  ::mkdir(dir.c_str(), 0755);
  std::string script = shellExtension("closer", "0");
  for (auto [from, to] : {std::pair<std::string, std::string>{"curl -s -D - -o /dev/null -X POST",
                                                              "curl -s -H 'Connection: close' -D - "
                                                              "-o /dev/null -X POST"},
                          {"curl -s -H \"Lambda-Extension-Identifier",
                           "curl -s --http1.0 -H \"Lambda-Extension-Identifier"}}) {
    const size_t at = script.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    script.replace(at, from.size(), to);
  }
  writeExecutable(dir + "/closer", script);
  startWithExtensions(host, dir);
  RuntimeClient runtime(host.apiPort());
  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto ready = host.next();
  ASSERT_TRUE(ready && ready->has_ready());
  EXPECT_EQ(ready->ready().extensions(), 1u);
  for (const std::string id : {"close-1", "close-2"}) {
    host.invoke(id, "{}");
    ASSERT_EQ(runtime.read().header("lambda-runtime-aws-request-id"), id);
    EXPECT_EQ(
        runtime.request("POST", "/2018-06-01/runtime/invocation/" + id + "/response", "{}").status,
        202);
    auto result = host.next();
    ASSERT_TRUE(result && result->has_result()) << "the extension came back to next";
    EXPECT_TRUE(logged(host, "closer got {\"eventType\":\"INVOKE\"")) << id;
    runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  HostMessage shutdown;
  shutdown.mutable_shutdown()->set_grace_ms(2000);
  host.send(shutdown);
  while (host.next(500)) {
  }
  EXPECT_TRUE(logged(host, "closer got {\"eventType\":\"SHUTDOWN\""));
}

TEST(Extensions, ExternalExtensionsRegisterAndGetInvokeThenShutdown) {
  FakeHost host;
  const std::string dir = host.dir() + "/extensions";
  ::mkdir(dir.c_str(), 0755);
  writeExecutable(dir + "/watcher", shellExtension("watcher", "0.3"));
  writeExecutable(dir + "/second", shellExtension("second", "0"));
  std::ofstream(dir + "/not-executable") << "ignored\n";
  startWithExtensions(host, dir);
  RuntimeClient runtime(host.apiPort());  // the runtime starts once both registered

  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto ready = host.next();
  ASSERT_TRUE(ready && ready->has_ready());
  EXPECT_EQ(ready->ready().extensions(), 2u);
  EXPECT_TRUE(logged(host, "watcher registered")) << "extensions register before the runtime";
  EXPECT_FALSE(logged(host, "handler=app.handler"))
      << "extensions do not get the runtime-only _HANDLER";

  for (const std::string id : {"ext-1", "ext-2"}) {
    host.invoke(id, "{}");
    auto event = runtime.read();
    ASSERT_EQ(event.header("lambda-runtime-aws-request-id"), id);
    const auto answered = std::chrono::steady_clock::now();
    EXPECT_EQ(
        runtime.request("POST", "/2018-06-01/runtime/invocation/" + id + "/response", "{}").status,
        202);
    auto result = host.next();
    ASSERT_TRUE(result && result->has_result());
    EXPECT_EQ(result->result().request_id(), id);
    EXPECT_GE(std::chrono::steady_clock::now() - answered, std::chrono::milliseconds(250))
        << "the invocation ends when every extension is back in next";
    EXPECT_TRUE(logged(host,
                       "watcher got {\"eventType\":\"INVOKE\",\"deadlineMs\":1700000000123,"
                       "\"requestId\":\"" +
                           id +
                           "\",\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:000000000000:"
                           "function:f\",\"tracing\":{\"type\":\"X-Amzn-Trace-Id\","
                           "\"value\":\"Root=1-5e1b4151-5ac6c58f3a9a9b0000000000;Parent=1;"
                           "Sampled=0\"}}"));
    runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }

  HostMessage shutdown;
  shutdown.mutable_shutdown()->set_grace_ms(3000);
  const auto stopping = std::chrono::steady_clock::now();
  host.send(shutdown);
  auto exited = host.next();
  ASSERT_TRUE(exited && exited->has_runtime_exited());
  int status = 0;
  ASSERT_EQ(::waitpid(host.pid(), &status, 0), host.pid());
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::milliseconds(2500))
      << "the agent leaves as soon as the runtime and the extensions have";
  while (host.next(200)) {
  }
  EXPECT_TRUE(logged(host,
                     "watcher got {\"eventType\":\"SHUTDOWN\",\"shutdownReason\":"
                     "\"spindown\",\"deadlineMs\":"));
  EXPECT_TRUE(logged(host, "second got {\"eventType\":\"SHUTDOWN\""));
}

// An extension's unfinished line and the runtime's lines are apart: they
// write to pipes of their own. The extension leaves "ext-half" without its
// newline before it registers; the runtime, started only after that, writes
// a line (on a shared pipe the two ran together as "ext-halfruntime up").
TEST(Extensions, AnExtensionsUnfinishedLineNeverRunsIntoTheRuntimes) {
  FakeHost host;
  const std::string dir = host.dir() + "/extensions";
  ::mkdir(dir.c_str(), 0755);
  writeExecutable(dir + "/half", "#!/bin/sh\nprintf ext-half\n" + shellExtension("half", "0"));
  startWithExtensions(host, dir, std::string("echo runtime up; ") + kIdleRuntime);
  RuntimeClient runtime(host.apiPort());
  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto ready = host.next();
  ASSERT_TRUE(ready && ready->has_ready());
  host.invoke("apart", "{}");
  ASSERT_EQ(runtime.read().header("lambda-runtime-aws-request-id"), "apart");
  ASSERT_EQ(runtime.request("POST", "/2018-06-01/runtime/invocation/apart/response", "{}").status,
            202);
  auto result = host.next();  // the extension's partial line is flushed by now
  ASSERT_TRUE(result && result->has_result());
  std::vector<std::string> lines;
  for (const auto& log : host.logs)
    lines.push_back(log.line());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "runtime up"), lines.end())
      << ::testing::PrintToString(lines);
  EXPECT_FALSE(logged(host, "ext-halfruntime")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(logged(host, "ext-half")) << ::testing::PrintToString(lines);
}

TEST(Extensions, RegistrationRefusalsAndInternalExtensions) {
  FakeHost host;
  startWithExtensions(host, host.dir() + "/none");
  RuntimeClient extension(host.apiPort());

  auto nameless = extension.request("POST", kRegister, "{\"events\":[\"INVOKE\"]}");
  EXPECT_EQ(nameless.status, 403);
  EXPECT_NE(nameless.body.find("Extension.InvalidExtensionName"), std::string::npos);
  auto bad_event = extension.request("POST", kRegister, "{\"events\":[\"LUNCH\"]}",
                                     "Lambda-Extension-Name: x\r\n");
  EXPECT_EQ(bad_event.status, 403);
  EXPECT_NE(bad_event.body.find("Extension.InvalidEventType"), std::string::npos);
  auto internal_shutdown = extension.request("POST", kRegister, "{\"events\":[\"SHUTDOWN\"]}",
                                             "Lambda-Extension-Name: x\r\n");
  EXPECT_NE(internal_shutdown.body.find("Extension.InvalidEventType"), std::string::npos)
      << "an internal extension cannot subscribe to SHUTDOWN";
  auto deprecated = extension.request("POST", kRegister, "{\"configurationKeys\":[]}",
                                      "Lambda-Extension-Name: x\r\n");
  EXPECT_EQ(deprecated.status, 403);
  EXPECT_NE(deprecated.body.find("InvalidRequestFormat"), std::string::npos);

  auto registered = extension.request("POST", kRegister, "{\"events\": [\"INVOKE\"]}",
                                      "Lambda-Extension-Name: internal\r\n");
  ASSERT_EQ(registered.status, 200);
  EXPECT_EQ(registered.body,
            R"({"functionName":"f","functionVersion":"$LATEST","handler":"app.handler"})");
  const std::string id = registered.header("lambda-extension-identifier");
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(extension.request("POST", kRegister, "", "Lambda-Extension-Name: internal\r\n").status,
            403)
      << "a name registers once";

  auto anonymous = extension.request("GET", kEventNext);
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_NE(anonymous.body.find("Extension.MissingExtensionIdentifier"), std::string::npos);
  auto unknown = extension.request("GET", kEventNext, "",
                                   "Lambda-Extension-Identifier: "
                                   "00000000-0000-4000-8000-000000000000\r\n");
  EXPECT_NE(unknown.body.find("Extension.UnknownExtensionIdentifier"), std::string::npos);
  auto malformed =
      extension.request("GET", kEventNext, "", "Lambda-Extension-Identifier: nope\r\n");
  EXPECT_NE(malformed.body.find("Extension.InvalidExtensionIdentifier"), std::string::npos);
  auto headerless = extension.request("POST", "/2020-01-01/extension/exit/error", "{}",
                                      "Lambda-Extension-Identifier: " + id + "\r\n");
  EXPECT_EQ(headerless.status, 403);
  EXPECT_NE(headerless.body.find("Extension.MissingHeader"), std::string::npos);
  EXPECT_EQ(extension.request("GET", "/2020-01-01/extension/nothing").status, 404);

  // The Logs and Telemetry APIs answer like the reference emulator's stubs.
  auto logs = extension.request("PUT", "/2020-08-15/logs", "{}",
                                "Lambda-Extension-Identifier: " + id + "\r\n");
  EXPECT_EQ(logs.status, 202);
  EXPECT_NE(logs.body.find("Logs.NotSupported"), std::string::npos);
  auto telemetry = extension.request("PUT", "/2022-07-01/telemetry", "{}",
                                     "Lambda-Extension-Identifier: " + id + "\r\n");
  EXPECT_EQ(telemetry.status, 202);
  EXPECT_NE(telemetry.body.find("Telemetry.NotSupported"), std::string::npos);

  // Init ends when the runtime and the extension both wait.
  RuntimeClient runtime(host.apiPort());
  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(host.next(300).has_value()) << "the extension has not called next yet";
  extension.sendRaw(std::string("GET ") + kEventNext + " HTTP/1.1\r\nHost: x\r\n" +
                    "Lambda-Extension-Identifier: " + id + "\r\n\r\n");
  auto ready = host.next();
  ASSERT_TRUE(ready && ready->has_ready());
  RuntimeClient late(host.apiPort());
  auto closed = late.request("POST", kRegister, "", "Lambda-Extension-Name: late\r\n");
  EXPECT_EQ(closed.status, 403);
  EXPECT_NE(closed.body.find("Extension.RegistrationClosed"), std::string::npos);

  host.invoke("internal-1", "{}");
  auto event = extension.read();
  EXPECT_EQ(event.status, 200);
  EXPECT_NE(event.body.find("\"requestId\":\"internal-1\""), std::string::npos);
  EXPECT_EQ(event.header("lambda-extension-event-identifier").size(), 36u);
  EXPECT_EQ(runtime.read().header("lambda-runtime-aws-request-id"), "internal-1");
  EXPECT_EQ(
      runtime.request("POST", "/2018-06-01/runtime/invocation/internal-1/response", "1").status,
      202);
  EXPECT_FALSE(host.next(200).has_value()) << "the extension is still busy";
  extension.sendRaw(std::string("GET ") + kEventNext + " HTTP/1.1\r\nHost: x\r\n" +
                    "Lambda-Extension-Identifier: " + id + "\r\n\r\n");
  auto result = host.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_EQ(result->result().payload(), "1");
}

TEST(Extensions, ExtensionInitErrorFailsInit) {
  FakeHost host;
  startWithExtensions(host, host.dir() + "/none");
  RuntimeClient extension(host.apiPort());
  auto registered = extension.request("POST", kRegister, "", "Lambda-Extension-Name: e\r\n");
  const std::string id = registered.header("lambda-extension-identifier");
  auto posted =
      extension.request("POST", "/2020-01-01/extension/init/error",
                        R"({"errorMessage":"no config","errorType":"Extension.Bad"})",
                        "Lambda-Extension-Identifier: " + id +
                            "\r\nLambda-Extension-Function-Error-Type: Extension.Bad\r\n");
  EXPECT_EQ(posted.status, 202);
  auto init_error = host.next();
  ASSERT_TRUE(init_error && init_error->has_init_error());
  EXPECT_EQ(init_error->init_error().error_type(), "Extension.Bad");
  EXPECT_EQ(init_error->init_error().payload(),
            R"({"errorMessage":"no config","errorType":"Extension.Bad"})");
}

TEST(Extensions, AnExtensionThatDiesDuringInitFailsInit) {
  FakeHost host;
  const std::string dir = host.dir() + "/extensions";
  ::mkdir(dir.c_str(), 0755);
  writeExecutable(dir + "/broken", "#!/bin/sh\nexit 3\n");
  startWithExtensions(host, dir);
  auto init_error = host.next();
  ASSERT_TRUE(init_error && init_error->has_init_error());
  EXPECT_EQ(init_error->init_error().error_type(), "Extension.Crash");
  EXPECT_NE(init_error->init_error().payload().find("broken exited with status 3"),
            std::string::npos);
}

// Processes whose parent is `pid`, with their state letter.
std::vector<std::pair<pid_t, char>> childrenOf(pid_t parent) {
  std::vector<std::pair<pid_t, char>> children;
  DIR* proc = ::opendir("/proc");
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    if (paren == std::string::npos || paren + 4 >= text.size()) continue;
    char state = text[paren + 2];
    const pid_t ppid = std::atoi(text.c_str() + paren + 4);
    if (ppid == parent) children.emplace_back(pid, state);
  }
  ::closedir(proc);
  return children;
}

TEST(Agent, OrphansAreAdoptedAndReaped) {
  FakeHost host;
  // Five grandchildren orphaned at once (their parent subshells exit at once).
  host.startShellRuntime(
      "for i in 1 2 3 4 5; do (sleep 0.3 &); done; echo $AWS_LAMBDA_RUNTIME_API > $ADDRESS_FILE; "
      "exec sleep 60");
  host.apiPort();
  size_t adopted = 0;
  for (auto [pid, state] : childrenOf(host.pid()))
    adopted += pid != 0;
  EXPECT_GE(adopted, 6u) << "the runtime and the five orphans are the agent's children";
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto left = childrenOf(host.pid());
  for (auto [pid, state] : left)
    EXPECT_NE(state, 'Z') << "zombie " << pid;
  EXPECT_EQ(left.size(), 1u) << "only the runtime is left";
}

TEST(Agent, ASlowHostNeverBlocksTheRuntime) {
  FakeHost host;
  HostMessage message;
  Start* start = message.mutable_start();
  start->add_argv("/bin/sh");
  start->add_argv("-c");
  // 40 MB of output during init, then a mark on disk: written only if the
  // runtime's stdout never blocked although nobody reads the host socket.
  start->add_argv("yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 40000000; touch " +
                  host.dir() + "/done; exec sleep 60");
  start->add_env("PATH=/usr/bin:/bin");
  start->set_cwd("/");
  start->set_listen_address("127.0.0.1:0");
  start->set_log_bytes_per_invocation(1ull << 30);
  host.send(message);
  bool done = false;
  for (int i = 0; i < 1000 && !done; ++i) {
    done = std::filesystem::exists(host.dir() + "/done");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(done) << "the runtime was blocked by the host";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  host.next(500);  // collect the logs that were buffered
  size_t bytes = 0;
  for (const auto& log : host.logs)
    bytes += log.line().size() + 1;
  EXPECT_LT(bytes, 20'000'000u) << "the buffer for a slow host is bounded";
  EXPECT_GT(bytes, 1'000'000u);
}

TEST(Agent, OptionalHeadersPingAndContentType) {
  FakeHost host;
  host.startIdleRuntime();
  RuntimeClient runtime(host.apiPort());
  auto ping = runtime.request("GET", "/2018-06-01/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "pong");
  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(host.next()->has_ready());
  HostMessage message;
  Invoke* invoke = message.mutable_invoke();
  invoke->set_request_id("opt");
  invoke->set_payload("raw");
  invoke->set_deadline_ms(42);
  invoke->set_invoked_function_arn("arn:aws:lambda:us-east-1:000000000000:function:f:prod");
  invoke->set_cognito_identity(R"({"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"})");
  invoke->set_tenant_id("tenant-7");
  invoke->set_content_type("text/plain");
  host.send(message);
  auto event = runtime.read();
  EXPECT_EQ(event.body, "raw");
  EXPECT_EQ(event.header("lambda-runtime-cognito-identity"),
            R"({"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"})");
  EXPECT_EQ(event.header("lambda-runtime-aws-tenant-id"), "tenant-7");
  EXPECT_EQ(event.header("lambda-runtime-trace-id"), "") << "sent only when there is one";
  EXPECT_EQ(event.header("lambda-runtime-client-context"), "");
  EXPECT_EQ(event.header("content-type"), "text/plain");
  auto early = runtime.request("POST", "/2018-06-01/runtime/invocation/opt/response", "x",
                               "Content-Type: text/plain\r\n");
  EXPECT_EQ(early.status, 202);
  auto result = host.next();
  ASSERT_TRUE(result && result->has_result());
  EXPECT_EQ(result->result().content_type(), "text/plain");
}

TEST(Agent, ResponseBeforeNextIsAnInvalidTransition) {
  FakeHost host;
  host.startIdleRuntime();
  RuntimeClient runtime(host.apiPort());
  RuntimeClient other(host.apiPort());
  runtime.sendRaw(std::string("GET ") + kNext + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(host.next()->has_ready());
  // The event is delivered to the parked next at once, so use a second
  // invocation whose event nobody has asked for yet.
  host.invoke("first", "{}");
  runtime.read();
  EXPECT_EQ(other.request("POST", "/2018-06-01/runtime/invocation/first/response", "{}").status,
            202);
  ASSERT_TRUE(host.next()->has_result());
  host.invoke("second", "{}");
  // Until the agent has read the Invoke the id is unknown (400); then it is
  // known but not delivered: 403.
  testing::HttpResponse early;
  for (int i = 0; i < 100; ++i) {
    early = other.request("POST", "/2018-06-01/runtime/invocation/second/response", "{}");
    if (early.status != 400) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(early.status, 403);
  EXPECT_NE(early.body.find("State transition from Ready to ResponseSent"), std::string::npos)
      << early.body;
}

}  // namespace
}  // namespace wick::agent
