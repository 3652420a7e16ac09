// How an image function's process starts: the image config's Entrypoint, Cmd,
// WorkingDir and Env, overridden by Lambda's ImageConfig (EntryPoint, Command,
// WorkingDirectory) and merged under the function's variables
// (lambda-contract.md 3.3). USER is ignored, as on Lambda.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wick::images {

// The part of an OCI image config ("config" object) that starts a process.
struct ContainerConfig {
  std::optional<std::vector<std::string>> entrypoint;  // absent and [] differ for overrides
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir;
  std::string user;  // informational: Lambda runs its own user
};

// Lambda's ImageConfig: a field that is present overrides the image's, even
// as an empty list. The two lists override independently (an EntryPoint
// override keeps the image's Cmd unless Command is given too; wick's choice,
// since Lambda's own behaviour is not documented: reference/oci.md 4).
struct ImageConfigOverride {
  std::optional<std::vector<std::string>> entry_point;
  std::optional<std::vector<std::string>> command;
  std::optional<std::string> working_directory;
};

struct RunConfig {
  std::vector<std::string> argv;
  std::string cwd;  // absolute, lexically normalised; still to be resolved inside the rootfs
  std::vector<std::pair<std::string, std::string>> env;  // image ENV, then Lambda's on top
};

// Errors (mapped by the caller to Runtime.InvalidEntrypoint /
// Runtime.InvalidWorkingDir): empty argv, relative or too long working directory.
Result<RunConfig> resolveRunConfig(
    const ContainerConfig& image, const ImageConfigOverride& override_config,
    const std::vector<std::pair<std::string, std::string>>& lambda_env = {});

}  // namespace wick::images
