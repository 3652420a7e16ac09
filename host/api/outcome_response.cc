#include "host/api/outcome_response.h"

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "host/workers.h"

namespace wick::api {

http::Response toHttp(const functions::Outcome& outcome, const std::string& request_id) {
  if (auto* error = std::get_if<AwsError>(&outcome)) return toResponse(*error, request_id);
  const auto& reply = std::get<functions::Reply>(outcome);
  http::Response response{static_cast<http::beast_http::status>(reply.status), 11};
  response.set("x-amzn-RequestId", request_id);
  if (reply.body) {
    response.set(http::beast_http::field::content_type, "application/json");
    // Logs and user data may hold invalid UTF-8: replace rather than throw.
    response.body() = reply.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return response;
}

http::Response respond(const functions::Outcome& outcome, const http::Request& request,
                       const std::string& request_id) {
  if (auto* error = std::get_if<AwsError>(&outcome))
    logFailure(*error, std::string(http::beast_http::to_string(request.method)), request.path);
  return toHttp(outcome, request_id);
}

boost::asio::awaitable<functions::Outcome> outcomeOnWorkers(
    boost::asio::thread_pool& workers, const http::Request& request,
    std::function<functions::Outcome()> answer) {
  functions::Outcome outcome = co_await onWorkers(workers, [&]() -> functions::Outcome {
    try {
      return answer();
    } catch (const std::exception& error) {
      return internalError(request.path + ": " + error.what());
    }
  });
  co_return outcome;
}

boost::asio::awaitable<http::Response> respondOnWorkers(
    boost::asio::thread_pool& workers, const http::Request& request,
    std::function<functions::Outcome()> answer) {
  const std::string request_id = newUuid();
  functions::Outcome outcome = co_await outcomeOnWorkers(workers, request, std::move(answer));
  co_return respond(outcome, request, request_id);
}

}  // namespace wick::api
