// A sandbox slice on cgroup v1: one directory per controller hierarchy.
#pragma once

#include "sandbox/cgroup.h"

namespace wick::sandbox {

class CgroupV1Slice final : public CgroupSlice {
 public:
  CgroupV1Slice(std::shared_ptr<const CgroupHierarchy> hierarchy, std::string parent,
                std::string name)
      : CgroupSlice(std::move(hierarchy), std::move(parent), std::move(name)) {}
  ~CgroupV1Slice() override;

  static Result<std::unique_ptr<CgroupSlice>> create(
      std::shared_ptr<const CgroupHierarchy> hierarchy, const std::string& parent,
      const std::string& name, const Resources& resources, int host_cpus);

  Status setResources(const Resources& resources, int host_cpus) override;
  Status freeze() override;
  Status thaw() override;
  Status killAll() override;
  Result<CgroupStats> stats() const override;
  Result<CgroupInspection> inspect() const override;
  std::vector<int> pids() const override;
  Status remove() override;
  Result<UniqueFd> openDirFd() const override;
  Result<std::vector<UniqueFd>> openProcsFds() const override;

 private:
  // <mount of controller>/<parent>/<name>/<file>
  std::string path(const std::string& controller, const std::string& file = "") const;
  bool removed_ = false;
};

}  // namespace wick::sandbox
