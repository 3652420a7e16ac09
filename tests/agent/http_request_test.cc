// The Runtime API's request parser against honest and hostile bytes.
#include "agent/http_request.h"

#include <gtest/gtest.h>

#include <random>

#include "agent/protocol/framing.h"
#include "agent/protocol/invoke_frame.h"

namespace wick::agent {
namespace {

using Status = HttpRequestParser::Status;

TEST(HttpRequestParser, GetWithHeaders) {
  HttpRequestParser parser(100);
  std::string input =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nUser-Agent: A\r\n\r\n";
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_EQ(parser.request().method, "GET");
  EXPECT_EQ(parser.request().target, "/2018-06-01/runtime/invocation/next");
  EXPECT_EQ(parser.request().header("user-agent"), "A");
  EXPECT_TRUE(parser.request().keep_alive);
  EXPECT_TRUE(input.empty());
}

TEST(HttpRequestParser, BodyArrivingInPiecesAndPipelinedRequests) {
  HttpRequestParser parser(100);
  std::string input = "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234";
  EXPECT_EQ(parser.parse(input), Status::kNeedMore);
  input += "56789GET /b HTTP/1.1\r\n\r\n";
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_EQ(parser.request().body, "0123456789");
  parser.reset();
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_EQ(parser.request().target, "/b");
}

TEST(HttpRequestParser, ChunkedBodyWithTrailers) {
  HttpRequestParser parser(100);
  std::string input =
      "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n "
      "world\r\n0\r\n"
      "Lambda-Runtime-Function-Error-Type: Runtime.X\r\n\r\n";
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_EQ(parser.request().body, "hello world");
  EXPECT_EQ(parser.request().header("lambda-runtime-function-error-type"), "Runtime.X");
}

TEST(HttpRequestParser, BodiesOverTheLimitAre413) {
  HttpRequestParser by_length(10);
  std::string input = "POST /r HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  EXPECT_EQ(by_length.parse(input), Status::kError);
  EXPECT_EQ(by_length.errorStatus(), 413);
  EXPECT_TRUE(by_length.headersDone());
  HttpRequestParser by_chunks(10);
  input = "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n6\r\n";
  EXPECT_EQ(by_chunks.parse(input), Status::kError);
  EXPECT_EQ(by_chunks.errorStatus(), 413);
}

TEST(HttpRequestParser, MalformedRequestsAreRefused) {
  struct Case {
    std::string bytes;
    int status;
  };
  for (const auto& [bytes, status] : std::vector<Case>{
           {"GARBAGE\r\n\r\n", 400},
           {"GET noslash HTTP/1.1\r\n\r\n", 400},
           {"GET / HTTP/2.0\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
           {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400},
           // Smuggling: two lengths, two codings, an empty length.
           {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400},
           // Control bytes where none may be.
           {"GET /a\tb HTTP/1.1\r\n\r\n", 400},
           {std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27), 400},
           {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
           // A chunk size that would overflow the body bound.
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
            "ffffffffffffffff\r\n",
            413},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "10000000000000000\r\n",
            400},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
            400},
       }) {
    HttpRequestParser parser(100);
    std::string input = bytes;
    EXPECT_EQ(parser.parse(input), Status::kError) << bytes;
    EXPECT_EQ(parser.errorStatus(), status) << bytes;
  }
}

TEST(HttpRequestParser, EndlessHeadersAre431) {
  HttpRequestParser parser(100);
  std::string input =
      "GET / HTTP/1.1\r\n" + std::string(HttpRequestParser::kMaxHeaderBytes + 10, 'a');
  EXPECT_EQ(parser.parse(input), Status::kError);
  EXPECT_EQ(parser.errorStatus(), 431);
}

TEST(HttpRequestParser, ConnectionCloseAndHttp10) {
  HttpRequestParser parser(100);
  std::string input = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_FALSE(parser.request().keep_alive);
  parser.reset();
  input = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(parser.parse(input), Status::kComplete);
  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(HttpRequestParser, ConnectionIsATokenList) {
  HttpRequestParser parser(100);
  std::string input = "GET / HTTP/1.1\r\nConnection: TE, Close\r\n\r\n";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kComplete);
  EXPECT_FALSE(parser.request().keep_alive);
  parser.reset();
  input = "GET / HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n\r\n";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kComplete);
  EXPECT_TRUE(parser.request().keep_alive);
  EXPECT_TRUE(parser.request().http10);
}

TEST(HttpRequestParser, ChunkedHttp10EndsTheConnection) {
  HttpRequestParser parser(100);
  std::string input =
      "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kComplete);
  EXPECT_EQ(parser.request().body, "ok");
  EXPECT_FALSE(parser.request().keep_alive) << "RFC 9112 6.1: faulty framing, close after";
}

TEST(HttpRequestParser, ExpectContinueWaitsForTheBodyOnlyOnHttp11) {
  HttpRequestParser parser(100);
  std::string input = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kNeedMore);
  EXPECT_TRUE(parser.awaitingBody());
  EXPECT_TRUE(parser.request().expect_continue);
  input = "a";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kNeedMore);
  EXPECT_FALSE(parser.awaitingBody()) << "the body has started";
  input = "bc";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kComplete);
  EXPECT_EQ(parser.request().body, "abc");
  parser.reset();
  input = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  ASSERT_EQ(parser.parse(input), HttpRequestParser::Status::kNeedMore);
  EXPECT_FALSE(parser.request().expect_continue) << "never 100 Continue to HTTP/1.0";
}

TEST(HttpRequestParser, EndlessTrailersAre431) {
  HttpRequestParser parser(100);
  std::string input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 200; ++i)
    input += "T" + std::to_string(i) + ": x\r\n";
  EXPECT_EQ(parser.parse(input), Status::kError);
  EXPECT_EQ(parser.errorStatus(), 431);
}

// Hostile bytes: random mutations of valid requests, fed in random pieces,
// never crash the parser, never grow a body past the bound, and always end in
// a verdict or a request for more bytes.
TEST(HttpRequestParser, SurvivesRandomMutations) {
  const std::vector<std::string> seeds = {
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /r HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
      "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nA: b\r\n\r\n",
  };
  const char alphabet[] = "\r\n :;0123456789abcdefABCDEF\t\x00\xff-/";
  std::mt19937 random(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = seeds[random() % seeds.size()];
    for (int edits = 1 + random() % 4; edits > 0; --edits) {
      const size_t at = random() % (bytes.size() + 1);
      const char c = alphabet[random() % (sizeof alphabet - 1)];
      switch (random() % 3) {
        case 0:
          bytes.insert(at, 1, c);
          break;
        case 1:
          if (at < bytes.size()) bytes.erase(at, 1);
          break;
        default:
          if (at < bytes.size()) bytes[at] = c;
      }
    }
    HttpRequestParser parser(64);
    std::string input;
    size_t fed = 0;
    while (fed < bytes.size()) {
      const size_t piece = 1 + random() % 16;
      input.append(bytes, fed, piece);
      fed += piece;
      const auto status = parser.parse(input);
      ASSERT_LE(parser.request().body.size(), 64u) << bytes;
      if (status == Status::kError) {
        EXPECT_TRUE(parser.errorStatus() == 400 || parser.errorStatus() == 413 ||
                    parser.errorStatus() == 431 || parser.errorStatus() == 501);
        break;
      }
      if (status == Status::kComplete) parser.reset();
    }
  }
}

TEST(Framing, RoundTripsWholeAndSplitFrames) {
  std::string stream;
  appendFrame(stream, "first");
  appendFrame(stream, std::string(100000, 'x'));
  appendFrame(stream, "");
  FrameReader reader;
  for (size_t i = 0; i < stream.size(); i += 7)
    reader.feed(std::string_view(stream).substr(i, 7));
  EXPECT_EQ(*reader.next(), "first");
  EXPECT_EQ(reader.next()->size(), 100000u);
  EXPECT_EQ(*reader.next(), "");
  EXPECT_FALSE(reader.next().has_value());
}

TEST(Framing, DirectReadsAndViewsAcrossInterleavedFrames) {
  std::string stream;
  for (size_t size : {3u, 300000u, 0u, 70000u})
    appendFrame(stream, std::string(size, static_cast<char>('a' + size % 26)));
  FrameReader reader(4096);  // gives big buffers back once drained
  std::vector<size_t> sizes;
  for (size_t at = 0; at < stream.size();) {
    std::string_view room = reader.prepare(1000);
    ASSERT_GE(room.size(), 1000u);
    const size_t n = std::min<size_t>({room.size(), stream.size() - at, 12345});
    std::copy_n(stream.data() + at, n, const_cast<char*>(room.data()));
    reader.commit(n);
    at += n;
    while (auto frame = reader.nextView()) {
      sizes.push_back(frame->size());
      EXPECT_EQ(frame->find_first_not_of(static_cast<char>('a' + frame->size() % 26)),
                std::string_view::npos);
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 300000, 0, 70000}));
}

TEST(Framing, InvokeFrameInTwoPiecesIsTheSerializedMessage) {
  for (size_t payload_size : {0u, 1u, 127u, 128u, 16383u, 16384u, 6u << 20}) {
    Invoke invoke;
    invoke.set_request_id("req");
    invoke.set_deadline_ms(1700000000123);
    invoke.set_trace_id("Root=1");
    const std::string payload(payload_size, 'p');
    std::string frame = invokeFrameHead(invoke, payload.size()) + payload;
    FrameReader reader;
    reader.feed(frame);
    auto body = reader.next();
    ASSERT_TRUE(body.has_value()) << payload_size;
    HostMessage parsed;
    ASSERT_TRUE(parsed.ParseFromString(*body)) << payload_size;
    ASSERT_TRUE(parsed.has_invoke());
    EXPECT_EQ(parsed.invoke().payload(), payload);
    EXPECT_EQ(parsed.invoke().request_id(), "req");
    EXPECT_EQ(parsed.invoke().deadline_ms(), 1700000000123);
    EXPECT_EQ(parsed.invoke().trace_id(), "Root=1");
    EXPECT_FALSE(reader.next().has_value());
  }
}

TEST(Framing, OversizedLengthBreaksTheStream) {
  FrameReader reader;
  reader.feed(std::string("\xff\xff\xff\x7f", 4));
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_TRUE(reader.oversized());
}

}  // namespace
}  // namespace wick::agent
