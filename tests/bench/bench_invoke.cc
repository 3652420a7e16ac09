// Invoke latency and throughput against a running wickd: cold starts (a new
// environment per invoke, forced by updating the function in between), warm
// invokes (one client, keep-alive), and warm throughput with N clients.
// Usage: bench_invoke ENDPOINT FUNCTION [WARM_RUNS] [SECONDS_PER_LEVEL]
// (scripts/bench-invoke sets it all up and prints the floor beside it).
// clang-format off
#include <utility>
// clang-format on

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Client {
  Client(const std::string& host, const std::string& port) : stream(io) {
    tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, port));
    stream.socket().set_option(tcp::no_delay(true));
  }
  int post(const std::string& target, const std::string& body, std::string* out = nullptr) {
    http::request<http::string_body> request{http::verb::post, target, 11};
    request.set(http::field::host, "localhost");
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (out) *out = response.body();
    return static_cast<int>(response.result_int());
  }
  int put(const std::string& target, const std::string& body) {
    http::request<http::string_body> request{http::verb::put, target, 11};
    request.set(http::field::host, "localhost");
    request.body() = body;
    request.prepare_payload();
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return static_cast<int>(response.result_int());
  }
  boost::asio::io_context io;
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
};

void printSummary(const char* name, std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<size_t>(q * (samples.size() - 1))]; };
  std::printf("%-34s n=%-6zu median %8.3f ms  p90 %8.3f  p99 %8.3f\n", name, samples.size(),
              at(0.5), at(0.9), at(0.99));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_invoke ENDPOINT(host:port) FUNCTION [WARM_RUNS] [SECONDS]\n");
    return 2;
  }
  const std::string endpoint = argv[1];
  const std::string host = endpoint.substr(0, endpoint.rfind(':'));
  const std::string port = endpoint.substr(endpoint.rfind(':') + 1);
  const std::string function = argv[2];
  const int warm_runs = argc > 3 ? std::atoi(argv[3]) : 2000;
  const double seconds = argc > 4 ? std::atof(argv[4]) : 3;
  const std::string target = "/2015-03-31/functions/" + function + "/invocations";
  const std::string payload(1024 - 12, 'x');
  const std::string event = "{\"echo\":\"" + payload + "\"}";

  Client client(host, port);
  std::string out;
  if (client.post(target, event, &out) != 200) {
    std::fprintf(stderr, "invoke failed: %s\n", out.c_str());
    return 1;
  }

  // Cold: a configuration change retires the warm environment before each invoke.
  std::vector<double> cold;
  for (int i = 0; i < 30; ++i) {
    client.put("/2015-03-31/functions/" + function + "/configuration",
               "{\"Description\":\"cold " + std::to_string(i) + "\"}");
    auto start = Clock::now();
    client.post(target, event);
    cold.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  printSummary("cold start invoke (1 KB)", cold);

  std::vector<double> warm;
  for (int i = 0; i < warm_runs; ++i) {
    auto start = Clock::now();
    client.post(target, event);
    warm.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  printSummary("warm invoke, 1 client (1 KB)", warm);

  for (int clients : {1, 8, 64}) {
    std::atomic<long> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
    auto start = Clock::now();
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        Client own(host, port);
        while (!stop) {
          auto t = Clock::now();
          if (own.post(target, event) == 200) ++done;
          latencies[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& thread : threads)
      thread.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto& l : latencies)
      all.insert(all.end(), l.begin(), l.end());
    char name[64];
    std::snprintf(name, sizeof name, "warm, %d clients: %.0f invokes/s", clients, done / elapsed);
    printSummary(name, all);
  }
  return 0;
}
