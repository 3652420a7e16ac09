// Function URL latency and throughput beside a direct Invoke of the same warm
// function, in the same run: warm samples alternate (one URL request, one
// Invoke, each on its own keep-alive connection) so that drift on the machine
// hits both alike; then requests/s with N connections for each.
// Usage: bench_urls API_HOST:PORT URL_HOST:PORT URL_ID FUNCTION [SAMPLES] [SECONDS] [CONNECTIONS]
// (scripts/bench-urls sets it up.)
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
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Endpoint {
  std::string host, port;
  explicit Endpoint(const std::string& address)
      : host(address.substr(0, address.rfind(':'))), port(address.substr(address.rfind(':') + 1)) {}
};

class Client {
 public:
  explicit Client(const Endpoint& endpoint) : stream_(io_) {
    tcp::resolver resolver(io_);
    stream_.connect(resolver.resolve(endpoint.host, endpoint.port));
    stream_.socket().set_option(tcp::no_delay(true));
  }
  int send(http::verb verb, const std::string& target, const std::string& host,
           const std::string& body) {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::user_agent, "bench_urls");
    request.body() = body;
    request.prepare_payload();
    http::write(stream_, request);
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response);
    return static_cast<int>(response.result_int());
  }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

struct Target {
  Endpoint endpoint;
  http::verb verb;
  std::string path;
  std::string host;
  std::string body;
  int send(Client& client) const { return client.send(verb, path, host, body); }
};

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()))];
}

double throughput(const Target& target, int connections, int seconds) {
  std::atomic<long> done{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back([&] {
      Client client(target.endpoint);
      while (!stop) {
        if (target.send(client) == 200)
          ++done;
        else
          ++failed;
      }
    });
  // A second of warm-up (environments for every connection), then the count.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long before = done;
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const long counted = done - before;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& thread : threads)
    thread.join();
  if (failed > 0) std::fprintf(stderr, "  %ld requests failed\n", failed.load());
  return counted / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: bench_urls API URL_LISTENER URL_ID FUNCTION [SAMPLES] [SECONDS] "
                 "[CONNECTIONS]\n");
    return 2;
  }
  const Endpoint api(argv[1]), urls(argv[2]);
  const std::string url_id = argv[3], function = argv[4];
  const int samples = argc > 5 ? std::atoi(argv[5]) : 2000;
  const int seconds = argc > 6 ? std::atoi(argv[6]) : 5;
  const int connections = argc > 7 ? std::atoi(argv[7]) : 64;
  const std::string host = url_id + ".lambda-url.us-east-1.localhost:" + urls.port;
  const Target url{urls, http::verb::get, "/bench?x=1", host, ""};
  // The direct invoke carries an event of the URL event's size (about 1 KB).
  const Target invoke{api, http::verb::post, "/2015-03-31/functions/" + function + "/invocations",
                      "localhost", "{\"padding\":\"" + std::string(900, 'x') + "\"}"};

  Client url_client(urls), invoke_client(api);
  for (int i = 0; i < 50; ++i)  // warm: the environment exists, caches are filled
    if (url.send(url_client) != 200 || invoke.send(invoke_client) != 200) {
      std::fprintf(stderr, "warm-up request failed\n");
      return 1;
    }
  std::vector<double> url_us, invoke_us;
  for (int i = 0; i < samples; ++i)
    for (auto [target, client, into] : {std::tuple{&url, &url_client, &url_us},
                                        std::tuple{&invoke, &invoke_client, &invoke_us}}) {
      const auto start = Clock::now();
      if (target->send(*client) != 200) {
        std::fprintf(stderr, "a warm request failed\n");
        return 1;
      }
      into->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  std::printf("warm, one connection each, %d alternating samples (microseconds)\n", samples);
  std::printf("  %-22s median %8.1f  p90 %8.1f  p99 %8.1f\n", "function URL",
              percentile(url_us, 0.5), percentile(url_us, 0.9), percentile(url_us, 0.99));
  std::printf("  %-22s median %8.1f  p90 %8.1f  p99 %8.1f\n", "Invoke (same function)",
              percentile(invoke_us, 0.5), percentile(invoke_us, 0.9), percentile(invoke_us, 0.99));
  std::printf("  URL - Invoke, median %+.1f us\n",
              percentile(url_us, 0.5) - percentile(invoke_us, 0.5));
  // A discarded round first: it makes the environments that many connections
  // need, so that neither measured side pays for them.
  throughput(invoke, connections, seconds);
  std::printf("throughput, %d connections, %d s each, after a discarded round (requests/s)\n",
              connections, seconds);
  for (int round = 0; round < 2; ++round) {
    std::printf("  %-22s %10.0f\n", "function URL", throughput(url, connections, seconds));
    std::printf("  %-22s %10.0f\n", "Invoke (same function)",
                throughput(invoke, connections, seconds));
  }
  return 0;
}
