#include "host/operator/tuning.h"

#include <array>
#include <cctype>

namespace wick::ops {

namespace {

using nlohmann::json;

struct Field {
  const char* name;
  std::optional<uint64_t> Tuning::*member;
  uint64_t min;
  uint64_t max;
  const char* meaning;
};

// The kernel's ranges: cpu.cfs_period_us 1 ms..1 s, io.weight 1..10000.
constexpr std::array<Field, 6> kFields = {{
    {"MbPerVcpu", &Tuning::mb_per_vcpu, 64, 1'000'000, "MB of memory that buy one vCPU"},
    {"CpuPeriodUs", &Tuning::cpu_period_us, 1'000, 1'000'000, "CFS period in microseconds"},
    {"PidsMax", &Tuning::pids_max, 8, 4'194'304, "pids.max"},
    {"IoWeight", &Tuning::io_weight, 1, 10'000, "io.weight"},
    {"SwapMb", &Tuning::swap_mb, 0, 1'048'576, "swap beyond memory, in MB"},
    {"KeepAliveSeconds", &Tuning::keep_alive_s, 1, 86'400 * 7, "idle keep-alive in seconds"},
}};

}  // namespace

bool Tuning::empty() const {
  for (const Field& field : kFields)
    if (this->*field.member) return false;
  return true;
}

Tuning Tuning::merged(const Tuning& over) const {
  Tuning result = *this;
  for (const Field& field : kFields)
    if (over.*field.member) result.*field.member = over.*field.member;
  return result;
}

invoke::ResourcePolicy Tuning::applied(invoke::ResourcePolicy base) const {
  if (mb_per_vcpu) base.mb_per_vcpu = *mb_per_vcpu;
  if (cpu_period_us) base.cpu_period_us = *cpu_period_us;
  if (pids_max) base.pids_max = *pids_max;
  if (io_weight) base.io_weight = *io_weight;
  if (swap_mb) base.swap_mb = *swap_mb;
  return base;
}

json Tuning::toJson() const {
  json document = json::object();
  for (const Field& field : kFields)
    if (this->*field.member) document[field.name] = *(this->*field.member);
  return document;
}

Result<Tuning> Tuning::fromJson(const json& document) {
  if (!document.is_object()) return Error("a tuning is a JSON object", EINVAL);
  Tuning tuning;
  for (const auto& [key, value] : document.items()) {
    const Field* field = nullptr;
    for (const Field& candidate : kFields)
      if (key == candidate.name) field = &candidate;
    if (!field) {
      std::string known;
      for (const Field& candidate : kFields)
        known += std::string(known.empty() ? "" : ", ") + candidate.name;
      return Error("unknown tuning field '" + key + "' (known: " + known + ")", EINVAL);
    }
    // Integers only (1.5 and "64" are refused); a negative one is out of range.
    const bool integer = value.is_number_integer() && !value.is_number_float();
    if (!integer || value.get<int64_t>() < 0 || value.get<uint64_t>() < field->min ||
        value.get<uint64_t>() > field->max)
      return Error(std::string(key) + " (" + field->meaning + ") must be an integer from " +
                       std::to_string(field->min) + " to " + std::to_string(field->max),
                   EINVAL);
    tuning.*field->member = value.get<uint64_t>();
  }
  return tuning;
}

Result<TuningTarget> parseTuningTarget(const std::string& function, const std::string& qualifier) {
  if (function.empty() || function.size() > 64)
    return Error("a function name is 1-64 characters", EINVAL);
  for (char c : function)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return Error("function name '" + function + "': only letters, digits, - and _", EINVAL);
  if (!qualifier.empty() && qualifier != "$LATEST") {
    if (qualifier.size() > 10)
      return Error("qualifier '" + qualifier + "' is not a version", EINVAL);
    for (char c : qualifier)
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return Error("qualifier '" + qualifier +
                         "': a version number or $LATEST (tune the version an alias points to)",
                     EINVAL);
  }
  return TuningTarget{function, qualifier};
}

}  // namespace wick::ops
