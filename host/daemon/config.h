// wickd's settings: embedded defaults, then the config file, then flags.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "wickd_config.pb.h"  // generated in the build tree

namespace wick::daemon {

// Every sandbox's host identity of its own (see host_id_first in the proto).
inline constexpr uint32_t kDefaultHostIdFirst = 0x70000000;
inline constexpr uint32_t kDefaultHostIdSlots = 16384;

// The defaults every field falls back to (state_dir depends on where wickd runs).
DaemonConfig defaultConfig();
// Reads a protobuf text-format file over `config` (fields it sets win).
Status mergeConfigFile(const std::string& path, DaemonConfig& config);

}  // namespace wick::daemon
