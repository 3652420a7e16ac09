#include "agent/extensions_api.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdio>

namespace wick::agent {

namespace {

constexpr std::string_view kExtensionPrefix = "/2020-01-01/extension/";

ApiAnswer refuse(int status, const std::string& type, const std::string& message) {
  return {status, errorBody(type, message), ""};
}

void skipSpace(std::string_view& text) {
  while (!text.empty() && (text[0] == ' ' || text[0] == '\t' || text[0] == '\r' || text[0] == '\n'))
    text.remove_prefix(1);
}

// A JSON string literal at the front of `text` (simple escapes only: event
// names are plain words).
std::optional<std::string> takeString(std::string_view& text) {
  if (text.empty() || text[0] != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '"') {
      text.remove_prefix(i + 1);
      return out;
    }
    if (text[i] == '\\') {
      if (++i == text.size()) return std::nullopt;
    }
    out += text[i];
  }
  return std::nullopt;
}

// {"events": ["INVOKE", "SHUTDOWN"]}: the event names, or nullopt when the body
// is not of that shape. Other keys are refused (configurationKeys is deprecated).
std::optional<std::vector<std::string>> parseRegisterBody(std::string_view body) {
  std::vector<std::string> events;
  skipSpace(body);
  if (body.empty()) return events;
  if (body[0] != '{') return std::nullopt;
  body.remove_prefix(1);
  skipSpace(body);
  if (!body.empty() && body[0] == '}') return events;
  for (;;) {
    skipSpace(body);
    auto key = takeString(body);
    if (!key || *key != "events") return std::nullopt;
    skipSpace(body);
    if (body.empty() || body[0] != ':') return std::nullopt;
    body.remove_prefix(1);
    skipSpace(body);
    if (body.empty() || body[0] != '[') return std::nullopt;
    body.remove_prefix(1);
    skipSpace(body);
    if (!body.empty() && body[0] == ']') {
      body.remove_prefix(1);
    } else {
      for (;;) {
        skipSpace(body);
        auto event = takeString(body);
        if (!event) return std::nullopt;
        events.push_back(*event);
        skipSpace(body);
        if (body.empty()) return std::nullopt;
        if (body[0] == ']') {
          body.remove_prefix(1);
          break;
        }
        if (body[0] != ',') return std::nullopt;
        body.remove_prefix(1);
      }
    }
    skipSpace(body);
    if (body.empty()) return std::nullopt;
    if (body[0] == '}') {
      body.remove_prefix(1);
      skipSpace(body);
      return body.empty() ? std::optional(events) : std::nullopt;
    }
    if (body[0] != ',') return std::nullopt;
    body.remove_prefix(1);
  }
}

}  // namespace

std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string errorBody(const std::string& type, const std::string& message) {
  return "{\"errorMessage\":" + jsonString(message) + ",\"errorType\":" + jsonString(type) + "}";
}

std::string randomUuid() {
  unsigned char bytes[16] = {};
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) break;  // never in practice; the id stays unique enough per sandbox
    got += static_cast<size_t>(n);
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

bool ExtensionsApi::owns(const std::string& target) {
  return target.rfind("/2020-01-01/", 0) == 0 || target.rfind("/2020-08-15/logs", 0) == 0 ||
         target.rfind("/2022-07-01/telemetry", 0) == 0;
}

bool ExtensionsApi::externalsRegistered() const {
  return std::all_of(external_.begin(), external_.end(), [&](const std::string& name) {
    return std::any_of(extensions_.begin(), extensions_.end(),
                       [&](const Extension& extension) { return extension.name == name; });
  });
}

bool ExtensionsApi::allWaiting() const {
  return std::all_of(extensions_.begin(), extensions_.end(),
                     [](const Extension& extension) { return extension.waiting; });
}

ApiAnswer ExtensionsApi::handle(const HttpRequest& request, int connection) {
  const std::string& target = request.target;
  // Logs and Telemetry: accepted and ignored, as the reference emulator does,
  // so extensions that subscribe keep running.
  if (target.rfind("/2020-08-15/logs", 0) == 0) {
    if (request.method != "PUT") return refuse(405, "MethodNotAllowed", "use PUT");
    return {202, errorBody("Logs.NotSupported", "Logs API is not supported"), ""};
  }
  if (target.rfind("/2022-07-01/telemetry", 0) == 0) {
    if (request.method != "PUT") return refuse(405, "MethodNotAllowed", "use PUT");
    return {202, errorBody("Telemetry.NotSupported", "Telemetry API is not supported"), ""};
  }
  if (target.rfind(kExtensionPrefix, 0) != 0)
    return refuse(404, "NotFound", "no such Extensions API path: " + target);
  const std::string verb = target.substr(kExtensionPrefix.size());
  const char* method = verb == "event/next" ? "GET" : "POST";
  if (verb != "register" && verb != "event/next" && verb != "init/error" && verb != "exit/error")
    return refuse(404, "NotFound", "no such Extensions API path: " + target);
  if (request.method != method)
    return refuse(405, "MethodNotAllowed", std::string("use ") + method);
  if (verb == "register") return registerExtension(request);
  if (verb == "event/next") return nextEvent(request, connection);
  return reportError(request, verb == "init/error");
}

ApiAnswer ExtensionsApi::registerExtension(const HttpRequest& request) {
  const std::string name = request.header("lambda-extension-name");
  if (name.empty()) return refuse(403, "Extension.InvalidExtensionName", "Empty extension name");
  if (registration_closed_)
    return refuse(403, "Extension.RegistrationClosed", "Extension registration closed already");
  if (extensions_.size() >= kMaxExtensions)
    return refuse(403, "Extension.TooManyExtensions", "Too many extensions registered");
  for (const auto& extension : extensions_)
    if (extension.name == name)
      return refuse(403, "Extension.InvalidExtensionState",
                    "Extension " + name + " is registered already");
  auto events = parseRegisterBody(request.body);
  if (!events) return refuse(403, "InvalidRequestFormat", "Invalid register request body");
  Extension extension;
  extension.name = name;
  for (const auto& event : *events) {
    if (event == "INVOKE") {
      extension.invoke = true;
    } else if (event == "SHUTDOWN" && external_.count(name)) {
      extension.shutdown = true;
    } else {
      return refuse(403, "Extension.InvalidEventType", "Invalid event type: " + event);
    }
  }
  extension.id = randomUuid();
  ApiAnswer answer{200,
                   "{\"functionName\":" + jsonString(identity_.name) +
                       ",\"functionVersion\":" + jsonString(identity_.version) +
                       ",\"handler\":" + jsonString(identity_.handler) + "}",
                   "Lambda-Extension-Identifier: " + extension.id + "\r\n"};
  extensions_.push_back(std::move(extension));
  return answer;
}

ExtensionsApi::Extension* ExtensionsApi::identify(const HttpRequest& request, ApiAnswer& refusal) {
  const std::string id = request.header("lambda-extension-identifier");
  if (id.empty()) {
    refusal = refuse(403, "Extension.MissingExtensionIdentifier", "Missing extension identifier");
    return nullptr;
  }
  for (auto& extension : extensions_)
    if (extension.id == id) return &extension;
  const bool uuid_shape =
      id.size() == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-';
  refusal = uuid_shape ? refuse(403, "Extension.UnknownExtensionIdentifier",
                                "Unknown extension identifier " + id)
                       : refuse(403, "Extension.InvalidExtensionIdentifier",
                                "Invalid extension identifier " + id);
  return nullptr;
}

ApiAnswer ExtensionsApi::deliver(Extension& extension) {
  ApiAnswer answer{200, std::move(extension.events.front()),
                   "Lambda-Extension-Event-Identifier: " + randomUuid() + "\r\n"};
  extension.events.pop_front();
  extension.waiting = false;
  extension.parked = -1;
  return answer;
}

ApiAnswer ExtensionsApi::nextEvent(const HttpRequest& request, int connection) {
  ApiAnswer refusal;
  Extension* extension = identify(request, refusal);
  if (!extension) return refusal;
  extension->waiting = true;
  if (!extension->events.empty()) return deliver(*extension);
  extension->parked = connection;
  return {};
}

ApiAnswer ExtensionsApi::reportError(const HttpRequest& request, bool during_init) {
  ApiAnswer refusal;
  Extension* extension = identify(request, refusal);
  if (!extension) return refusal;
  const std::string type = request.header("lambda-extension-function-error-type");
  if (type.empty())
    return refuse(403, "Extension.MissingHeader",
                  "Missing Lambda-Extension-Function-Error-Type header");
  if (during_init && registration_closed_)
    return refuse(
        403, "Extension.InvalidExtensionState",
        "State transition from Ready to InitError failed for extension " + extension->name);
  errors_.push_back({extension->name, type, request.body, during_init});
  return {202, "{\"status\":\"OK\"}", ""};
}

std::vector<ParkedAnswer> ExtensionsApi::broadcast(const std::string& body,
                                                   bool Extension::*subscribed) {
  std::vector<ParkedAnswer> answers;
  for (auto& extension : extensions_) {
    if (!(extension.*subscribed)) continue;
    extension.events.push_back(body);
    const int parked = extension.parked;
    if (parked >= 0)
      answers.push_back({parked, deliver(extension)});
    else
      extension.waiting = false;  // busy until it comes back for this event
  }
  return answers;
}

std::vector<ParkedAnswer> ExtensionsApi::invoke(const std::string& request_id, int64_t deadline_ms,
                                                const std::string& invoked_function_arn,
                                                const std::string& trace_id) {
  std::string body = "{\"eventType\":\"INVOKE\",\"deadlineMs\":" + std::to_string(deadline_ms) +
                     ",\"requestId\":" + jsonString(request_id) +
                     ",\"invokedFunctionArn\":" + jsonString(invoked_function_arn);
  if (!trace_id.empty())
    body += ",\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":" + jsonString(trace_id) + "}";
  body += "}";
  return broadcast(body, &Extension::invoke);
}

std::vector<ParkedAnswer> ExtensionsApi::shutdown(const std::string& reason, int64_t deadline_ms) {
  return broadcast("{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":" + jsonString(reason) +
                       ",\"deadlineMs\":" + std::to_string(deadline_ms) + "}",
                   &Extension::shutdown);
}

void ExtensionsApi::connectionClosed(int connection) {
  for (auto& extension : extensions_)
    if (extension.parked == connection) extension.parked = -1;
}

}  // namespace wick::agent
