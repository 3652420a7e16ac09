// wick-agent where it really lives: as PID 1 of a new pid namespace in a root
// with no libc at all (only the static agent and the static test runtime),
// and inside a real sandbox from the sandbox library, started as the host
// starts it (execveat of a sealed copy, the host socket passed at fd 3, an
// empty environment) with a curl bootstrap doing several invocations.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "sandbox/sandbox.h"
#include "tests/agent/agent_test_support.h"

namespace wick::agent {
namespace {

// The host's end of a socketpair, and a FrameReader on it: the fake host for
// agents started some other way than FakeHost's posix_spawn.
class Channel {
 public:
  Channel() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_.reset(fds[0]);
    agent_.reset(fds[1]);
  }
  int agentEnd() const { return agent_.get(); }
  int hostEnd() const { return host_.get(); }
  void closeAgentEnd() { agent_.reset(); }
  void closeHostEnd() { host_.reset(); }
  void send(const HostMessage& message) {
    std::string frame;
    appendFrame(frame, message.SerializeAsString());
    ASSERT_TRUE(writeAll(host_.get(), frame).ok());
  }
  std::optional<AgentMessage> next(int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      while (auto frame = reader_.next()) {
        AgentMessage message;
        EXPECT_TRUE(message.ParseFromString(*frame));
        if (message.has_log()) {
          logs.push_back(message.log().line());
          continue;
        }
        return message;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd fd{host_.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&fd, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char buffer[65536];
      ssize_t n = ::read(host_.get(), buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      reader_.feed(std::string_view(buffer, static_cast<size_t>(n)));
    }
  }
  void invoke(const std::string& id, const std::string& payload) {
    HostMessage message;
    message.mutable_invoke()->set_request_id(id);
    message.mutable_invoke()->set_payload(payload);
    message.mutable_invoke()->set_deadline_ms(4102444800000);
    message.mutable_invoke()->set_invoked_function_arn(
        "arn:aws:lambda:us-east-1:000000000000:function:f");
    send(message);
  }
  std::vector<std::string> logs;

 private:
  UniqueFd host_, agent_;
  FrameReader reader_;
};

void copyFile(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  ::chmod(to.c_str(), 0755);
}

TEST(AgentContained, ServesAsPid1InARootWithoutLibc) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chroot, pid namespace)";
  char pattern[] = "/tmp/wick-agent-root-XXXXXX";
  const std::string root = ::mkdtemp(pattern);
  std::filesystem::create_directories(root + "/var/task");
  copyFile(WICK_AGENT_PATH, root + "/wick-agent");
  copyFile(WICK_TEST_RUNTIME, root + "/var/task/bootstrap");
  // Nothing else: no /lib, no /usr, no /dev, no /proc, no /etc.
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
    files += entry.is_regular_file();
  ASSERT_EQ(files, 2u);

  Channel channel;
  pid_t outer = ::fork();
  if (outer == 0) {
    // The agent becomes PID 1 of a new pid namespace, chrooted in `root`. Only
    // the test holds the host end: its closing must reach the agent.
    ::close(channel.hostEnd());
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a dying test leaves nothing behind
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(90);
    pid_t inner = ::fork();
    if (inner == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) ::_exit(91);
      ::dup2(channel.agentEnd(), 3);
      char* argv[] = {const_cast<char*>("wick-agent"), nullptr};
      char* envp[] = {nullptr};
      ::execve("/wick-agent", argv, envp);
      ::_exit(92);
    }
    int status = 0;
    ::waitpid(inner, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  channel.closeAgentEnd();

  HostMessage start;
  start.mutable_start()->set_listen_address("127.0.0.1:0");  // default cwd /var/task, bootstrap
  channel.send(start);
  auto ready = channel.next();
  ASSERT_TRUE(ready && ready->has_ready()) << "the runtime never asked for an event";
  for (int i = 0; i < 3; ++i) {
    const std::string event = "{\"echo\":" + std::to_string(i) + "}";
    channel.invoke("static-" + std::to_string(i), event);
    auto result = channel.next();
    ASSERT_TRUE(result && result->has_result());
    EXPECT_EQ(result->result().payload(), event);
  }
  channel.closeHostEnd();  // the agent leaves, and its namespace with it
  int status = 0;
  ASSERT_EQ(::waitpid(outer, &status, 0), outer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::filesystem::remove_all(root);
}

// A sealed in-memory copy of the agent, as wickd loads it (CVE-2019-5736:
// nothing in the sandbox can write the host's binary).
UniqueFd sealedAgent() {
  auto content = readFile(WICK_AGENT_PATH);
  EXPECT_TRUE(content.ok());
  UniqueFd memfd(::memfd_create("wick-agent", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(writeAll(memfd.get(), *content).ok());
  ::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  return memfd;
}

TEST(AgentContained, CurlBootstrapInARealSandbox) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, cgroups, mounts)";
  auto launcher = sandbox::Launcher::open(
      {.cgroup_parent = "wick-agent-test", .runtime_dir = "/run/wick-agent-test"});
  ASSERT_TRUE(launcher.ok()) << launcher.error().message();

  char pattern[] = "/tmp/wick-agent-task-XXXXXX";
  const std::string task = ::mkdtemp(pattern);
  ::chmod(task.c_str(), 0755);
  std::ofstream(task + "/bootstrap")
      << "#!/bin/sh\n"
         "api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation\n"
         "echo \"bootstrap up as $(id -u):$(id -g), parent $PPID\"\n"
         "while true; do\n"
         "  body=$(curl -sS -D /tmp/headers $api/next)\n"
         "  id=$(tr -d '\\r' < /tmp/headers | sed -n "
         "'s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')\n"
         "  if cat /proc/1/environ >/dev/null 2>&1; then env=readable; else env=denied; fi\n"
         "  echo \"handling $id\"\n"
         "  curl -sS -o /dev/null -X POST -d \"{\\\"got\\\":$body,\\\"uid\\\":$(id -u),"
         "\\\"ppid\\\":$PPID,\\\"agent_env\\\":\\\"$env\\\"}\" $api/$id/response\n"
         "done\n";
  ::chmod((task + "/bootstrap").c_str(), 0755);
  // An external extension that counts the INVOKE events it gets.
  std::filesystem::create_directories(task + "/extensions");
  ::chmod((task + "/extensions").c_str(), 0755);
  std::ofstream(task + "/extensions/counter")
      << "#!/bin/sh\n"
         "api=http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension\n"
         "id=$(curl -sS -D - -o /dev/null -X POST -H 'Lambda-Extension-Name: counter' "
         "-d '{\"events\":[\"INVOKE\"]}' $api/register | tr -d '\\r' | "
         "sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier: //p')\n"
         "while true; do\n"
         // The event has no trailing newline and GNU sed keeps that, so the
         // line is printed with printf: a line without its newline would run
         // into the runtime's next line in the shared log.
         "  seen=$(curl -sS -H \"Lambda-Extension-Identifier: $id\" $api/event/next | "
         "sed -n 's/.*\"requestId\":\"\\([^\"]*\\)\".*/\\1/p')\n"
         "  printf 'counter saw %s\\n' \"$seen\"\n"
         "done\n";
  ::chmod((task + "/extensions/counter").c_str(), 0755);

  Channel channel;
  UniqueFd agent = sealedAgent();
  sandbox::SandboxSpec spec;
  for (const char* dir : {"/usr", "/bin", "/lib", "/lib64", "/etc"})
    if (::access(dir, F_OK) == 0) spec.binds.push_back({dir, dir, false});
  spec.binds.push_back({task, "/var/task", false});
  spec.binds.push_back({task + "/extensions", "/opt/extensions", false});
  spec.argv = {"wick-agent", "--host-fd", "3"};
  spec.env = {};
  spec.exec_fd = agent.get();
  spec.stdin_fd = -1;
  spec.stdout_fd = -1;
  spec.stderr_fd = -1;
  spec.passed_fds = {{channel.agentEnd(), 3}};
  auto box = launcher->create(spec);
  ASSERT_TRUE(box.ok()) << box.error().message();
  channel.closeAgentEnd();

  HostMessage start;
  start.mutable_start()->add_env("PATH=/usr/bin:/bin");
  start.mutable_start()->add_env("AWS_LAMBDA_FUNCTION_NAME=f");
  channel.send(start);  // default 127.0.0.1:9001 in the sandbox's own network namespace
  auto ready = channel.next();
  ASSERT_TRUE(ready && ready->has_ready());
  EXPECT_EQ(ready->ready().extensions(), 1u);
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      // Between invocations wickd freezes the idle sandbox: the parked next
      // (the runtime's curl, the agent's epoll) survives freeze and thaw.
      ASSERT_TRUE(box->freeze().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ASSERT_TRUE(box->thaw().ok());
    }
    const std::string id = "sandboxed-" + std::to_string(i);
    channel.invoke(id, "{\"n\":" + std::to_string(i) + "}");
    auto result = channel.next();
    ASSERT_TRUE(result && result->has_result());
    EXPECT_EQ(result->result().request_id(), id);
    EXPECT_EQ(result->result().payload(), "{\"got\":{\"n\":" + std::to_string(i) +
                                              "},\"uid\":993,\"ppid\":1,\"agent_env\":\"denied\"}");
  }
  bool up = false, counted = false;
  for (const auto& line : channel.logs) {
    up = up || line == "bootstrap up as 993:990, parent 1";
    counted = counted || line == "counter saw sandboxed-3";
  }
  EXPECT_TRUE(up) << "the runtime runs as the function's user, a child of PID 1";
  std::string all_logs;
  for (const auto& line : channel.logs)
    all_logs += "  " + line + "\n";
  EXPECT_TRUE(counted) << "the extension gets INVOKE events; the sandbox logged:\n" << all_logs;

  HostMessage shutdown;
  shutdown.mutable_shutdown()->set_grace_ms(300);
  channel.send(shutdown);
  auto exited = channel.next();
  ASSERT_TRUE(exited && exited->has_runtime_exited());
  auto status = box->wait(std::chrono::milliseconds(5000));
  ASSERT_TRUE(status.ok() && status->has_value()) << "the agent leaves after the runtime";
  EXPECT_EQ((*status)->shellCode(), 0);
  EXPECT_TRUE(box->destroy().ok());
  launcher->removeParentIfEmpty();
  // The launcher's staging directories, empty by now.
  ::rmdir("/run/wick-agent-test/stage");
  ::rmdir("/run/wick-agent-test");
  std::filesystem::remove_all(task);
}

}  // namespace
}  // namespace wick::agent
