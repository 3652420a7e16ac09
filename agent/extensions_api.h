// The Extensions API 2020-01-01 (contract section 2) and the Logs/Telemetry
// API stubs (2.3): registrations, each extension's state and the events
// waiting for it. It knows nothing of sockets: the agent hands it parsed
// requests with a connection number, and answers parked event/next calls with
// what invoke() and shutdown() return.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/http_request.h"

namespace wick::agent {

inline constexpr size_t kMaxExtensions = 10;

// One HTTP answer. status 0: the request is parked (an event/next waiting).
struct ApiAnswer {
  int status = 0;
  std::string body;
  std::string headers;  // extra "Name: value\r\n" lines
};

// An answer owed to a parked connection.
struct ParkedAnswer {
  int connection;
  ApiAnswer answer;
};

struct FunctionIdentity {
  std::string name;
  std::string version;
  std::string handler;
};

// An error an extension reported through init/error or exit/error.
struct ExtensionError {
  std::string extension;
  std::string error_type;
  std::string body;
  bool during_init;
};

class ExtensionsApi {
 public:
  explicit ExtensionsApi(FunctionIdentity identity) : identity_(std::move(identity)) {}

  // Whether `target` belongs to the Extensions, Logs or Telemetry API.
  static bool owns(const std::string& target);

  // Names of the external extensions the agent launched (files of
  // /opt/extensions): they may subscribe to SHUTDOWN, internal ones may not.
  void expectExternal(const std::string& name) { external_.insert(name); }
  // Every launched external extension has registered (the runtime may start).
  bool externalsRegistered() const;
  void externalExited(const std::string& name) { external_.erase(name); }

  ApiAnswer handle(const HttpRequest& request, int connection);

  // Init is over: later registrations are refused.
  void closeRegistration() { registration_closed_ = true; }
  // Every registered extension waits in event/next (init or the invocation is over).
  bool allWaiting() const;
  size_t registered() const { return extensions_.size(); }

  // The INVOKE event for the subscribers; parked ones are answered now.
  std::vector<ParkedAnswer> invoke(const std::string& request_id, int64_t deadline_ms,
                                   const std::string& invoked_function_arn,
                                   const std::string& trace_id);
  // The SHUTDOWN event (reason: spindown, timeout, failure).
  std::vector<ParkedAnswer> shutdown(const std::string& reason, int64_t deadline_ms);
  // A connection went away; a parked next on it is forgotten (the extension
  // still counts as waiting: it asked for the next event).
  void connectionClosed(int connection);

  // Errors posted since the last call.
  std::vector<ExtensionError> takeErrors() { return std::exchange(errors_, {}); }

 private:
  struct Extension {
    std::string name;
    std::string id;
    bool invoke = false;
    bool shutdown = false;
    bool waiting = false;            // called next, no event delivered since
    int parked = -1;                 // connection of a parked next
    std::deque<std::string> events;  // event bodies not yet delivered
  };

  ApiAnswer registerExtension(const HttpRequest& request);
  ApiAnswer nextEvent(const HttpRequest& request, int connection);
  ApiAnswer reportError(const HttpRequest& request, bool during_init);
  // The extension a request names, or the 403 to answer.
  Extension* identify(const HttpRequest& request, ApiAnswer& refusal);
  std::vector<ParkedAnswer> broadcast(const std::string& body, bool Extension::*subscribed);
  static ApiAnswer deliver(Extension& extension);

  FunctionIdentity identity_;
  std::vector<Extension> extensions_;
  std::set<std::string> external_;
  bool registration_closed_ = false;
  std::vector<ExtensionError> errors_;
};

// A random version 4 UUID (lower-case, hyphenated), from getrandom(2): no file needed.
std::string randomUuid();
// The Runtime API's error body: {"errorMessage":"...","errorType":"..."}.
std::string errorBody(const std::string& type, const std::string& message);
// `text` as a JSON string literal, quotes included.
std::string jsonString(const std::string& text);

}  // namespace wick::agent
