#include "common/default_state_dir.h"

#include <filesystem>

namespace wick {

std::string defaultStateDir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto checkout = exe.parent_path().parent_path().parent_path();
    if (exe.parent_path().filename() == "bin" &&
        exe.parent_path().parent_path().filename() == "build" &&
        std::filesystem::exists(checkout / "CMakeLists.txt", ec) &&
        std::filesystem::exists(checkout / "sandbox", ec))
      return (checkout / "var" / "wick").string();
  }
  return "/var/lib/wick";
}

}  // namespace wick
