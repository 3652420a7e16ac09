// The operator's tunings, kept in SQLite (<state dir>/operator.db, wick's own:
// not the function registry) and cached in memory for the invoke path, over
// the daemon's defaults (which a config reload may change).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "host/operator/tuning.h"
#include "host/registry/sqlite.h"

namespace wick::ops {

class TuningStore {
 public:
  static Result<std::unique_ptr<TuningStore>> open(const std::string& path,
                                                   invoke::ResourcePolicy defaults,
                                                   std::chrono::milliseconds keep_alive);

  // What is stored for exactly this target (empty if nothing).
  Tuning stored(const TuningTarget& target) const;
  // Merges `tuning` into what the target has; returns the result.
  Result<Tuning> put(const TuningTarget& target, const Tuning& tuning);
  // Forgets the target's tuning (back to the function's, then the daemon's).
  Status reset(const TuningTarget& target);
  std::vector<std::pair<TuningTarget, Tuning>> all() const;

  // What a version runs with: its own tuning over its function's.
  Tuning effective(const std::string& function, const std::string& version) const;
  invoke::ResourcePolicy policyFor(const std::string& function, const std::string& version) const;
  std::chrono::milliseconds keepAliveFor(const std::string& function,
                                         const std::string& version) const;
  // What a version's new sandboxes get, tuned or from the defaults, as the
  // operator API and GetFunction's "Wick" view show it.
  nlohmann::json effectiveDocument(const std::string& function, const std::string& version) const;

  // The daemon's defaults (config reload).
  void setDefaults(invoke::ResourcePolicy defaults, std::chrono::milliseconds keep_alive);
  invoke::ResourcePolicy defaults() const;
  std::chrono::milliseconds defaultKeepAlive() const;

 private:
  explicit TuningStore(registry::Database db) : db_(std::move(db)) {}
  using Key = std::pair<std::string, std::string>;  // function, qualifier ("" = all)

  mutable std::mutex mutex_;
  registry::Database db_;
  std::map<Key, Tuning> cache_;
  invoke::ResourcePolicy defaults_;
  std::chrono::milliseconds keep_alive_{600'000};
};

}  // namespace wick::ops
