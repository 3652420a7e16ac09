// The Extensions API's bookkeeping without sockets: events queue for an
// extension that is not waiting, parked nexts are answered, and "everyone is
// back in next" is what ends init and invocations.
#include "agent/extensions_api.h"

#include <gtest/gtest.h>

namespace wick::agent {
namespace {

HttpRequest request(std::string method, std::string target,
                    std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string body = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

std::string registerAs(ExtensionsApi& api, const std::string& name, const std::string& body) {
  auto answer = api.handle(
      request("POST", "/2020-01-01/extension/register", {{"lambda-extension-name", name}}, body),
      -1);
  EXPECT_EQ(answer.status, 200) << answer.body;
  const std::string prefix = "Lambda-Extension-Identifier: ";
  return answer.headers.substr(prefix.size(), 36);
}

HttpRequest next(const std::string& id) {
  return request("GET", "/2020-01-01/extension/event/next", {{"lambda-extension-identifier", id}});
}

TEST(ExtensionsApi, EventsWaitForAnExtensionThatIsBusy) {
  ExtensionsApi api({"f", "1", "h"});
  api.expectExternal("ext");
  EXPECT_FALSE(api.externalsRegistered());
  const std::string id = registerAs(api, "ext", R"({"events":["INVOKE","SHUTDOWN"]})");
  EXPECT_TRUE(api.externalsRegistered());
  EXPECT_FALSE(api.allWaiting()) << "registered, not yet in next";

  EXPECT_EQ(api.handle(next(id), 7).status, 0) << "parked";
  EXPECT_TRUE(api.allWaiting());
  auto answers = api.invoke("r1", 5, "arn", "");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].connection, 7);
  EXPECT_EQ(answers[0].answer.body,
            R"({"eventType":"INVOKE","deadlineMs":5,"requestId":"r1","invokedFunctionArn":"arn"})");
  EXPECT_FALSE(api.allWaiting()) << "busy with r1";

  // Two events arrive while it works: they are served in order, at once.
  EXPECT_TRUE(api.invoke("r2", 6, "arn", "").empty());
  EXPECT_TRUE(api.shutdown("spindown", 9).empty());
  auto second = api.handle(next(id), 8);
  EXPECT_EQ(second.status, 200);
  EXPECT_NE(second.body.find("\"requestId\":\"r2\""), std::string::npos);
  auto third = api.handle(next(id), 8);
  EXPECT_EQ(third.body, R"({"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":9})");
}

TEST(ExtensionsApi, UnsubscribedExtensionsStayWaitingAndClosedConnectionsAreForgotten) {
  ExtensionsApi api({"f", "1", "h"});
  const std::string quiet = registerAs(api, "quiet", "");
  EXPECT_EQ(api.handle(next(quiet), 3).status, 0);
  EXPECT_TRUE(api.invoke("r1", 1, "arn", "").empty()) << "not subscribed to INVOKE";
  EXPECT_TRUE(api.allWaiting());

  const std::string busy = registerAs(api, "busy", R"({"events":["INVOKE"]})");
  EXPECT_EQ(api.handle(next(busy), 4).status, 0);
  api.connectionClosed(4);
  EXPECT_TRUE(api.invoke("r2", 1, "arn", "").empty()) << "its connection went away";
  EXPECT_EQ(api.handle(next(busy), 5).status, 200) << "the event waits for its next call";
}

TEST(ExtensionsApi, RegisterBodiesAreStrict) {
  ExtensionsApi api({"f", "1", "h"});
  for (const char* body : {"[", "{", R"({"events":"INVOKE"})", R"({"events":["INVOKE",]})",
                           R"({"events":[]} x)", R"({"other":1})", R"({"events":[1]})"}) {
    auto answer = api.handle(
        request("POST", "/2020-01-01/extension/register", {{"lambda-extension-name", "e"}}, body),
        -1);
    EXPECT_EQ(answer.status, 403) << body;
  }
  for (const char* body : {"", "  ", "{}", R"({ "events" : [ ] })", R"({"events":["INVOKE"]})"}) {
    ExtensionsApi fresh({"f", "1", "h"});
    auto answer = fresh.handle(
        request("POST", "/2020-01-01/extension/register", {{"lambda-extension-name", "e"}}, body),
        -1);
    EXPECT_EQ(answer.status, 200) << body;
  }
}

TEST(ExtensionsApi, TooManyExtensions) {
  ExtensionsApi api({"f", "1", "h"});
  for (size_t i = 0; i < kMaxExtensions; ++i)
    registerAs(api, "e" + std::to_string(i), "");
  auto eleventh = api.handle(
      request("POST", "/2020-01-01/extension/register", {{"lambda-extension-name", "last"}}), -1);
  EXPECT_EQ(eleventh.status, 403);
  EXPECT_NE(eleventh.body.find("Extension.TooManyExtensions"), std::string::npos);
}

TEST(ExtensionsApi, JsonStringsAreEscaped) {
  EXPECT_EQ(jsonString("a\"b\\c\n\x01"), R"("a\"b\\c\u000a\u0001")");
  EXPECT_EQ(errorBody("T", "m\""), R"({"errorMessage":"m\"","errorType":"T"})");
  const std::string uuid = randomUuid();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
  EXPECT_NE(uuid, randomUuid());
}

}  // namespace
}  // namespace wick::agent
