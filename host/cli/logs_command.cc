// `wick logs FUNCTION [--follow]`: a function's log streams, oldest first.
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/cli/commands.h"
#include "host/cli/daemon_client.h"

namespace wick::cli {

namespace {

std::string encodeQuery(const std::string& text) {
  std::string out;
  char hex[4];
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// A record of several lines (a Python traceback) arrives as one line whose
// lines the runtime joined with \r, so the stream stays one record a line;
// shown on several lines, as the Lambda console shows them.
void printRecords(const std::string& data) {
  std::string shown;
  shown.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const bool joined = data[i] == '\r' && (i + 1 == data.size() || data[i + 1] != '\n');
    shown += joined ? '\n' : data[i];
  }
  std::fwrite(shown.data(), 1, shown.size(), stdout);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "wick logs: %s\n", message.c_str());
  return 1;
}

int runLogs(const std::string& endpoint, const std::string& function, bool follow) {
  std::map<std::string, uint64_t> offsets;  // stream -> bytes printed
  for (;;) {
    auto list = jsonReply(httpGet(endpoint, "/wick/v1/functions/" + function + "/logs"));
    if (!list) return fail(list.error().message());
    for (const auto& stream : (*list)["streams"]) {
      const std::string name = stream["name"];
      uint64_t& offset = offsets[name];
      while (offset < stream["size"].get<uint64_t>()) {
        auto chunk = jsonReply(httpGet(endpoint, "/wick/v1/functions/" + function +
                                                     "/logs?stream=" + encodeQuery(name) +
                                                     "&offset=" + std::to_string(offset)));
        if (!chunk) return fail(chunk.error().message());
        // The stream's records carry their times; data is their messages, and
        // offset is where in the stream to go on from.
        const uint64_t next = (*chunk)["offset"];
        if (next <= offset) break;
        printRecords((*chunk)["data"]);
        offset = next;
      }
    }
    std::fflush(stdout);
    if (!follow) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

std::function<int()> addLogsCommand(CLI::App& app) {
  auto function = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto endpoint = std::make_shared<std::string>(defaultEndpoint());
  CLI::App* cmd = app.add_subcommand("logs", "Print a function's logs");
  cmd->add_option("function", *function, "Function name")->required();
  cmd->add_flag("-f,--follow", *follow, "Keep printing new lines");
  cmd->add_option("--endpoint", *endpoint, kEndpointHelp);
  return [function, follow, endpoint] { return runLogs(*endpoint, *function, *follow); };
}

}  // namespace wick::cli
