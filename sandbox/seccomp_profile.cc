// Profile text -> validated rules -> libseccomp -> raw BPF.
#include "sandbox/seccomp_profile.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "common/unique_fd.h"
#include "sandbox/seccomp/profile.pb.h"

namespace wick::sandbox {

namespace {

namespace pb = seccomp;

// Native syscall numbers end below this on every 64-bit ABI wick runs on
// (x86_64: 0..~470; x32 numbers carry bit 30 and are killed as a foreign ABI).
constexpr int kSyscallCeiling = 512;

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

class ParseErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty())
      first_ =
          "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

Result<int> errnoByName(const std::string& name) {
  for (int value = 1; value < 4096; ++value) {
    const char* known = strerrorname_np(value);
    if (known != nullptr && name == known) return value;
  }
  return Error("unknown errno name '" + name + "'", EINVAL);
}

Result<uint32_t> toAction(pb::Action action, const std::string& errno_name) {
  switch (action) {
    case pb::ALLOW:
      return SCMP_ACT_ALLOW;
    case pb::KILL_PROCESS:
      return SCMP_ACT_KILL_PROCESS;
    case pb::ERRNO: {
      auto value = errnoByName(errno_name);
      if (!value) return std::move(value).error();
      return SCMP_ACT_ERRNO(static_cast<uint32_t>(*value));
    }
    default:
      return Error("a rule needs an action (ALLOW, ERRNO, KILL_PROCESS)", EINVAL);
  }
}

Result<scmp_compare> toCompare(pb::Op op) {
  switch (op) {
    case pb::EQ:
      return SCMP_CMP_EQ;
    case pb::NE:
      return SCMP_CMP_NE;
    case pb::LT:
      return SCMP_CMP_LT;
    case pb::LE:
      return SCMP_CMP_LE;
    case pb::GT:
      return SCMP_CMP_GT;
    case pb::GE:
      return SCMP_CMP_GE;
    case pb::MASKED_EQ:
      return SCMP_CMP_MASKED_EQ;
    default:
      return Error("a condition needs an op", EINVAL);
  }
}

// One rule's conditions, expanded: each list is the comparisons of one
// libseccomp rule (a condition listing several values gives several rules).
Result<std::vector<std::vector<scmp_arg_cmp>>> expandConditions(const pb::Rule& rule) {
  std::vector<scmp_arg_cmp> fixed;
  const pb::ArgCondition* several = nullptr;
  for (const auto& arg : rule.args()) {
    if (arg.index() > 5) return Error("argument index above 5", EINVAL);
    auto compare = toCompare(arg.op());
    if (!compare) return std::move(compare).error();
    if (arg.value().empty()) return Error("a condition needs a value", EINVAL);
    if (arg.mask() != 0 && arg.op() != pb::MASKED_EQ)
      return Error("mask is for MASKED_EQ only", EINVAL);
    if (arg.value().size() > 1) {
      if (arg.op() != pb::EQ && arg.op() != pb::MASKED_EQ)
        return Error("several values are for EQ and MASKED_EQ only", EINVAL);
      if (several != nullptr) return Error("only one condition may list several values", EINVAL);
      several = &arg;
      continue;
    }
    bool masked = arg.op() == pb::MASKED_EQ;
    fixed.push_back(
        {arg.index(), *compare, masked ? arg.mask() : arg.value(0), masked ? arg.value(0) : 0});
  }
  std::vector<std::vector<scmp_arg_cmp>> expanded;
  if (several == nullptr) {
    expanded.push_back(fixed);
    return expanded;
  }
  bool masked = several->op() == pb::MASKED_EQ;
  for (uint64_t value : several->value()) {
    expanded.push_back(fixed);
    expanded.back().push_back({several->index(), masked ? SCMP_CMP_MASKED_EQ : SCMP_CMP_EQ,
                               masked ? several->mask() : value, masked ? value : 0});
  }
  return expanded;
}

// libseccomp lets a rule without conditions override every conditional rule of
// the same syscall, silently: refuse a profile that mixes them.
struct SyscallUse {
  bool unconditional = false;
  bool conditional = false;
};

class Compiler {
 public:
  Status init(const pb::Profile& profile) {
    auto default_errno = errnoByName(profile.default_errno());
    if (!default_errno) return std::move(default_errno).error().context("default_errno");
    ctx_.reset(seccomp_init(SCMP_ACT_ERRNO(static_cast<uint32_t>(*default_errno))));
    if (!ctx_) return Error("seccomp_init failed", ENOMEM);
    // Only the native ABI: x32 and i386 numbers would bypass the rules.
    if (int rc = seccomp_attr_set(ctx_.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))
      return Error::fromErrno("seccomp bad-arch action", -rc);
    // A binary tree of syscall numbers: a few hundred rules cost a handful of
    // comparisons per call, not a linear walk.
    if (int rc = seccomp_attr_set(ctx_.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2))
      return Error::fromErrno("seccomp binary-tree optimization", -rc);
    return {};
  }

  Status addRule(const pb::Rule& rule) {
    auto action = toAction(rule.action(), rule.errno_name());
    if (!action) return std::move(action).error();
    auto conditions = expandConditions(rule);
    if (!conditions) return std::move(conditions).error();
    if (rule.names().empty()) return Error("a rule needs names", EINVAL);
    for (const auto& name : rule.names()) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) return Error("unknown syscall '" + name + "'", EINVAL);
      if (nr < 0) continue;  // a syscall of another architecture
      SyscallUse& use = uses_[nr];
      bool conditional = !rule.args().empty();
      (conditional ? use.conditional : use.unconditional) = true;
      if (use.conditional && use.unconditional)
        return Error(name +
                         " has a rule without conditions and one with: libseccomp would drop "
                         "the conditional ones",
                     EINVAL);
      for (const auto& comparisons : *conditions) {
        int rc = seccomp_rule_add_array(ctx_.get(), *action, nr,
                                        static_cast<unsigned>(comparisons.size()),
                                        comparisons.empty() ? nullptr : comparisons.data());
        if (rc == -EACCES)
          return Error("rule for " + name +
                           ": its action is the default action (libseccomp "
                           "refuses it; pick another errno)",
                       EINVAL);
        if (rc != 0) return Error::fromErrno("rule for " + name, -rc);
      }
    }
    return {};
  }

  // Numbers above the highest syscall the profile names, and numbers this
  // libseccomp cannot name, are newer than the profile: answer as a kernel
  // without them would (runc does the same).
  Status answerUnknown(const std::string& errno_name) {
    if (errno_name.empty()) return {};
    auto value = errnoByName(errno_name);
    if (!value) return std::move(value).error().context("unknown_syscall_errno");
    int highest_named = uses_.empty() ? -1 : uses_.rbegin()->first;
    for (int nr = 0; nr < kSyscallCeiling; ++nr) {
      if (uses_.count(nr)) continue;
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      bool known = name != nullptr;
      std::free(name);
      if (known && nr < highest_named) continue;
      int rc = seccomp_rule_add(ctx_.get(), SCMP_ACT_ERRNO(static_cast<uint32_t>(*value)), nr, 0);
      if (rc != 0) return Error::fromErrno("rule for syscall " + std::to_string(nr), -rc);
    }
    return {};
  }

  // Export the BPF program through a memfd (libseccomp 2.5 exports to fds only).
  Result<std::vector<uint8_t>> exportBpf() {
    UniqueFd memfd(::memfd_create("wick-seccomp", MFD_CLOEXEC));
    if (!memfd) return Error::fromErrno("memfd_create for seccomp export");
    if (int rc = seccomp_export_bpf(ctx_.get(), memfd.get()))
      return Error::fromErrno("seccomp_export_bpf", -rc);
    off_t size = ::lseek(memfd.get(), 0, SEEK_END);
    if (size <= 0) return Error::fromErrno("seccomp export size");
    std::vector<uint8_t> program(static_cast<size_t>(size));
    if (::pread(memfd.get(), program.data(), program.size(), 0) != size)
      return Error::fromErrno("read seccomp program");
    return program;
  }

 private:
  Context ctx_;
  std::map<int, SyscallUse> uses_;
};

}  // namespace

Result<std::vector<uint8_t>> compileSeccompProfile(std::string_view text,
                                                   const std::string& origin) {
  const std::string what = "seccomp profile " + origin;
  pb::Profile profile;
  google::protobuf::TextFormat::Parser parser;
  ParseErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &profile))
    return Error(what + ": " + errors.first(), EINVAL);
  Compiler compiler;
  WICK_TRY(compiler.init(profile), what);
  for (int i = 0; i < profile.rule_size(); ++i)
    WICK_TRY(compiler.addRule(profile.rule(i)), what + ": rule " + std::to_string(i + 1));
  WICK_TRY(compiler.answerUnknown(profile.unknown_syscall_errno()), what);
  auto program = compiler.exportBpf();
  if (!program) return std::move(program).error().context(what);
  return program;
}

Result<std::vector<uint8_t>> loadSeccompProfile(const std::string& path) {
  if (path.empty()) return compileSeccompProfile(defaultSeccompProfileText(), "(default)");
  std::ifstream file(path);
  if (!file) return Error::fromErrno("read seccomp profile " + path);
  std::stringstream text;
  text << file.rdbuf();
  return compileSeccompProfile(text.str(), path);
}

}  // namespace wick::sandbox
