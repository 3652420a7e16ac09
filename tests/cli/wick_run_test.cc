// `wick run` as an operator uses it: the real binary, its exit codes and output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace {

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

Outcome wickRun(const std::string& args) {
  Outcome outcome;
  std::string command = std::string(WICK_BIN) + " run " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    outcome.output.append(buffer, n);
  int status = ::pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

constexpr const char* kTestParent = "--cgroup-parent wick-test-cli ";

TEST(WickRun, ExitStatusIsTheCommands) {
  auto outcome = wickRun(std::string(kTestParent) + "-- /bin/sh -c 'echo out; exit 3'");
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(outcome.output, "out\n");
}

TEST(WickRun, CommandWithoutDashDashAndFlagsAfterIt) {
  auto outcome = wickRun(std::string(kTestParent) + "--env X=1 /bin/sh -c 'echo $X'");
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.output, "1\n");
}

TEST(WickRun, TimeoutKillsAndExits124) {
  auto outcome = wickRun(std::string(kTestParent) + "--timeout 0.3 -- /bin/sleep 30");
  EXPECT_EQ(outcome.exit_code, 124);
  EXPECT_NE(outcome.output.find("timed out"), std::string::npos) << outcome.output;
}

TEST(WickRun, OomKillIsReportedAndExits137) {
  auto outcome = wickRun(std::string(kTestParent) + "--memory 128 --bind " + WICK_BIN_DIR +
                         ":/probe -- /probe/sandbox_probe alloc 400");
  EXPECT_EQ(outcome.exit_code, 137);
  EXPECT_NE(outcome.output.find("out of memory"), std::string::npos) << outcome.output;
}

TEST(WickRun, KilledBySignalExits128PlusSignal) {
  // PID 1 ignores its own SIGTERM; a child killed by SIGTERM is reported by sh.
  auto outcome =
      wickRun(std::string(kTestParent) + "-- /bin/sh -c 'sleep 10 & kill -TERM $!; wait $!'");
  EXPECT_EQ(outcome.exit_code, 143) << outcome.output;
}

TEST(WickRun, BadFlagsFailWithOneLineAndExit2) {
  for (const char* args : {"--memory 64 -- /bin/true", "--memory 20000 -- /bin/true",
                           "--layer /nonexistent -- /bin/true", "--bind /etc:relative -- /bin/true",
                           "--bind /nonexistent:/x -- /bin/true", "--nonsense -- /bin/true",
                           "--seccomp-profile /nonexistent -- /bin/true",
                           "--seccomp-profile /etc/hostname -- /bin/true", ""}) {
    auto outcome = wickRun(std::string(kTestParent) + args);
    EXPECT_EQ(outcome.exit_code, 2) << args << ": " << outcome.output;
    EXPECT_EQ(std::count(outcome.output.begin(), outcome.output.end(), '\n'), 1)
        << args << ": " << outcome.output;
  }
}

TEST(WickRun, StatsPrintsOneJsonLine) {
  auto outcome = wickRun(std::string(kTestParent) + "--stats -- /bin/true");
  EXPECT_EQ(outcome.exit_code, 0);
  for (const char* key : {"\"exit_code\":0", "\"memory_peak_bytes\":", "\"cpu_usage_ns\":",
                          "\"oom_kills\":0", "\"create_steps_ms\":{\"plan\":", "\"exec\":"})
    EXPECT_NE(outcome.output.find(key), std::string::npos) << key << " in " << outcome.output;
  EXPECT_TRUE(outcome.output.starts_with("{") && outcome.output.ends_with("}\n")) << outcome.output;
}

TEST(WickRun, LayerAndBindsShapeTheRoot) {
  auto outcome =
      wickRun(std::string(kTestParent) +
              "--layer / --bind /etc/hostname:/mnt/h --tmp-size 1 -- /bin/sh -c "
              "'cat /mnt/h >/dev/null && df -k /tmp | tail -1 | tr -s \" \" | cut -d\" \" -f2'");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_EQ(outcome.output, "1024\n");
}

}  // namespace
