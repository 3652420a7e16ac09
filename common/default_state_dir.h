// Where wickd keeps its state when its config does not say, and where the
// wick CLI looks for wickd's admin socket: the same answer for both.
#pragma once

#include <string>

namespace wick {

// <checkout>/var/wick for a binary in a checkout's build/bin (beside the
// project's CMakeLists.txt), else /var/lib/wick.
std::string defaultStateDir();

}  // namespace wick
