// The verbs of the `wick` CLI, each in its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace wick::cli {

// Adds `wick run` to the app; the returned callable runs it once parsed and
// returns the process exit status.
std::function<int()> addRunCommand(CLI::App& app);
std::function<int()> addLogsCommand(CLI::App& app);
std::function<int()> addImageCommand(CLI::App& app);
std::function<int()> addRuntimesCommand(CLI::App& app);
std::function<int()> addEventsCommand(CLI::App& app);
std::function<int()> addSandboxesCommand(CLI::App& app);
std::function<int()> addTopCommand(CLI::App& app);
std::function<int()> addTuneCommand(CLI::App& app);

}  // namespace wick::cli
