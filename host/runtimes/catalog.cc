#include "host/runtimes/catalog.h"

#include <algorithm>

namespace wick::runtimes {

namespace {

const std::vector<RuntimeInfo>& catalog() {
  static const std::vector<RuntimeInfo> runtimes = {
      {"python3.11",
       "python3.11",
       true,
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_python3.11"}, {"PYTHONPATH", "/var/runtime"}}},
      {"nodejs20.x",
       "nodejs20.x",
       true,
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_nodejs20.x"},
        {"NODE_PATH",
         "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:"
         "/var/runtime:/var/task"}}},
      {"provided.al2023", "provided.al2023", false, {}},
      {"provided.al2", "provided.al2023", false, {}},
      {"provided", "provided.al2023", false, {}},
  };
  return runtimes;
}

}  // namespace

const RuntimeInfo* findRuntime(std::string_view name) {
  const auto& runtimes = catalog();
  auto it = std::find_if(runtimes.begin(), runtimes.end(),
                         [&](const RuntimeInfo& info) { return info.name == name; });
  return it == runtimes.end() ? nullptr : &*it;
}

const std::vector<std::string>& runtimeNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& info : catalog())
      all.push_back(info.name);
    return all;
  }();
  return names;
}

const std::vector<std::string>& baseNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> bases;
    for (const auto& info : catalog())
      if (std::find(bases.begin(), bases.end(), info.base) == bases.end())
        bases.push_back(info.base);
    return bases;
  }();
  return names;
}

}  // namespace wick::runtimes
