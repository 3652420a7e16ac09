// What API authentication adds to a request (issue 15): the gate an invoke
// passes on the Lambda API listener (Host and Origin, route kind, SigV4: scope,
// clock, key lookup, the body's SHA-256, the canonical request, the HMAC chain,
// the signature compared), timed alone against the same loop with the gate in
// insecure_no_auth, for events of 1 KB, 64 KB and 1 MB, in one run. Timed in
// this thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine the
// wall clock also counts the time other processes held the core.
// Usage: bench_auth [ITERATIONS] [ROUNDS]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "host/api/api_gate.h"
#include "host/auth/credential_store.h"
#include "host/auth/presigned_url.h"
#include "host/auth/request_verifier.h"
#include "host/auth/sigv4.h"

namespace {

using namespace wick;
namespace beast_http = http::beast_http;

http::Request signedInvoke(const auth::Principal& principal, size_t bytes) {
  const std::string target = "/2015-03-31/functions/bench/invocations";
  const std::string body = "{\"echo\":\"" + std::string(bytes - 12, 'x') + "\"}";
  auth::SignedRequest wire{"POST",
                           target,
                           "",
                           {{"Host", "127.0.0.1:3001"}, {"Content-Type", "application/json"}},
                           auth::sha256Hex(body)};
  auth::sign(wire, {principal.access_key_id, principal.secret_access_key, ""}, "us-east-1",
             "lambda", auth::amzDate(std::time(nullptr)));
  beast_http::request<beast_http::string_body> message{beast_http::verb::post, target, 11};
  for (const auto& [name, value] : wire.headers)
    message.set(name, value);
  http::Request request = http::requestHead(message);
  request.body = body;
  request.peer = "127.0.0.1:50000";
  return request;
}

double threadCpuNanoseconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

// CPU nanoseconds per request through the gate, `iterations` times: its head
// check (wickd runs it before reading a body) and the whole one after.
double perAdmit(const api::ApiGate& gate, const http::Request& request, int iterations) {
  const double start = threadCpuNanoseconds();
  for (int i = 0; i < iterations; ++i)
    if (gate.admitHead(request, request.body.size()) || gate.admit(request)) {
      std::fprintf(stderr, "bench_auth: the request was refused\n");
      std::exit(1);
    }
  return (threadCpuNanoseconds() - start) / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  // As wickd has them: a few principals in the store.
  std::vector<auth::Principal> principals;
  for (int i = 0; i < 8; ++i)
    principals.push_back(auth::newRandomPrincipal("p" + std::to_string(i), true));
  const auth::CredentialStore store(principals);
  const auth::RequestVerifier verifier([&store](std::string_view id) { return store.find(id); },
                                       {.region = "us-east-1"});
  const auth::UrlSigner urls;
  api::GateSettings settings;
  settings.account_id = "000000000000";
  settings.host_names = {"localhost", "127.0.0.1", "::1"};
  const api::ApiGate on(settings, verifier, urls);
  settings.insecure_no_auth = true;
  const api::ApiGate off(settings, verifier, urls);

  std::printf("%-10s %-6s %14s %14s %14s\n", "event", "round", "off (ns)", "on (ns)", "added (us)");
  for (size_t bytes : {size_t{1024}, size_t{64} << 10, size_t{1} << 20}) {
    const http::Request request = signedInvoke(principals[5], bytes);
    const int n = bytes > (64u << 10) ? std::max(iterations / 100, 50) : iterations;
    for (int round = 1; round <= rounds; ++round) {
      const double without = perAdmit(off, request, n);
      const double with = perAdmit(on, request, n);
      std::printf("%-10zu %-6d %14.0f %14.0f %14.2f\n", bytes, round, without, with,
                  (with - without) / 1000);
    }
  }
  return 0;
}
