#include "host/operator/tuning_store.h"

namespace wick::ops {

namespace {

// Schema versions (registry::Database::migrate); the first kept IF NOT
// EXISTS for the files made before versions were recorded.
constexpr const char* kMigrations[] = {R"sql(
CREATE TABLE IF NOT EXISTS tunings (
  function  TEXT NOT NULL,
  qualifier TEXT NOT NULL,  -- '' for every version
  document  TEXT NOT NULL,  -- Tuning::toJson()
  PRIMARY KEY (function, qualifier)
);
)sql"};

struct StoredTuning {
  std::string function;
  std::string qualifier;
  std::string document;
};

}  // namespace

Result<std::unique_ptr<TuningStore>> TuningStore::open(const std::string& path,
                                                       invoke::ResourcePolicy defaults,
                                                       std::chrono::milliseconds keep_alive) {
  auto db = registry::Database::open(path);
  if (!db) return std::move(db).error().context("open the tuning store");
  WICK_TRY(db->migrate("tunings", kMigrations), "open the tuning store");
  std::unique_ptr<TuningStore> store(new TuningStore(std::move(*db)));
  store->defaults_ = defaults;
  store->keep_alive_ = keep_alive;
  auto rows = store->db_.rows("SELECT function, qualifier, document FROM tunings",
                              [](const registry::Statement& row) {
                                return StoredTuning{row.text(0), row.text(1), row.text(2)};
                              });
  if (!rows) return std::move(rows).error().context("read " + path);
  for (const StoredTuning& row : *rows) {
    auto tuning = Tuning::fromJson(nlohmann::json::parse(row.document, nullptr, false));
    if (!tuning)
      return std::move(tuning).error().context("tuning of " + row.function + " in " + path);
    store->cache_[{row.function, row.qualifier}] = *tuning;
  }
  return store;
}

Tuning TuningStore::stored(const TuningTarget& target) const {
  std::lock_guard lock(mutex_);
  auto it = cache_.find({target.function, target.qualifier});
  return it == cache_.end() ? Tuning{} : it->second;
}

Result<Tuning> TuningStore::put(const TuningTarget& target, const Tuning& tuning) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find({target.function, target.qualifier});
  Tuning merged = (it == cache_.end() ? Tuning{} : it->second).merged(tuning);
  WICK_TRY(db_.execute("INSERT INTO tunings (function, qualifier, document) VALUES (?, ?, ?) "
                       "ON CONFLICT (function, qualifier) DO UPDATE SET document = "
                       "excluded.document",
                       target.function, target.qualifier, merged.toJson().dump()),
           "store the tuning of " + target.function);
  cache_[{target.function, target.qualifier}] = merged;
  return merged;
}

Status TuningStore::reset(const TuningTarget& target) {
  std::lock_guard lock(mutex_);
  WICK_TRY(db_.execute("DELETE FROM tunings WHERE function = ? AND qualifier = ?", target.function,
                       target.qualifier),
           "reset the tuning of " + target.function);
  cache_.erase({target.function, target.qualifier});
  return {};
}

std::vector<std::pair<TuningTarget, Tuning>> TuningStore::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<TuningTarget, Tuning>> result;
  for (const auto& [key, tuning] : cache_)
    result.push_back({{key.first, key.second}, tuning});
  return result;
}

Tuning TuningStore::effective(const std::string& function, const std::string& version) const {
  std::lock_guard lock(mutex_);
  Tuning result;
  if (auto it = cache_.find({function, ""}); it != cache_.end()) result = it->second;
  if (auto it = cache_.find({function, version}); it != cache_.end())
    result = result.merged(it->second);
  return result;
}

invoke::ResourcePolicy TuningStore::policyFor(const std::string& function,
                                              const std::string& version) const {
  return effective(function, version).applied(defaults());
}

std::chrono::milliseconds TuningStore::keepAliveFor(const std::string& function,
                                                    const std::string& version) const {
  Tuning tuning = effective(function, version);
  if (tuning.keep_alive_s) return std::chrono::seconds(*tuning.keep_alive_s);
  return defaultKeepAlive();
}

nlohmann::json TuningStore::effectiveDocument(const std::string& function,
                                              const std::string& version) const {
  const invoke::ResourcePolicy policy = policyFor(function, version);
  nlohmann::json document = {
      {"MbPerVcpu", policy.mb_per_vcpu},
      {"CpuPeriodUs", policy.cpu_period_us},
      {"PidsMax", policy.pids_max},
      {"SwapMb", policy.swap_mb},
      {"KeepAliveSeconds",
       std::chrono::duration_cast<std::chrono::seconds>(keepAliveFor(function, version)).count()}};
  if (policy.io_weight > 0) document["IoWeight"] = policy.io_weight;
  return document;
}

void TuningStore::setDefaults(invoke::ResourcePolicy defaults,
                              std::chrono::milliseconds keep_alive) {
  std::lock_guard lock(mutex_);
  defaults_ = defaults;
  keep_alive_ = keep_alive;
}

invoke::ResourcePolicy TuningStore::defaults() const {
  std::lock_guard lock(mutex_);
  return defaults_;
}

std::chrono::milliseconds TuningStore::defaultKeepAlive() const {
  std::lock_guard lock(mutex_);
  return keep_alive_;
}

}  // namespace wick::ops
