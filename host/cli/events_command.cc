// `wick events FUNCTION`: a function's queued and failed asynchronous events
// (age, attempts, last error); `wick events replay ID` puts a failed one back
// in the queue; `wick events purge FUNCTION` drops them all.
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
  std::fprintf(stderr, "wick events: %s\n", message.c_str());
  return 1;
}

std::string seconds(int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000);
  return text;
}

std::string oneLine(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

int list(const std::string& endpoint, const std::string& function) {
  auto events = jsonReply(httpGet(endpoint, "/wick/v1/events?function=" + encodeSegment(function)));
  if (!events) return fail(events.error().message());
  std::vector<std::vector<std::string>> queued = {
      {"QUEUED", "AGE", "ATTEMPTS", "NEXT IN", "LAST ERROR"}};
  for (const auto& event : (*events)["Queued"])
    queued.push_back({event["Id"], seconds(event["AgeMs"]),
                      std::to_string(event["Attempts"].get<int>()),
                      seconds(event["NextAttemptInMs"]), oneLine(event["LastError"])});
  // Records and dead letters on their way to another service (tried on a schedule).
  std::vector<std::vector<std::string>> delivering = {
      {"DELIVERING", "TO", "TRIES", "NEXT IN", "LAST ERROR"}};
  for (const auto& delivery : events->value("Delivering", nlohmann::json::array()))
    delivering.push_back({delivery["Id"], delivery["Target"],
                          std::to_string(delivery["Tries"].get<int>()),
                          seconds(delivery["NextTryInMs"]), oneLine(delivery["LastError"])});
  std::vector<std::vector<std::string>> failed = {
      {"FAILED", "CONDITION", "ATTEMPTS", "LAST ERROR"}};
  for (const auto& event : (*events)["Failed"])
    failed.push_back({event["Id"], event["Condition"], std::to_string(event["Attempts"].get<int>()),
                      oneLine(event["LastError"])});
  printTable(queued);
  if (delivering.size() > 1) {
    std::printf("\n");
    printTable(delivering);
  }
  std::printf("\n");
  printTable(failed);
  return 0;
}

}  // namespace

std::function<int()> addEventsCommand(CLI::App& app) {
  auto function = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  CLI::App* cmd = app.add_subcommand("events", "A function's queued and failed async events");
  cmd->add_option("--endpoint", *endpoint, kEndpointHelp);
  CLI::App* replay = cmd->add_subcommand("replay", "Put a failed event back in the queue");
  replay->add_option("id", *id, "Event (request) id")->required();
  CLI::App* purge = cmd->add_subcommand("purge", "Drop a function's queued and failed events");
  purge->add_option("function", *function, "Function name")->required();
  cmd->add_option("function", *function, "Function name");
  return [=] {
    if (replay->parsed()) {
      auto replayed =
          jsonReply(httpPost(*endpoint, "/wick/v1/events/" + encodeSegment(*id) + "/replay", "{}"));
      if (!replayed) return fail(replayed.error().message());
      std::printf("replayed %s\n", id->c_str());
      return 0;
    }
    if (purge->parsed()) {
      auto purged =
          jsonReply(httpDelete(*endpoint, "/wick/v1/events?function=" + encodeSegment(*function)));
      if (!purged) return fail(purged.error().message());
      std::printf("purged %llu events\n",
                  static_cast<unsigned long long>((*purged)["Purged"].get<uint64_t>()));
      return 0;
    }
    if (function->empty()) return fail("name a function (or: replay ID, purge FUNCTION)");
    return list(*endpoint, *function);
  };
}

}  // namespace wick::cli
