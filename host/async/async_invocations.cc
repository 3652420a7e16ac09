#include "host/async/async_invocations.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "host/api/aws_error.h"
#include "host/functions/function_name.h"
#include "host/invoke/payload_json.h"
#include "host/workers.h"

namespace wick::async {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string isoMillis(int64_t ms) {
  const std::time_t seconds = ms / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
  return text;
}

// The largest event an async Invoke takes (lambda_api.cc's kMaxAsyncPayload).
constexpr size_t kMaxRecordEvent = 1 << 20;

http::Response accepted(const std::string& request_id, bool invoke_async) {
  http::Response response{http::beast_http::status::accepted, 11};
  response.set("x-amzn-RequestId", request_id);
  if (invoke_async) {  // InvokeAsync's Status is bound to the status code; the CLI prints it
    response.set(http::beast_http::field::content_type, "application/json");
    response.body() = R"({"Status":202})";
  }
  return response;
}

// What one attempt came to, from the answer of the synchronous invoke path.
AttemptOutcome outcomeOf(const http::Response& response) {
  const unsigned status = response.result_int();
  if (status == 200)
    return response.find("X-Amz-Function-Error") == response.end() ? AttemptOutcome::kSuccess
                                                                   : AttemptOutcome::kFunctionError;
  if (status == 429) return AttemptOutcome::kThrottled;
  return AttemptOutcome::kSystemError;
}

std::string summary(const http::Response& response) {
  std::string text = std::to_string(response.result_int());
  if (auto error = response.find("X-Amz-Function-Error"); error != response.end())
    text += " " + std::string(error->value());
  else if (auto type = response.find("x-amzn-ErrorType"); type != response.end())
    text += " " + std::string(type->value());
  std::string body = response.body().substr(0, 200);
  return body.empty() ? text : text + ": " + body;
}

}  // namespace

std::string invocationRecord(const AsyncEvent& event, Condition condition,
                             const std::string& function_arn, const http::Response* last) {
  json record = {{"version", "1.0"},
                 {"timestamp", isoMillis(epochMillis())},
                 {"requestContext",
                  {{"requestId", event.id},
                   {"functionArn", function_arn},
                   {"condition", toString(condition)},
                   {"approximateInvokeCount", event.function_attempts}}},
                 {"requestPayload", invoke::embeddableJson(event.payload)}};
  // Only what ran has a response (never a ZeroReservedConcurrency record).
  if (last != nullptr && event.function_attempts > 0) {
    json context = {{"statusCode", last->result_int()}};
    if (auto version = last->find("X-Amz-Executed-Version"); version != last->end())
      context["executedVersion"] = std::string(version->value());
    if (auto error = last->find("X-Amz-Function-Error"); error != last->end())
      context["functionError"] = std::string(error->value());
    record["responseContext"] = context;
    record["responsePayload"] = invoke::embeddableJson(last->body());
  }
  return record.dump(-1, ' ', false, json::error_handler_t::replace);
}

AsyncInvocations::AsyncInvocations(EventStore& store, EventInvokeConfigs& configs,
                                   functions::FunctionService& functions, invoke::Invoker& invoker,
                                   asio::thread_pool& workers, asio::any_io_executor io,
                                   AsyncSettings settings)
    : store_(store),
      intake_(store),
      configs_(configs),
      functions_(functions),
      invoker_(invoker),
      workers_(workers),
      io_(io),
      strand_(asio::make_strand(io)),
      wake_(strand_),
      settings_(std::move(settings)),
      deliveries_(store, nullptr, workers, io) {}

template <typename Work>
asio::awaitable<std::invoke_result_t<Work>> AsyncInvocations::onWorkers(Work work) {
  return wick::onWorkers(workers_, std::move(work));
}

void AsyncInvocations::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    wake_.cancel();
  });
}

void AsyncInvocations::start() {
  asio::co_spawn(strand_, dispatch(), asio::detached);
  deliveries_.start();
}

void AsyncInvocations::stop() {
  stopping_ = true;
  wake();
  deliveries_.stop();
}

asio::awaitable<http::Response> AsyncInvocations::accept(const http::Request& request,
                                                         const std::string& function_name,
                                                         const std::string& request_id,
                                                         size_t max_payload, bool invoke_async) {
  if (request.body.size() > max_payload)
    co_return api::toResponse(
        api::requestTooLarge("Request must be smaller than " + std::to_string(max_payload) +
                             " bytes for the InvokeFunction operation"),
        request_id);
  AsyncEvent event;
  event.payload = request.body.empty() ? std::string("{}") : request.body;
  if (!invoke::isJson(event.payload))
    co_return api::toResponse(
        api::invalidRequestContent(
            "Could not parse request body into json: Could not parse payload into json"),
        request_id);
  const std::string qualifier = request.queryValue("Qualifier");
  auto resolved = co_await onWorkers([&] { return functions_.resolve(function_name, qualifier); });
  if (auto* error = std::get_if<api::AwsError>(&resolved)) {
    api::logFailure(*error, "POST", request.path);  // a registry failure is ours: logged
    co_return api::toResponse(*error, request_id);
  }
  auto named = functions::parseFunctionName(function_name);
  event.id = request_id;
  event.function = std::get<functions::FunctionService::Cached>(resolved).record->name;
  event.qualifier = qualifier.empty() && named ? named->qualifier : qualifier;
  event.enqueued_ms = event.next_attempt_ms = epochMillis();
  // The 202 promises the event outlives a crash: it is on disk first.
  Status stored = co_await intake_.commit(event);
  if (!stored) {
    spdlog::error("async invoke of {}: {}", event.function, stored.error().message());
    co_return api::toResponse(api::serviceError("the event could not be queued"), request_id);
  }
  if (metrics_) metrics_->asyncEventReceived(event.function);
  wake();
  co_return accepted(request_id, invoke_async);
}

asio::awaitable<void> AsyncInvocations::dispatch() {
  while (!stopping_) {
    const size_t room =
        settings_.max_in_flight - std::min(settings_.max_in_flight, attempts_.load());
    if (room > 0) {
      const int64_t now = epochMillis();
      auto due = co_await onWorkers([&] {
        return store_.takeDue(now, room, now + std::chrono::milliseconds(settings_.lease).count());
      });
      if (!due) spdlog::error("async dispatch: {}", due.error().message());
      for (AsyncEvent& event : due ? *due : std::vector<AsyncEvent>()) {
        ++attempts_;
        asio::co_spawn(io_, attempt(std::move(event)), asio::detached);
      }
      if (due && due->size() == room) continue;  // more may be due
    }
    if (woken_) {
      woken_ = false;
      continue;
    }
    // Until the next event is due (at most a second: a wake may come from
    // another daemon's queue in a shared store), or until woken.
    auto next = co_await onWorkers([&] { return store_.nextDue(); });
    int64_t wait_ms = 1000;
    if (next && *next) wait_ms = std::clamp<int64_t>(**next - epochMillis(), 0, 1000);
    if (woken_ || wait_ms == 0) {
      woken_ = false;
      continue;
    }
    wake_.expires_after(std::chrono::milliseconds(wait_ms));
    boost::system::error_code cancelled;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
  }
  dispatch_stopped_ = true;
}

asio::awaitable<void> AsyncInvocations::attempt(AsyncEvent event) {
  struct Settled {
    AsyncInvocations& self;
    ~Settled() {
      --self.attempts_;
      self.wake();
    }
  } settled{*this};

  auto resolved =
      co_await onWorkers([&] { return functions_.resolve(event.function, event.qualifier); });
  const std::string qualifier = event.qualifier.empty() ? "$LATEST" : event.qualifier;
  const std::string arn =
      functions::functionArn(functions_.settings().scope, event.function, qualifier);
  // The qualifier's EventInvokeConfig (none: Lambda's defaults, no destinations).
  auto found = co_await onWorkers([&] { return configs_.get(event.function, qualifier); });
  if (!found) spdlog::error("async event {}: {}", event.id, found.error().message());
  const EventInvokeConfig config = found && *found ? **found : EventInvokeConfig{};
  if (auto* error = std::get_if<api::AwsError>(&resolved)) {
    // A schedule's invoke that failed: the schedule's retry policy decides.
    if (auto origin = parseOrigin(event.origin)) {
      Status handled =
          co_await onWorkers([&] { return scheduledInvokeFailed(event, *origin, *error, arn); });
      if (!handled)
        spdlog::error("scheduled event {} of {}: {}", event.id, event.function,
                      handled.error().message());
      co_return;
    }
    // The function (or its alias) is gone: nothing will ever run the event.
    event.last_error = error->type + ": " + error->message;
    if (error->status == 404) {
      (void)co_await onWorkers(
          [&] { return finish(event, Condition::kRetriesExhausted, nullptr, arn, config); });
      co_return;
    }
  } else if (std::get<functions::FunctionService::Cached>(resolved).record->reserved_concurrency ==
             0) {
    // As Lambda: no attempt at all, straight to failure handling.
    (void)co_await onWorkers(
        [&] { return finish(event, Condition::kZeroReservedConcurrency, nullptr, arn, config); });
    co_return;
  }

  // An event that waited in the queue past its maximum age (wickd was down,
  // or the queue ran behind) is given up without an attempt, as on Lambda.
  if (std::holds_alternative<functions::FunctionService::Cached>(resolved) &&
      epochMillis() > event.enqueued_ms + config.errorHandling().maximum_event_age_seconds * 1000) {
    (void)co_await onWorkers(
        [&] { return finish(event, Condition::kEventAgeExceeded, nullptr, arn, config); });
    co_return;
  }

  http::Response response{http::beast_http::status::service_unavailable, 11};
  if (std::holds_alternative<functions::FunctionService::Cached>(resolved)) {
    http::Request request;
    request.method = http::beast_http::verb::post;
    request.path = "/2015-03-31/functions/" + event.function + "/invocations";
    if (!event.qualifier.empty()) request.query.emplace("Qualifier", event.qualifier);
    request.body = event.payload;
    if (metrics_)
      metrics_->asyncEventAttempted(event.function,
                                    static_cast<double>(epochMillis() - event.enqueued_ms));
    response = co_await invoker_.invoke(request, event.function, event.id);
  }
  // A schedule's invoke refused because the function cannot run now (Pending
  // or Failed: Lambda's Invoke fails with ResourceConflictException) never
  // got into the function's queue on AWS: the schedule's RetryPolicy decides.
  if (auto origin = parseOrigin(event.origin);
      origin && event.function_attempts == 0 && response.result_int() == 409) {
    json body = json::parse(response.body(), nullptr, false);
    const std::string message =
        body.is_object() ? body.value("message", body.value("Message", "")) : "";
    api::AwsError refused{409, "ResourceConflictException", message};
    if (auto type = response.find("x-amzn-ErrorType"); type != response.end())
      refused.type = std::string(type->value());
    Status handled =
        co_await onWorkers([&] { return scheduledInvokeFailed(event, *origin, refused, arn); });
    if (!handled)
      spdlog::error("scheduled event {} of {}: {}", event.id, event.function,
                    handled.error().message());
    co_return;
  }
  const AttemptOutcome outcome = outcomeOf(response);
  if (outcome == AttemptOutcome::kSuccess || outcome == AttemptOutcome::kFunctionError) {
    ++event.function_attempts;
    event.throttles = 0;
  } else {
    ++event.throttles;
  }
  event.last_error = outcome == AttemptOutcome::kSuccess ? "" : summary(response);
  const Decision decision =
      decide(config.errorHandling(), settings_.delays,
             {event.enqueued_ms, event.function_attempts, event.throttles}, outcome, epochMillis());
  Status settled_in_store = co_await onWorkers([&]() -> Status {
    if (decision.finished) return finish(event, decision.condition, &response, arn, config);
    event.next_attempt_ms = decision.next_attempt_ms;
    return store_.reschedule(event);
  });
  if (!settled_in_store)
    spdlog::error("async event {} of {}: {}", event.id, event.function,
                  settled_in_store.error().message());
}

Status AsyncInvocations::finish(const AsyncEvent& event, Condition condition,
                                const http::Response* last, const std::string& function_arn,
                                const EventInvokeConfig& config) {
  const bool success = condition == Condition::kSuccess;
  const std::string& destination = success ? config.on_success : config.on_failure;
  if (success && destination.empty()) return store_.remove(event.id);
  if (!success && metrics_) metrics_->asyncEventDropped(event.function, toString(condition));
  spdlog::log(success ? spdlog::level::debug : spdlog::level::warn,
              "async event {} of {} ended ({}, {} attempts): {}", event.id, event.function,
              toString(condition), event.function_attempts, event.last_error);
  FailedEvent failed{event, toString(condition),
                     invocationRecord(event, condition, function_arn, last), "", epochMillis()};
  // On failure the DeadLetterConfig and the OnFailure destination both get
  // theirs, independently, as on Lambda; what cannot be handed on is kept.
  const std::string dead_letter = success ? "" : deadLetterTarget(event);
  EventEnd end{event.id, {}, {}, std::nullopt};
  std::vector<std::string> missed;
  if (destination.empty() && dead_letter.empty()) missed.push_back("no OnFailure destination");
  if (!destination.empty())
    if (Status handed = handOnRecord(destination, function_arn, success, failed, end); !handed)
      missed.push_back(handed.error().message());
  if (!dead_letter.empty())
    if (Status handed = handOnDeadLetter(dead_letter, last, failed, end); !handed)
      missed.push_back("DeadLetterConfig: " + handed.error().message());
  if (!missed.empty()) {
    for (const std::string& why : missed)
      failed.reason += (failed.reason.empty() ? "" : "; ") + why;
    if (!destination.empty() || !dead_letter.empty())
      spdlog::warn("async event {}: {}", event.id, failed.reason);
    end.failed = failed;
  }
  WICK_TRY(store_.end(end), "end async event " + event.id);
  if (!end.enqueue.empty()) wake();
  if (!end.deliveries.empty()) deliveries_.wake();
  return {};
}

Status AsyncInvocations::handOnRecord(const std::string& destination,
                                      const std::string& function_arn, bool success,
                                      const FailedEvent& failed, EventEnd& end) {
  auto native = recordForFunction(destination, failed.record);
  if (!native) return Error("delivery to " + destination + " failed: " + native.error().message());
  if (*native) {
    end.enqueue.push_back(std::move(**native));
    return {};
  }
  if (delivery_ == nullptr)
    return Error("destination " + destination +
                 " is not a function of this wickd and no destination endpoints are configured");
  PendingDelivery pending{
      newUuid(),     {destination, false, function_arn, success, failed.record, {}},
      failed,        0,
      epochMillis(), ""};
  WICK_TRY(delivery_->check(pending.message), "destination " + destination);
  end.deliveries.push_back(std::move(pending));
  return {};
}

Status AsyncInvocations::scheduledInvokeFailed(AsyncEvent& event, const ScheduleOrigin& origin,
                                               const api::AwsError& error,
                                               const std::string& function_arn) {
  // A target that does not exist is not retried (as Scheduler); the rest are.
  const bool retryable = error.status != 404 && error.status != 400;
  const int retries = event.throttles;
  event.last_error = error.type + ": " + error.message;
  const ScheduleRetry retry =
      decideScheduleRetry(origin, retryable, retries, epochMillis(), settings_.delays);
  if (!retry.give_up) {
    ++event.throttles;
    event.next_attempt_ms = retry.next_attempt_ms;
    spdlog::info("scheduled event {}: invoke of {} failed, retry {} due in {} ms: {}", event.id,
                 origin.target_arn, event.throttles, retry.next_attempt_ms - epochMillis(),
                 event.last_error);
    return store_.reschedule(event);
  }
  const std::string condition = retry.exhausted.empty() ? "TargetNotInvoked" : retry.exhausted;
  spdlog::warn("scheduled event {} of schedule {} not delivered ({}): {}", event.id,
               origin.schedule_arn, condition, event.last_error);
  FailedEvent failed{event, condition,
                     invocationRecord(event, Condition::kRetriesExhausted, function_arn, nullptr),
                     "", epochMillis()};
  EventEnd end{event.id, {}, {}, std::nullopt};
  std::string reason;
  if (origin.dead_letter_arn.empty()) {
    reason = "the schedule has no DeadLetterConfig";
  } else if (delivery_ == nullptr) {
    reason = "schedule DeadLetterConfig: no endpoint configured for " + origin.dead_letter_arn;
  } else {
    PendingDelivery pending{
        newUuid(),
        {origin.dead_letter_arn, true, "", false, event.payload,
         scheduleDeadLetterAttributes(origin, error.type, error.message, retries, retry.exhausted)},
        failed,
        0,
        epochMillis(),
        ""};
    if (Status usable = delivery_->check(pending.message); !usable)
      reason = "schedule DeadLetterConfig: " + usable.error().message();
    else
      end.deliveries.push_back(std::move(pending));
  }
  if (!reason.empty()) {
    failed.reason = reason + "; " + event.last_error;
    end.failed = failed;
  }
  WICK_TRY(store_.end(end), "end scheduled event " + event.id);
  if (!end.deliveries.empty()) deliveries_.wake();
  return {};
}

std::string AsyncInvocations::deadLetterTarget(const AsyncEvent& event) {
  auto resolved = functions_.resolve(event.function, event.qualifier);
  const auto* cached = std::get_if<functions::FunctionService::Cached>(&resolved);
  if (cached == nullptr) return "";
  const auto& config = cached->record->config.dead_letter_config;
  if (!config || !config->is_object()) return "";
  auto target = config->find("TargetArn");
  return target != config->end() && target->is_string() ? target->get<std::string>() : "";
}

Status AsyncInvocations::handOnDeadLetter(const std::string& target, const http::Response* last,
                                          const FailedEvent& failed, EventEnd& end) {
  if (delivery_ == nullptr) return Error("no endpoint configured for " + target);
  const AsyncEvent& event = failed.event;
  // ErrorCode is the invocation's HTTP status; one that never ran (reserved
  // concurrency 0) was throttled.
  const int error_code = last != nullptr ? static_cast<int>(last->result_int()) : 429;
  std::string error_message = event.last_error;
  if (last != nullptr) {
    json body = json::parse(last->body(), nullptr, false);
    if (body.is_object() && body.contains("errorMessage") && body["errorMessage"].is_string())
      error_message = body["errorMessage"].get<std::string>();
  }
  PendingDelivery pending{newUuid(),
                          {target, true, "", false, event.payload,
                           destinations::deadLetterAttributes(event.id, error_code, error_message)},
                          failed,
                          0,
                          epochMillis(),
                          ""};
  WICK_TRY(delivery_->check(pending.message), "dead-letter target " + target);
  end.deliveries.push_back(std::move(pending));
  return {};
}

Result<std::optional<AsyncEvent>> AsyncInvocations::recordForFunction(
    const std::string& destination, const std::string& record) {
  const std::string ours = functions::functionArn(functions_.settings().scope, "");
  auto named = functions::parseFunctionName(destination);
  if (!destination.starts_with(ours) || !named) return std::optional<AsyncEvent>();
  auto resolved = functions_.resolve(named->name, named->qualifier);
  if (auto* error = std::get_if<api::AwsError>(&resolved)) return Error(error->message, ENOENT);
  AsyncEvent delivery;
  delivery.id = newUuid();
  delivery.function = named->name;
  delivery.qualifier = named->qualifier;
  delivery.payload = record;
  // An event is at most what an async Invoke takes. A bigger record (up to
  // 1 MB of request and 6 MB of response) was refused by the invoke path
  // (413) at every try, retried as a system error for MaximumEventAge: it
  // goes without its payloads, as Lambda sends a record too big for SNS.
  if (delivery.payload.size() > kMaxRecordEvent) {
    json trimmed = json::parse(record, nullptr, false);
    if (trimmed.is_object()) {
      trimmed.erase("requestPayload");
      trimmed.erase("responsePayload");
      delivery.payload = trimmed.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  delivery.enqueued_ms = delivery.next_attempt_ms = epochMillis();
  return std::optional<AsyncEvent>(std::move(delivery));
}

}  // namespace wick::async
