#include "host/api/logs_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "common/ids.h"
#include "host/functions/function_name.h"
#include "host/logs/filter_pattern.h"
#include "host/logs/log_reader.h"
#include "host/workers.h"

namespace wick::api {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::string_view kTargetPrefix = "Logs_20140328.";
constexpr std::string_view kGroupPrefix = "/aws/lambda/";
constexpr std::string_view kPageToken = "wick1/";
// A page of events stops at 1 MB of messages, as CloudWatch's pages do.
constexpr size_t kPageBytes = 1 << 20;

// What the JSON 1.1 protocol answers for a refused request: 400 and
// {"__type","message"}. Thrown by the request checks, caught once in answer().
struct LogsError {
  std::string type;
  std::string message;
};

[[noreturn]] void refuse(std::string type, std::string message) {
  throw LogsError{std::move(type), std::move(message)};
}
[[noreturn]] void invalidParameter(std::string message) {
  refuse("InvalidParameterException", std::move(message));
}

http::Response jsonResponse(http::beast_http::status status, const json& body) {
  http::Response response{status, 11};
  response.set(http::beast_http::field::content_type, "application/x-amz-json-1.1");
  response.set("x-amzn-RequestId", newUuid());
  // Log messages may hold invalid UTF-8: replace rather than throw.
  response.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

http::Response errorResponse(const LogsError& error) {
  http::Response response = jsonResponse(http::beast_http::status::bad_request,
                                         json{{"__type", error.type}, {"message", error.message}});
  response.set("x-amzn-ErrorType", error.type);
  return response;
}

std::string text(const json& request, const char* key) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) return {};
  if (!it->is_string()) invalidParameter(std::string(key) + " must be a string");
  return it->get<std::string>();
}

int64_t integer(const json& request, const char* key, int64_t fallback) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) invalidParameter(std::string(key) + " must be an integer");
  return it->get<int64_t>();
}

bool boolean(const json& request, const char* key, bool fallback) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) invalidParameter(std::string(key) + " must be a boolean");
  return it->get<bool>();
}

int64_t limitOf(const json& request, int64_t maximum, int64_t fallback) {
  const int64_t limit = integer(request, "limit", fallback);
  if (limit < 1 || limit > maximum)
    invalidParameter("1 validation error detected: Value '" + std::to_string(limit) +
                     "' at 'limit' failed to satisfy constraint: Member must have value " +
                     (limit < 1 ? "greater than or equal to 1"
                                : "less than or equal to " + std::to_string(maximum)));
  return limit;
}

// `digits` (only digits, at least one) as a number that fits `value`: a
// token's digits past its range are no token of ours (std::stoul threw,
// which answered 500).
template <typename Number>
bool parseDigits(std::string_view digits, Number& value) {
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return error == std::errc() && end == digits.data() + digits.size();
}

// An index into an ordered listing, as an opaque token.
size_t pageStart(const json& request) {
  const std::string token = text(request, "nextToken");
  if (token.empty()) return 0;
  size_t start = 0;
  if (!token.starts_with(kPageToken) ||
      !parseDigits(std::string_view(token).substr(kPageToken.size()), start))
    invalidParameter("The specified nextToken is invalid.");
  return start;
}

std::string pageToken(size_t next) {
  return std::string(kPageToken) + std::to_string(next);
}

uint64_t fnv1a(std::string_view data) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : data)
    hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

// 56 digits, unique per event and stable between calls: the time first, so the
// ids sort as the events do (`aws logs tail --follow` dedups by them).
std::string eventId(int64_t timestamp_ms, const std::string& stream, uint64_t offset) {
  char id[64];
  std::snprintf(id, sizeof id, "%020" PRId64 "%020" PRIu64 "%016" PRIu64, timestamp_ms,
                fnv1a(stream), offset);
  return id;
}

// GetLogEvents' tokens: f/ or b/ and a position (a byte offset) as 56 digits.
std::string positionToken(char direction, uint64_t position) {
  char token[64];
  std::snprintf(token, sizeof token, "%c/%056" PRIu64, direction, position);
  return token;
}

logs::StreamInfo findStream(const std::string& root, const std::string& function,
                            const std::string& name) {
  auto streams = logs::listStreams(root, function);
  if (!streams) throw std::runtime_error(streams.error().message());
  for (auto& stream : *streams)
    if (stream.name == name) return stream;
  refuse("ResourceNotFoundException", "The specified log stream does not exist.");
}

std::vector<logs::StreamInfo> listStreamsOf(const std::string& root, const std::string& function) {
  auto streams = logs::listStreams(root, function);
  if (!streams) throw std::runtime_error(streams.error().message());
  return std::move(*streams);
}

logs::StreamRecords readRecordsOf(const std::string& root, const std::string& function,
                                  const logs::StreamInfo& stream) {
  auto read = logs::readRecords(root, function, stream);
  if (!read) throw std::runtime_error(read.error().message());
  return std::move(*read);
}

}  // namespace

bool LogsApi::claims(const http::Request& request) {
  return request.header("X-Amz-Target").starts_with(kTargetPrefix);
}

asio::awaitable<http::Response> LogsApi::handle(http::Request request) {
  if (request.method != http::beast_http::verb::post || request.path != "/")
    co_return errorResponse({"UnknownOperationException", "Logs operations are POST /"});
  const std::string operation = request.header("X-Amz-Target").substr(kTargetPrefix.size());
  co_return co_await onWorkers(workers_, [&] { return answer(operation, request.body); });
}

http::Response LogsApi::answer(const std::string& operation, const std::string& body) const {
  using Operation = json (LogsApi::*)(const json&) const;
  static const std::map<std::string, Operation, std::less<>> operations = {
      {"FilterLogEvents", &LogsApi::filterLogEvents},
      {"GetLogEvents", &LogsApi::getLogEvents},
      {"DescribeLogStreams", &LogsApi::describeLogStreams},
      {"DescribeLogGroups", &LogsApi::describeLogGroups},
      {"PutRetentionPolicy", &LogsApi::putRetentionPolicy},
      {"DeleteRetentionPolicy", &LogsApi::deleteRetentionPolicy},
  };
  auto found = operations.find(operation);
  if (found == operations.end())
    return errorResponse(
        {"UnknownOperationException", "wick's Logs API has no operation " + operation});
  json request = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object())
    return errorResponse({"SerializationException", "the request body is not a JSON object"});
  try {
    return jsonResponse(http::beast_http::status::ok, (this->*found->second)(request));
  } catch (const LogsError& error) {
    spdlog::debug("logs {}: {}: {}", operation, error.type, error.message);
    return errorResponse(error);
  } catch (const std::exception& error) {
    spdlog::error("logs {}: {}", operation, error.what());
    http::Response response = jsonResponse(http::beast_http::status::internal_server_error,
                                           json{{"__type", "ServiceUnavailableException"},
                                                {"message", "wickd could not read its logs"}});
    response.set("x-amzn-ErrorType", "ServiceUnavailableException");
    return response;
  }
}

std::string LogsApi::groupArn(const std::string& function) const {
  return "arn:aws:logs:" + settings_.region + ":" + settings_.account_id +
         ":log-group:" + std::string(kGroupPrefix) + function;
}

std::string LogsApi::groupFunction(const json& request) const {
  std::string name = text(request, "logGroupName");
  const std::string identifier = text(request, "logGroupIdentifier");
  if (!name.empty() && !identifier.empty())
    refuse("ValidationException",
           "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  if (name.empty()) {
    name = identifier;
    const std::string arn_prefix =
        "arn:aws:logs:" + settings_.region + ":" + settings_.account_id + ":log-group:";
    if (name.starts_with(arn_prefix)) {
      name = name.substr(arn_prefix.size());
      if (name.ends_with(":*")) name.resize(name.size() - 2);
    }
  }
  if (name.empty())
    invalidParameter(
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
        "constraint: Member must not be null");
  const std::string function =
      name.starts_with(kGroupPrefix) ? name.substr(kGroupPrefix.size()) : std::string();
  auto groups = logs::listGroups(settings_.logs_root);
  if (!groups) throw std::runtime_error(groups.error().message());
  if (!functions::validFunctionName(function) ||
      !std::binary_search(groups->begin(), groups->end(), function))
    refuse("ResourceNotFoundException", "The specified log group does not exist.");
  return function;
}

json LogsApi::filterLogEvents(const json& request) const {
  const std::string function = groupFunction(request);
  const bool by_names = request.contains("logStreamNames") && !request["logStreamNames"].is_null();
  const std::string prefix = text(request, "logStreamNamePrefix");
  if (by_names && !prefix.empty())
    invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  std::vector<std::string> names;
  if (by_names) {
    const json& list = request["logStreamNames"];
    if (!list.is_array() || list.empty() || list.size() > 100)
      invalidParameter("logStreamNames must list 1 to 100 log stream names");
    for (const auto& name : list)
      names.push_back(name.is_string() ? name.get<std::string>() : std::string());
  }
  const int64_t start = integer(request, "startTime", 0);
  const int64_t end = integer(request, "endTime", std::numeric_limits<int64_t>::max());
  const std::string pattern_text = text(request, "filterPattern");
  if (pattern_text.size() > 1024) invalidParameter("filterPattern is longer than 1024 characters");
  auto pattern = logs::FilterPattern::parse(pattern_text);
  if (!pattern) invalidParameter("Invalid filter pattern: " + pattern.error().message());
  const int64_t limit = limitOf(request, 10000, 10000);
  std::string after;  // the last event id of the page before
  if (const std::string token = text(request, "nextToken"); !token.empty()) {
    after = token.substr(std::min(token.size(), kPageToken.size()));
    if (!token.starts_with(kPageToken) || after.size() != 56 ||
        after.find_first_not_of("0123456789") != std::string::npos)
      invalidParameter("The specified nextToken is invalid.");
  }

  std::vector<std::pair<std::string, json>> events;
  for (const auto& stream : listStreamsOf(settings_.logs_root, function)) {
    if (by_names && std::find(names.begin(), names.end(), stream.name) == names.end()) continue;
    if (!stream.name.starts_with(prefix)) continue;
    if (stream.modified_ns / 1'000'000 < start) continue;  // nothing in it is that new
    const logs::StreamRecords read = readRecordsOf(settings_.logs_root, function, stream);
    for (const logs::LogRecord& record : read.records) {
      if (record.timestamp_ms < start || record.timestamp_ms > end) continue;
      if (!pattern->matches(record.message)) continue;
      std::string id = eventId(record.timestamp_ms, stream.name, record.offset);
      if (!after.empty() && id <= after) continue;
      events.emplace_back(id, json{{"logStreamName", stream.name},
                                   {"timestamp", record.timestamp_ms},
                                   {"message", record.message},
                                   {"ingestionTime", record.timestamp_ms},
                                   {"eventId", id}});
    }
  }
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json page = json::array();
  size_t bytes = 0;
  for (auto& [id, event] : events) {
    bytes += event["message"].get_ref<const std::string&>().size() + 26;
    if (static_cast<int64_t>(page.size()) == limit || (bytes > kPageBytes && !page.empty())) break;
    page.push_back(std::move(event));
  }
  json reply = {{"events", page}, {"searchedLogStreams", json::array()}};
  // No nextToken: the search is over (what `aws logs tail --follow` waits for).
  if (page.size() < events.size())
    reply["nextToken"] = std::string(kPageToken) + page.back()["eventId"].get<std::string>();
  return reply;
}

json LogsApi::getLogEvents(const json& request) const {
  const std::string function = groupFunction(request);
  const std::string name = text(request, "logStreamName");
  if (name.empty())
    invalidParameter(
        "1 validation error detected: Value null at 'logStreamName' failed to "
        "satisfy constraint: Member must not be null");
  const logs::StreamInfo stream = findStream(settings_.logs_root, function, name);
  const int64_t start = integer(request, "startTime", 0);
  const int64_t end = integer(request, "endTime", std::numeric_limits<int64_t>::max());
  const int64_t limit = limitOf(request, 10000, 10000);
  const bool from_head = boolean(request, "startFromHead", false);

  // Where to read from, and which way: a token's position, else the head or the tail.
  char direction = from_head ? 'f' : 'b';
  uint64_t position = from_head ? 0 : std::numeric_limits<uint64_t>::max();
  if (const std::string token = text(request, "nextToken"); !token.empty()) {
    if (token.size() != 58 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/' ||
        !parseDigits(std::string_view(token).substr(2), position))
      invalidParameter("The specified nextToken is invalid.");
    direction = token[0];
  }

  const logs::StreamRecords read = readRecordsOf(settings_.logs_root, function, stream);
  std::vector<const logs::LogRecord*> chosen;
  for (const logs::LogRecord& record : read.records)
    if (record.timestamp_ms >= start && record.timestamp_ms < end &&
        (direction == 'f' ? record.offset >= position : record.offset < position))
      chosen.push_back(&record);
  // Forward: the first `limit`; backward: the last `limit`, still oldest first.
  if (static_cast<int64_t>(chosen.size()) > limit) {
    if (direction == 'f')
      chosen.resize(static_cast<size_t>(limit));
    else
      chosen.erase(chosen.begin(), chosen.end() - limit);
  }
  json events = json::array();
  for (const logs::LogRecord* record : chosen)
    events.push_back({{"timestamp", record->timestamp_ms},
                      {"message", record->message},
                      {"ingestionTime", record->timestamp_ms}});
  // At the end, the token sent comes back: that is how a reader knows.
  const uint64_t here = std::min<uint64_t>(position, read.data.size());
  const uint64_t forward = chosen.empty() ? here : chosen.back()->offset + 1;
  const uint64_t backward = chosen.empty() ? here : chosen.front()->offset;
  return {{"events", events},
          {"nextForwardToken", positionToken('f', forward)},
          {"nextBackwardToken", positionToken('b', backward)}};
}

json LogsApi::describeLogStreams(const json& request) const {
  const std::string function = groupFunction(request);
  const std::string prefix = text(request, "logStreamNamePrefix");
  const std::string order = text(request, "orderBy");
  if (!order.empty() && order != "LogStreamName" && order != "LastEventTime")
    invalidParameter("1 validation error detected: Value '" + order +
                     "' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value "
                     "set: [LogStreamName, LastEventTime]");
  const bool by_time = order == "LastEventTime";
  if (by_time && !prefix.empty())
    invalidParameter("Cannot order or filter by LastEventTime with a logStreamNamePrefix.");
  const bool descending = boolean(request, "descending", false);
  const int64_t limit = limitOf(request, 50, 50);
  const size_t first = pageStart(request);

  std::vector<logs::StreamInfo> streams;
  for (auto& stream : listStreamsOf(settings_.logs_root, function))
    if (stream.name.starts_with(prefix)) streams.push_back(std::move(stream));
  std::sort(streams.begin(), streams.end(), [by_time](const auto& a, const auto& b) {
    return by_time ? a.modified_ns < b.modified_ns : a.name < b.name;
  });
  if (descending) std::reverse(streams.begin(), streams.end());

  json page = json::array();
  size_t next = first;
  for (; next < streams.size() && static_cast<int64_t>(page.size()) < limit; ++next) {
    const logs::StreamInfo& stream = streams[next];
    const int64_t created = logs::firstRecordTime(settings_.logs_root, function, stream);
    const int64_t last = stream.modified_ns / 1'000'000;
    page.push_back({{"logStreamName", stream.name},
                    {"creationTime", created},
                    {"firstEventTimestamp", created},
                    {"lastEventTimestamp", last},
                    {"lastIngestionTime", last},
                    {"uploadSequenceToken", std::to_string(stream.size)},
                    {"arn", groupArn(function) + ":log-stream:" + stream.name},
                    {"storedBytes", stream.size}});
  }
  json reply = {{"logStreams", page}};
  if (next < streams.size()) reply["nextToken"] = pageToken(next);
  return reply;
}

json LogsApi::describeLogGroups(const json& request) const {
  const std::string prefix = text(request, "logGroupNamePrefix");
  std::string pattern = text(request, "logGroupNamePattern");
  if (!prefix.empty() && !pattern.empty())
    invalidParameter(
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  const int64_t limit = limitOf(request, 50, 50);
  const size_t first = pageStart(request);
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  pattern = lower(pattern);

  auto groups = logs::listGroups(settings_.logs_root);
  if (!groups) throw std::runtime_error(groups.error().message());
  std::vector<std::string> matching;
  for (const std::string& function : *groups) {
    const std::string name = std::string(kGroupPrefix) + function;
    if (name.starts_with(prefix) && lower(name).find(pattern) != std::string::npos)
      matching.push_back(function);
  }
  json page = json::array();
  size_t next = first;
  for (; next < matching.size() && static_cast<int64_t>(page.size()) < limit; ++next) {
    const std::string& function = matching[next];
    const auto streams = listStreamsOf(settings_.logs_root, function);
    uint64_t stored = 0;
    for (const auto& stream : streams)
      stored += stream.size;
    const int64_t created = streams.empty()
                                ? epochMillis()
                                : logs::firstRecordTime(settings_.logs_root, function, streams[0]);
    page.push_back({{"logGroupName", std::string(kGroupPrefix) + function},
                    {"creationTime", created},
                    {"retentionInDays", retention_.effectiveDays(function)},
                    {"metricFilterCount", 0},
                    {"arn", groupArn(function) + ":*"},
                    {"logGroupArn", groupArn(function)},
                    {"storedBytes", stored},
                    {"logGroupClass", "STANDARD"}});
  }
  json reply = {{"logGroups", page}};
  if (next < matching.size()) reply["nextToken"] = pageToken(next);
  return reply;
}

json LogsApi::putRetentionPolicy(const json& request) const {
  const std::string function = groupFunction(request);
  if (!request.contains("retentionInDays"))
    invalidParameter(
        "1 validation error detected: Value null at 'retentionInDays' failed to "
        "satisfy constraint: Member must not be null");
  const int64_t days = integer(request, "retentionInDays", 0);
  if (!logs::validRetentionDays(days))
    invalidParameter("1 validation error detected: Value '" + std::to_string(days) +
                     "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy "
                     "enum value set: " +
                     logs::retentionDaysList());
  if (auto put = retention_.putPolicy(function, static_cast<int>(days)); !put)
    throw std::runtime_error(put.error().message());
  return json::object();
}

json LogsApi::deleteRetentionPolicy(const json& request) const {
  const std::string function = groupFunction(request);
  if (auto deleted = retention_.deletePolicy(function); !deleted)
    throw std::runtime_error(deleted.error().message());
  return json::object();
}

}  // namespace wick::api
