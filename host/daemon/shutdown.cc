#include "host/daemon/shutdown.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "host/daemon/systemd.h"

namespace wick::daemon {

namespace {

// In-flight invocations end; housekeeping puts back what it was freezing:
// then every environment is in the pool for destroyIdle.
boost::asio::awaitable<void> stopWhenDrained(boost::asio::io_context& io, ApiParts& parts,
                                             InvokePath& path) {
  boost::asio::steady_timer timer(io);
  auto* async = path.async_invocations.get();
  auto* invoker = path.invoker.get();
  while ((async && !async->stopped()) || !parts.schedule_runner->stopped() ||
         (invoker && (invoker->inFlight() > 0 || !invoker->housekeepingStopped()))) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  io.stop();
}

}  // namespace

std::unique_ptr<boost::asio::signal_set> drainOnSignal(boost::asio::io_context& io,
                                                       Listeners& listeners, ApiParts& parts,
                                                       InvokePath& path) {
  auto signals = std::make_unique<boost::asio::signal_set>(io, SIGTERM, SIGINT);
  signals->async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: draining", signal);
    notifyStopping();
    listeners.api->stopAccepting();
    parts.function_urls->stopAccepting();
    listeners.admin->stopAccepting();
    if (path.async_invocations) path.async_invocations->stop();
    parts.schedule_runner->stop();
    for (auto& gateway : listeners.gateways)
      gateway->stopAccepting();
    if (path.invoker) path.invoker->stop();
    boost::asio::co_spawn(io, stopWhenDrained(io, parts, path), boost::asio::detached);
  });
  return signals;
}

}  // namespace wick::daemon
