// Function URLs' pure parts: the Host/path router, the 2.0 event, the
// response mapping, CORS, the resource policy, the SigV4 check, and the
// SQLite store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/range/iterator_range.hpp>
#include <filesystem>

#include "common/encoding.h"
#include "host/auth/sigv4.h"
#include "host/urls/cors.h"
#include "host/urls/resource_policy.h"
#include "host/urls/url_event.h"
#include "host/urls/url_response.h"
#include "host/urls/url_route.h"
#include "host/urls/url_store.h"

namespace wick::urls {
namespace {

using nlohmann::json;
constexpr char kId[] = "0123456789abcdefghijklmnopqrstuv";

TEST(UrlRoute, HostNamesTheUrlWithAnyPortAndCase) {
  auto route = routeRequest(std::string(kId) + ".lambda-url.us-east-1.localhost:3002", "/a/b",
                            "us-east-1", "localhost");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->url_id, kId);
  EXPECT_EQ(route->raw_path, "/a/b");
  EXPECT_TRUE(route->by_host);
  auto upper = routeRequest("0123456789ABCDEFGHIJKLMNOPQRSTUV.LAMBDA-URL.US-EAST-1.Example.COM.",
                            "/", "us-east-1", "example.com");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->url_id, kId);
}

TEST(UrlRoute, PathPrefixWhenTheHostSaysNothing) {
  auto route = routeRequest("127.0.0.1:3002", std::string("/") + kId + "/orders/7", "us-east-1",
                            "localhost");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->url_id, kId);
  EXPECT_EQ(route->raw_path, "/orders/7");
  EXPECT_FALSE(route->by_host);
  auto bare = routeRequest("127.0.0.1", std::string("/") + kId, "us-east-1", "localhost");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->raw_path, "/");
}

TEST(UrlRoute, RefusesWhatIsNoUrl) {
  EXPECT_FALSE(routeRequest("127.0.0.1", "/", "us-east-1", "localhost"));
  EXPECT_FALSE(routeRequest(std::string(kId) + ".lambda-url.eu-west-1.localhost", "/x", "us-east-1",
                            "localhost"));  // another region
  EXPECT_FALSE(routeRequest("x" + std::string(kId) + ".lambda-url.us-east-1.localhost", "/x",
                            "us-east-1", "localhost"));  // 33 characters
  EXPECT_FALSE(routeRequest("h", std::string("/") + kId + "x/y", "us-east-1", "localhost"));
  EXPECT_FALSE(routeRequest("h", "/0123456789ABCDEFGHIJKLMNOPQRSTUV/y", "us-east-1", "localhost"));
}

TEST(UrlRoute, NewIdsAreLambdaShaped) {
  const std::string a = newUrlId(), b = newUrlId();
  EXPECT_TRUE(isUrlId(a));
  EXPECT_NE(a, b);
}

http::Request request(http::beast_http::verb method, std::string path, std::string query) {
  http::Request r;
  r.method = method;
  r.path = std::move(path);
  r.raw_query = query;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    std::string pair = query.substr(start, amp == std::string::npos ? amp : amp - start);
    size_t eq = pair.find('=');
    r.query.emplace(http::percentDecode(pair.substr(0, eq)),
                    eq == std::string::npos ? "" : http::percentDecode(pair.substr(eq + 1)));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return r;
}

EventContext context() {
  EventContext c;
  c.url_id = kId;
  c.domain_name = std::string(kId) + ".lambda-url.us-east-1.localhost";
  c.raw_path = "/orders/7";
  c.source_ip = "203.0.113.9";
  c.forwarded_for = "203.0.113.9";
  c.forwarded_port = "3002";
  c.request_id = "1f0c2b55-8a4e-4f63-9d0b-4b7e3f1a9c20";
  c.trace_id = "Root=1-6744a3c1-3c1f0e0e5a8a2f7b4d9c1e22";
  c.epoch_ms = 1764025744123;
  c.authorizer = nullptr;
  return c;
}

TEST(UrlEvent, PayloadFormatTwoFieldByField) {
  auto r = request(http::beast_http::verb::post, "/orders/7",
                   "expand=items&expand=notes&multiQuery=%2Fbar&flag");
  r.headers.set("Host", std::string(kId) + ".lambda-url.us-east-1.localhost");
  r.headers.set("Content-Type", "application/json");
  r.headers.set("User-Agent", "curl/8.5.0");
  r.headers.insert("X-Repeated", "a");
  r.headers.insert("X-Repeated", "b");
  r.headers.insert("Cookie", "session=abc; theme=dark");
  r.headers.set("X-Forwarded-For", "6.6.6.6");  // the client's own: not believed
  r.body = R"({"qty":2})";
  const json event = buildEvent(r, context());
  EXPECT_EQ(event["version"], "2.0");
  EXPECT_EQ(event["routeKey"], "$default");
  EXPECT_EQ(event["rawPath"], "/orders/7");
  EXPECT_EQ(event["rawQueryString"], "expand=items&expand=notes&multiQuery=%2Fbar&flag");
  EXPECT_EQ(event["cookies"], json({"session=abc", "theme=dark"}));
  EXPECT_FALSE(event["headers"].contains("cookie"));
  EXPECT_EQ(event["headers"]["x-repeated"], "a,b");
  EXPECT_EQ(event["headers"]["content-type"], "application/json");
  EXPECT_EQ(event["headers"]["x-forwarded-for"], "203.0.113.9");
  EXPECT_EQ(event["headers"]["x-forwarded-proto"], "http");
  EXPECT_EQ(event["headers"]["x-forwarded-port"], "3002");
  EXPECT_EQ(event["headers"]["x-amzn-trace-id"], context().trace_id);
  EXPECT_EQ(event["queryStringParameters"],
            json({{"expand", "items,notes"}, {"multiQuery", "/bar"}, {"flag", ""}}));
  const json& rc = event["requestContext"];
  EXPECT_EQ(rc["accountId"], "anonymous");
  EXPECT_EQ(rc["apiId"], kId);
  EXPECT_EQ(rc["domainPrefix"], kId);
  EXPECT_EQ(rc["domainName"], context().domain_name);
  EXPECT_EQ(rc["http"], json({{"method", "POST"},
                              {"path", "/orders/7"},
                              {"protocol", "HTTP/1.1"},
                              {"sourceIp", "203.0.113.9"},
                              {"userAgent", "curl/8.5.0"}}));
  EXPECT_EQ(rc["requestId"], context().request_id);
  EXPECT_EQ(rc["routeKey"], "$default");
  EXPECT_EQ(rc["stage"], "$default");
  EXPECT_EQ(rc["time"], "24/Nov/2025:23:09:04 +0000");
  EXPECT_EQ(rc["timeEpoch"], 1764025744123);
  EXPECT_FALSE(rc.contains("authorizer"));
  EXPECT_EQ(event["body"], R"({"qty":2})");
  EXPECT_EQ(event["isBase64Encoded"], false);
}

TEST(UrlEvent, HostileBytesStayValidJson) {
  auto r = request(http::beast_http::verb::get, "/a%22b", "q=%22%5C%0A");
  r.headers.set("X-Quote", "say \"hi\" \\ back\tslash\x01");
  r.headers.set("X-Latin1", "caf\xe9");  // not UTF-8
  r.headers.set("X-Emoji", "\xf0\x9f\x98\x80");
  EventContext c = context();
  c.raw_path = "/a%22b";
  const json event = buildEvent(r, c);  // throws if eventJson wrote no JSON
  EXPECT_EQ(event["headers"]["x-quote"], "say \"hi\" \\ back\tslash\x01");
  EXPECT_EQ(event["headers"]["x-latin1"], "caf\xef\xbf\xbd");  // U+FFFD
  EXPECT_EQ(event["headers"]["x-emoji"], "\xf0\x9f\x98\x80");
  EXPECT_EQ(event["queryStringParameters"]["q"], "\"\\\n");
  c.authorizer = {{"iam", {{"accessKey", "AKIA"}, {"cognitoIdentity", nullptr}}}};
  EXPECT_EQ(buildEvent(r, c)["requestContext"]["authorizer"]["iam"]["accessKey"], "AKIA");
}

TEST(UrlEvent, NoQueryNoCookiesNoBody) {
  auto r = request(http::beast_http::verb::get, "/", "");
  const json event = buildEvent(r, context());
  EXPECT_EQ(event["rawQueryString"], "");
  EXPECT_FALSE(event.contains("queryStringParameters"));
  EXPECT_FALSE(event.contains("cookies"));
  EXPECT_FALSE(event.contains("body"));
  EXPECT_EQ(event["isBase64Encoded"], false);
}

TEST(UrlEvent, BinaryBodiesAreBase64) {
  auto r = request(http::beast_http::verb::post, "/", "");
  r.headers.set("Content-Type", "application/octet-stream");
  r.body = std::string("\x00\x01\xff", 3);
  json event = buildEvent(r, context());
  EXPECT_EQ(event["isBase64Encoded"], true);
  EXPECT_EQ(event["body"], base64Encode(r.body));
  // Text that is not UTF-8 cannot be a JSON string either.
  r.headers.set("Content-Type", "text/plain");
  event = buildEvent(r, context());
  EXPECT_EQ(event["isBase64Encoded"], true);
  r.body = "héllo";
  event = buildEvent(r, context());
  EXPECT_EQ(event["isBase64Encoded"], false);
  EXPECT_EQ(event["body"], "héllo");
}

TEST(UrlEvent, TextContentTypes) {
  for (const char* type :
       {"", "text/html; charset=utf-8", "application/json", "application/x-www-form-urlencoded",
        "application/vnd.api+json", "application/soap+xml"})
    EXPECT_TRUE(isTextContent(type)) << type;
  for (const char* type : {"image/png", "application/octet-stream", "multipart/form-data; b=x"})
    EXPECT_FALSE(isTextContent(type)) << type;
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));     // a surrogate
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));         // cut short
  EXPECT_TRUE(isValidUtf8("\xf0\x9f\x98\x80"));  // an emoji
}

TEST(UrlEvent, SourceIpBelievesOnlyTrustedProxies) {
  EXPECT_EQ(sourceIp("10.0.0.1", "6.6.6.6", {}), "10.0.0.1");
  EXPECT_EQ(sourceIp("127.0.0.1", "203.0.113.9", {"127.0.0.1"}), "203.0.113.9");
  // A client's own forged entry before the real one is skipped.
  EXPECT_EQ(sourceIp("127.0.0.1", "6.6.6.6, 203.0.113.9", {"127.0.0.1"}), "203.0.113.9");
  EXPECT_EQ(sourceIp("127.0.0.1", "203.0.113.9, 127.0.0.1", {"127.0.0.1"}), "203.0.113.9");
  EXPECT_EQ(sourceIp("127.0.0.1", "", {"127.0.0.1"}), "127.0.0.1");
}

std::string header(const http::Response& response, const char* name) {
  auto it = response.find(name);
  return it == response.end() ? "" : std::string(it->value());
}

TEST(UrlResponse, StructuredResult) {
  auto response = mapFunctionResult(
      R"({"statusCode":201,"headers":{"X-Custom":"yes","Content-Type":"text/plain"},)"
      R"("cookies":["a=1; Path=/","b=2"],"body":"made"})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 201u);
  EXPECT_EQ(header(*response, "X-Custom"), "yes");
  EXPECT_EQ(header(*response, "Content-Type"), "text/plain");
  std::vector<std::string> cookies;
  for (const auto& field : boost::make_iterator_range(response->equal_range("Set-Cookie")))
    cookies.emplace_back(field.value());
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1; Path=/", "b=2"}));
  EXPECT_EQ(response->body(), "made");
}

TEST(UrlResponse, StatusAsStringBase64AndObjectBodies) {
  auto teapot = mapFunctionResult(R"({"statusCode":"418","body":{"a":1}})");
  ASSERT_TRUE(teapot);
  EXPECT_EQ(teapot->result_int(), 418u);
  EXPECT_EQ(header(*teapot, "Content-Type"), "application/json");
  EXPECT_EQ(teapot->body(), R"({"a":1})");
  auto binary = mapFunctionResult(R"({"statusCode":200,"isBase64Encoded":true,"body":"AAH/"})");
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->body(), std::string("\x00\x01\xff", 3));
}

// A hostile function's result nested deeper than a DOM may be dumped (dump()
// recurses once per level): passed on as it came, a 200 like any other JSON
// that is not a response; in a stream's prelude, a 502. This crashed wickd.
TEST(UrlResponse, ADeeplyNestedResultIsPassedOnWithoutRecursing) {
  const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  auto plain = mapFunctionResult(deep);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->result_int(), 200);
  EXPECT_EQ(plain->body(), deep);
  const std::string in_body = R"({"statusCode":200,"body":)" + deep + "}";
  auto wrapped = mapFunctionResult(in_body);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->body(), in_body);
  const std::string in_header = R"({"statusCode":200,"headers":{"a":)" + deep + "}}";
  EXPECT_TRUE(mapFunctionResult(in_header));
  EXPECT_FALSE(mapPrelude(R"({"statusCode":200,"headers":{"a":)" + deep + "}}"));
}

TEST(UrlResponse, AnyOtherJsonIsA200) {
  struct Case {
    const char* payload;
    const char* body;
  } cases[] = {{R"({"hello":"world"})", R"({"hello":"world"})"},
               {R"("hello")", "hello"},
               {"3", "3"},
               {"true", "true"},
               {R"(["hello", 3, true])", R"(["hello",3,true])"},
               {"null", "null"}};
  for (const Case& c : cases) {
    auto response = mapFunctionResult(c.payload);
    ASSERT_TRUE(response) << c.payload;
    EXPECT_EQ(response->result_int(), 200u);
    EXPECT_EQ(header(*response, "Content-Type"), "application/json");
    EXPECT_EQ(response->body(), c.body);
  }
}

TEST(UrlResponse, InvalidResultsAreNoResponse) {
  for (const char* payload :
       {"not json", R"({"statusCode":"abc"})", R"({"statusCode":99})", R"({"statusCode":700})",
        // An interim status would make the body that follows the response.
        R"({"statusCode":100,"body":"HTTP/1.1 200 OK\r\n\r\n"})", R"({"statusCode":"101"})",
        // Integers beyond int do not wrap into range (2^32 + 200).
        R"({"statusCode":4294967496})", R"({"statusCode":"4294967496"})",
        R"({"statusCode":-4294967096})",
        R"({"statusCode":200,"isBase64Encoded":true,"body":"!!!"})",
        R"({"statusCode":200,"headers":"x"})", R"({"statusCode":200,"headers":{"a":"b\r\nc: d"}})",
        R"({"statusCode":200,"headers":{"bad name":"x"}})", R"({"statusCode":200,"cookies":[1]})"})
    EXPECT_FALSE(mapFunctionResult(payload)) << payload;
}

TEST(UrlResponse, InvokeOutcomesMapToLambdaStatuses) {
  http::Response ok{http::beast_http::status::ok, 11};
  ok.body() = R"({"statusCode":204})";
  EXPECT_EQ(urlResponse(ok).result_int(), 204u);
  http::Response failed = ok;
  failed.set("X-Amz-Function-Error", "Unhandled");
  EXPECT_EQ(urlResponse(failed).result_int(), 502u);
  EXPECT_EQ(urlResponse(failed).body(), "Internal Server Error");
  http::Response throttle{http::beast_http::status::too_many_requests, 11};
  EXPECT_EQ(urlResponse(throttle).result_int(), 429u);
  http::Response large{http::beast_http::status::payload_too_large, 11};
  EXPECT_EQ(urlResponse(large).result_int(), 413u);
  http::Response bad = ok;
  bad.body() = "{";
  EXPECT_EQ(urlResponse(bad).result_int(), 502u);
  EXPECT_EQ(unknownUrl().body(), R"({"Message":null})");
  EXPECT_EQ(header(forbidden(), "x-amzn-ErrorType"), "AccessDeniedException");
}

TEST(UrlResponse, SignatureRefusalsQuotingBytesThatAreNotUtf8AreJson) {
  http::Response refused;
  ASSERT_NO_THROW(refused = signatureRefused(400, "IncompleteSignatureException",
                                             "Unsupported AWS 'algorithm': '\xff'"));
  EXPECT_EQ(json::parse(refused.body())["Message"], "Unsupported AWS 'algorithm': '\xef\xbf\xbd'");
}

TEST(Cors, ValidatesLambdasLimits) {
  auto good = parseCors(json{{"AllowOrigins", {"https://example.com"}},
                             {"AllowMethods", {"GET", "POST"}},
                             {"MaxAge", 300}});
  ASSERT_TRUE(std::holds_alternative<Cors>(good));
  EXPECT_EQ(toJson(std::get<Cors>(good))["MaxAge"], 300);
  auto age = parseCors(json{{"MaxAge", 86401}});
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(age));
  EXPECT_EQ(std::get<api::AwsError>(age).type, "ValidationException");
  auto method = parseCors(json{{"AllowMethods", {"CONNECTX"}}});
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(method));
  EXPECT_NE(std::get<api::AwsError>(method).message.find("cors.allowMethods"), std::string::npos);
  auto empty_origin = parseCors(json{{"AllowOrigins", {""}}});
  EXPECT_TRUE(std::holds_alternative<api::AwsError>(empty_origin));
  auto wrong_type = parseCors(json{{"AllowOrigins", "https://example.com"}});
  EXPECT_TRUE(std::holds_alternative<api::AwsError>(wrong_type));
}

TEST(Cors, HeadersForAllowedOriginsOnly) {
  Cors cors;
  cors.allow_origins = {"https://example.com"};
  cors.allow_methods = {"GET", "POST"};
  cors.allow_headers = {"content-type"};
  cors.expose_headers = {"x-request-id"};
  cors.max_age = 300;
  EXPECT_TRUE(corsHeaders(cors, "https://evil.example", true).empty());
  EXPECT_TRUE(corsHeaders(cors, "", false).empty());
  Headers preflight = corsHeaders(cors, "https://example.com", true);
  auto value = [](const Headers& headers, const std::string& name) {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return std::string();
  };
  EXPECT_EQ(value(preflight, "Access-Control-Allow-Origin"), "https://example.com");
  EXPECT_EQ(value(preflight, "Access-Control-Allow-Methods"), "GET,POST");
  EXPECT_EQ(value(preflight, "Access-Control-Allow-Headers"), "content-type");
  EXPECT_EQ(value(preflight, "Access-Control-Max-Age"), "300");
  Headers simple = corsHeaders(cors, "https://example.com", false);
  EXPECT_EQ(value(simple, "Access-Control-Expose-Headers"), "x-request-id");
  EXPECT_EQ(value(simple, "Access-Control-Allow-Methods"), "");
  cors.allow_origins = {"*"};
  EXPECT_EQ(value(corsHeaders(cors, "https://any.example", false), "Access-Control-Allow-Origin"),
            "*");
  cors.allow_credentials = true;
  EXPECT_EQ(value(corsHeaders(cors, "https://any.example", false), "Access-Control-Allow-Origin"),
            "https://any.example");
  EXPECT_TRUE(isPreflight("OPTIONS", "https://a", "POST"));
  EXPECT_FALSE(isPreflight("OPTIONS", "https://a", ""));
}

constexpr char kArn[] = "arn:aws:lambda:us-east-1:000000000000:function:f";

TEST(ResourcePolicy, StatementsAsLambdaRendersThem) {
  auto statement = statementFor(json{{"StatementId", "FunctionURLAllowPublicAccess"},
                                     {"Action", "lambda:InvokeFunctionUrl"},
                                     {"Principal", "*"},
                                     {"FunctionUrlAuthType", "NONE"}},
                                kArn);
  ASSERT_TRUE(std::holds_alternative<json>(statement));
  EXPECT_EQ(std::get<json>(statement),
            json::parse(R"({"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*",
              "Action":"lambda:InvokeFunctionUrl","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
              "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}})"));
  auto service = statementFor(json{{"StatementId", "s3"},
                                   {"Action", "lambda:InvokeFunction"},
                                   {"Principal", "s3.amazonaws.com"},
                                   {"SourceArn", "arn:aws:s3:::bucket"},
                                   {"SourceAccount", "123456789012"}},
                              kArn);
  const json& rendered = std::get<json>(service);
  EXPECT_EQ(rendered["Principal"], json({{"Service", "s3.amazonaws.com"}}));
  EXPECT_EQ(rendered["Condition"]["ArnLike"]["AWS:SourceArn"], "arn:aws:s3:::bucket");
  EXPECT_EQ(rendered["Condition"]["StringEquals"]["AWS:SourceAccount"], "123456789012");
  auto account = statementFor(
      json{
          {"StatementId", "a"}, {"Action", "lambda:InvokeFunction"}, {"Principal", "123456789012"}},
      kArn);
  EXPECT_EQ(std::get<json>(account)["Principal"],
            json({{"AWS", "arn:aws:iam::123456789012:root"}}));
}

TEST(ResourcePolicy, ValidationErrors) {
  auto no_sid = statementFor(json{{"Action", "lambda:InvokeFunction"}, {"Principal", "*"}}, kArn);
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(no_sid));
  EXPECT_NE(std::get<api::AwsError>(no_sid).message.find("statementId"), std::string::npos);
  auto bad_action = statementFor(
      json{{"StatementId", "x"}, {"Action", "s3:GetObject"}, {"Principal", "*"}}, kArn);
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(bad_action));
  auto bad_sid = statementFor(
      json{{"StatementId", "has space"}, {"Action", "lambda:InvokeFunction"}, {"Principal", "*"}},
      kArn);
  EXPECT_TRUE(std::holds_alternative<api::AwsError>(bad_sid));
  auto bad_auth = statementFor(json{{"StatementId", "x"},
                                    {"Action", "lambda:InvokeFunctionUrl"},
                                    {"Principal", "*"},
                                    {"FunctionUrlAuthType", "OPEN"}},
                               kArn);
  EXPECT_TRUE(std::holds_alternative<api::AwsError>(bad_auth));
}

Policy policyOf(std::vector<json> statements) {
  Policy policy;
  for (const json& statement : statements)
    policy.statements.push_back({statement["Sid"].get<std::string>(), statement.dump()});
  return policy;
}

TEST(ResourcePolicy, PublicUrlNeedsInvokeFunctionUrlForEveryone) {
  auto make = [](json request) { return std::get<json>(statementFor(request, kArn)); };
  const json url_none = make({{"StatementId", "a"},
                              {"Action", "lambda:InvokeFunctionUrl"},
                              {"Principal", "*"},
                              {"FunctionUrlAuthType", "NONE"}});
  const json url_iam = make({{"StatementId", "b"},
                             {"Action", "lambda:InvokeFunctionUrl"},
                             {"Principal", "*"},
                             {"FunctionUrlAuthType", "AWS_IAM"}});
  const json invoke = make({{"StatementId", "c"},
                            {"Action", "lambda:InvokeFunction"},
                            {"Principal", "*"},
                            {"InvokedViaFunctionUrl", true}});
  const json account = make({{"StatementId", "d"},
                             {"Action", "lambda:InvokeFunctionUrl"},
                             {"Principal", "123456789012"},
                             {"FunctionUrlAuthType", "NONE"}});
  EXPECT_TRUE(allowsPublicUrl(policyOf({url_none})));
  EXPECT_TRUE(allowsPublicUrl(policyOf({invoke, url_none})));
  EXPECT_FALSE(allowsPublicUrl(policyOf({url_iam})));
  EXPECT_FALSE(allowsPublicUrl(policyOf({invoke})));
  EXPECT_FALSE(allowsPublicUrl(policyOf({account})));
  EXPECT_FALSE(allowsPublicUrl(policyOf({})));
  EXPECT_EQ(policyDocument(policyOf({url_none}))["Statement"][0], url_none);
}

class UrlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("urls-test-" + std::to_string(::getpid()) + ".db");
    auto opened = openSqliteUrlStore(path_.string());
    ASSERT_TRUE(opened) << opened.error().message();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  std::filesystem::path path_;
  std::unique_ptr<UrlStore> store_;
};

UrlConfig config(std::string function, std::string qualifier) {
  UrlConfig c;
  c.function = std::move(function);
  c.qualifier = std::move(qualifier);
  c.url_id = newUrlId();
  c.auth_type = "NONE";
  c.creation_time = c.last_modified_time = "2026-12-06T10:00:00.000000Z";
  return c;
}

TEST_F(UrlStoreTest, OneUrlPerQualifierFoundByItsId) {
  UrlConfig latest = config("f", "$LATEST");
  ASSERT_TRUE(*store_->createUrl(latest));
  EXPECT_FALSE(*store_->createUrl(config("f", "$LATEST")));
  ASSERT_TRUE(*store_->createUrl(config("f", "live")));
  auto found = store_->urlById(latest.url_id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->qualifier, "$LATEST");
  latest.auth_type = "AWS_IAM";
  ASSERT_TRUE(store_->updateUrl(latest));
  EXPECT_EQ((*store_->url("f", "$LATEST"))->auth_type, "AWS_IAM");
  EXPECT_EQ(store_->urls("f")->size(), 2u);
  EXPECT_TRUE(*store_->removeUrl("f", "live"));
  EXPECT_FALSE(*store_->removeUrl("f", "live"));
}

TEST_F(UrlStoreTest, PolicyStatementsKeepTheirOrderAndRevision) {
  ASSERT_TRUE(*store_->addStatement("f", "$LATEST", {"b", "{}"}, "r1"));
  ASSERT_TRUE(*store_->addStatement("f", "$LATEST", {"a", "{}"}, "r2"));
  EXPECT_FALSE(*store_->addStatement("f", "$LATEST", {"a", "{}"}, "r3"));
  auto policy = store_->policy("f", "$LATEST");
  ASSERT_TRUE(policy && *policy);
  ASSERT_EQ((*policy)->statements.size(), 2u);
  EXPECT_EQ((*policy)->statements[0].sid, "b");
  EXPECT_EQ((*policy)->revision_id, "r2");
  EXPECT_FALSE(*store_->policy("f", "live"));
  EXPECT_TRUE(*store_->removeStatement("f", "$LATEST", "b", "r4"));
  EXPECT_EQ((*store_->policy("f", "$LATEST"))->revision_id, "r4");
}

TEST_F(UrlStoreTest, DeletingAFunctionTakesItsUrlsAndPolicies) {
  ASSERT_TRUE(*store_->createUrl(config("f", "$LATEST")));
  ASSERT_TRUE(*store_->createUrl(config("f", "live")));
  ASSERT_TRUE(*store_->createUrl(config("g", "$LATEST")));
  ASSERT_TRUE(*store_->addStatement("f", "live", {"a", "{}"}, "r"));
  ASSERT_TRUE(store_->removeQualifier("f", "live"));
  EXPECT_FALSE(*store_->url("f", "live"));
  EXPECT_FALSE(*store_->policy("f", "live"));
  ASSERT_TRUE(store_->removeFunction("f"));
  EXPECT_TRUE(store_->urls("f")->empty());
  EXPECT_EQ(store_->urls("g")->size(), 1u);
}

}  // namespace
}  // namespace wick::urls
