#include "host/api/lambda_api.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/encoding.h"
#include "common/ids.h"
#include "common/unique_fd.h"
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

// Path segments, percent-decoded one by one (a FunctionName ARN arrives with
// its colons as %3A); empty segments (a trailing slash) are dropped.
std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(http::percentDecode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  return segments;
}

bool matches(const std::vector<std::string>& path, std::initializer_list<const char*> pattern) {
  if (path.size() != pattern.size()) return false;
  size_t i = 0;
  for (const char* part : pattern) {
    if (std::string_view(part) != "*" && path[i] != part) return false;
    ++i;
  }
  return true;
}

http::Response toHttp(const functions::Reply& reply, const std::string& request_id) {
  http::Response response{static_cast<http::beast_http::status>(reply.status), 11};
  response.set("x-amzn-RequestId", request_id);
  if (reply.body) {
    response.set(http::beast_http::field::content_type, "application/json");
    // Logs and user data may hold invalid UTF-8: replace rather than throw.
    response.body() = reply.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return response;
}

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

template <typename Operation>
asio::awaitable<functions::Outcome> LambdaApi::onWorkers(Operation operation) {
  // Not a coroutine: the operation moves into onWorkers' frame, which outlives this call.
  return wick::onWorkers(
      workers_, [operation = std::move(operation)]() -> functions::Outcome { return operation(); });
}

asio::awaitable<http::Response> LambdaApi::handle(http::Request request) {
  const std::string request_id = newRequestId();
  const std::vector<std::string> path = splitPath(request.path);
  if (request.method == verb::get && path.size() == 3 && path[0] == "wick" && path[1] == "code")
    co_return serveZip(code_, path[2], request_id);
  if (request.method == verb::get && path.size() == 3 && path[0] == "wick" &&
      path[1] == "layer-content")
    co_return serveZip(layers_.content(), path[2], request_id);
  // Synchronous invokes answer with the function's own bytes: the invoker
  // writes the whole response.
  if (invoker_ != nullptr && request.method == verb::post &&
      matches(path, {"2015-03-31", "functions", "*", "invocations"})) {
    const std::string type = request.header("X-Amz-Invocation-Type");
    if (type.empty() || type == "RequestResponse")
      co_return co_await invoker_->invoke(request, path[2], request_id);
    if (type == "Event" && async_ != nullptr)
      co_return co_await async_->accept(request, path[2], request_id, kMaxAsyncPayload, false);
  }
  if (async_ != nullptr && request.method == verb::post &&
      matches(path, {"2014-11-13", "functions", "*", "invoke-async"}))
    co_return co_await async_->accept(request, path[2], request_id, kMaxInvokeAsyncPayload, true);
  functions::Outcome outcome;
  try {
    outcome = co_await route(request, path);
  } catch (const std::exception& e) {
    outcome = api::internalError(e.what());
  }
  if (auto* error = std::get_if<AwsError>(&outcome)) {
    api::logFailure(*error, std::string(http::beast_http::to_string(request.method)), request.path);
    co_return toResponse(*error, request_id);
  }
  co_return toHttp(std::get<functions::Reply>(outcome), request_id);
}

asio::awaitable<functions::Outcome> LambdaApi::route(const http::Request& request,
                                                     const std::vector<std::string>& path) {
  const verb method = request.method;
  const std::string qualifier = request.queryValue("Qualifier");
  auto& service = functions_;
  const std::string& body = request.body;

  if (matches(path, {"2015-03-31", "functions"})) {
    if (method == verb::post)
      co_return co_await onWorkers([&] { return service.createFunction(body); });
    if (method == verb::get)
      co_return co_await onWorkers([&] {
        return service.listFunctions(request.queryValue("Marker"), request.queryValue("MaxItems"),
                                     request.queryValue("FunctionVersion"));
      });
  }
  if (matches(path, {"2015-03-31", "functions", "*"})) {
    const std::string& name = path[2];
    if (method == verb::get)
      co_return co_await onWorkers([&] { return service.getFunction(name, qualifier); });
    if (method == verb::delete_)
      co_return co_await onWorkers([&] {
        functions::Outcome deleted = service.deleteFunction(name, qualifier);
        if (std::holds_alternative<functions::Reply>(deleted) && event_invoke_configs_ != nullptr)
          forgetEventInvokeConfigs(*event_invoke_configs_, name, qualifier);
        if (std::holds_alternative<functions::Reply>(deleted) && on_deleted_)
          on_deleted_(name, qualifier);
        return deleted;
      });
  }
  if (matches(path, {"2015-03-31", "functions", "*", "configuration"})) {
    const std::string& name = path[2];
    if (method == verb::get)
      co_return co_await onWorkers(
          [&] { return service.getFunctionConfiguration(name, qualifier); });
    if (method == verb::put)
      co_return co_await onWorkers([&] { return service.updateFunctionConfiguration(name, body); });
  }
  if (matches(path, {"2015-03-31", "functions", "*", "code"}) && method == verb::put)
    co_return co_await onWorkers([&] { return service.updateFunctionCode(path[2], body); });
  if (matches(path, {"2015-03-31", "functions", "*", "invocations"}) && method == verb::post) {
    const std::string type = request.header("X-Amz-Invocation-Type");
    const std::string& name = path[2];
    if (type == "DryRun")
      co_return co_await onWorkers([&]() -> functions::Outcome {
        auto found = service.getFunctionConfiguration(name, qualifier);
        if (std::holds_alternative<AwsError>(found)) return found;
        return functions::Reply{204, std::nullopt};
      });
    if (type == "Event")
      co_return serviceError(
          "wick-agent is not available: asynchronous invoke is disabled (see wickd's log)");
    if (!type.empty() && type != "RequestResponse")
      co_return validationError(
          type, "invocationType",
          "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
    co_return serviceError(
        "wick-agent is not available: synchronous invoke is disabled (see wickd's log)");
  }
  if (matches(path, {"2015-03-31", "functions", "*", "versions"})) {
    const std::string& name = path[2];
    if (method == verb::post)
      co_return co_await onWorkers([&] { return service.publishVersion(name, body); });
    if (method == verb::get)
      co_return co_await onWorkers([&] {
        return service.listVersionsByFunction(name, request.queryValue("Marker"),
                                              request.queryValue("MaxItems"));
      });
  }
  if (matches(path, {"2015-03-31", "functions", "*", "aliases"})) {
    const std::string& name = path[2];
    if (method == verb::post)
      co_return co_await onWorkers([&] { return service.createAlias(name, body); });
    if (method == verb::get)
      co_return co_await onWorkers([&] {
        return service.listAliases(name, request.queryValue("FunctionVersion"),
                                   request.queryValue("Marker"), request.queryValue("MaxItems"));
      });
  }
  if (matches(path, {"2015-03-31", "functions", "*", "aliases", "*"})) {
    const std::string& name = path[2];
    const std::string& alias = path[4];
    if (method == verb::get)
      co_return co_await onWorkers([&] { return service.getAlias(name, alias); });
    if (method == verb::put)
      co_return co_await onWorkers([&] { return service.updateAlias(name, alias, body); });
    if (method == verb::delete_)
      co_return co_await onWorkers([&] {
        functions::Outcome deleted = service.deleteAlias(name, alias);
        if (std::holds_alternative<functions::Reply>(deleted) && on_deleted_)
          on_deleted_(name, alias);
        return deleted;
      });
  }
  if (!path.empty() && path[0] == "2018-10-31" && path.size() >= 2 && path[1] == "layers")
    co_return co_await onWorkers([&] { return routeLayers(request, path); });
  if (path.size() >= 3 && path[0] == "wick" && path[1] == "v1" && path[2] == "runtimes")
    co_return co_await onWorkers([&] { return runtimes(request, path); });
  if (matches(path, {"2017-10-31", "functions", "*", "concurrency"})) {
    const std::string& name = path[2];
    if (method == verb::put)
      co_return co_await onWorkers([&] { return service.putFunctionConcurrency(name, body); });
    if (method == verb::delete_)
      co_return co_await onWorkers([&] { return service.deleteFunctionConcurrency(name); });
  }
  if (matches(path, {"2019-09-30", "functions", "*", "concurrency"}) && method == verb::get)
    co_return co_await onWorkers([&] { return service.getFunctionConcurrency(path[2]); });
  if (matches(path, {"2016-08-19", "account-settings"}) && method == verb::get)
    co_return co_await onWorkers([&] { return service.getAccountSettings(); });
  if (matches(path, {"2017-03-31", "tags", "*"})) {
    const std::string& arn = path[2];
    if (method == verb::post)
      co_return co_await onWorkers([&] { return service.tagResource(arn, body); });
    if (method == verb::get) co_return co_await onWorkers([&] { return service.listTags(arn); });
    if (method == verb::delete_) {
      std::vector<std::string> keys;
      auto [first, last] = request.query.equal_range("tagKeys");
      for (auto it = first; it != last; ++it)
        keys.push_back(it->second);
      co_return co_await onWorkers([&] { return service.untagResource(arn, keys); });
    }
  }
  // wick's own API (the `wick` CLI): a function's log streams.
  if (matches(path, {"wick", "v1", "functions", "*", "logs"}) && method == verb::get)
    co_return co_await onWorkers([&] { return logs(path[3], request); });
  // wick's admin API for images (the `wick image` verbs).
  if (images_ != nullptr && path.size() >= 3 && path[0] == "wick" && path[1] == "v1" &&
      path[2] == "images") {
    const std::vector<std::string> rest(path.begin() + 3, path.end());
    co_return co_await onWorkers([&] { return images_->handle(request, rest); });
  }
  co_return AwsError{404, "UnknownOperationException",
                     "Unknown operation: " + std::string(http::beast_http::to_string(method)) +
                         " " + request.path};
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
    // never had a function or a log is an error, not an empty listing.
    if (streams->empty() &&
        std::holds_alternative<api::AwsError>(functions_.getFunction(function_name, "")))
      return resourceNotFound("Function not found: " + function_name);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& info : *streams)
      list.push_back({{"name", info.name}, {"size", info.size}});
    return functions::Reply{200, nlohmann::json{{"streams", list}}};
  }
  uint64_t offset = std::strtoull(request.queryValue("offset").c_str(), nullptr, 10);
  auto chunk = logs::readMessages(logs_root_, function_name, stream, offset, 1 << 20);
  if (!chunk) return resourceNotFound(chunk.error().message());
  return functions::Reply{200,
                          nlohmann::json{{"data", chunk->text}, {"offset", chunk->next_offset}}};
}

functions::Outcome LambdaApi::routeLayers(const http::Request& request,
                                          const std::vector<std::string>& path) {
  const verb method = request.method;
  const std::string runtime = request.queryValue("CompatibleRuntime");
  const std::string architecture = request.queryValue("CompatibleArchitecture");
  if (matches(path, {"2018-10-31", "layers"}) && method == verb::get) {
    if (request.queryValue("find") == "LayerVersion")
      return layers_.getLayerVersionByArn(request.queryValue("Arn"));
    return layers_.listLayers(runtime, architecture, request.queryValue("Marker"),
                              request.queryValue("MaxItems"));
  }
  if (matches(path, {"2018-10-31", "layers", "*", "versions"})) {
    if (method == verb::post) return layers_.publishLayerVersion(path[2], request.body);
    if (method == verb::get)
      return layers_.listLayerVersions(path[2], runtime, architecture, request.queryValue("Marker"),
                                       request.queryValue("MaxItems"));
  }
  if (matches(path, {"2018-10-31", "layers", "*", "versions", "*"})) {
    if (method == verb::get) return layers_.getLayerVersion(path[2], path[4]);
    if (method == verb::delete_) return layers_.deleteLayerVersion(path[2], path[4]);
  }
  return AwsError{404, "UnknownOperationException",
                  "Unknown operation: " + std::string(http::beast_http::to_string(method)) + " " +
                      request.path};
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
functions::Outcome LambdaApi::runtimes(const http::Request& request,
                                       const std::vector<std::string>& path) {
  if (path.size() == 3 && request.method == verb::get) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& status : bases_.list())
      list.push_back(runtimeDocument(status));
    return functions::Reply{200, nlohmann::json{{"Runtimes", list}}};
  }
  if (path.size() == 5 && path[4] == "build" && request.method == verb::post) {
    const runtimes::RuntimeInfo* runtime = runtimes::findRuntime(path[3]);
    if (runtime == nullptr)
      return resourceNotFound("No runtime named " + path[3] + " on this host");
    runtimes::BaseStatus status = bases_.build(runtime->base);
    if (status.state == runtimes::BaseState::kFailed)
      return serviceError("building the " + runtime->base + " base failed: " + status.reason);
    return functions::Reply{200, runtimeDocument(status)};
  }
  return AwsError{404, "UnknownOperationException",
                  "Unknown operation: " + std::string(http::beast_http::to_string(request.method)) +
                      " " + request.path};
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
