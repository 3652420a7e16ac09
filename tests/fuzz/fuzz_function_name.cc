// libFuzzer: FunctionName path labels and base64 from untrusted requests.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/encoding.h"
#include "host/functions/function_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = wick::functions::parseFunctionName(text)) {
    if (!wick::functions::validFunctionName(parsed->name)) std::abort();
  }
  if (auto decoded = wick::base64Decode(text)) {
    if (*wick::base64Decode(wick::base64Encode(*decoded)) != *decoded) std::abort();
  }
  return 0;
}
