// Invoke latency and throughput against a running wickd: cold starts (a new
// environment per invoke, forced by updating the function in between), warm
// invokes (one client, keep-alive), and warm throughput with N clients.
// Usage: bench_invoke [--cold N] [--gap-ms MS] [--no-throughput] [--init-duration]
//                     [--floor-dir DIR] ENDPOINT FUNCTION [WARM_RUNS] [SECONDS] [-- FLOOR...]
//   --cold N           cold samples (default 30)
//   --gap-ms MS        idle time before each cold sample (default 0: back to back), so that
//                      every runtime's samples follow the same quiet spell, as a sporadic cold
//                      start does (on cgroup v1 a sandbox made after a quiet spell waits for
//                      an RCU grace period to join its cgroup; see the sandbox benchmark)
//   --no-throughput    skip the 1/8/64-client throughput levels
//   --init-duration    ask for the log tail of each cold invoke (X-Amz-Log-Type: Tail) and
//                      summarise its REPORT line's Init Duration; a sample without one was
//                      not a cold start and fails the run
//   -- FLOOR COMMAND   run this command on the host (cwd --floor-dir, stdout to /dev/null)
//                      before each cold invoke, timed spawn to exit: the cold floor,
//                      interleaved with the samples so drift on the machine hits both alike
// (scripts/bench-invoke and scripts/bench-runtimes set it all up and print the floors.)
// With AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, every request is SigV4-signed
// (region AWS_DEFAULT_REGION, else us-east-1) before its timer starts: what is timed
// is the daemon's side, verification included.
// clang-format off
#include <utility>
// clang-format on

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "host/auth/sigv4.h"

extern char** environ;

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Reply {
  int status = 0;
  std::string body;
  std::string function_error;  // X-Amz-Function-Error
  std::string log_tail;        // X-Amz-Log-Result, decoded
};

using Request = http::request<http::string_body>;

// The request as a client sends it, signed when the environment has keys.
Request prepare(http::verb verb, const std::string& target, const std::string& body,
                bool tail = false) {
  static const char* key = std::getenv("AWS_ACCESS_KEY_ID");
  static const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  static const char* region = std::getenv("AWS_DEFAULT_REGION");
  std::vector<std::pair<std::string, std::string>> headers = {{"Host", "localhost"},
                                                              {"Content-Type", "application/json"}};
  if (tail) headers.emplace_back("X-Amz-Log-Type", "Tail");
  if (key != nullptr && secret != nullptr) {
    wick::auth::SignedRequest wire{std::string(http::to_string(verb)), target, "", headers,
                                   wick::auth::sha256Hex(body)};
    wick::auth::sign(wire, {key, secret, ""}, region != nullptr ? region : "us-east-1", "lambda",
                     wick::auth::amzDate(std::time(nullptr)));
    headers = std::move(wire.headers);
  }
  Request request{verb, target, 11};
  for (const auto& [name, value] : headers)
    request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  return request;
}

struct Client {
  Client(const std::string& host, const std::string& port) : stream(io) {
    tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, port));
    stream.socket().set_option(tcp::no_delay(true));
  }
  Reply send(http::verb verb, const std::string& target, const std::string& body,
             bool tail = false) {
    return exchange(prepare(verb, target, body, tail));
  }
  Reply exchange(Request request) {
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    Reply reply{static_cast<int>(response.result_int()), response.body(),
                std::string(response["X-Amz-Function-Error"]), ""};
    const std::string encoded(response["X-Amz-Log-Result"]);
    if (!encoded.empty()) {
      namespace base64 = boost::beast::detail::base64;
      reply.log_tail.resize(base64::decoded_size(encoded.size()));
      reply.log_tail.resize(
          base64::decode(reply.log_tail.data(), encoded.data(), encoded.size()).first);
    }
    return reply;
  }
  int post(const std::string& target, const std::string& body) {
    return send(http::verb::post, target, body).status;
  }
  int post(Request request) { return exchange(std::move(request)).status; }
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

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_invoke: %s\n", message.c_str());
  std::exit(1);
}

// "Init Duration: 42.17 ms" of the REPORT line in a log tail, or -1.
double initDuration(const std::string& tail) {
  const std::string key = "Init Duration: ";
  const size_t at = tail.find(key);
  return at == std::string::npos ? -1 : std::atof(tail.c_str() + at + key.size());
}

// Spawn COMMAND in DIR with stdout on /dev/null and wait for it: milliseconds from
// spawn to exit. A failure to start or a non-zero exit ends the run.
double timeCommand(const std::vector<char*>& command, const std::string& dir) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (!dir.empty()) posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  pid_t pid = 0;
  const auto start = Clock::now();
  const int spawned = posix_spawnp(&pid, command[0], &actions, nullptr, command.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) die(std::string("floor command ") + command[0] + ": " + std::strerror(spawned));
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die(std::string("floor command ") + command[0] + " failed (wait status " +
        std::to_string(status) + ")");
  return ms;
}

// The event has no spaces; Python's json.dumps puts one after each ':'.
std::string withoutSpaces(std::string text) {
  std::erase(text, ' ');
  return text;
}

// An invoke that must have answered 200 with the function's result (not an error).
void check(const Reply& reply, const char* what) {
  if (reply.status != 200 || !reply.function_error.empty())
    die(std::string(what) + " failed: HTTP " + std::to_string(reply.status) + " " +
        reply.function_error + " " + reply.body);
}

}  // namespace

int main(int argc, char** argv) {
  int cold_runs = 30;
  int gap_ms = 0;
  bool throughput = true, want_init = false;
  std::string floor_dir;
  std::vector<std::string> positional;
  std::vector<char*> floor_command;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cold" && i + 1 < argc) {
      cold_runs = std::atoi(argv[++i]);
    } else if (arg == "--gap-ms" && i + 1 < argc) {
      gap_ms = std::atoi(argv[++i]);
    } else if (arg == "--no-throughput") {
      throughput = false;
    } else if (arg == "--init-duration") {
      want_init = true;
    } else if (arg == "--floor-dir" && i + 1 < argc) {
      floor_dir = argv[++i];
    } else if (arg == "--") {
      floor_command.assign(argv + i + 1, argv + argc);
      break;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() < 2 || cold_runs < 1) {
    std::fprintf(stderr,
                 "usage: bench_invoke [--cold N] [--gap-ms MS] [--no-throughput] [--init-duration] "
                 "[--floor-dir DIR] ENDPOINT(host:port) FUNCTION [WARM_RUNS] [SECONDS] "
                 "[-- FLOOR COMMAND...]\n");
    return 2;
  }
  if (!floor_command.empty()) floor_command.push_back(nullptr);
  const std::string endpoint = positional[0];
  const std::string host = endpoint.substr(0, endpoint.rfind(':'));
  const std::string port = endpoint.substr(endpoint.rfind(':') + 1);
  const std::string function = positional[1];
  const int warm_runs = positional.size() > 2 ? std::atoi(positional[2].c_str()) : 2000;
  const double seconds = positional.size() > 3 ? std::atof(positional[3].c_str()) : 3;
  const std::string target = "/2015-03-31/functions/" + function + "/invocations";
  const std::string configuration = "/2015-03-31/functions/" + function + "/configuration";
  const std::string payload(1024 - 12, 'x');
  const std::string event = "{\"echo\":\"" + payload + "\"}";

  Client client(host, port);
  check(client.send(http::verb::post, target, event), "first invoke");

  // Cold: a configuration change retires the warm environment before each invoke.
  std::vector<double> cold, init, floor;
  for (int i = 0; i < cold_runs; ++i) {
    if (!floor_command.empty()) floor.push_back(timeCommand(floor_command, floor_dir));
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    const Reply updated = client.send(http::verb::put, configuration,
                                      "{\"Description\":\"cold " + std::to_string(i) + "\"}");
    if (updated.status != 200)
      die("UpdateFunctionConfiguration: HTTP " + std::to_string(updated.status) + " " +
          updated.body);
    auto start = Clock::now();
    const Reply reply = client.send(http::verb::post, target, event, want_init);
    cold.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    check(reply, "cold invoke");
    if (want_init) {
      const double ms = initDuration(reply.log_tail);
      if (ms < 0) die("cold invoke " + std::to_string(i) + " has no Init Duration in its REPORT");
      init.push_back(ms);
    }
  }
  if (!floor.empty()) printSummary("host floor (cold, spawn to exit)", floor);
  printSummary("cold start invoke (1 KB)", cold);
  if (want_init) printSummary("  its REPORT Init Duration", init);

  std::vector<double> warm;
  for (int i = 0; i < warm_runs; ++i) {
    Request request = prepare(http::verb::post, target, event);
    auto start = Clock::now();
    const Reply reply = client.exchange(std::move(request));
    warm.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (reply.status != 200 || withoutSpaces(reply.body) != event)
      die("warm invoke did not echo the event: HTTP " + std::to_string(reply.status) + " " +
          reply.body.substr(0, 200));
  }
  printSummary("warm invoke, 1 client (1 KB)", warm);
  if (!throughput) return 0;

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
          Request request = prepare(http::verb::post, target, event);
          auto t = Clock::now();
          if (own.post(std::move(request)) == 200) ++done;
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
