// wickd's command line over its config file: the configuration main starts from.
#pragma once

#include <string>
#include <variant>

#include "common/error.h"
#include "host/daemon/config.h"

namespace wick::daemon {

struct StartOptions {
  DaemonConfig config;
  std::string config_file;     // "": none; what SIGHUP reads again
  std::string log_level_flag;  // --log-level when given: it wins over the file, also on reload
};

// The defaults, then the config file, then the flags; the log level set and
// the journal used when there is one; sandboxes placed under wickd's own
// cgroup when it is delegated. An int: exit with it (--help, a bad flag, a
// config that does not load; logged).
std::variant<StartOptions, int> readCommandLine(int argc, char** argv);

// The config file read again over the defaults (SIGHUP).
Result<DaemonConfig> rereadConfigFile(const std::string& config_file);

// The state directory, made if missing, root's alone (0700).
Status makeStateDir(const DaemonConfig& config);

}  // namespace wick::daemon
