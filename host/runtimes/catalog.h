// The runtimes wick offers (lambda-contract.md 3.1, 3.3): which base root each
// runs on, whether wick brings the runtime client (/var/runtime/bootstrap) or
// the function brings its own bootstrap, and the environment each one adds.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wick::runtimes {

struct RuntimeInfo {
  std::string name;      // as in the API: python3.11, nodejs20.x, provided.al2023, ...
  std::string base;      // the base root it runs on (aliases share one)
  bool managed = false;  // wick's client at /var/runtime/bootstrap; Handler required
  // Set for managed runtimes only (AWS_EXECUTION_ENV, PYTHONPATH, NODE_PATH).
  std::map<std::string, std::string> environment;
};

// nullptr for a runtime wick does not offer.
const RuntimeInfo* findRuntime(std::string_view name);
// Every runtime name, in the order error messages list them.
const std::vector<std::string>& runtimeNames();
// Every base root, each once.
const std::vector<std::string>& baseNames();

}  // namespace wick::runtimes
