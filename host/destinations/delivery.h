// Delivery of asynchronous invocations' records to SQS, SNS and EventBridge
// endpoints the operator configures per service (real AWS or a local
// server), signed with the operator's credentials; and of failed events to
// dead-letter targets (SQS or SNS). One try at a time, asynchronous on the
// caller's executor: the retries are the async queue's, durable and
// scheduled (host/async/delivery_queue.h), so a failing endpoint holds no
// thread.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/auth/sigv4.h"
#include "host/destinations/requests.h"

namespace wick::destinations {

struct DeliverySettings {
  std::map<std::string, Endpoint> endpoints;  // by service: "sqs", "sns", "events"
  auth::SigningKeys keys;
  std::string region;  // signing region when an ARN names none
  std::chrono::milliseconds timeout{5000};
  // https endpoints: the CA certificates (PEM) that verify them; "": the system's.
  std::string ca_file;
  // Waits between tries: as many retries as entries.
  std::vector<std::chrono::milliseconds> retry_delays{
      std::chrono::seconds(1), std::chrono::seconds(5), std::chrono::seconds(30),
      std::chrono::minutes(2), std::chrono::minutes(5)};
};

// What goes to another service: a destination record (to an SQS queue, SNS
// topic or EventBridge bus) or a dead letter (the original event with its
// message attributes, to an SQS queue or SNS topic).
struct Message {
  std::string target_arn;
  bool dead_letter = false;
  std::string function_arn;  // the record's (qualified): EventBridge's Resources
  bool success = false;      // the record's condition was Success: EventBridge's DetailType
  std::string body;          // the record, or the dead letter's event
  std::vector<MessageAttribute> attributes;  // a dead letter's
};

class Delivery {
 public:
  // An error: the TLS settings of https endpoints cannot be made (the CA file).
  static Result<std::unique_ptr<Delivery>> make(DeliverySettings settings);
  explicit Delivery(DeliverySettings settings) : settings_(std::move(settings)) {}

  // Whether the message can go anywhere: its target is an ARN of a service
  // with a configured endpoint that takes this kind of message. An error
  // says why not (retrying would not help).
  Status check(const Message& message) const;
  // One signed try. An error: the check's, a transport failure, a non-2xx answer.
  boost::asio::awaitable<Status> sendOnce(const Message& message) const;
  const std::vector<std::chrono::milliseconds>& retryDelays() const {
    return settings_.retry_delays;
  }

 private:
  Result<OutgoingRequest> request(const Message& message, ServiceArn& arn) const;

  DeliverySettings settings_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // when an endpoint is https
};

}  // namespace wick::destinations
