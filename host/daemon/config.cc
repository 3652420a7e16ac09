#include "host/daemon/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include "common/default_state_dir.h"
#include "common/unique_fd.h"
#include "sandbox/spec.h"

namespace wick::daemon {

namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty())
      first = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " +
              message;
  }
  std::string first;
};

}  // namespace

DaemonConfig defaultConfig() {
  DaemonConfig config;
  config.set_listen("127.0.0.1:3001");
  config.set_state_dir(defaultStateDir());
  config.set_cgroup_parent("wick");
  config.set_mb_per_vcpu(sandbox::kMbPerVcpu);
  config.set_pids_max(sandbox::kPidsMax);
  config.set_account_concurrency(1000);
  config.set_idle_keep_alive_seconds(600);
  config.set_region("us-east-1");
  config.set_account_id("000000000000");
  config.set_io_threads(2);
  config.set_worker_threads(2);
  config.set_max_image_bytes(10ull << 30);
  config.set_log_retention_days(30);
  config.set_max_log_bytes(4ull << 30);
  config.set_async_throttle_backoff_first_ms(1000);
  config.set_async_throttle_backoff_max_ms(300'000);
  config.set_async_max_in_flight(64);
  config.set_scheduler_minute_ms(60000);
  config.set_url_domain("localhost");
  config.set_url_public_scheme("http");
  config.set_destination_timeout_ms(5000);
  config.set_stream_bytes_per_second(2u << 20);
  config.set_stream_burst_bytes(6u << 20);
  config.set_host_memory_budget_percent(90);
  config.set_host_id_first(kDefaultHostIdFirst);
  config.set_host_id_slots(kDefaultHostIdSlots);
  config.set_default_network(true);
  return config;
}

Status mergeConfigFile(const std::string& path, DaemonConfig& config) {
  auto text = readFile(path);
  if (!text) return std::move(text).error().context("read config");
  DaemonConfig from_file;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &from_file))
    return Error("config " + path + ": " + errors.first, EINVAL);
  config.MergeFrom(from_file);
  return {};
}

}  // namespace wick::daemon
