// The checks every request on the Lambda API listener passes (issue 15):
// SigV4 as AWS verifies it (RequestVerifier), and who may reach which route
// (ApiGate): Host, Origin, admin routes, presigned downloads, admin or invoker.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "host/api/api_gate.h"
#include "host/auth/presigned_url.h"
#include "host/auth/request_verifier.h"
#include "host/auth/sigv4.h"

namespace wick {
namespace {

using http::beast_http::verb;

constexpr const char* kAdminKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kAdminSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kInvokerKey = "AKIAI44QH8DHBEXAMPLE";
constexpr const char* kInvokerSecret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
constexpr const char* kRoleKey = "ASIAROLEKEYEXAMPLE01";
constexpr const char* kRoleSecret = "roleSecretroleSecretroleSecretroleSecret";
constexpr const char* kRoleToken = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";
// 2026-12-06T09:00:00Z
constexpr int64_t kNow = 1796547600;

auth::CredentialStore store() {
  return auth::CredentialStore(
      {{"wick", kAdminKey, kAdminSecret, "", true},
       {"ci", kInvokerKey, kInvokerSecret, "", false},
       {"arn:aws:iam::000000000000:role/r", kRoleKey, kRoleSecret, kRoleToken, false}});
}

auth::RequestVerifier verifier(const auth::CredentialStore& keys) {
  return auth::RequestVerifier([&keys](std::string_view id) { return keys.find(id); },
                               {.region = "us-east-1"});
}

struct Signing {
  std::string key = kAdminKey;
  std::string secret = kAdminSecret;
  std::string token;
  std::string region = "us-east-1";
  std::string service = "lambda";
  int64_t at = kNow;
};

// A request as a client sends it: signed over its method, path, query,
// headers and body, then carried as wickd's server parses it.
http::Request signedRequest(verb method, const std::string& target, const std::string& body,
                            const Signing& signing = {},
                            std::vector<std::pair<std::string, std::string>> extra = {}) {
  const size_t question = target.find('?');
  auth::SignedRequest wire{std::string(http::beast_http::to_string(method)),
                           target.substr(0, question),
                           question == std::string::npos ? "" : target.substr(question + 1),
                           {{"Host", "127.0.0.1:3001"}, {"Content-Type", "application/json"}},
                           auth::sha256Hex(body)};
  for (auto& header : extra)
    wire.headers.push_back(header);
  auth::sign(wire, {signing.key, signing.secret, signing.token}, signing.region, signing.service,
             auth::amzDate(signing.at));
  http::beast_http::request<http::beast_http::string_body> message{method, target, 11};
  for (const auto& [name, value] : wire.headers)
    message.set(name, value);
  message.body() = body;
  http::Request request = http::requestHead(message);
  request.body = body;
  request.peer = "127.0.0.1:50000";
  return request;
}

template <typename Verdict>
const auth::Refusal& refusalOf(const Verdict& verdict) {
  static const auth::Refusal none{0, "accepted", "", "", ""};
  const auto* refusal = std::get_if<auth::Refusal>(&verdict);
  return refusal ? *refusal : none;
}

const std::string kInvoke = "/2015-03-31/functions/f/invocations";

TEST(RequestVerifier, AcceptsWhatBotocoreSigned) {
  // botocore 1.29 signed this (tests/host/sigv4_test.cc), with the secret below.
  auth::CredentialStore keys(
      {{"boto", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", true}});
  http::beast_http::request<http::beast_http::string_body> message{
      verb::post,
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"
      "invocations?Qualifier=%24LATEST&b=a%20b",
      11};
  message.set("Host", "127.0.0.1:3001");
  message.set("X-Amz-Invocation-Type", "Event");
  message.set("X-Amz-Date", "20261206T090000Z");
  message.set("Authorization",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/lambda/aws4_request, "
              "SignedHeaders=host;x-amz-date;x-amz-invocation-type, "
              "Signature=bd71c76870ac38022b2f59d71b1c74a9f75ef280ae0c0183f03f83ad082e3266");
  http::Request request = http::requestHead(message);
  request.body = "{\"a\":1}";
  auto verdict = verifier(keys).verify(request, "lambda", kNow + 30);
  ASSERT_TRUE(std::holds_alternative<auth::Principal>(verdict)) << refusalOf(verdict).reason;
  EXPECT_EQ(std::get<auth::Principal>(verdict).name, "boto");
  request.body = "{\"a\":2}";
  EXPECT_EQ(refusalOf(verifier(keys).verify(request, "lambda", kNow)).type,
            "InvalidSignatureException");
}

// AWS_IAM function URLs verify through the same verifier (service lambda):
// a URL's Host, any path and query, the body hashed by the server.
TEST(RequestVerifier, VerifiesAFunctionUrlRequest) {
  const auto keys = store();
  const auto check = verifier(keys);
  auth::SignedRequest wire{"POST",
                           "/path/x",
                           "a=1&b=2",
                           {{"Host", "id.lambda-url.us-east-1.localhost:3002"}},
                           auth::sha256Hex("body")};
  auth::sign(wire, {kInvokerKey, kInvokerSecret, ""}, "us-east-1", "lambda", auth::amzDate(kNow));
  http::Request request;
  request.method = verb::post;
  request.path = wire.path;
  request.raw_query = wire.query;
  request.body = "body";
  for (const auto& [name, value] : wire.headers)
    request.headers.insert(name, value);
  auto verdict = check.verify(request, "lambda", kNow + 5);
  ASSERT_TRUE(std::holds_alternative<auth::Principal>(verdict)) << refusalOf(verdict).reason;
  EXPECT_EQ(std::get<auth::Principal>(verdict).name, "ci");
  http::Request tampered = request;
  tampered.body = "other";
  EXPECT_EQ(refusalOf(check.verify(tampered, "lambda", kNow)).reason, "signature does not match");
  tampered = request;
  tampered.raw_query = "a=1&b=3";
  EXPECT_EQ(refusalOf(check.verify(tampered, "lambda", kNow)).reason, "signature does not match");
  EXPECT_EQ(refusalOf(check.verify(request, "lambda", kNow + 3600)).type,
            "InvalidSignatureException");  // stale
  auto other_region = auth::RequestVerifier([&keys](std::string_view id) { return keys.find(id); },
                                            {.region = "eu-west-1"});
  EXPECT_EQ(refusalOf(other_region.verify(request, "lambda", kNow)).reason,
            "scope region us-east-1");
}

TEST(RequestVerifier, RefusesAsAwsDoes) {
  const auto keys = store();
  const auto check = verifier(keys);
  auto refused = [&](const http::Request& request, int64_t now = kNow,
                     std::string_view service = "lambda") {
    return refusalOf(check.verify(request, service, now));
  };
  const std::string body = R"({"k":"v"})";
  ASSERT_EQ(refused(signedRequest(verb::post, kInvoke, body)).type, "accepted");

  http::Request unsigned_request = signedRequest(verb::post, kInvoke, body);
  unsigned_request.headers.erase("Authorization");
  EXPECT_EQ(refused(unsigned_request).type, "MissingAuthenticationTokenException");
  EXPECT_EQ(refused(unsigned_request).message, "Missing Authentication Token");
  EXPECT_EQ(refused(unsigned_request).status, 403);

  Signing unknown;
  unknown.key = "AKIAUNKNOWNEXAMPLE00";
  auto unknown_key = refused(signedRequest(verb::post, kInvoke, body, unknown));
  EXPECT_EQ(unknown_key.type, "UnrecognizedClientException");
  EXPECT_EQ(unknown_key.message, "The security token included in the request is invalid.");
  EXPECT_EQ(unknown_key.key_id, "AKIAUNKNOWNEXAMPLE00");

  Signing wrong_secret;
  wrong_secret.secret = kInvokerSecret;
  auto mismatch = refused(signedRequest(verb::post, kInvoke, body, wrong_secret));
  EXPECT_EQ(mismatch.type, "InvalidSignatureException");
  EXPECT_EQ(mismatch.status, 403);
  EXPECT_TRUE(mismatch.message.starts_with("The request signature we calculated does not match"));

  http::Request tampered = signedRequest(verb::post, kInvoke, body);
  tampered.body = R"({"k":"w"})";
  EXPECT_EQ(refused(tampered).type, "InvalidSignatureException");
  http::Request tampered_header = signedRequest(verb::post, kInvoke, body);
  tampered_header.headers.set("Content-Type", "text/plain");
  EXPECT_EQ(refused(tampered_header).type, "InvalidSignatureException");
  http::Request tampered_query = signedRequest(verb::post, kInvoke + "?Qualifier=1", body);
  tampered_query.raw_query = "Qualifier=2";
  EXPECT_EQ(refused(tampered_query).type, "InvalidSignatureException");

  // Five minutes either way, as AWS allows; a second more is refused.
  const http::Request on_time = signedRequest(verb::post, kInvoke, body);
  EXPECT_EQ(refused(on_time, kNow + 300).type, "accepted");
  EXPECT_EQ(refused(on_time, kNow - 300).type, "accepted");
  auto stale = refused(on_time, kNow + 301);
  EXPECT_EQ(stale.type, "InvalidSignatureException");
  EXPECT_EQ(stale.message,
            "Signature expired: 20261206T090000Z is now earlier than 20261206T090001Z "
            "(20261206T090501Z - 5 min.)");
  auto early = refused(on_time, kNow - 301);
  EXPECT_TRUE(
      early.message.starts_with("Signature not yet current: 20261206T090000Z is still "
                                "later than"))
      << early.message;

  Signing other_region;
  other_region.region = "eu-west-1";
  EXPECT_TRUE(refused(signedRequest(verb::post, kInvoke, body, other_region))
                  .message.starts_with("Credential should be scoped to a valid region."));
  EXPECT_EQ(refused(on_time, kNow, "logs").message,
            "Credential should be scoped to correct service: 'logs'. ");
}

TEST(RequestVerifier, RefusesPayloadsAwsSignsOnlyForS3) {
  const auto keys = store();
  const auto check = verifier(keys);
  for (const char* claim : {"UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}) {
    auto request = signedRequest(verb::post, kInvoke, "{}", {}, {{"X-Amz-Content-Sha256", claim}});
    auto refusal = refusalOf(check.verify(request, "lambda", kNow));
    EXPECT_EQ(refusal.type, "InvalidSignatureException") << claim;
    EXPECT_NE(refusal.message.find("only by Amazon S3"), std::string::npos) << refusal.message;
    EXPECT_TRUE(check.verifyHead(request, "lambda", kNow)) << "refused before the body";
  }
  // A payload hash that is the body's is fine; one that is not is a tampered body.
  auto honest = signedRequest(verb::post, kInvoke, "{}", {},
                              {{"X-Amz-Content-Sha256", auth::sha256Hex("{}")}});
  EXPECT_EQ(refusalOf(check.verify(honest, "lambda", kNow)).type, "accepted");
  honest.body = "[]";
  EXPECT_EQ(refusalOf(check.verify(honest, "lambda", kNow)).reason,
            "the body's SHA-256 is not X-Amz-Content-Sha256");
}

TEST(RequestVerifier, TemporaryKeysNeedTheirSessionToken) {
  const auto keys = store();
  const auto check = verifier(keys);
  Signing role;
  role.key = kRoleKey;
  role.secret = kRoleSecret;
  role.token = kRoleToken;
  EXPECT_EQ(
      refusalOf(check.verify(signedRequest(verb::post, kInvoke, "{}", role), "lambda", kNow)).type,
      "accepted");
  role.token = "";
  EXPECT_EQ(
      refusalOf(check.verify(signedRequest(verb::post, kInvoke, "{}", role), "lambda", kNow)).type,
      "UnrecognizedClientException");
  role.token = "IQoJb3JpZ2luX2VjEXAMPLETOKEM";
  EXPECT_EQ(
      refusalOf(check.verify(signedRequest(verb::post, kInvoke, "{}", role), "lambda", kNow)).type,
      "UnrecognizedClientException");
}

TEST(RequestVerifier, TheDateAndHostMustBeSigned) {
  const auto keys = store();
  const auto check = verifier(keys);
  auto request = signedRequest(verb::get, "/2015-03-31/functions", "");
  auto authorization = request.header("Authorization");
  const std::string without_host = std::regex_replace(authorization, std::regex("host;"), "");
  request.headers.set("Authorization", without_host);
  EXPECT_NE(refusalOf(check.verify(request, "lambda", kNow)).message.find("'Host'"),
            std::string::npos);
  request.headers.set("Authorization", "AWS4-HMAC-SHA256 Credential=x");
  EXPECT_EQ(refusalOf(check.verify(request, "lambda", kNow)).type, "IncompleteSignatureException");
  request.headers.set("Authorization", "Bearer abc");
  EXPECT_EQ(refusalOf(check.verify(request, "lambda", kNow)).status, 400);
  auto undated = signedRequest(verb::get, "/2015-03-31/functions", "");
  undated.headers.erase("X-Amz-Date");
  EXPECT_EQ(refusalOf(check.verify(undated, "lambda", kNow)).message,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
}

// Presigned (query-string) requests, checked against AWS's published
// vectors: the SigV4 test suite's get-vanilla-query-order-key-case (query
// form, the empty body's SHA-256, service "service") and S3's presigned GET
// example (UNSIGNED-PAYLOAD, 86400 s).
constexpr const char* kSuiteQuery =
    "Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%"
    "2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-"
    "SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature="
    "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5";
constexpr int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z

http::Request presignedGet(const std::string& target, const std::string& host) {
  http::beast_http::request<http::beast_http::string_body> message{verb::get, target, 11};
  message.set("Host", host);
  http::Request request = http::requestHead(message);
  request.peer = "127.0.0.1:50000";
  return request;
}

auth::RequestVerifier suiteVerifier(const auth::CredentialStore& keys) {
  return auth::RequestVerifier([&keys](std::string_view id) { return keys.find(id); },
                               {.region = "us-east-1"});
}

TEST(PresignedRequest, AcceptsAwsTestSuiteVector) {
  auth::CredentialStore keys(
      {{"suite", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", true}});
  const auto check = suiteVerifier(keys);
  http::Request request = presignedGet(std::string("/?") + kSuiteQuery, "example.amazonaws.com");
  // The canonical request covers every parameter but X-Amz-Signature, sorted.
  auth::SignedRequest wire{"GET",
                           "/",
                           auth::withoutSignature(request.raw_query),
                           {{"host", "example.amazonaws.com"}},
                           auth::sha256Hex("")};
  EXPECT_EQ(auth::canonicalRequest(wire, {"host"}),
            "GET\n/\nParam1=value1&Param2=value2&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&"
            "X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\n"
            "host:example.amazonaws.com\n\nhost\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto verdict = check.verify(request, "service", kSuiteTime + 60);
  ASSERT_TRUE(std::holds_alternative<auth::Principal>(verdict)) << refusalOf(verdict).reason;
  EXPECT_EQ(std::get<auth::Principal>(verdict).name, "suite");
  // Valid for its X-Amz-Expires (an hour), not a second more.
  EXPECT_EQ(refusalOf(check.verify(request, "service", kSuiteTime + 3600)).type, "accepted");
  auto expired = refusalOf(check.verify(request, "service", kSuiteTime + 3601));
  EXPECT_EQ(expired.type, "InvalidSignatureException");
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(expired.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T133601Z - 3600 sec.)");
  // Dated later than the 5 minutes of skew: not yet current.
  EXPECT_EQ(refusalOf(check.verify(request, "service", kSuiteTime - 300)).type, "accepted");
  EXPECT_TRUE(refusalOf(check.verify(request, "service", kSuiteTime - 301))
                  .message.starts_with("Signature not yet current: 20150830T123600Z"));
  // Any other parameter, the path, the host or a body: another signature.
  for (const auto& [target, host] : std::vector<std::pair<std::string, std::string>>{
           {std::string("/?") + kSuiteQuery + "&Param3=x", "example.amazonaws.com"},
           {"/?" + std::regex_replace(kSuiteQuery, std::regex("value1"), "value3"),
            "example.amazonaws.com"},
           {std::string("/x?") + kSuiteQuery, "example.amazonaws.com"},
           {std::string("/?") + kSuiteQuery, "other.amazonaws.com"}}) {
    auto tampered = refusalOf(check.verify(presignedGet(target, host), "service", kSuiteTime));
    EXPECT_EQ(tampered.reason, "signature does not match") << target << " " << host;
  }
  http::Request with_body = request;
  with_body.body = "x";
  EXPECT_EQ(refusalOf(check.verify(with_body, "service", kSuiteTime)).reason,
            "signature does not match");
}

TEST(PresignedRequest, AcceptsS3PresignedExampleWithUnsignedPayload) {
  // S3's "Authenticating Requests: Using Query Parameters" example.
  auth::CredentialStore keys({{"s3", "AKIAIOSFODNN7EXAMPLE", kAdminSecret, "", true}});
  const auto check = suiteVerifier(keys);
  const http::Request request = presignedGet(
      "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%"
      "2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
      "SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      "examplebucket.s3.amazonaws.com");
  const int64_t signed_at = 1369353600;  // 2013-05-24T00:00:00Z
  EXPECT_EQ(refusalOf(check.verify(request, "s3", signed_at + 86400)).type, "accepted");
  EXPECT_EQ(refusalOf(check.verify(request, "s3", signed_at + 86401)).type,
            "InvalidSignatureException");
  EXPECT_EQ(refusalOf(check.verify(request, "lambda", signed_at)).message,
            "Credential should be scoped to correct service: 'lambda'. ");
}

TEST(PresignedRequest, RefusesMalformedAndMixedAsAwsDoes) {
  auth::CredentialStore keys(
      {{"suite", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", true}});
  const auto check = suiteVerifier(keys);
  auto refused = [&](const std::string& query) {
    return refusalOf(
        check.verify(presignedGet("/?" + query, "example.amazonaws.com"), "service", kSuiteTime));
  };
  const std::string query = kSuiteQuery;
  // Header and query both: AWS refuses before looking further.
  http::Request mixed = presignedGet("/?" + query, "example.amazonaws.com");
  mixed.headers.set("Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                    "aws4_request, SignedHeaders=host, Signature=" +
                        std::string(64, '0'));
  auto both = refusalOf(check.verify(mixed, "service", kSuiteTime));
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(both.type, "InvalidSignatureException");
  EXPECT_EQ(both.message,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP "
            "header.");
  // Each missing parameter named, in AWS's words.
  auto missing = refused("X-Amz-Signature=" + std::string(64, 'a'));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.type, "IncompleteSignatureException");
  EXPECT_EQ(missing.message,
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string "
            "parameters must include 'X-Amz-Credential'. AWS query-string parameters must include "
            "'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. "
            "Re-examine the query-string parameters.");
  auto week = refused(std::regex_replace(query, std::regex("Expires=3600"), "Expires=604801"));
  EXPECT_EQ(week.type, "IncompleteSignatureException");
  EXPECT_TRUE(week.message.starts_with("X-Amz-Expires must be less than a week")) << week.message;
  EXPECT_EQ(refused(std::regex_replace(query, std::regex("Expires=3600"), "Expires=-1")).type,
            "IncompleteSignatureException");
  EXPECT_EQ(refused(std::regex_replace(query, std::regex("HMAC-SHA256"), "HMAC-SHA1")).message,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'");
  EXPECT_EQ(refused(query + "&X-Amz-Signature=" + std::string(64, 'b')).type,
            "IncompleteSignatureException");  // a second signature
  EXPECT_EQ(refused(std::regex_replace(query, std::regex("SignedHeaders=host"),
                                       "SignedHeaders=x-amz-date"))
                .message,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  EXPECT_EQ(
      refused(std::regex_replace(query, std::regex("Date=20150830T"), "Date=20150831T")).reason,
      "credential scope date differs from X-Amz-Date");
  // Without X-Amz-Expires a presigned request gets the header form's 5 minutes.
  const std::string unlimited = std::regex_replace(query, std::regex("&X-Amz-Expires=3600"), "");
  EXPECT_EQ(refusalOf(check.verify(presignedGet("/?" + unlimited, "example.amazonaws.com"),
                                   "service", kSuiteTime + 301))
                .message.substr(0, 18),
            "Signature expired:");
  // UNSIGNED-PAYLOAD named in the query is allowed; a streaming hash is not.
  EXPECT_EQ(refused(query + "&X-Amz-Content-Sha256=STREAMING-AWS4-HMAC-SHA256-PAYLOAD").reason,
            "streaming payload signature");
  EXPECT_EQ(refused(query + "&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD").reason,
            "signature does not match");  // it is part of what was signed
}

TEST(ApiGate, ClassifiesRoutesByTheirDecodedSegments) {
  using api::RouteKind;
  EXPECT_EQ(api::routeKind("/wick/v1/images"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/wick/v1/sandboxes/x"), RouteKind::kAdmin);  // any future one
  EXPECT_EQ(api::routeKind("//wick//v1/events"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/%77ick/v1/images"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/./wick/v1/images"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/wick/./code/abc.zip"), RouteKind::kDownload);
  EXPECT_EQ(api::routeKind("/WICK/v1/images"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/wick/code/abc.zip"), RouteKind::kDownload);
  EXPECT_EQ(api::routeKind("/wick/layer-content/abc.zip"), RouteKind::kDownload);
  EXPECT_EQ(api::routeKind("/wick/code/abc.zip/more"), RouteKind::kAdmin);
  EXPECT_EQ(api::routeKind("/2015-03-31/functions"), RouteKind::kApi);
  EXPECT_EQ(api::routeKind("/"), RouteKind::kApi);
  EXPECT_EQ(api::hostName("127.0.0.1:3001"), "127.0.0.1");
  EXPECT_EQ(api::hostName("[::1]:3001"), "::1");
  EXPECT_EQ(api::hostName("LocalHost."), "localhost");
  EXPECT_EQ(api::hostName("evil.example:80"), "evil.example");
}

class Gate : public ::testing::Test {
 protected:
  Gate()
      : keys_(store()),
        verifier_(verifier(keys_)),
        gate_({.account_id = "000000000000",
               .host_names = {"localhost", "127.0.0.1", "::1", "wick.internal"}},
              verifier_, urls_) {}
  // A request signed just now (the gate reads the clock).
  http::Request now(verb method, const std::string& target, const std::string& body = "",
                    Signing signing = {}) {
    signing.at = static_cast<int64_t>(std::time(nullptr));
    return signedRequest(method, target, body, signing);
  }
  static std::string typeOf(const std::optional<http::Response>& response) {
    return response ? std::string((*response)["x-amzn-ErrorType"]) : "admitted";
  }
  auth::CredentialStore keys_;
  auth::RequestVerifier verifier_;
  auth::UrlSigner urls_;
  api::ApiGate gate_;
};

TEST_F(Gate, AdmitsSignedRequestsFromItsOwnNamesOnly) {
  EXPECT_EQ(typeOf(gate_.admit(now(verb::get, "/2015-03-31/functions"))), "admitted");
  for (const char* host : {"localhost:3001", "[::1]:3001", "wick.internal", "127.0.0.1"}) {
    auto request = now(verb::get, "/2015-03-31/functions");
    request.headers.set("Host", host);  // (the signature no longer matters: refused before)
    auto response = gate_.admit(request);
    if (response) {
      EXPECT_NE(typeOf(response), "AccessDeniedException") << host;
    }
  }
  auto rebound = now(verb::get, "/2015-03-31/functions");
  rebound.headers.set("Host", "attacker.example:3001");
  auto refused = gate_.admit(rebound);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 403u);
  EXPECT_EQ(typeOf(refused), "AccessDeniedException");
  EXPECT_TRUE(gate_.admitHead(rebound)) << "refused before its body is read";

  auto from_page = now(verb::post, kInvoke, "{}");
  from_page.headers.set("Origin", "http://attacker.example");
  EXPECT_EQ(typeOf(gate_.admit(from_page)), "AccessDeniedException");
  from_page.headers.set("Origin", "null");
  EXPECT_EQ(typeOf(gate_.admit(from_page)), "AccessDeniedException");
}

// A refusal quotes what the client sent (the algorithm, the scope's date and
// region); bytes that are not UTF-8 there are replaced, not thrown on while
// the answer is made (which closed the connection without one).
TEST_F(Gate, RefusalsQuotingBytesThatAreNotUtf8AreStillAnswered) {
  auto algorithm = now(verb::get, "/2015-03-31/functions");
  algorithm.headers.set("Authorization", "\xff\xfe Credential=x");
  std::optional<http::Response> refused;
  ASSERT_NO_THROW(refused = gate_.admit(algorithm));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);
  EXPECT_EQ(typeOf(refused), "IncompleteSignatureException");
  auto body = nlohmann::json::parse(refused->body());
  EXPECT_EQ(body["message"], "Unsupported AWS 'algorithm': '\xef\xbf\xbd\xef\xbf\xbd'");

  auto region = now(verb::get, "/2015-03-31/functions");
  Signing foreign;
  foreign.region = "\xc3(";
  region = now(verb::get, "/2015-03-31/functions", "", foreign);
  ASSERT_NO_THROW(refused = gate_.admit(region));
  ASSERT_TRUE(refused);
  EXPECT_EQ(typeOf(refused), "InvalidSignatureException");
  EXPECT_TRUE(nlohmann::json::accept(refused->body())) << refused->body();
}

TEST_F(Gate, AdminRoutesAreAbsentEvenToAnAdmin) {
  for (const char* path : {"/wick/v1/images/imports", "/wick/v1/events", "//wick/v1/runtimes",
                           "/wick/v1/functions/f/logs", "/wick/v1/anything-new"}) {
    auto response = gate_.admit(now(verb::post, path, "{}"));
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->result_int(), 404u) << path;
    EXPECT_EQ(typeOf(response), "UnknownOperationException");
  }
  auto absolute = now(verb::get, "/2015-03-31/functions");
  absolute.path = "http://127.0.0.1:3001/wick/v1/images";
  EXPECT_EQ(typeOf(gate_.admit(absolute)), "InvalidRequestContentException");
}

TEST_F(Gate, DownloadsNeedAUrlWickdPresigned) {
  const std::string path = "/wick/code/" + std::string(64, 'a') + ".zip";
  const int64_t t = static_cast<int64_t>(std::time(nullptr));
  const std::string url = urls_.presign("http://127.0.0.1:3001" + path, t);
  const std::string query = url.substr(url.find('?'));
  auto get = [&](const std::string& target) {
    http::beast_http::request<http::beast_http::string_body> message{verb::get, target, 11};
    message.set("Host", "127.0.0.1:3001");
    return gate_.admit(http::requestHead(message));
  };
  EXPECT_EQ(typeOf(get(path + query)), "admitted");
  EXPECT_EQ(typeOf(get(path)), "AccessDeniedException");
  EXPECT_EQ(typeOf(get("/wick/code/" + std::string(64, 'b') + ".zip" + query)),
            "AccessDeniedException");
  auth::UrlSigner other_run;
  const std::string foreign = other_run.presign("http://127.0.0.1:3001" + path, t);
  EXPECT_EQ(typeOf(get(path + foreign.substr(foreign.find('?')))), "AccessDeniedException");
  const std::string expired = urls_.presign("http://127.0.0.1:3001" + path, t - 601);
  EXPECT_EQ(typeOf(get(path + expired.substr(expired.find('?')))), "AccessDeniedException");
}

TEST_F(Gate, APrincipalThatIsNotAnAdminMayOnlyInvoke) {
  Signing invoker;
  invoker.key = kInvokerKey;
  invoker.secret = kInvokerSecret;
  EXPECT_EQ(typeOf(gate_.admit(now(verb::post, kInvoke, "{}", invoker))), "admitted");
  EXPECT_EQ(
      typeOf(gate_.admit(now(verb::post, "/2014-11-13/functions/f/invoke-async/", "{}", invoker))),
      "admitted");
  auto listed = gate_.admit(now(verb::get, "/2015-03-31/functions", "", invoker));
  EXPECT_EQ(typeOf(listed), "AccessDeniedException");
  EXPECT_NE(listed->body().find("arn:aws:iam::000000000000:user/ci"), std::string::npos);
  EXPECT_EQ(typeOf(gate_.admit(now(verb::get, "/2015-03-31/functions/f", "", invoker))),
            "AccessDeniedException");
  EXPECT_EQ(typeOf(gate_.admit(now(verb::get, "/2015-03-31/functions", ""))), "admitted");
}

TEST_F(Gate, InsecureNoAuthAdmitsUnsignedButStillHidesAdminRoutes) {
  api::GateSettings settings;
  settings.insecure_no_auth = true;
  settings.host_names = {"127.0.0.1"};
  api::ApiGate open(settings, verifier_, urls_);
  http::beast_http::request<http::beast_http::string_body> message{verb::get,
                                                                   "/2015-03-31/functions", 11};
  message.set("Host", "anything.example");
  message.set("Origin", "http://page.example");
  EXPECT_EQ(typeOf(open.admit(http::requestHead(message))), "admitted");
  message.target("/wick/v1/images");
  EXPECT_EQ(typeOf(open.admit(http::requestHead(message))), "UnknownOperationException");
}

}  // namespace
}  // namespace wick
