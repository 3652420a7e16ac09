// `wick tune FUNCTION[:QUALIFIER] [--mb-per-vcpu N] [--cfs-period-us N]
// [--pids-max N] [--io-weight N] [--swap MB] [--keep-alive S] | --reset`:
// the operator's overrides of what Lambda does not expose, for a function or
// one version of it, applied live to its sandboxes and kept. Without options:
// shows what is set and what its sandboxes run with.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/commands.h"
#include "host/cli/daemon_client.h"
#include "host/cli/table.h"

namespace wick::cli {

namespace {

using nlohmann::json;

int fail(const std::string& message) {
  std::fprintf(stderr, "wick tune: %s\n", message.c_str());
  return 1;
}

struct Knob {
  const char* flag;
  const char* field;  // the operator API's name
  const char* help;
};

const std::vector<Knob>& knobs() {
  static const std::vector<Knob> all = {
      {"--mb-per-vcpu", "MbPerVcpu", "Memory (MB) that buys one vCPU (Lambda: 1769)"},
      {"--cfs-period-us", "CpuPeriodUs",
       "CFS period of the CPU quota, 1000-1000000 us (default 100000)"},
      {"--pids-max", "PidsMax", "pids.max of each sandbox"},
      {"--io-weight", "IoWeight", "io.weight, 1-10000 (cgroup v2 with the io controller)"},
      {"--swap", "SwapMb", "Swap (MB) beyond the memory size (default 0: none)"},
      {"--keep-alive", "KeepAliveSeconds", "Seconds an idle environment is kept"},
  };
  return all;
}

void print(const json& reply) {
  std::string target = reply.value("Function", "");
  if (!reply.value("Qualifier", "").empty()) target += ":" + reply.value("Qualifier", "");
  std::vector<std::vector<std::string>> rows = {{"SETTING", "SET HERE", "EFFECTIVE"}};
  for (const Knob& knob : knobs()) {
    auto value = [&](const char* section) {
      const json& part = reply[section];
      return part.contains(knob.field) ? part[knob.field].dump() : std::string("-");
    };
    rows.push_back({std::string(knob.flag).substr(2), value("Tuning"), value("Effective")});
  }
  std::printf("%s\n", target.c_str());
  printTable(rows);
  if (reply.contains("AppliedToSandboxes"))
    std::printf("applied to %d live sandboxes\n", reply["AppliedToSandboxes"].get<int>());
  for (const auto& warning : reply.value("Warnings", json::array()))
    std::fprintf(stderr, "warning: %s\n", warning.get<std::string>().c_str());
}

}  // namespace

std::function<int()> addTuneCommand(CLI::App& app) {
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  auto target = std::make_shared<std::string>();
  auto values = std::make_shared<std::vector<std::optional<uint64_t>>>(knobs().size());
  auto reset = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "tune", "Per-function CPU, pids, I/O, swap and keep-alive overrides, applied live");
  cmd->add_option("--endpoint", *endpoint,
                  "wickd's URL (default $WICK_ENDPOINT or http://127.0.0.1:3001)");
  cmd->add_option("function", *target, "FUNCTION or FUNCTION:VERSION ($LATEST or a number)")
      ->required();
  for (size_t i = 0; i < knobs().size(); ++i)
    cmd->add_option(knobs()[i].flag, (*values)[i], knobs()[i].help);
  cmd->add_flag("--reset", *reset, "Forget this target's overrides");
  return [=]() -> int {
    std::string function = *target, qualifier;
    if (size_t colon = function.find(':'); colon != std::string::npos) {
      qualifier = function.substr(colon + 1);
      function.resize(colon);
    }
    std::string path = "/wick/v1/tuning/" + encodeSegment(function);
    if (!qualifier.empty()) path += "?Qualifier=" + encodeSegment(qualifier);
    json body = json::object();
    for (size_t i = 0; i < knobs().size(); ++i)
      if ((*values)[i]) body[knobs()[i].field] = *(*values)[i];
    if (*reset && !body.empty()) return fail("--reset takes no other setting");
    Result<json> reply = *reset         ? jsonReply(httpDelete(*endpoint, path))
                         : body.empty() ? jsonReply(httpGet(*endpoint, path))
                                        : jsonReply(httpPost(*endpoint, path, body.dump()));
    if (!reply) return fail(reply.error().message());
    print(*reply);
    return 0;
  };
}

}  // namespace wick::cli
