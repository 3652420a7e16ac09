// Sandbox create -> exec /bin/true -> exit -> destroy, against baselines measured
// in the same run. Prints median and p90 (ms) of each, and each create step's
// median share. Usage: bench_sandbox [RUNS] [COMMAND-LINE BASELINE...]
//
// Whole-process baselines are given as extra arguments by scripts/bench-sandbox
// (each a shell-free command line split on spaces, e.g. "bwrap --ro-bind ...").
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/net_namespace.h"
#include "sandbox/sandbox.h"

using wick::sandbox::Launcher;
using wick::sandbox::SandboxSpec;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

struct Summary {
  double median, p90, p99;
};

Summary summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<size_t>(q * (samples.size() - 1))]; };
  return {at(0.5), at(0.9), at(0.99)};
}

double timeMs(const std::function<void()>& run) {
  auto start = Clock::now();
  run();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void spawnAndWait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    std::perror(argv[0]);
    std::exit(1);
  }
  int status;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s exited with %d\n", args[0].c_str(), status);
    std::exit(1);
  }
}

void forkExecTrue() {
  pid_t pid = ::fork();
  if (pid == 0) {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execve("/bin/true", argv, environ);
    ::_exit(127);
  }
  int status;
  ::waitpid(pid, &status, 0);
}

SandboxSpec trueSpec(bool network) {
  SandboxSpec spec;
  for (const char* dir : {"/usr", "/bin", "/lib", "/lib64", "/etc"})
    if (::access(dir, F_OK) == 0) spec.binds.push_back({dir, dir, false});
  spec.argv = {"/bin/true"};
  spec.isolate_network = network;
  return spec;
}

void printRow(const char* name, const Summary& summary, double baseline) {
  std::printf("%-44s median %7.3f  p90 %7.3f  p99 %7.3f ms  (%.2fx fork+exec)\n", name,
              summary.median, summary.p90, summary.p99, summary.median / baseline);
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream stream(line);
  std::vector<std::string> words;
  for (std::string word; stream >> word;)
    words.push_back(word);
  return words;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  // A few host-id slots for the variant with its own user namespace.
  auto launcher = Launcher::open({.cgroup_parent = "wick-bench",
                                  .runtime_dir = "/run/wick-bench",
                                  .host_id_first = 3'300'000,
                                  .host_id_slots = 4});
  if (!launcher) {
    std::fprintf(stderr, "%s\n", launcher.error().message().c_str());
    return 1;
  }

  std::map<std::string, std::vector<double>> step_ms;
  std::vector<double> fork_exec, sandbox_net, sandbox_nonet, sandbox_userns, sandbox_joined,
      destroy_net;
  // A namespace made ahead of time, as the network pool makes them: variant 3
  // joins it with its own host identity (through the joiner process).
  auto pooled = wick::sandbox::NetNamespace::create();
  if (!pooled) {
    std::fprintf(stderr, "%s\n", pooled.error().message().c_str());
    return 1;
  }
  std::vector<std::vector<double>> whole(static_cast<size_t>(std::max(argc - 2, 0)));
  std::vector<std::string> step_order;
  // Interleave the variants so drift on the machine hits each alike.
  for (int i = 0; i < runs + 5; ++i) {
    const bool warmup = i < 5;
    double t = timeMs(forkExecTrue);
    if (!warmup) fork_exec.push_back(t);
    for (int variant = 0; variant < 4; ++variant) {
      const bool network = variant != 1;
      SandboxSpec spec = trueSpec(network);
      spec.own_host_identity = variant >= 2;
      if (variant == 3) spec.netns_fd = pooled->fd();
      std::optional<wick::Result<wick::sandbox::Sandbox>> box;
      double ms = timeMs([&] {
        box.emplace(launcher->create(spec));
        if (!*box) {
          std::fprintf(stderr, "%s\n", box->error().message().c_str());
          std::exit(1);
        }
        (void)(*box)->wait();
      });
      double destroy_ms = timeMs([&] { (void)(*box)->destroy(); });
      if (variant == 0 && !warmup)
        for (const auto& step : (*box)->timings().steps) {
          if (!step_ms.count(step.name)) step_order.push_back(step.name);
          step_ms[step.name].push_back(step.ns / 1e6);
        }
      std::vector<double>* series[] = {&sandbox_net, &sandbox_nonet, &sandbox_userns,
                                       &sandbox_joined};
      if (!warmup) series[variant]->push_back(ms);
      if (!warmup && variant == 0) destroy_net.push_back(destroy_ms);
    }
    for (int b = 2; b < argc; ++b) {
      double ms = timeMs([&] { spawnAndWait(split(argv[b])); });
      if (!warmup) whole[static_cast<size_t>(b - 2)].push_back(ms);
    }
  }
  launcher->removeParentIfEmpty();

  const Summary base = summarize(fork_exec);
  std::printf("runs: %d (after 5 warm-up rounds), interleaved\n\nin process:\n", runs);
  printRow("fork+exec /bin/true (baseline)", base, base.median);
  printRow("sandbox create+exec+exit", summarize(sandbox_net), base.median);
  printRow("  same without a network namespace", summarize(sandbox_nonet), base.median);
  printRow("  same with its own host identity", summarize(sandbox_userns), base.median);
  printRow("  same, joining a pooled namespace", summarize(sandbox_joined), base.median);
  printRow("sandbox destroy (after exit)", summarize(destroy_net), base.median);
  std::printf(
      "\ncreate steps (with network namespace), median ms and share of the summed medians:\n");
  double total = 0;
  for (const auto& name : step_order)
    total += summarize(step_ms[name]).median;
  for (const auto& name : step_order) {
    double median = summarize(step_ms[name]).median;
    std::printf("  %-14s %7.3f ms  %5.1f%%\n", name.c_str(), median, 100 * median / total);
  }
  if (argc > 2) {
    std::printf("\nwhole processes (spawn + wait):\n");
    for (int b = 2; b < argc; ++b) {
      std::string label = argv[b];
      if (label.size() > 44) label = label.substr(0, 41) + "...";
      printRow(label.c_str(), summarize(whole[static_cast<size_t>(b - 2)]), base.median);
    }
  }
  return 0;
}
