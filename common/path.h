// Splitting slash-separated paths, the one way every room does it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wick {

// The components of `path` between slashes, without empty and "." ones;
// ".." is kept for the caller to judge. "/a//./b/../c" -> {"a", "b", "..", "c"}.
std::vector<std::string> pathComponents(std::string_view path);
// "a", "b" -> "a/b" (no leading slash).
std::string joinComponents(const std::vector<std::string>& components);

}  // namespace wick
