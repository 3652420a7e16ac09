// `wick runtimes [build NAME]`: the managed runtimes wickd knows (their base
// images: Missing, Building, Ready or Failed), and building one.
//
//   GET  /wick/v1/runtimes               {"Runtimes":[{"Name","State","SizeBytes","Reason"?}]}
//   POST /wick/v1/runtimes/{NAME}/build  the runtime, once the build is over
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/cli/commands.h"
#include "host/cli/daemon_client.h"
#include "host/cli/table.h"

namespace wick::cli {

namespace {

using nlohmann::json;

int fail(const std::string& message) {
  std::fprintf(stderr, "wick: %s\n", message.c_str());
  return 1;
}

// One row for each runtime name a base serves: the base's own, then its
// aliases (provided.al2 and provided run on provided.al2023's base).
void addRows(const json& base, std::vector<std::vector<std::string>>& rows) {
  const std::string name = base.at("Name").get<std::string>();
  const uint64_t size = base.value("SizeBytes", uint64_t{0});
  std::vector<std::string> names = {name};
  for (const auto& alias : base.value("Aliases", json::array()))
    names.push_back(alias.get<std::string>());
  for (const auto& runtime : names)
    rows.push_back({runtime, name, base.at("State").get<std::string>(),
                    size == 0 ? "-" : formatSize(size), base.value("Reason", std::string())});
}

const std::vector<std::string> kHeader = {"RUNTIME", "BASE", "STATE", "SIZE", "REASON"};

int runList(const std::string& endpoint) {
  auto listed = jsonReply(httpGet(endpoint, "/wick/v1/runtimes"));
  if (!listed) return fail(listed.error().message());
  std::vector<std::vector<std::string>> rows = {kHeader};
  for (const auto& base : listed->at("Runtimes"))
    addRows(base, rows);
  printTable(rows);
  return 0;
}

int runBuild(const std::string& endpoint, const std::string& name) {
  // Answers when the build is over: no timeout on our side.
  auto built =
      jsonReply(httpPost(endpoint, "/wick/v1/runtimes/" + encodeSegment(name) + "/build", "{}"));
  if (!built) return fail("build " + name + " failed: " + built.error().message());
  std::vector<std::vector<std::string>> rows = {kHeader};
  addRows(*built, rows);
  printTable(rows);
  const std::string state = built->at("State").get<std::string>();
  if (state != "Ready")
    return fail("build " + name + " failed: " + state +
                (built->contains("Reason") ? ": " + built->value("Reason", std::string()) : ""));
  return 0;
}

}  // namespace

std::function<int()> addRuntimesCommand(CLI::App& app) {
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  auto name = std::make_shared<std::string>();
  const char* endpoint_help = kEndpointHelp;
  CLI::App* runtimes = app.add_subcommand("runtimes", "List the managed runtimes, or build one");
  runtimes->allow_extras(false);
  runtimes->require_subcommand(0, 1);
  runtimes->add_option("--endpoint", *endpoint, endpoint_help);
  CLI::App* build =
      runtimes->add_subcommand("build", "Build a runtime's base image (waits for the build)");
  build->allow_extras(false);
  build->add_option("name", *name, "The runtime, e.g. python3.12")->required();
  build->add_option("--endpoint", *endpoint, endpoint_help);
  return [=] {
    try {
      return build->parsed() ? runBuild(*endpoint, *name) : runList(*endpoint);
    } catch (const json::exception& e) {
      return fail(std::string("unexpected answer from wickd: ") + e.what());
    }
  };
}

}  // namespace wick::cli
