// libFuzzer target: the Runtime API's HTTP request parser (the runtime is
// untrusted) fed the input in pieces whose sizes the input chooses, and the
// host protocol's frame reader. Invariants: no crash or sanitizer report, a
// body never exceeds the bound, an error is one of the statuses we answer,
// 100 Continue is owed only to HTTP/1.1 before its body (Expect, chunked,
// Connection lists and pipelining are all in the seed-free search space).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/http_request.h"
#include "agent/protocol/framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  wick::agent::HttpRequestParser parser(1024);
  std::string input;
  for (size_t fed = 0; fed < bytes.size(); fed += piece) {
    input.append(bytes, fed, piece);
    for (;;) {
      const auto status = parser.parse(input);
      if (parser.request().body.size() > 1024) std::abort();
      // 100 Continue is owed only to an HTTP/1.1 client whose body has not started.
      if (parser.request().expect_continue && parser.request().http10) std::abort();
      if (parser.awaitingBody() && !parser.request().body.empty()) std::abort();
      if (status == wick::agent::HttpRequestParser::Status::kError) {
        const int code = parser.errorStatus();
        if (code != 400 && code != 413 && code != 431 && code != 501) std::abort();
        return 0;
      }
      if (status != wick::agent::HttpRequestParser::Status::kComplete) break;
      parser.reset();
    }
  }

  wick::agent::FrameReader reader;
  for (size_t fed = 0; fed < bytes.size(); fed += piece) {
    reader.feed(std::string_view(bytes).substr(fed, piece));
    while (auto frame = reader.next())
      if (frame->size() > wick::agent::kMaxFrameBytes) std::abort();
  }

  // The same bytes read in place (prepare/commit, as both sides read their
  // socket), frames handed out as views; every view lies inside the input.
  wick::agent::FrameReader in_place(64);
  size_t seen = 0;
  for (size_t fed = 0; fed < bytes.size();) {
    std::string_view room = in_place.prepare(piece);
    if (room.size() < piece) std::abort();
    const size_t n = std::min(piece, bytes.size() - fed);
    std::copy_n(bytes.data() + fed, n, const_cast<char*>(room.data()));
    in_place.commit(n);
    fed += n;
    while (auto frame = in_place.nextView()) {
      seen += 4 + frame->size();
      if (seen > bytes.size()) std::abort();
    }
    in_place.releaseIfDrained();
  }
  return 0;
}
