// Delivery of asynchronous invocations' records to SQS, SNS and EventBridge
// endpoints the operator configures per service (real AWS or a local
// server), signed with the operator's credentials, retried with backoff; and
// of a failed event to the function's DeadLetterConfig target (SQS or SNS).
// Runs on a worker thread: each try blocks it for at most `timeout`.
#pragma once

#include <chrono>
#include <map>
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
  // Waits between tries: as many retries as entries.
  std::vector<std::chrono::milliseconds> retry_delays{std::chrono::milliseconds(200),
                                                      std::chrono::milliseconds(1000)};
};

// A failed event for a dead-letter queue: body = the original event.
struct DeadLetter {
  std::string request_id;
  std::string payload;
  int error_code = 200;
  std::string error_message;
};

class Delivery {
 public:
  explicit Delivery(DeliverySettings settings) : settings_(std::move(settings)) {}

  // The record to an SQS queue, SNS topic or EventBridge bus. An error says
  // why it did not arrive (no endpoint for the service, or the last try's
  // failure).
  Status deliverRecord(const std::string& destination_arn, const std::string& function_arn,
                       bool success, const std::string& record) const;
  Status deliverDeadLetter(const std::string& target_arn, const DeadLetter& letter) const;

 private:
  Result<Endpoint> endpointFor(const ServiceArn& arn) const;
  // Signs and posts, retrying on a transport error or a non-2xx answer.
  Status send(OutgoingRequest request, const ServiceArn& arn) const;

  DeliverySettings settings_;
};

}  // namespace wick::destinations
