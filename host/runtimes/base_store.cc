#include "host/runtimes/base_store.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/staged_path.h"
#include "common/unique_fd.h"
#include "host/runtimes/catalog.h"

extern char** environ;

namespace wick::runtimes {

namespace fs = std::filesystem;

namespace {

// Runs argv with stdout and stderr to `output_fd`; returns the pid.
Result<pid_t> spawn(const std::vector<std::string>& argv, int output_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output_fd, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // Its own process group: stop() ends the builder and everything it runs.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error("spawn " + argv[0], rc);
  return pid;
}

Result<int> waitExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Error::fromErrno("waitpid");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// The last non-empty line of a file: a failed builder's reason.
std::string lastLine(const std::string& path) {
  auto text = readFile(path);
  if (!text) return "";
  std::string content = *text;
  while (!content.empty() && (content.back() == '\n' || content.back() == ' '))
    content.pop_back();
  size_t start = content.rfind('\n');
  return start == std::string::npos ? content : content.substr(start + 1);
}

uint64_t treeSize(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, fs::directory_options::none, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec) && !it->is_symlink(size_ec)) {
      uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace

const char* toString(BaseState state) {
  switch (state) {
    case BaseState::kMissing:
      return "Missing";
    case BaseState::kBuilding:
      return "Building";
    case BaseState::kReady:
      return "Ready";
    case BaseState::kFailed:
      return "Failed";
  }
  return "Unknown";
}

BaseStore::BaseStore(std::string root, std::string builder)
    : root_(std::move(root)), builder_(std::move(builder)) {}

BaseStore::~BaseStore() {
  stop();
}

Status BaseStore::prepare() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return Error("create " + root_ + ": " + ec.message(), ec.value());
  // Unfinished builds of a crashed run never become bases. The cache may be
  // shared with other daemons: only builds nobody touched for a while go.
  const auto stale = fs::file_time_type::clock::now() - std::chrono::minutes(30);
  for (const auto& base : baseNames()) {
    const std::string dir = root_ + "/" + base;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code time_ec;
      if (isStagedName(it->path().filename().string()) && it->last_write_time(time_ec) < stale &&
          !time_ec) {
        std::error_code rm_ec;
        fs::remove_all(it->path(), rm_ec);
      }
    }
  }
  return {};
}

Result<std::string> BaseStore::recipeHash(const std::string& base) {
  // A name of its own: daemons sharing the cache hash the same base at once,
  // and one builder's output must not truncate another's. Never committed:
  // the file goes when `output` does.
  StagedPath output_file = StagedPath::beside(root_ + "/" + base + ".hash");
  const std::string& output = output_file.path();
  auto out = openFile(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (!out) return std::move(out).error().context("recipe hash of " + base);
  auto pid = spawn({builder_, "hash", base}, out->get());
  if (!pid) return std::move(pid).error().context("recipe hash of " + base);
  auto code = waitExit(*pid);
  if (!code) return std::move(code).error();
  std::string line = lastLine(output);
  if (*code != 0)
    return Error(builder_ + " hash " + base + " exited " + std::to_string(*code) + ": " + line);
  if (line.size() != 64 || line.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Error(builder_ + " hash " + base + " printed no hash: " + line);
  return line;
}

BaseStore::Entry& BaseStore::entry(const std::string& base, std::unique_lock<std::mutex>& lock) {
  Entry& found = entries_[base];
  if (!found.hash.empty() || found.state != BaseState::kMissing) return found;
  // Hashing runs the builder (dpkg queries): not under the lock.
  lock.unlock();
  auto hash = recipeHash(base);
  if (hash) removeOtherRecipes(base, *hash);
  lock.lock();
  if (!found.hash.empty() || found.state != BaseState::kMissing) return found;
  if (!hash) {
    found.state = BaseState::kFailed;
    found.reason = hash.error().message();
    return found;
  }
  found.hash = *hash;
  const std::string path = root_ + "/" + base + "/" + found.hash;
  if (::access(path.c_str(), F_OK) == 0) {
    found.state = BaseState::kReady;
    found.size_bytes = treeSize(path);
  }
  return found;
}

void BaseStore::removeOtherRecipes(const std::string& base, const std::string& hash) {
  // Bases of older recipes: no sandbox of this run can use one, as sandboxes
  // only start on the recipe hashed here first.
  std::error_code ec;
  for (fs::directory_iterator it(root_ + "/" + base, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_directory() || name == hash || isStagedName(name)) continue;
    spdlog::info("removing base root {} of an older recipe ({})", base, name.substr(0, 12));
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
  }
}

BaseStatus BaseStore::snapshot(const std::string& base, const Entry& entry) const {
  BaseStatus status{base, entry.state, "", entry.size_bytes, entry.reason};
  if (entry.state == BaseState::kReady) status.path = root_ + "/" + base + "/" + entry.hash;
  return status;
}

void BaseStore::startBuild(const std::string& base, Entry& entry) {
  if (entry.state == BaseState::kBuilding || stopping_) return;
  if (entry.thread.joinable()) entry.thread.join();  // a finished earlier build
  entry.state = BaseState::kBuilding;
  entry.reason.clear();
  spdlog::info("building base root {} (recipe {})", base, entry.hash.substr(0, 12));
  entry.thread = std::thread(&BaseStore::runBuild, this, base, entry.hash);
}

Status BaseStore::buildTree(const std::string& base, const std::string& final_path) {
  const std::string dir = root_ + "/" + base;
  const std::string log_path = dir + "/build.log";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error("create " + dir + ": " + ec.message(), ec.value());
  auto log = openFile(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (!log) return std::move(log).error();
  StagedPath staged = StagedPath::beside(final_path);
  auto pid = spawn({builder_, "build", base, staged.path()}, log->get());
  if (!pid) return std::move(pid).error();
  setBuilderPid(base, *pid);
  auto code = waitExit(*pid);
  setBuilderPid(base, -1);
  if (!code) return std::move(code).error();
  if (*code != 0)
    return Error("building the " + base + " base failed (exit " + std::to_string(*code) +
                 "): " + lastLine(log_path) + " (see " + log_path + ")");
  // Another daemon sharing the cache may have finished the same recipe first.
  auto renamed = staged.commitUnlessPresent();
  if (!renamed) return std::move(renamed).error();
  return {};
}

void BaseStore::setBuilderPid(const std::string& base, pid_t pid) {
  std::lock_guard lock(mutex_);
  entries_[base].builder_pid = pid;
}

void BaseStore::runBuild(std::string base, std::string hash) {
  const auto started = std::chrono::steady_clock::now();
  const std::string final_path = root_ + "/" + base + "/" + hash;
  auto built = buildTree(base, final_path);
  const std::string failure = built ? "" : built.error().message();
  const uint64_t size = failure.empty() ? treeSize(final_path) : 0;
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[base];
  if (failure.empty()) {
    entry.state = BaseState::kReady;
    entry.size_bytes = size;
    spdlog::info("base root {} ready: {} MB in {} ms", base, size >> 20,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
  } else {
    entry.state = BaseState::kFailed;
    entry.reason = failure;
    spdlog::error("base root {}: {}", base, failure);
  }
  changed_.notify_all();
}

BaseStatus BaseStore::status(const std::string& base, bool build_if_missing) {
  std::unique_lock lock(mutex_);
  Entry& found = entry(base, lock);
  if (build_if_missing && found.state == BaseState::kMissing) startBuild(base, found);
  return snapshot(base, found);
}

BaseStatus BaseStore::build(const std::string& base) {
  std::unique_lock lock(mutex_);
  Entry& found = entry(base, lock);
  if (found.state == BaseState::kFailed) {
    // Try again, with the recipe as it is now.
    found.hash.clear();
    found.state = BaseState::kMissing;
    Entry& fresh = entry(base, lock);
    if (fresh.state == BaseState::kFailed) return snapshot(base, fresh);
  }
  if (found.state == BaseState::kMissing) startBuild(base, found);
  changed_.wait(lock, [&] { return found.state != BaseState::kBuilding || stopping_; });
  return snapshot(base, found);
}

std::vector<BaseStatus> BaseStore::list() {
  std::vector<BaseStatus> all;
  for (const auto& base : baseNames())
    all.push_back(status(base, false));
  return all;
}

void BaseStore::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [name, entry] : entries_) {
      if (entry.builder_pid > 0) ::kill(-entry.builder_pid, SIGTERM);
      if (entry.thread.joinable()) threads.push_back(std::move(entry.thread));
    }
    changed_.notify_all();
  }
  for (auto& thread : threads)
    thread.join();
}

}  // namespace wick::runtimes
