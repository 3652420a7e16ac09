// The base root filesystems runtimes run on, built by rootfs/build-base and
// cached under the state directory:
//
//   <root>/<base>/<recipe hash>/       a finished base (renamed in when complete)
//   <root>/<base>/<recipe hash>.tmp-*  a build in progress (swept at start)
//   <root>/<base>/build.log            the last build's output
//
// A base is rebuilt only when its recipe hash changes. Builds run in the
// background, one thread each; status() never blocks on one.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace wick::runtimes {

enum class BaseState { kMissing, kBuilding, kReady, kFailed };
const char* toString(BaseState state);

struct BaseStatus {
  std::string name;
  BaseState state = BaseState::kMissing;
  std::string path;  // the root, when ready
  uint64_t size_bytes = 0;
  std::string reason;  // why it failed
};

class BaseStore {
 public:
  // `builder`: the rootfs/build-base script.
  BaseStore(std::string root, std::string builder);
  ~BaseStore();
  BaseStore(const BaseStore&) = delete;
  BaseStore& operator=(const BaseStore&) = delete;

  // Creates the root, sweeps unfinished builds and bases of older recipes.
  Status prepare();
  // The state of a base; a missing one starts building in the background
  // when `build_if_missing`.
  BaseStatus status(const std::string& base, bool build_if_missing);
  // Builds (or rebuilds after a failure) and waits for the end.
  BaseStatus build(const std::string& base);
  // Every base wick knows, without starting builds.
  std::vector<BaseStatus> list();
  // Stops running builds (SIGTERM to the builder) and joins their threads.
  void stop();

 private:
  struct Entry {
    std::string hash;  // empty until computed
    BaseState state = BaseState::kMissing;
    std::string reason;
    uint64_t size_bytes = 0;
    pid_t builder_pid = -1;
    std::thread thread;
  };
  // Under mutex_: the entry, its hash computed and its state read from disk.
  Entry& entry(const std::string& base, std::unique_lock<std::mutex>& lock);
  void startBuild(const std::string& base, Entry& entry);
  void runBuild(std::string base, std::string hash);
  // Runs the builder into a staged tree beside `final_path` and renames it in.
  Status buildTree(const std::string& base, const std::string& final_path);
  void setBuilderPid(const std::string& base, pid_t pid);
  void removeOtherRecipes(const std::string& base, const std::string& hash);
  BaseStatus snapshot(const std::string& base, const Entry& entry) const;
  Result<std::string> recipeHash(const std::string& base);

  std::string root_;
  std::string builder_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Entry> entries_;
  bool stopping_ = false;
};

}  // namespace wick::runtimes
