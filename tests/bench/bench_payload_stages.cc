// Per-stage cost of a 6 MB payload on wick's path, each stage alone, with the
// way it was done before beside the way it is done now, and memcpy as the
// floor (scripts/bench-payload prints these after the end-to-end figures).
//   bench_payload_stages [MB] [REPEATS]
#include <algorithm>
#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/http_request.h"
#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "agent/protocol/invoke_frame.h"
#include "host/invoke/payload_json.h"

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<size_t> g_sink{0};  // keeps the work from being optimised away

double medianMs(int repeats, const std::function<void()>& stage) {
  std::vector<double> samples;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    stage();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

void report(const char* stage, double ms, double mb) {
  std::printf("%-62s %8.2f ms  %6.2f ms/MB\n", stage, ms, ms / mb);
}

// Feeds `bytes` to a FrameReader in 64 KB socket-sized pieces, the old way
// (copy in, copy the frame out, parse from the copy) or the new way (read in
// place, parse from a view).
size_t readFramesOld(const std::string& bytes) {
  wick::agent::FrameReader reader;
  size_t got = 0;
  for (size_t at = 0; at < bytes.size(); at += 65536) {
    char chunk[65536];
    const size_t n = std::min<size_t>(65536, bytes.size() - at);
    std::memcpy(chunk, bytes.data() + at, n);  // read(2) into a stack buffer
    reader.feed(std::string_view(chunk, n));
    while (auto frame = reader.next()) {
      wick::agent::HostMessage message;
      message.ParseFromString(*frame);
      got += message.invoke().payload().size();
    }
  }
  return got;
}

size_t readFramesNew(const std::string& bytes) {
  wick::agent::FrameReader reader;
  size_t got = 0;
  for (size_t at = 0; at < bytes.size();) {
    std::string_view room = reader.prepare(65536);
    const size_t n = std::min(room.size(), bytes.size() - at);  // one read(2)
    std::memcpy(const_cast<char*>(room.data()), bytes.data() + at, n);
    reader.commit(n);
    at += n;
    while (auto frame = reader.nextView()) {
      wick::agent::HostMessage message;
      message.ParseFromArray(frame->data(), static_cast<int>(frame->size()));
      got += message.invoke().payload().size();
    }
  }
  return got;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 6;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 15;
  const std::string payload = "{\"pad\":\"" + std::string((mb << 20) - 32, 'p') + "\",\"n\":[1,2]}";
  const double size_mb = static_cast<double>(payload.size()) / (1 << 20);
  std::printf("payload %.2f MB, median of %d\n", size_mb, repeats);

  report("floor: memcpy",
         medianMs(repeats,
                  [&] {
                    std::string copy(payload);
                    g_sink += copy.size();
                  }),
         size_mb);

  // wickd: the HTTP request read by Beast (from memory: the parse and the body copy).
  const std::string http =
      "POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: " +
      std::to_string(payload.size()) + "\r\n\r\n" + payload;
  report("wickd: Beast request parse + body (64 KB reads)",
         medianMs(repeats,
                  [&] {
                    namespace http_ns = boost::beast::http;
                    http_ns::request_parser<http_ns::string_body> parser;
                    parser.body_limit(80u << 20);
                    boost::system::error_code ec;
                    for (size_t at = 0; at < http.size() && !parser.is_done();) {
                      at +=
                          parser.put(boost::asio::buffer(http.data() + at,
                                                         std::min<size_t>(65536, http.size() - at)),
                                     ec);
                      if (ec == http_ns::error::need_more) ec = {};
                    }
                    g_sink += parser.get().body().size();
                  }),
         size_mb);

  report("wickd: JSON check, before (nlohmann::json::accept)",
         medianMs(repeats, [&] { g_sink += nlohmann::json::accept(payload); }), size_mb);
  report("wickd: JSON check, now (simdjson, isJson)",
         medianMs(repeats, [&] { g_sink += wick::invoke::isJson(payload); }), size_mb);

  report("wickd: Invoke frame, before (set_payload + serialize + frame)",
         medianMs(repeats,
                  [&] {
                    wick::agent::HostMessage message;
                    message.mutable_invoke()->set_request_id("r");
                    message.mutable_invoke()->set_payload(payload);
                    std::string frame;
                    wick::agent::appendFrame(frame, message.SerializeAsString());
                    g_sink += frame.size();
                  }),
         size_mb);
  report("wickd: Invoke frame, now (head only; payload written in place)",
         medianMs(repeats,
                  [&] {
                    wick::agent::Invoke invoke;
                    invoke.set_request_id("r");
                    g_sink += wick::agent::invokeFrameHead(invoke, payload.size()).size();
                  }),
         size_mb);

  wick::agent::HostMessage message;
  message.mutable_invoke()->set_payload(payload);
  std::string frames;
  wick::agent::appendFrame(frames, message.SerializeAsString());
  report("agent/wickd: frame read + parse, before (copy in, copy out)",
         medianMs(repeats, [&] { g_sink += readFramesOld(frames); }), size_mb);
  report("agent/wickd: frame read + parse, now (in place, from a view)",
         medianMs(repeats, [&] { g_sink += readFramesNew(frames); }), size_mb);

  const std::string post =
      "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\n"
      "Content-Length: " +
      std::to_string(payload.size()) + "\r\n\r\n" + payload;
  report("agent: Runtime API request parse (64 KB reads)",
         medianMs(repeats,
                  [&] {
                    wick::agent::HttpRequestParser parser(7u << 20);
                    std::string in;
                    for (size_t at = 0; at < post.size(); at += 65536) {
                      in.append(post, at, 65536);
                      if (parser.parse(in) == wick::agent::HttpRequestParser::Status::kComplete)
                        break;
                    }
                    g_sink += parser.request().body.size();
                  }),
         size_mb);

  report("agent: Result serialize, before (SerializeAsString + frame)",
         medianMs(repeats,
                  [&] {
                    wick::agent::AgentMessage result;
                    result.mutable_result()->set_payload(payload);
                    const auto start = Clock::now();
                    std::string out;
                    wick::agent::appendFrame(out, result.SerializeAsString());
                    g_sink += out.size() + static_cast<size_t>((Clock::now() - start).count() & 1);
                  }),
         size_mb);
  report(
      "agent: Result serialize, now (in place behind its length)",
      medianMs(repeats,
               [&] {
                 wick::agent::AgentMessage result;
                 result.mutable_result()->set_payload(payload);
                 std::string out;
                 const size_t size = result.ByteSizeLong();
                 out.resize(4 + size);
                 std::memcpy(out.data(), wick::agent::frameHeader(size).data(), 4);
                 result.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + 4));
                 g_sink += out.size();
               }),
      size_mb);
  return 0;
}
