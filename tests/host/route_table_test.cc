// The Lambda API's route table: path patterns with named segments, and the
// 404 / 405 answers for what no route takes.
#include "host/api/route_table.h"

#include <gtest/gtest.h>

namespace wick::api {
namespace {

using boost::beast::http::verb;

TEST(SplitPath, DecodesEachSegmentAfterSplittingAndDropsEmptyOnes) {
  EXPECT_EQ(splitPath("/2015-03-31/functions/"),
            (std::vector<std::string>{"2015-03-31", "functions"}));
  // An ARN arrives with its colons encoded; an encoded slash stays in its segment.
  EXPECT_EQ(
      splitPath("/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af"),
      (std::vector<std::string>{"2017-03-31", "tags", "arn:aws:lambda:us-east-1:1:function:f"}));
  EXPECT_EQ(splitPath("/a/b%2Fc//d"), (std::vector<std::string>{"a", "b/c", "d"}));
  EXPECT_TRUE(splitPath("/").empty());
  EXPECT_TRUE(splitPath("").empty());
}

TEST(MatchPath, NamedSegmentsTakeOneSegmentEach) {
  auto params = matchPath("/2015-03-31/functions/{FunctionName}/aliases/{Name}",
                          splitPath("/2015-03-31/functions/my-fn/aliases/live"));
  ASSERT_TRUE(params);
  EXPECT_EQ((*params)["FunctionName"], "my-fn");
  EXPECT_EQ((*params)["Name"], "live");
  EXPECT_EQ((*params)["Missing"], "");
}

TEST(MatchPath, LiteralsAndSegmentCountsMustAgree) {
  const char* pattern = "/2015-03-31/functions/{FunctionName}/configuration";
  EXPECT_TRUE(matchPath(pattern, splitPath("/2015-03-31/functions/f/configuration")));
  EXPECT_FALSE(matchPath(pattern, splitPath("/2015-03-31/functions/f/code")));
  EXPECT_FALSE(matchPath(pattern, splitPath("/2015-03-31/functions/f")));
  EXPECT_FALSE(matchPath(pattern, splitPath("/2015-03-31/functions/f/configuration/x")));
  EXPECT_FALSE(matchPath(pattern, splitPath("/2016-03-31/functions/f/configuration")));
  // A named segment never matches an empty one (dropped by splitPath).
  EXPECT_FALSE(matchPath(pattern, splitPath("/2015-03-31/functions//configuration")));
  EXPECT_TRUE(matchPath("/", splitPath("/")));
  EXPECT_FALSE(matchPath("/", splitPath("/x")));
}

TEST(MatchPath, AStarredLastSegmentTakesTheRestEvenNone) {
  auto deep = matchPath("/wick/v1/images/{Path*}", splitPath("/wick/v1/images/a/b%3Ac"));
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->rest(), (std::vector<std::string>{"a", "b:c"}));
  auto none = matchPath("/wick/v1/images/{Path*}", splitPath("/wick/v1/images"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->rest().empty());
  EXPECT_FALSE(matchPath("/wick/v1/images/{Path*}", splitPath("/wick/v1/imagesx/a")));
}

TEST(RouteTable, FindsTheRowOfMethodAndPath) {
  const RouteTable<int> table{
      {verb::get, "/2015-03-31/functions", 1},
      {verb::post, "/2015-03-31/functions", 2},
      {verb::get, "/2015-03-31/functions/{FunctionName}", 3},
      {verb::unknown, "/wick/v1/images/{Path*}", 4},
  };
  auto find = [&](verb method, const std::string& path) {
    return table.find(method, splitPath(path), path);
  };
  auto post = find(verb::post, "/2015-03-31/functions");
  ASSERT_TRUE(std::holds_alternative<RouteTable<int>::Match>(post));
  EXPECT_EQ(std::get<RouteTable<int>::Match>(post).handler, 2);
  auto get = find(verb::get, "/2015-03-31/functions/f%3A1");
  ASSERT_TRUE(std::holds_alternative<RouteTable<int>::Match>(get));
  EXPECT_EQ(std::get<RouteTable<int>::Match>(get).handler, 3);
  EXPECT_EQ(std::get<RouteTable<int>::Match>(get).params["FunctionName"], "f:1");
  // verb::unknown in a row: any method (a sub-API routes further).
  auto images = find(verb::delete_, "/wick/v1/images/x");
  ASSERT_TRUE(std::holds_alternative<RouteTable<int>::Match>(images));
  EXPECT_EQ(std::get<RouteTable<int>::Match>(images).handler, 4);
}

TEST(RouteTable, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  const RouteTable<int> table{
      {verb::get, "/2015-03-31/functions", 1},
      {verb::post, "/2015-03-31/functions", 2},
      {verb::get, "/2015-03-31/functions/{FunctionName}", 3},
      {verb::delete_, "/2015-03-31/functions/{FunctionName}", 4},
  };
  auto unknown = table.find(verb::get, splitPath("/2015-03-31/nothing"), "/2015-03-31/nothing");
  ASSERT_TRUE(std::holds_alternative<AwsError>(unknown));
  EXPECT_EQ(std::get<AwsError>(unknown).status, 404);
  EXPECT_EQ(std::get<AwsError>(unknown).type, "UnknownOperationException");
  EXPECT_EQ(std::get<AwsError>(unknown).message, "Unknown operation: GET /2015-03-31/nothing");
  EXPECT_FALSE(std::get<AwsError>(unknown).extra_headers.contains("Allow"));

  auto wrong = table.find(verb::put, splitPath("/2015-03-31/functions"), "/2015-03-31/functions");
  ASSERT_TRUE(std::holds_alternative<AwsError>(wrong));
  EXPECT_EQ(std::get<AwsError>(wrong).status, 405);
  EXPECT_EQ(std::get<AwsError>(wrong).type, "UnknownOperationException");
  EXPECT_EQ(std::get<AwsError>(wrong).extra_headers.at("Allow"), "GET, POST");
  auto patch = table.find(verb::patch, splitPath("/2015-03-31/functions/f"), "");
  EXPECT_EQ(std::get<AwsError>(patch).extra_headers.at("Allow"), "GET, DELETE");
}

}  // namespace
}  // namespace wick::api
