// libFuzzer: hostile bytes as a function zip or a layer tarball. Extraction
// must fail cleanly or stay inside its directory; sanitizers catch the rest.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "images/archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = [] {
    char pattern[] = "/tmp/wick-fuzz-XXXXXX";
    return std::string(::mkdtemp(pattern));
  }();
  const std::string destination = root + "/out";
  wick::images::ExtractOptions options;
  options.max_unpacked_bytes = 1 << 20;
  options.max_entries = 64;
  options.allow_hardlinks = size > 0 && (data[0] & 1);
  options.allow_escaping_symlinks = size > 0 && (data[0] & 2);
  (void)wick::images::extractArchiveFromMemory(data, size, destination, options);
  // Nothing may appear beside the destination.
  for (const auto& entry : std::filesystem::directory_iterator(root))
    if (entry.path() != destination) std::abort();
  std::filesystem::remove_all(destination);
  return 0;
}
