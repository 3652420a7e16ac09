// wickd: the Lambda control plane and invoke path, as one root daemon.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "host/api/lambda_api.h"
#include "host/daemon/config.h"
#include "host/functions/code_store.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/registry/function_registry.h"

namespace {

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wick;
  CLI::App app{"wickd: a self-hosted, Lambda-compatible function host"};
  std::string listen, state_dir, config_file, log_level = "info";
  app.add_option("--listen", listen, "HTTP listen address (default 127.0.0.1:3001)");
  app.add_option("--state-dir", state_dir,
                 "State directory (default ./var/wick in a checkout, else /var/lib/wick)");
  app.add_option("--config", config_file,
                 "Config file, protobuf text format (see host/daemon/wickd.conf.example)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  daemon::DaemonConfig config = daemon::defaultConfig();
  if (!config_file.empty())
    if (auto merged = daemon::mergeConfigFile(config_file, config); !merged)
      return fail(merged.error().message());
  if (!listen.empty()) config.set_listen(listen);
  if (!state_dir.empty()) config.set_state_dir(state_dir);

  std::error_code ec;
  std::filesystem::create_directories(config.state_dir(), ec);
  if (ec) return fail("create state dir " + config.state_dir() + ": " + ec.message());
  ::chmod(config.state_dir().c_str(), 0700);

  auto registry = registry::FunctionRegistry::open(config.state_dir() + "/wick.db");
  if (!registry) return fail(registry.error().message());
  functions::CodeStore code(config.state_dir() + "/code");
  if (auto prepared = code.prepare(); !prepared) return fail(prepared.error().message());

  boost::asio::io_context io;
  boost::asio::thread_pool workers(std::max<uint32_t>(config.worker_threads(), 1));
  functions::ServiceSettings settings;
  settings.scope = {config.region(), config.account_id()};
  settings.account_concurrency = config.account_concurrency();
  functions::FunctionService service(*registry, code, settings);
  api::LambdaApi lambda_api(service, code, config.state_dir() + "/logs", workers);
  http::Server server(
      io, [&lambda_api](http::Request request) { return lambda_api.handle(std::move(request)); });
  if (auto listening = server.listen(config.listen()); !listening)
    return fail(listening.error().message());
  // Code.Location of GetFunction points back at us.
  const std::string host = config.listen().substr(0, config.listen().rfind(':'));
  const_cast<functions::ServiceSettings&>(service.settings()).code_url_base =
      "http://" + host + ":" + std::to_string(server.port()) + "/wick/code";

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: shutting down", signal);
    server.stopAccepting();
    io.stop();
  });
  spdlog::info("wickd listening on {}:{} (state {})", host, server.port(), config.state_dir());

  std::vector<std::thread> threads;
  for (uint32_t i = 1; i < std::max<uint32_t>(config.io_threads(), 1); ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads)
    thread.join();
  workers.join();
  spdlog::info("wickd stopped");
  return 0;
}
