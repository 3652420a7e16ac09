// The requests wickd sends to AWS-shaped services when it delivers an
// asynchronous invocation's record (../shared/reference/events.md 2.4, 2.5
// and 3), in each service's own wire protocol, and signed with SigV4:
//  - SQS SendMessage: JSON 1.0, X-Amz-Target AmazonSQS.SendMessage, QueueUrl
//    <endpoint>/<account>/<queue>;
//  - SNS Publish: the query protocol, form-encoded Action=Publish&TopicArn=&Message=;
//  - EventBridge PutEvents: JSON 1.1, X-Amz-Target AWSEvents.PutEvents, one
//    entry with Source "lambda" and the record as Detail.
// Pure functions of their inputs (the date too), so tests compare bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "host/auth/sigv4.h"

namespace wick::destinations {

// arn:<partition>:<service>:<region>:<account>:<resource>
struct ServiceArn {
  std::string arn;
  std::string service;  // "sqs", "sns", "events", "s3", "lambda"
  std::string region;
  std::string account;
  std::string resource;  // queue name, topic name, "event-bus/NAME", bucket
};
std::optional<ServiceArn> parseServiceArn(std::string_view arn);

// Where a service answers: http[s]://HOST[:PORT][/PREFIX] (https: TLS with
// the peer's certificate and host name verified, http_client.h).
struct Endpoint {
  std::string url;  // as configured, without a trailing '/'
  bool tls = false;
  std::string host;
  std::string port;       // "80" (http) or "443" (https) unless given
  std::string base_path;  // "" or "/prefix"
};
Result<Endpoint> parseEndpoint(std::string_view url);

struct OutgoingRequest {
  Endpoint endpoint;
  std::string path;                                          // base_path + "/"
  std::vector<std::pair<std::string, std::string>> headers;  // Host first
  std::string body;
};

// A message attribute of SQS and SNS (DataType String or Number).
struct MessageAttribute {
  std::string name;
  std::string data_type;
  std::string value;
};

OutgoingRequest sqsSendMessage(const Endpoint& endpoint, const ServiceArn& queue,
                               const std::string& body,
                               const std::vector<MessageAttribute>& attributes = {});
OutgoingRequest snsPublish(const Endpoint& endpoint, const ServiceArn& topic,
                           const std::string& message,
                           const std::vector<MessageAttribute>& attributes = {});
// The record as Detail of one entry on the bus the ARN names.
OutgoingRequest eventBridgePutEvents(const Endpoint& endpoint, const ServiceArn& bus,
                                     const std::string& function_arn, bool success,
                                     const std::string& record);

// At most `max` bytes of UTF-8 `text`, never half a character (a String
// attribute must be valid UTF-8: SNS refuses one that is not).
std::string utf8Prefix(const std::string& text, size_t max);

// The DLQ message's attributes (events.md 2.5): RequestID, ErrorCode (a
// Number: the invocation's HTTP status), ErrorMessage (its first 1 KB).
std::vector<MessageAttribute> deadLetterAttributes(const std::string& request_id, int error_code,
                                                   const std::string& error_message);

// Signs the request for `service` (the ARN's: sqs, sns, events) in `region`.
void signRequest(OutgoingRequest& request, const auth::SigningKeys& keys, std::string_view region,
                 std::string_view service, std::string_view amz_date);

// application/x-www-form-urlencoded as AWS's query protocol wants it: every
// byte but A-Z a-z 0-9 - _ . ~ percent-encoded (space as %20).
std::string formEncode(std::string_view text);

}  // namespace wick::destinations
