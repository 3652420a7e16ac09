#include "host/invoke/environment_planner.h"

#include "host/runtimes/catalog.h"
#include "images/run_config.h"

namespace wick::invoke {

using api::AwsError;

std::string environmentKey(const registry::FunctionRecord& record) {
  return record.version + "/" + record.code_sha256 + "/" + record.revision_id;
}

std::optional<AwsError> EnvironmentPlanner::addLayers(const registry::FunctionRecord& record,
                                                      EnvironmentPlan& plan) const {
  for (const auto& layer : record.internal.value("Layers", nlohmann::json::array())) {
    const std::string sha256 = layer.value("Sha256", "");
    if (sha256.size() != 64 || sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      return api::serviceError("function " + record.name + ": stored layer " +
                               layer.value("Arn", "") + " has no valid content digest");
    plan.root_layers.push_back(layer_code_.treePath(sha256));
  }
  return std::nullopt;
}

std::variant<EnvironmentPlan, AwsError> EnvironmentPlanner::plan(
    const registry::FunctionRecord& record) const {
  EnvironmentPlan plan;
  plan.function_name = record.name;
  plan.version = record.version;
  plan.key = environmentKey(record);
  plan.config = record.config;
  plan.region = settings_.region;
  plan.logs_root = settings_.logs_root;
  plan.resources = settings_.resources_for
                       ? settings_.resources_for(record.name, record.version, settings_.resources)
                       : settings_.resources;
  plan.stream_bytes_per_second = settings_.stream_shape.bytes_per_second;
  plan.stream_burst_bytes = settings_.stream_shape.burst_bytes;

  if (record.config.isImage()) return planImage(record, std::move(plan));

  const std::string runtime_name = record.config.runtime.value_or("");
  const runtimes::RuntimeInfo* runtime = runtimes::findRuntime(runtime_name);
  if (runtime == nullptr)
    return api::invalidRuntime("The runtime parameter of " + runtime_name +
                               " is not supported by this host.");
  runtimes::BaseStatus base = bases_.status(runtime->base, true);
  if (base.state == runtimes::BaseState::kFailed)
    return api::resourceConflict(
        "The operation cannot be performed at this time. The function is currently in the "
        "following state: Failed (the " +
        runtime->base + " base root could not be built: " + base.reason + ")");
  if (base.state != runtimes::BaseState::kReady)
    return api::resourceConflict(
        "The operation cannot be performed at this time. The function is currently in the "
        "following state: Pending (its " +
        runtime->base + " base root is being built)");
  plan.root_layers.push_back(base.path);
  if (auto error = addLayers(record, plan)) return *error;
  plan.code_tree = code_.treePath(record.code_sha256);
  if (runtime->managed) {
    plan.argv = {"/var/runtime/bootstrap"};
    plan.execution_env = runtime->environment.at("AWS_EXECUTION_ENV");
    for (const auto& [key, value] : runtime->environment)
      if (key != "AWS_EXECUTION_ENV") plan.base_env.emplace_back(key, value);
  }
  return plan;
}

std::variant<EnvironmentPlan, AwsError> EnvironmentPlanner::planImage(
    const registry::FunctionRecord& record, EnvironmentPlan plan) const {
  if (images_ == nullptr) return api::serviceError("the image store is not available");
  auto image = images::imageRecordFromJson(record.internal.value("Image", nlohmann::json()).dump());
  if (!image)
    return api::serviceError("function " + record.name +
                             ": stored image record is unreadable: " + image.error().message());
  auto layers = images_->layerPaths(*image);
  if (!layers)
    return api::resourceConflict("The image of function " + record.name + " (" +
                                 image->digest.str() +
                                 ") is no longer in the image store: " + layers.error().message());
  plan.root_layers = std::move(*layers);
  if (auto error = addLayers(record, plan)) return *error;

  images::ImageConfigOverride override_config;
  if (const auto& image_config = record.config.image_config) {
    override_config.entry_point = image_config->entry_point;
    override_config.command = image_config->command;
    override_config.working_directory = image_config->working_directory;
  }
  auto run = images::resolveRunConfig(image->config, override_config);
  // An image that cannot start fails at init, as on Lambda.
  if (run) {
    plan.argv = run->argv;
    plan.cwd = run->cwd.empty() ? "/" : run->cwd;
    plan.base_env = run->env;
  } else {
    const std::string type =
        run.error().errNo() == EINVAL ? "Runtime.InvalidWorkingDir" : "Runtime.InvalidEntrypoint";
    plan.start_failure = InitFailure{
        type,
        nlohmann::json{{"errorType", type}, {"errorMessage", "Error: " + run.error().message()}}
            .dump()};
  }
  plan.execution_env = "AWS_Lambda_Image";
  return plan;
}

}  // namespace wick::invoke
