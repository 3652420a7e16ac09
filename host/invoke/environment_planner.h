// What an execution environment of a function is made of: its root (a base
// root or an image's layers, with the function's layers on top for /opt),
// its code, the process the agent starts and the environment it starts with.
#pragma once

#include <functional>
#include <string>
#include <variant>

#include "host/api/aws_error.h"
#include "host/functions/code_store.h"
#include "host/invoke/environment.h"
#include "host/registry/function_registry.h"
#include "host/runtimes/base_store.h"
#include "images/image_store.h"

namespace wick::invoke {

// Lambda's bandwidth shape for streamed responses: `burst_bytes` at full
// speed, then `bytes_per_second`. 0: unshaped.
struct StreamShape {
  uint64_t bytes_per_second = 0;
  uint64_t burst_bytes = 0;
};

struct PlannerSettings {
  std::string region;
  std::string logs_root;
  ResourcePolicy resources;
  StreamShape stream_shape;
  // The operator's per-function tuning over `resources` (none: `resources`).
  // Called on workers: must be thread-safe.
  std::function<ResourcePolicy(const std::string& function, const std::string& version,
                               const ResourcePolicy& base)>
      resources_for;
};

class EnvironmentPlanner {
 public:
  EnvironmentPlanner(const functions::CodeStore& code, const functions::CodeStore& layer_code,
                     runtimes::BaseStore& bases, images::ImageStore* images,
                     PlannerSettings settings)
      : code_(code),
        layer_code_(layer_code),
        bases_(bases),
        images_(images),
        settings_(std::move(settings)) {}

  // Blocking (reads the base and image stores): call on a worker. An error
  // when the function cannot run now (its base is not ready, its image is
  // gone): the caller answers the invoke with it.
  std::variant<EnvironmentPlan, api::AwsError> plan(const registry::FunctionRecord& record) const;

 private:
  // The function's layers on top of the root, in order (later ones win).
  std::optional<api::AwsError> addLayers(const registry::FunctionRecord& record,
                                         EnvironmentPlan& plan) const;
  std::variant<EnvironmentPlan, api::AwsError> planImage(const registry::FunctionRecord& record,
                                                         EnvironmentPlan plan) const;

  const functions::CodeStore& code_;
  const functions::CodeStore& layer_code_;
  runtimes::BaseStore& bases_;
  images::ImageStore* images_;
  PlannerSettings settings_;
};

// The key of the warm pool: environments are reused only for the same version,
// code and configuration.
std::string environmentKey(const registry::FunctionRecord& record);

}  // namespace wick::invoke
