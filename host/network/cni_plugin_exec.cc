#include "host/network/cni_plugin_exec.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "host/network/subprocess.h"

namespace wick::network {

namespace {

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (const auto& part : parts)
    out += (out.empty() ? "" : std::string(1, separator)) + part;
  return out;
}

// The spec's error object, else the raw text.
std::string pluginMessage(const std::string& stdout_text, const std::string& stderr_text) {
  auto error = nlohmann::json::parse(stdout_text, nullptr, false);
  if (error.is_object() && error.contains("msg")) {
    std::string message = error.value("msg", "");
    if (error.contains("details") && error["details"].is_string())
      message += " (" + error["details"].get<std::string>() + ")";
    if (error.contains("code")) message += " [CNI error " + error["code"].dump() + "]";
    return message;
  }
  std::string text = stderr_text.empty() ? stdout_text : stderr_text;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text.empty() ? "no output" : text.substr(0, 1000);
}

}  // namespace

Result<std::string> findCniPlugin(const std::string& type, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::string path = dir + "/" + type;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return Error("CNI plugin '" + type + "' not found in " + join(dirs, ':'), ENOENT);
}

Result<std::string> runCniPlugin(const PluginCall& call) {
  const std::string what = "CNI " + call.command + " " + call.type + " for " + call.container_id;
  auto binary = findCniPlugin(call.type, call.plugin_dirs);
  if (!binary) return std::move(binary).error().context(what);
  std::vector<std::string> env = {
      "CNI_COMMAND=" + call.command, "CNI_CONTAINERID=" + call.container_id,
      "CNI_NETNS=" + call.netns_path, "CNI_IFNAME=" + call.ifname,
      "CNI_PATH=" + join(call.plugin_dirs, ':'),
      // Plugins run iptables, ip and the like from PATH.
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  auto output = runProgram(
      {.argv = {*binary}, .env = env, .stdin_text = call.stdin_config, .timeout = call.timeout});
  if (!output) return std::move(output).error().context(what);
  if (output->exit_code != 0)
    return Error(what + ": exit " + std::to_string(output->exit_code) + ": " +
                     pluginMessage(output->stdout_text, output->stderr_text),
                 EIO);
  return std::move(output->stdout_text);
}

}  // namespace wick::network
