// Routes the Lambda REST API (../shared/reference/lambda-contract.md 4.3) to
// the services. Control-plane work runs on the worker pool; the I/O threads
// only parse, route and write.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "host/api/image_api.h"
#include "host/api/route_table.h"
#include "host/async/async_invocations.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/invoke/invoker.h"

namespace wick::api {

class LambdaApi {
 public:
  LambdaApi(functions::FunctionService& functions, functions::LayerService& layers,
            runtimes::BaseStore& bases, const functions::CodeStore& code, std::string logs_root,
            boost::asio::thread_pool& workers, invoke::Invoker* invoker = nullptr)
      : functions_(functions),
        layers_(layers),
        bases_(bases),
        code_(code),
        logs_root_(std::move(logs_root)),
        workers_(workers),
        invoker_(invoker) {}

  boost::asio::awaitable<http::Response> handle(http::Request request);
  // wick's admin API for images (/wick/v1/images...); none: those answer 404.
  void setImageApi(ImageApi* images) { images_ = images; }
  // Invoke with InvocationType Event and InvokeAsync; none: those are refused.
  void setAsyncInvocations(async::AsyncInvocations* async) { async_ = async; }
  // A deleted function (or version) takes its EventInvokeConfigs with it.
  void setEventInvokeConfigs(async::EventInvokeConfigs* configs) {
    event_invoke_configs_ = configs;
  }
  // Told (on a worker) of each deleted function (qualifier "") or version or
  // alias, so that what hangs on it (function URLs, policies) goes too.
  using DeletionListener =
      std::function<void(const std::string& name, const std::string& qualifier)>;
  void setDeletionListener(DeletionListener listener) { on_deleted_ = std::move(listener); }
  // wick's own view of a function version (the operator's tuning), added to
  // GetFunction's reply as "Wick"; SDKs ignore a member they do not model.
  using WickView =
      std::function<nlohmann::json(const std::string& name, const std::string& version)>;
  void setWickView(WickView view) { wick_view_ = std::move(view); }

 private:
  // What a route's handler is given.
  struct Call {
    const http::Request& request;
    const PathParams& path;
    const std::string& request_id;
  };
  // A control-plane operation: blocking, run on the worker pool.
  using Operation = functions::Outcome (*)(LambdaApi&, const Call&);
  // An answer written on the I/O thread (invokes, zips).
  using Direct = boost::asio::awaitable<http::Response> (*)(LambdaApi&, const Call&);
  using Handler = std::variant<Operation, Direct>;
  static const RouteTable<Handler>& routes();
  template <typename Work>
  boost::asio::awaitable<functions::Outcome> onWorkers(Work work);

  boost::asio::awaitable<http::Response> invocations(const Call& call);
  functions::Outcome invocationsWithoutInvoker(const Call& call);
  functions::Outcome runtimes(const Call& call);
  functions::Outcome buildRuntime(const Call& call);
  functions::Outcome deleteFunction(const Call& call);
  functions::Outcome getFunction(const Call& call);
  http::Response serveZip(const functions::CodeStore& store, const std::string& file,
                          const std::string& request_id);
  functions::Outcome logs(const std::string& function_name, const http::Request& request);

  functions::FunctionService& functions_;
  functions::LayerService& layers_;
  runtimes::BaseStore& bases_;
  const functions::CodeStore& code_;
  std::string logs_root_;
  boost::asio::thread_pool& workers_;
  invoke::Invoker* invoker_;  // null when wick-agent is unavailable
  ImageApi* images_ = nullptr;
  async::AsyncInvocations* async_ = nullptr;
  async::EventInvokeConfigs* event_invoke_configs_ = nullptr;
  DeletionListener on_deleted_;
  WickView wick_view_;
};

std::string newRequestId();

}  // namespace wick::api
