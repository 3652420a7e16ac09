// Plain-text output of the `wick` verbs: aligned columns and byte sizes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wick::cli {

// Prints rows (the first one is the header) on stdout, columns padded to
// their widest cell and separated by three spaces; the last column unpadded.
void printTable(const std::vector<std::vector<std::string>>& rows);

// 1536 -> "1.5KiB", 0 -> "0B".
std::string formatSize(uint64_t bytes);

}  // namespace wick::cli
