// wickd's settings: embedded defaults, then the config file, then flags.
#pragma once

#include <string>

#include "common/error.h"
#include "wickd_config.pb.h"  // generated in the build tree

namespace wick::daemon {

// The defaults every field falls back to (state_dir depends on where wickd runs).
DaemonConfig defaultConfig();
// Reads a protobuf text-format file over `config` (fields it sets win).
Status mergeConfigFile(const std::string& path, DaemonConfig& config);

}  // namespace wick::daemon
