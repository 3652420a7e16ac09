// The table of live sandboxes that `wick sandboxes` prints once and `wick top`
// refreshes, from GET /wick/v1/sandboxes.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wick::cli {

// CPU used (ns) per sandbox id at the previous refresh: with it, a CPU %
// column over the interval.
using CpuSamples = std::map<std::string, uint64_t>;

std::vector<std::vector<std::string>> sandboxRows(const nlohmann::json& sandboxes,
                                                  const CpuSamples* previous = nullptr,
                                                  double interval_s = 0);

}  // namespace wick::cli
