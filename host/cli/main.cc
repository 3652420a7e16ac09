// wick: the operator CLI.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "host/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"wick: a self-hosted, Lambda-compatible function host", "wick"};
  app.require_subcommand(1);
  app.allow_extras();  // `wick run` takes its command from what follows its flags
  auto run = wick::cli::addRunCommand(app);
  auto logs = wick::cli::addLogsCommand(app);
  auto image = wick::cli::addImageCommand(app);
  auto runtimes = wick::cli::addRuntimesCommand(app);
  auto events = wick::cli::addEventsCommand(app);
  auto sandboxes = wick::cli::addSandboxesCommand(app);
  auto top = wick::cli::addTopCommand(app);
  auto tune = wick::cli::addTuneCommand(app);
  if (argc < 2) {  // no verb: say what there is, as git and systemctl do
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wick: %s\n", e.what());
    return 2;
  }
  if (app.got_subcommand("run")) return run();
  if (app.got_subcommand("logs")) return logs();
  if (app.got_subcommand("image")) return image();
  if (app.got_subcommand("runtimes")) return runtimes();
  if (app.got_subcommand("events")) return events();
  if (app.got_subcommand("sandboxes")) return sandboxes();
  if (app.got_subcommand("top")) return top();
  if (app.got_subcommand("tune")) return tune();
  return 2;
}
