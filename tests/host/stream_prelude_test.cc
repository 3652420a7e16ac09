// The HTTP-integration prelude of streamed function URL responses: split
// wherever the chunks fall, absent, oversized, and the head it maps to.
#include "host/urls/stream_prelude.h"

#include <gtest/gtest.h>

#include <string>

#include "host/urls/url_response.h"

namespace wick::urls {
namespace {

using State = PreludeSplitter::State;

const std::string kNuls(8, '\0');
const std::string kPrelude =
    R"({"statusCode":201,"headers":{"X-Kind":"prelude"},"cookies":["a=1","b=2"]})";

TEST(PreludeSplitter, WholeInOneChunk) {
  PreludeSplitter splitter;
  EXPECT_EQ(splitter.feed(kPrelude + kNuls + "body"), State::kFound);
  EXPECT_EQ(splitter.prelude(), kPrelude);
  EXPECT_EQ(splitter.take(), "body");
  EXPECT_EQ(splitter.take(), "");
}

TEST(PreludeSplitter, SplitAtEveryByte) {
  const std::string stream = kPrelude + kNuls + "the body";
  // Every place one cut can fall, and one byte at a time.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    PreludeSplitter splitter;
    std::string rest = stream.substr(cut);
    State state = splitter.feed(stream.substr(0, cut));
    if (state == State::kReading) {
      state = splitter.feed(rest);
      rest.clear();
    }
    ASSERT_EQ(state, State::kFound) << "cut at " << cut;
    EXPECT_EQ(splitter.prelude(), kPrelude);
    // Bytes fed after it was found are the caller's body.
    EXPECT_EQ(splitter.take() + rest, "the body") << "cut at " << cut;
  }
  PreludeSplitter bytewise;
  size_t fed = 0;
  while (fed < stream.size() && bytewise.feed(stream.substr(fed, 1)) == State::kReading)
    ++fed;
  ASSERT_EQ(bytewise.state(), State::kFound);
  EXPECT_EQ(fed, kPrelude.size() + 7);  // the last NUL completed it
  EXPECT_EQ(bytewise.prelude(), kPrelude);
  EXPECT_EQ(bytewise.take(), "");
}

TEST(PreludeSplitter, FewerThanEightNulsIsNoDelimiter) {
  PreludeSplitter splitter;
  EXPECT_EQ(splitter.feed(kPrelude + std::string(7, '\0') + "x"), State::kReading);
  EXPECT_EQ(splitter.finish(), State::kAbsent);
  EXPECT_EQ(splitter.take(), kPrelude + std::string(7, '\0') + "x");
}

TEST(PreludeSplitter, EndsBeforeTheDelimiter) {
  PreludeSplitter splitter;
  EXPECT_EQ(splitter.feed("plain bytes"), State::kReading);
  EXPECT_EQ(splitter.finish(), State::kAbsent);
  EXPECT_EQ(splitter.take(), "plain bytes");
}

TEST(PreludeSplitter, OversizedGivesUpAndKeepsEverything) {
  PreludeSplitter splitter(100);
  const std::string big(150, 'x');
  EXPECT_EQ(splitter.feed(big.substr(0, 100)), State::kReading);
  EXPECT_EQ(splitter.feed(big.substr(100)), State::kAbsent);
  EXPECT_EQ(splitter.take(), big);
  // A delimiter past the limit is body too.
  PreludeSplitter late(100);
  EXPECT_EQ(late.feed(std::string(101, 'y') + kNuls), State::kAbsent);
}

TEST(PreludeSplitter, DelimiterRightAtTheLimit) {
  PreludeSplitter splitter(100);
  EXPECT_EQ(splitter.feed(std::string(100, 'p') + kNuls + "b"), State::kFound);
  EXPECT_EQ(splitter.prelude().size(), 100u);
  EXPECT_EQ(splitter.take(), "b");
}

TEST(PreludeSplitter, EmptyPreludeAndNulsInTheBody) {
  PreludeSplitter splitter;
  EXPECT_EQ(splitter.feed(kNuls + kNuls), State::kFound);
  EXPECT_EQ(splitter.prelude(), "");
  EXPECT_EQ(splitter.take(), kNuls);
}

TEST(PreludeSplitter, AnnouncedByTheContentType) {
  EXPECT_TRUE(announcesPrelude("application/vnd.awslambda.http-integration-response"));
  EXPECT_TRUE(announcesPrelude("Application/VND.awslambda.http-integration-response; x=1"));
  EXPECT_FALSE(announcesPrelude("application/octet-stream"));
  EXPECT_FALSE(announcesPrelude(""));
  EXPECT_FALSE(announcesPrelude("application/vnd.awslambda.http-integration-responsex"));
}

TEST(MapPrelude, StatusHeadersCookies) {
  auto head = mapPrelude(kPrelude);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 201u);
  EXPECT_EQ((*head)["X-Kind"], "prelude");
  EXPECT_EQ((*head)["Content-Type"], "application/octet-stream");
  std::vector<std::string> cookies;
  for (const auto& field : *head)
    if (field.name() == http::beast_http::field::set_cookie) cookies.emplace_back(field.value());
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2"}));
}

TEST(MapPrelude, DefaultsAndUnknownKeys) {
  auto head = mapPrelude(R"({"status":404,"headers":{"content-type":"text/html"}})");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)["Content-Type"], "text/html");
  auto bare = mapPrelude("{}");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->result_int(), 200u);
}

TEST(MapPrelude, RefusesWhatCannotBeAHead) {
  EXPECT_FALSE(mapPrelude("not json"));
  EXPECT_FALSE(mapPrelude("[1,2]"));
  EXPECT_FALSE(mapPrelude(R"({"statusCode":99})"));
  EXPECT_FALSE(mapPrelude(R"({"statusCode":100})"));  // interim: the body would be the response
  EXPECT_FALSE(mapPrelude(R"({"statusCode":4294967496})"));
  EXPECT_FALSE(mapPrelude(R"({"statusCode":"abc"})"));
  EXPECT_FALSE(mapPrelude(R"({"headers":{"X-Bad":"a\r\nSet-Cookie: evil=1"}})"));
  EXPECT_FALSE(mapPrelude(R"({"headers":{"bad name":"v"}})"));
  EXPECT_FALSE(mapPrelude(R"({"cookies":"a=1"})"));
  // The body's framing is ours.
  auto head = mapPrelude(R"({"headers":{"Content-Length":"5","Transfer-Encoding":"gzip"}})");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->find("Content-Length"), head->end());
  EXPECT_EQ(head->find("Transfer-Encoding"), head->end());
}

}  // namespace
}  // namespace wick::urls
