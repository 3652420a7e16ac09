#include "images/run_config.h"

#include <algorithm>

#include "common/path.h"

namespace wick::images {

namespace {

// "/a/./b//c/../d" -> "/a/b/d"; ".." never climbs above "/".
std::string normalizeAbsolute(const std::string& path) {
  std::vector<std::string> parts;
  for (auto& part : pathComponents(path)) {
    if (part != "..")
      parts.push_back(std::move(part));
    else if (!parts.empty())
      parts.pop_back();
  }
  return "/" + joinComponents(parts);
}

}  // namespace

Result<RunConfig> resolveRunConfig(
    const ContainerConfig& image, const ImageConfigOverride& override_config,
    const std::vector<std::pair<std::string, std::string>>& lambda_env) {
  RunConfig run;
  const auto& entrypoint =
      override_config.entry_point ? override_config.entry_point : image.entrypoint;
  const auto& command = override_config.command ? override_config.command : image.cmd;
  if (entrypoint) run.argv = *entrypoint;
  if (command) run.argv.insert(run.argv.end(), command->begin(), command->end());
  if (run.argv.empty() || run.argv[0].empty())
    return Error("no entrypoint: neither the image nor ImageConfig gives a program to run",
                 ENOEXEC);

  std::string cwd = override_config.working_directory && !override_config.working_directory->empty()
                        ? *override_config.working_directory
                        : image.working_dir;
  if (cwd.empty()) cwd = "/";
  if (cwd.size() > 1000 || cwd[0] != '/' || cwd.find('\0') != std::string::npos)
    return Error("working directory '" + cwd.substr(0, 100) + "' is not an absolute path", EINVAL);
  run.cwd = normalizeAbsolute(cwd);

  for (const auto& entry : image.env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;  // "KEY" alone unsets nothing here
    std::string key = entry.substr(0, eq);
    auto same = std::find_if(run.env.begin(), run.env.end(),
                             [&](const auto& kv) { return kv.first == key; });
    if (same != run.env.end())
      same->second = entry.substr(eq + 1);
    else
      run.env.emplace_back(std::move(key), entry.substr(eq + 1));
  }
  for (const auto& variable : lambda_env) {
    auto same = std::find_if(run.env.begin(), run.env.end(),
                             [&](const auto& kv) { return kv.first == variable.first; });
    if (same != run.env.end())
      same->second = variable.second;
    else
      run.env.push_back(variable);
  }
  return run;
}

}  // namespace wick::images
