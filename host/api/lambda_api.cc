#include "host/api/lambda_api.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/encoding.h"
#include "common/ids.h"
#include "common/unique_fd.h"
#include "host/api/aws_try.h"
#include "host/api/outcome_response.h"
#include "host/api/response_stream_api.h"
#include "host/functions/function_name.h"
#include "host/logs/log_reader.h"
#include "host/runtimes/catalog.h"
#include "host/workers.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;

std::string newRequestId() {
  return newUuid();
}

namespace {

// Event invokes take 1 MB as Lambda does now; the deprecated InvokeAsync 256 KB.
constexpr size_t kMaxAsyncPayload = 1 << 20;
constexpr size_t kMaxInvokeAsyncPayload = 256 << 10;

void forgetEventInvokeConfigs(async::EventInvokeConfigs& configs, const std::string& name,
                              const std::string& qualifier) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return;
  const std::string version = !qualifier.empty() ? qualifier : parsed->qualifier;
  if (version.empty()) {
    if (Status forgotten = configs.removeFunction(parsed->name); !forgotten)
      spdlog::error("delete the EventInvokeConfigs of {}: {}", name, forgotten.error().message());
  } else if (auto forgotten = configs.remove(parsed->name, version); !forgotten) {
    spdlog::error("delete the EventInvokeConfig of {}: {}", name, forgotten.error().message());
  }
}

}  // namespace

// The Lambda REST API (lambda-contract.md 4.3) and wick's own routes, one row
// each: an Operation runs on the worker pool, a Direct handler answers on
// the I/O thread.
const RouteTable<LambdaApi::Handler>& LambdaApi::routes() {
  using Self = LambdaApi;
  using Outcome = functions::Outcome;
  static const RouteTable<Handler> table{
      // Functions.
      {verb::post, "/2015-03-31/functions", Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.createFunction(c.request.body);
       }}},
      {verb::get, "/2015-03-31/functions", Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.listFunctions(c.request.queryValue("Marker"),
                                              c.request.queryValue("MaxItems"),
                                              c.request.queryValue("FunctionVersion"));
       }}},
      {verb::get, "/2015-03-31/functions/{FunctionName}",
       Operation{[](Self& self, const Call& c) { return self.getFunction(c); }}},
      {verb::delete_, "/2015-03-31/functions/{FunctionName}",
       Operation{[](Self& self, const Call& c) { return self.deleteFunction(c); }}},
      {verb::get, "/2015-03-31/functions/{FunctionName}/configuration",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.getFunctionConfiguration(c.path["FunctionName"],
                                                         c.request.queryValue("Qualifier"));
       }}},
      {verb::put, "/2015-03-31/functions/{FunctionName}/configuration",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.updateFunctionConfiguration(c.path["FunctionName"], c.request.body);
       }}},
      {verb::put, "/2015-03-31/functions/{FunctionName}/code",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.updateFunctionCode(c.path["FunctionName"], c.request.body);
       }}},
      // Invokes.
      {verb::post, "/2015-03-31/functions/{FunctionName}/invocations",
       Direct{[](Self& self, const Call& c) { return self.invocations(c); }}},
      {verb::post, "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
       Direct{[](Self& self, const Call& c) -> asio::awaitable<http::Response> {
         if (self.invoker_ == nullptr)
           co_return respond(serviceError("wick-agent is not available: streaming invoke is "
                                          "disabled (see wickd's log)"),
                             c.request, c.request_id);
         co_return co_await ResponseStreamApi(*self.invoker_, self.functions_, self.workers_)
             .handle(c.request, c.path["FunctionName"], c.request_id);
       }}},
      {verb::post, "/2014-11-13/functions/{FunctionName}/invoke-async",
       Direct{[](Self& self, const Call& c) -> asio::awaitable<http::Response> {
         if (self.async_ == nullptr)
           co_return respond(unknownOperation(c.request.method, c.request.path, {}), c.request,
                             c.request_id);
         co_return co_await self.async_->accept(c.request, c.path["FunctionName"], c.request_id,
                                                kMaxInvokeAsyncPayload, true);
       }}},
      // Versions and aliases.
      {verb::post, "/2015-03-31/functions/{FunctionName}/versions",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.publishVersion(c.path["FunctionName"], c.request.body);
       }}},
      {verb::get, "/2015-03-31/functions/{FunctionName}/versions",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.listVersionsByFunction(c.path["FunctionName"],
                                                       c.request.queryValue("Marker"),
                                                       c.request.queryValue("MaxItems"));
       }}},
      {verb::post, "/2015-03-31/functions/{FunctionName}/aliases",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.createAlias(c.path["FunctionName"], c.request.body);
       }}},
      {verb::get, "/2015-03-31/functions/{FunctionName}/aliases",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.listAliases(
             c.path["FunctionName"], c.request.queryValue("FunctionVersion"),
             c.request.queryValue("Marker"), c.request.queryValue("MaxItems"));
       }}},
      {verb::get, "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.getAlias(c.path["FunctionName"], c.path["Name"]);
       }}},
      {verb::put, "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.updateAlias(c.path["FunctionName"], c.path["Name"], c.request.body);
       }}},
      {verb::delete_, "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         Outcome deleted = self.functions_.deleteAlias(c.path["FunctionName"], c.path["Name"]);
         if (std::holds_alternative<functions::Reply>(deleted) && self.on_deleted_)
           self.on_deleted_(c.path["FunctionName"], c.path["Name"]);
         return deleted;
       }}},
      // Concurrency, account, tags.
      {verb::put, "/2017-10-31/functions/{FunctionName}/concurrency",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.putFunctionConcurrency(c.path["FunctionName"], c.request.body);
       }}},
      {verb::delete_, "/2017-10-31/functions/{FunctionName}/concurrency",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.deleteFunctionConcurrency(c.path["FunctionName"]);
       }}},
      {verb::get, "/2019-09-30/functions/{FunctionName}/concurrency",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.getFunctionConcurrency(c.path["FunctionName"]);
       }}},
      {verb::get, "/2016-08-19/account-settings", Operation{[](Self& self, const Call&) -> Outcome {
         return self.functions_.getAccountSettings();
       }}},
      {verb::post, "/2017-03-31/tags/{ARN}", Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.tagResource(c.path["ARN"], c.request.body);
       }}},
      {verb::get, "/2017-03-31/tags/{ARN}", Operation{[](Self& self, const Call& c) -> Outcome {
         return self.functions_.listTags(c.path["ARN"]);
       }}},
      {verb::delete_, "/2017-03-31/tags/{ARN}", Operation{[](Self& self, const Call& c) -> Outcome {
         std::vector<std::string> keys;
         auto [first, last] = c.request.query.equal_range("tagKeys");
         for (auto it = first; it != last; ++it)
           keys.push_back(it->second);
         return self.functions_.untagResource(c.path["ARN"], keys);
       }}},
      // Layers.
      {verb::get, "/2018-10-31/layers", Operation{[](Self& self, const Call& c) -> Outcome {
         if (c.request.queryValue("find") == "LayerVersion")
           return self.layers_.getLayerVersionByArn(c.request.queryValue("Arn"));
         return self.layers_.listLayers(c.request.queryValue("CompatibleRuntime"),
                                        c.request.queryValue("CompatibleArchitecture"),
                                        c.request.queryValue("Marker"),
                                        c.request.queryValue("MaxItems"));
       }}},
      {verb::post, "/2018-10-31/layers/{LayerName}/versions",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.layers_.publishLayerVersion(c.path["LayerName"], c.request.body);
       }}},
      {verb::get, "/2018-10-31/layers/{LayerName}/versions",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.layers_.listLayerVersions(
             c.path["LayerName"], c.request.queryValue("CompatibleRuntime"),
             c.request.queryValue("CompatibleArchitecture"), c.request.queryValue("Marker"),
             c.request.queryValue("MaxItems"));
       }}},
      {verb::get, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.layers_.getLayerVersion(c.path["LayerName"], c.path["VersionNumber"]);
       }}},
      {verb::delete_, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.layers_.deleteLayerVersion(c.path["LayerName"], c.path["VersionNumber"]);
       }}},
      // wick's own: code and layer zips (GetFunction's Code.Location), base
      // roots, a function's log streams, images (routed further by ImageApi).
      {verb::get, "/wick/code/{File}",
       Direct{[](Self& self, const Call& c) -> asio::awaitable<http::Response> {
         co_return self.serveZip(self.code_, c.path["File"], c.request_id);
       }}},
      {verb::get, "/wick/layer-content/{File}",
       Direct{[](Self& self, const Call& c) -> asio::awaitable<http::Response> {
         co_return self.serveZip(self.layers_.content(), c.path["File"], c.request_id);
       }}},
      {verb::get, "/wick/v1/runtimes",
       Operation{[](Self& self, const Call& c) { return self.runtimes(c); }}},
      {verb::post, "/wick/v1/runtimes/{Name}/build",
       Operation{[](Self& self, const Call& c) { return self.buildRuntime(c); }}},
      {verb::get, "/wick/v1/functions/{FunctionName}/logs",
       Operation{[](Self& self, const Call& c) -> Outcome {
         return self.logs(c.path["FunctionName"], c.request);
       }}},
      {verb::unknown, "/wick/v1/images/{Path*}",
       Operation{[](Self& self, const Call& c) -> Outcome {
         if (self.images_ == nullptr) return unknownOperation(c.request.method, c.request.path, {});
         return self.images_->handle(c.request, c.path.rest());
       }}},
  };
  return table;
}

template <typename Work>
asio::awaitable<functions::Outcome> LambdaApi::onWorkers(Work work) {
  // Not a coroutine: the work moves into onWorkers' frame, which outlives this call.
  return wick::onWorkers(workers_,
                         [work = std::move(work)]() -> functions::Outcome { return work(); });
}

asio::awaitable<http::Response> LambdaApi::handle(http::Request request) {
  const std::string request_id = newRequestId();
  auto found = routes().find(request.method, splitPath(request.path), request.path);
  if (auto* unknown = std::get_if<AwsError>(&found))
    co_return respond(std::move(*unknown), request, request_id);
  const auto& match = std::get<RouteTable<Handler>::Match>(found);
  const Call call{request, match.params, request_id};
  if (auto* direct = std::get_if<Direct>(&match.handler)) co_return co_await (*direct)(*this, call);
  const Operation operation = std::get<Operation>(match.handler);
  functions::Outcome outcome;
  try {
    outcome = co_await onWorkers([&] { return operation(*this, call); });
  } catch (const std::exception& e) {
    outcome = api::internalError(std::string(request.path) + ": " + e.what());
  }
  co_return respond(std::move(outcome), request, request_id);
}

// Synchronous invokes answer with the function's own bytes: the invoker
// writes the whole response.
asio::awaitable<http::Response> LambdaApi::invocations(const Call& call) {
  const std::string type = call.request.header("X-Amz-Invocation-Type");
  const std::string& name = call.path["FunctionName"];
  if (invoker_ != nullptr && (type.empty() || type == "RequestResponse"))
    co_return co_await invoker_->invoke(call.request, name, call.request_id);
  if (async_ != nullptr && type == "Event")
    co_return co_await async_->accept(call.request, name, call.request_id, kMaxAsyncPayload, false);
  functions::Outcome outcome = co_await onWorkers([&] { return invocationsWithoutInvoker(call); });
  co_return respond(std::move(outcome), call.request, call.request_id);
}

// DryRun, an unknown InvocationType, or an invoke this host cannot run.
functions::Outcome LambdaApi::invocationsWithoutInvoker(const Call& call) {
  const std::string type = call.request.header("X-Amz-Invocation-Type");
  if (type == "DryRun") {
    AWS_TRY(found, functions_.getFunctionConfiguration(call.path["FunctionName"],
                                                       call.request.queryValue("Qualifier")));
    return functions::Reply{204, std::nullopt};
  }
  if (type == "Event")
    return serviceError(
        "wick-agent is not available: asynchronous invoke is disabled (see wickd's log)");
  if (!type.empty() && type != "RequestResponse")
    return validationError(type, "invocationType",
                           "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
  return serviceError(
      "wick-agent is not available: synchronous invoke is disabled (see wickd's log)");
}

functions::Outcome LambdaApi::getFunction(const Call& call) {
  functions::Outcome found =
      functions_.getFunction(call.path["FunctionName"], call.request.queryValue("Qualifier"));
  auto* reply = std::get_if<functions::Reply>(&found);
  if (reply == nullptr || !reply->body || !wick_view_) return found;
  const nlohmann::json& configuration = (*reply->body)["Configuration"];
  (*reply->body)["Wick"] = wick_view_(configuration.value("FunctionName", ""),
                                      configuration.value("Version", "$LATEST"));
  return found;
}

functions::Outcome LambdaApi::deleteFunction(const Call& call) {
  const std::string& name = call.path["FunctionName"];
  const std::string qualifier = call.request.queryValue("Qualifier");
  functions::Outcome deleted = functions_.deleteFunction(name, qualifier);
  if (std::holds_alternative<functions::Reply>(deleted) && event_invoke_configs_ != nullptr)
    forgetEventInvokeConfigs(*event_invoke_configs_, name, qualifier);
  if (std::holds_alternative<functions::Reply>(deleted) && on_deleted_)
    on_deleted_(name, qualifier);
  return deleted;
}

functions::Outcome LambdaApi::logs(const std::string& function_name, const http::Request& request) {
  if (!functions::validFunctionName(function_name))
    return validationError(function_name, "functionName",
                           "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+");
  const std::string stream = request.queryValue("stream");
  if (stream.empty()) {
    auto streams = logs::listStreams(logs_root_, function_name);
    if (!streams) return api::internalError(streams.error().message());
    // A deleted function's log group outlives it (as in CloudWatch); a name that
    // never had a function or a log is an error, not an empty listing. A
    // registry failure is ours: a 500, its cause logged.
    if (streams->empty()) {
      auto function = functions_.getFunctionConfiguration(function_name, "");
      if (auto* error = std::get_if<AwsError>(&function))
        return error->status >= 500 ? *error
                                    : resourceNotFound("Function not found: " + function_name);
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& info : *streams)
      list.push_back({{"name", info.name}, {"size", info.size}});
    return functions::Reply{200, nlohmann::json{{"streams", list}}};
  }
  uint64_t offset = std::strtoull(request.queryValue("offset").c_str(), nullptr, 10);
  auto chunk = logs::readMessages(logs_root_, function_name, stream, offset, 1 << 20);
  // A stream that is not there is the caller's to know; any other failure
  // to read it (and the path it names) is ours.
  if (!chunk)
    return chunk.error().errNo() == ENOENT
               ? resourceNotFound("No log stream '" + stream + "' of " + function_name)
               : internalError("read log stream '" + stream + "' of " + function_name + ": " +
                               chunk.error().message());
  return functions::Reply{200,
                          nlohmann::json{{"data", chunk->text}, {"offset", chunk->next_offset}}};
}

namespace {
nlohmann::json runtimeDocument(const runtimes::BaseStatus& status) {
  nlohmann::json document = {{"Name", status.name},
                             {"State", runtimes::toString(status.state)},
                             {"SizeBytes", status.size_bytes}};
  if (!status.reason.empty()) document["Reason"] = status.reason;
  nlohmann::json aliases = nlohmann::json::array();
  for (const auto& name : runtimes::runtimeNames())
    if (runtimes::findRuntime(name)->base == status.name && name != status.name)
      aliases.push_back(name);
  document["Aliases"] = aliases;
  return document;
}
}  // namespace

// wick's admin API for base roots: GET /wick/v1/runtimes, POST
// /wick/v1/runtimes/{name}/build (answers when the build is over).
functions::Outcome LambdaApi::runtimes(const Call&) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& status : bases_.list())
    list.push_back(runtimeDocument(status));
  return functions::Reply{200, nlohmann::json{{"Runtimes", list}}};
}

functions::Outcome LambdaApi::buildRuntime(const Call& call) {
  const runtimes::RuntimeInfo* runtime = runtimes::findRuntime(call.path["Name"]);
  if (runtime == nullptr)
    return resourceNotFound("No runtime named " + call.path["Name"] + " on this host");
  runtimes::BaseStatus status = bases_.build(runtime->base);
  if (status.state == runtimes::BaseState::kFailed)
    return serviceError("building the " + runtime->base + " base failed: " + status.reason);
  return functions::Reply{200, runtimeDocument(status)};
}

http::Response LambdaApi::serveZip(const functions::CodeStore& store, const std::string& file,
                                   const std::string& request_id) {
  // <64 hex>.zip and nothing else: no path reaches outside the store.
  const bool valid = file.size() == 68 && file.ends_with(".zip") &&
                     file.find_first_not_of("0123456789abcdef") == 64;
  auto content = valid ? readFile(store.zipPath(file.substr(0, 64)))
                       : Result<std::string>(Error("no such code", ENOENT));
  if (!content)
    return toResponse(resourceNotFound("The resource you requested does not exist."), request_id);
  http::Response response{http::beast_http::status::ok, 11};
  response.set(http::beast_http::field::content_type, "application/zip");
  response.set("x-amzn-RequestId", request_id);
  response.body() = std::move(*content);
  return response;
}

}  // namespace wick::api
