// What metrics add to a warm invoke: the hooks Invoker runs per event (the
// ConcurrentExecutions gauge up and down, Invocations and Errors counters,
// the Duration histogram), timed against the same loop with metrics off (a
// null series, as wickd without metrics_listen), in one run. Also a scrape.
//   bench_metrics [ITERATIONS] [THREADS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "host/metrics/metrics.h"

namespace {

using Clock = std::chrono::steady_clock;

// One warm invoke's hooks; `series` null: metrics off.
void hooks(wick::metrics::FunctionSeries* series, double duration_ms) {
  {
    wick::metrics::GaugeUp running(series ? &series->concurrent_executions : nullptr);
    asm volatile("" ::: "memory");  // the event would run here
  }
  if (series) wick::metrics::Metrics::invoked(*series, {false, duration_ms});
}

// ns per invoke's hooks, `threads` invoking the same function at once.
double nsPerInvoke(wick::metrics::FunctionSeries* series, long iterations, int threads) {
  const auto start = Clock::now();
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t)
    running.emplace_back([&, t] {
      for (long i = 0; i < iterations; ++i)
        hooks(series, static_cast<double>((i + t) % 700));
    });
  for (auto& thread : running)
    thread.join();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 2'000'000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  wick::metrics::Metrics metrics;
  wick::metrics::FunctionSeries& series = metrics.series("bench", "$LATEST");
  for (int round = 1; round <= 3; ++round) {
    for (int t : {1, threads}) {
      const double off = nsPerInvoke(nullptr, iterations, t);
      const double on = nsPerInvoke(&series, iterations, t);
      std::printf("round %d, %d thread(s): off %.1f ns, on %.1f ns per invoke: +%.1f ns\n", round,
                  t, off, on, on - off);
    }
  }
  for (int f = 0; f < 100; ++f)
    metrics.series("function-" + std::to_string(f), "$LATEST");
  const auto start = Clock::now();
  const size_t bytes = metrics.text().size();
  std::printf("scrape of 101 functions: %zu bytes in %.2f ms\n", bytes,
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
}
