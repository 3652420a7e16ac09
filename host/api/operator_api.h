// wick's operator API (what `wick sandboxes`, `wick top` and `wick tune` call):
//   GET    /wick/v1/sandboxes                      {"Sandboxes":[...]} every live one, from its
//   cgroup DELETE /wick/v1/sandboxes/{id}                 retire one (idle: destroyed; busy:
//   killed) GET    /wick/v1/tuning                         {"Tunings":[...]} GET
//   /wick/v1/tuning/{fn}[?Qualifier=V]      {"Tuning":{stored},"Effective":{...}} PUT|POST
//   /wick/v1/tuning/{fn}[?Qualifier=V]    merge {"CpuPeriodUs":10000,...}; applied live DELETE
//   /wick/v1/tuning/{fn}[?Qualifier=V]      forget it; applied live
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "host/http/server.h"
#include "host/invoke/invoker.h"
#include "host/metrics/metrics.h"
#include "host/operator/tuning_store.h"

namespace wick::api {

class OperatorApi {
 public:
  // `invoker` may be null (no agent: no sandboxes).
  OperatorApi(invoke::Invoker* invoker, ops::TuningStore& tunings,
              boost::asio::thread_pool& workers)
      : invoker_(invoker), tunings_(tunings), workers_(workers) {}

  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);
  http::Response answer(const http::Request& request);  // blocking

  // Per-sandbox gauges from the cgroups (wick_sandbox_*), at scrape time.
  void addMetrics(metrics::Metrics& metrics);

  // Every live sandbox (blocking: reads each cgroup).
  nlohmann::json sandboxes() const;

 private:
  http::Response tuning(const http::Request& request, const std::string& request_id,
                        const std::string& rest);
  // Writes the effective limits of `function` (one version, or all) into its
  // live sandboxes; returns how many, and what could not be applied.
  std::pair<int, std::vector<std::string>> applyLive(const ops::TuningTarget& target);

  invoke::Invoker* invoker_;
  ops::TuningStore& tunings_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
