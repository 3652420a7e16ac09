// The requests wickd sends to SQS, SNS and EventBridge destinations and
// dead-letter targets: exact bodies and headers, and a signature that
// botocore computes the same (SigV4Auth on the same request and date).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/destinations/requests.h"

namespace wick::destinations {
namespace {

using nlohmann::json;

Endpoint local(const char* url = "http://127.0.0.1:9324") {
  auto endpoint = parseEndpoint(url);
  EXPECT_TRUE(endpoint) << endpoint.error().message();
  return *endpoint;
}

ServiceArn arnOf(const char* text) {
  auto arn = parseServiceArn(text);
  EXPECT_TRUE(arn);
  return *arn;
}

std::string header(const OutgoingRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers)
    if (key == name) return value;
  return "<absent>";
}

TEST(DestinationRequests, ParsesArnsAndEndpoints) {
  ServiceArn queue = arnOf("arn:aws:sqs:eu-west-1:123456789012:my-queue");
  EXPECT_EQ(queue.service, "sqs");
  EXPECT_EQ(queue.region, "eu-west-1");
  EXPECT_EQ(queue.account, "123456789012");
  EXPECT_EQ(queue.resource, "my-queue");
  EXPECT_EQ(arnOf("arn:aws:events:us-east-1:1:event-bus/default").resource, "event-bus/default");
  EXPECT_FALSE(parseServiceArn("sqs:us-east-1:1:q"));
  EXPECT_FALSE(parseServiceArn("arn:aws:sqs:us-east-1:1:"));

  Endpoint endpoint = local("http://localhost:4566/prefix/");
  EXPECT_EQ(endpoint.host, "localhost");
  EXPECT_EQ(endpoint.port, "4566");
  EXPECT_EQ(endpoint.base_path, "/prefix");
  EXPECT_EQ(endpoint.url, "http://localhost:4566/prefix");
  EXPECT_EQ(local("http://sqs.example").port, "80");
  auto https = parseEndpoint("https://sqs.us-east-1.amazonaws.com");
  ASSERT_TRUE(https);
  EXPECT_TRUE(https->tls);
  EXPECT_EQ(https->port, "443");
  EXPECT_FALSE(local().tls);
  // The Host header leaves out the scheme's own port only.
  auto sent = sqsSendMessage(*https, *parseServiceArn("arn:aws:sqs:us-east-1:1:q"), "{}");
  EXPECT_EQ(sent.headers[0].second, "sqs.us-east-1.amazonaws.com");
  auto on_port = parseEndpoint("https://127.0.0.1:8443/");
  ASSERT_TRUE(on_port);
  EXPECT_EQ(sqsSendMessage(*on_port, *parseServiceArn("arn:aws:sqs:us-east-1:1:q"), "{}")
                .headers[0]
                .second,
            "127.0.0.1:8443");
  auto other = parseEndpoint("ftp://host");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("http:// or https://"), std::string::npos);
  EXPECT_FALSE(parseEndpoint("http://host:port"));
}

TEST(DestinationRequests, SqsSendMessageIsJson10WithTheQueueUrl) {
  OutgoingRequest request =
      sqsSendMessage(local(), arnOf("arn:aws:sqs:us-east-1:000000000000:q"), R"({"a":1})");
  EXPECT_EQ(request.path, "/");
  EXPECT_EQ(header(request, "Host"), "127.0.0.1:9324");
  EXPECT_EQ(header(request, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(header(request, "X-Amz-Target"), "AmazonSQS.SendMessage");
  EXPECT_EQ(request.body,
            R"({"MessageBody":"{\"a\":1}","QueueUrl":"http://127.0.0.1:9324/000000000000/q"})");
}

TEST(DestinationRequests, DeadLetterAttributesAsLambdaSendsThem) {
  const std::string long_message(2000, 'x');
  OutgoingRequest request =
      sqsSendMessage(local(), arnOf("arn:aws:sqs:us-east-1:000000000000:dlq"), R"({"n":7})",
                     deadLetterAttributes("req-1", 200, long_message));
  json body = json::parse(request.body);
  EXPECT_EQ(body["MessageBody"], R"({"n":7})");
  EXPECT_EQ(body["MessageAttributes"]["RequestID"],
            (json{{"DataType", "String"}, {"StringValue", "req-1"}}));
  EXPECT_EQ(body["MessageAttributes"]["ErrorCode"],
            (json{{"DataType", "Number"}, {"StringValue", "200"}}));
  EXPECT_EQ(body["MessageAttributes"]["ErrorMessage"]["StringValue"].get<std::string>().size(),
            1024u);
}

TEST(DestinationRequests, TheFirstKilobyteOfAnErrorMessageIsNeverHalfACharacter) {
  // 1023 ASCII bytes, then "é" (2 bytes) across the 1024th: cutting at 1024
  // sent the lead byte alone (invalid UTF-8) in the SNS Publish form, which
  // SNS refuses; the dead letter was retried, then given up.
  const std::string message = std::string(1023, 'x') + "\xC3\xA9 and more";
  const auto attributes = deadLetterAttributes("r", 200, message);
  EXPECT_EQ(attributes[2].value, std::string(1023, 'x'));
  OutgoingRequest request =
      snsPublish(local(), arnOf("arn:aws:sns:us-east-1:000000000000:t"), "{}", attributes);
  EXPECT_EQ(request.body.find("%C3&"), std::string::npos) << "a lone lead byte";
  EXPECT_EQ(utf8Prefix("ab\xE2\x82\xAC", 4), "ab");  // the euro sign is 3 bytes
  EXPECT_EQ(utf8Prefix("ab\xE2\x82\xAC", 5), "ab\xE2\x82\xAC");
  EXPECT_EQ(utf8Prefix("abc", 2), "ab");
  EXPECT_EQ(utf8Prefix("abc", 9), "abc");
}

TEST(DestinationRequests, SnsPublishIsFormEncoded) {
  OutgoingRequest request =
      snsPublish(local("http://127.0.0.1:9911"), arnOf("arn:aws:sns:us-east-1:000000000000:t"),
                 R"({"a":"b c&d"})", deadLetterAttributes("r", 200, "boom"));
  EXPECT_EQ(header(request, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(header(request, "X-Amz-Target"), "<absent>");
  EXPECT_EQ(request.body,
            "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3At"
            "&Message=%7B%22a%22%3A%22b%20c%26d%22%7D"
            "&MessageAttributes.entry.1.Name=RequestID"
            "&MessageAttributes.entry.1.Value.DataType=String"
            "&MessageAttributes.entry.1.Value.StringValue=r"
            "&MessageAttributes.entry.2.Name=ErrorCode"
            "&MessageAttributes.entry.2.Value.DataType=Number"
            "&MessageAttributes.entry.2.Value.StringValue=200"
            "&MessageAttributes.entry.3.Name=ErrorMessage"
            "&MessageAttributes.entry.3.Value.DataType=String"
            "&MessageAttributes.entry.3.Value.StringValue=boom"
            "&Version=2010-03-31");
}

TEST(DestinationRequests, PutEventsCarriesTheRecordAsDetail) {
  const char* fn = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST";
  OutgoingRequest request =
      eventBridgePutEvents(local(), arnOf("arn:aws:events:us-east-1:000000000000:event-bus/b"), fn,
                           false, R"({"version":"1.0"})");
  EXPECT_EQ(header(request, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(header(request, "X-Amz-Target"), "AWSEvents.PutEvents");
  EXPECT_EQ(request.body,
            R"({"Entries":[{"Detail":"{\"version\":\"1.0\"}",)"
            R"("DetailType":"Lambda Function Invocation Result - Failure",)"
            R"("EventBusName":"arn:aws:events:us-east-1:000000000000:event-bus/b",)"
            R"("Resources":["arn:aws:events:us-east-1:000000000000:event-bus/b",)"
            R"("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"],"Source":"lambda"}]})");
}

// botocore 1.29: SigV4Auth(Credentials("AKIDEXAMPLE", secret), "sqs",
// "us-east-1").add_auth() on the same POST at 2026-12-06T09:00:00Z.
TEST(DestinationRequests, SignatureMatchesBotocore) {
  OutgoingRequest request =
      sqsSendMessage(local(), arnOf("arn:aws:sqs:us-east-1:000000000000:q"), R"({"a":1})");
  signRequest(request, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
              "sqs", "20261206T090000Z");
  EXPECT_EQ(header(request, "X-Amz-Date"), "20261206T090000Z");
  EXPECT_EQ(header(request, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/sqs/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=3aec361588109725bef227510b694e3fa8bf0badf6ecfdbe3264d3c41539c8da");
}

}  // namespace
}  // namespace wick::destinations
