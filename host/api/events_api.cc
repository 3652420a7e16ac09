#include "host/api/events_api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "host/api/aws_error.h"
#include "host/api/outcome_response.h"
#include "host/workers.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;
using nlohmann::json;

namespace {

constexpr std::string_view kPrefix = "/wick/v1/events";

http::Response reply(const json& body) {
  http::Response response{http::beast_http::status::ok, 11};
  response.set(http::beast_http::field::content_type, "application/json");
  response.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

json queuedDocument(const async::AsyncEvent& event, int64_t now) {
  return {{"Id", event.id},
          {"Function", event.function},
          {"Qualifier", event.qualifier},
          {"AgeMs", now - event.enqueued_ms},
          {"Attempts", event.function_attempts},
          {"Throttles", event.throttles},
          {"NextAttemptInMs", std::max<int64_t>(0, event.next_attempt_ms - now)},
          {"LastError", event.last_error}};
}

json failedDocument(const async::FailedEvent& failed) {
  return {{"Id", failed.event.id},
          {"Function", failed.event.function},
          {"Qualifier", failed.event.qualifier},
          {"Condition", failed.condition},
          {"Attempts", failed.event.function_attempts},
          {"FailedAt", failed.failed_ms},
          {"Reason", failed.reason},
          {"LastError", failed.event.last_error},
          {"Record", json::parse(failed.record, nullptr, false)}};
}

json deliveringDocument(const async::PendingDelivery& delivery, int64_t now) {
  return {{"Id", delivery.failed.event.id},
          {"Function", delivery.failed.event.function},
          {"Target", delivery.message.target_arn},
          {"DeadLetter", delivery.message.dead_letter},
          {"Condition", delivery.failed.condition},
          {"Tries", delivery.attempts},
          {"NextTryInMs", std::max<int64_t>(0, delivery.next_attempt_ms - now)},
          {"LastError", delivery.last_error}};
}

}  // namespace

bool EventsApi::claims(const http::Request& request) {
  return request.path == kPrefix || request.path.starts_with(std::string(kPrefix) + "/");
}

asio::awaitable<http::Response> EventsApi::handle(http::Request request) {
  co_return co_await onWorkers(workers_, [&] { return answer(request); });
}

http::Response EventsApi::answer(const http::Request& request) {
  const std::string request_id = newUuid();
  const std::string function = request.queryValue("function");
  const std::string rest = request.path.substr(kPrefix.size());
  // A store failure: a 500 whose cause the log sees, not the client.
  auto failure = [&](const AwsError& error) { return respond(error, request, request_id); };
  if (rest.empty() && request.method == verb::get) {
    auto queued = store_.queued(function);
    auto failed = store_.failed(function);
    auto delivering = store_.deliveries(function);
    if (!queued || !failed || !delivering) {
      const Error& cause = !queued ? queued.error() : !failed ? failed.error() : delivering.error();
      return failure(internalError("list events: " + cause.message()));
    }
    const int64_t now = epochMillis();
    json body = {
        {"Queued", json::array()}, {"Delivering", json::array()}, {"Failed", json::array()}};
    for (const auto& delivery : *delivering)
      body["Delivering"].push_back(deliveringDocument(delivery, now));
    for (const auto& event : *queued)
      body["Queued"].push_back(queuedDocument(event, now));
    for (const auto& event : *failed)
      body["Failed"].push_back(failedDocument(event));
    return reply(body);
  }
  if (rest.empty() && request.method == verb::delete_) {
    if (function.empty())
      return toResponse(invalidParameter("purge needs ?function=NAME"), request_id);
    auto purged = store_.purge(function);
    if (!purged) return failure(internalError(purged.error().message()));
    return reply({{"Purged", *purged}});
  }
  if (rest.ends_with("/replay") && request.method == verb::post) {
    const std::string id = http::percentDecode(rest.substr(1, rest.size() - 1 - 7));
    auto replayed = store_.replay(id, epochMillis());
    if (!replayed) return failure(internalError(replayed.error().message()));
    if (!*replayed) return toResponse(resourceNotFound("No failed event " + id), request_id);
    if (invocations_ != nullptr) invocations_->wake();
    return reply({{"Replayed", id}});
  }
  return toResponse(AwsError{404, "UnknownOperationException", "Unknown operation " + request.path},
                    request_id);
}

}  // namespace wick::api
