// One CNI plugin call as the spec defines it: the plugin binary found by type
// in CNI_PATH, parameters in CNI_* environment variables, the network
// configuration on stdin, the result (or an error object) on stdout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct PluginCall {
  std::string type;     // plugin binary name
  std::string command;  // ADD, DEL, CHECK, VERSION
  std::string container_id;
  std::string netns_path;  // may be empty for DEL
  std::string ifname;
  std::vector<std::string> plugin_dirs;
  std::string stdin_config;
  std::chrono::milliseconds timeout{30'000};
};

// Runs the plugin; its stdout on exit 0, else an error with the plugin's own
// message (the spec's {"code", "msg", "details"}) or its stderr.
Result<std::string> runCniPlugin(const PluginCall& call);

// The first <dir>/<type> that is an executable file.
Result<std::string> findCniPlugin(const std::string& type, const std::vector<std::string>& dirs);

}  // namespace wick::network
