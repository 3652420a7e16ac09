// libFuzzer: hostile bytes as a control-plane request body (CreateFunction,
// UpdateFunctionConfiguration). Parsing and validation must answer an AWS
// error or give a configuration that survives the registry's round trip
// (what is stored must read back the same).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "host/functions/request.h"
#include "host/functions/validation.h"
#include "host/registry/function_config.h"

namespace {

using wick::registry::FunctionConfig;

void checkStoredFormReadsBack(const FunctionConfig& config) {
  auto read_back = FunctionConfig::fromJson(config.toJson());
  if (!read_back || !(*read_back == config)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = wick::functions::parseJsonBody(body);
  const auto* request = std::get_if<nlohmann::json>(&parsed);
  if (request == nullptr) return 0;
  // As CreateFunction: Lambda's defaults for what is absent.
  auto created = wick::functions::updatedConfig({}, *request, true);
  const auto* config = std::get_if<FunctionConfig>(&created);
  if (config == nullptr) return 0;
  checkStoredFormReadsBack(*config);
  // As UpdateFunctionConfiguration of that function with the same body.
  auto updated = wick::functions::updatedConfig(*config, *request, false);
  if (const auto* again = std::get_if<FunctionConfig>(&updated)) checkStoredFormReadsBack(*again);
  return 0;
}
