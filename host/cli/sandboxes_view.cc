#include "host/cli/sandboxes_view.h"

#include <cstdio>

#include "host/cli/table.h"

namespace wick::cli {

namespace {

using nlohmann::json;

uint64_t number(const json& sandbox, const char* key) {
  auto it = sandbox.find(key);
  return it != sandbox.end() && it->is_number() ? it->get<uint64_t>() : 0;
}

std::string duration(double seconds) {
  char text[32];
  if (seconds < 60)
    std::snprintf(text, sizeof text, "%.0fs", seconds);
  else if (seconds < 3600)
    std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  else
    std::snprintf(text, sizeof text, "%.1fh", seconds / 3600);
  return text;
}

std::string cpuSeconds(uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2fs", static_cast<double>(ns) / 1e9);
  return text;
}

// "7.2%/100ms": the quota as a share of one CPU, over its period.
std::string cpuLimit(const json& sandbox) {
  const uint64_t quota = number(sandbox, "CpuQuotaUs");
  const uint64_t period = number(sandbox, "CpuPeriodUs");
  if (period == 0) return "-";
  char text[48];
  if (quota == 0)
    std::snprintf(text, sizeof text, "max/%llums", static_cast<unsigned long long>(period / 1000));
  else
    std::snprintf(text, sizeof text, "%.1f%%/%gms",
                  100.0 * static_cast<double>(quota) / static_cast<double>(period),
                  static_cast<double>(period) / 1000);
  return text;
}

std::string tuning(const json& sandbox) {
  std::string text;
  if (auto it = sandbox.find("Tuning"); it != sandbox.end())
    for (const auto& [key, value] : it->items())
      text += (text.empty() ? "" : ",") + key + "=" + value.dump();
  return text.empty() ? "-" : text;
}

}  // namespace

std::vector<std::vector<std::string>> sandboxRows(const json& sandboxes, const CpuSamples* previous,
                                                  double interval_s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {
      "ID",       "FUNCTION",  "STATE",     "AGE", "INVOKES", "MEMORY (NOW/PEAK/LIMIT)",
      "CPU USED", "THROTTLED", "CPU LIMIT", "PIDS"};
  if (previous) header.insert(header.begin() + 7, "CPU%");
  header.push_back("TUNING");
  rows.push_back(header);
  for (const json& sandbox : sandboxes) {
    const std::string id = sandbox.value("Id", "");
    std::vector<std::string> row = {
        id, sandbox.value("Function", "") + ":" + sandbox.value("Version", ""),
        sandbox.value("State", ""), duration(sandbox.value("AgeSeconds", 0.0)),
        std::to_string(number(sandbox, "Invocations"))};
    if (sandbox.contains("Error")) {
      row.push_back("(" + sandbox["Error"].get<std::string>() + ")");
      rows.push_back(row);
      continue;
    }
    row.push_back(formatSize(number(sandbox, "MemoryCurrentBytes")) + "/" +
                  formatSize(number(sandbox, "MemoryPeakBytes")) + "/" +
                  formatSize(number(sandbox, "MemoryMaxBytes")));
    const uint64_t cpu = number(sandbox, "CpuUsedNs");
    row.push_back(cpuSeconds(cpu));
    if (previous) {
      auto before = previous->find(id);
      char text[16] = "-";
      if (before != previous->end() && interval_s > 0 && cpu >= before->second)
        std::snprintf(text, sizeof text, "%.1f",
                      100.0 * static_cast<double>(cpu - before->second) / 1e9 / interval_s);
      row.push_back(text);
    }
    row.push_back(cpuSeconds(number(sandbox, "CpuThrottledNs")) + " (" +
                  std::to_string(number(sandbox, "CpuThrottledPeriods")) + "x)");
    row.push_back(cpuLimit(sandbox));
    const uint64_t pids_max = number(sandbox, "PidsMax");
    row.push_back(std::to_string(number(sandbox, "PidsCurrent")) + "/" +
                  (pids_max ? std::to_string(pids_max) : std::string("max")));
    row.push_back(tuning(sandbox));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace wick::cli
