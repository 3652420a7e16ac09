// A function zip for tests: one executable `bootstrap`, the same bytes every time.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>
#include <vector>

namespace wick::test {

inline std::string zipOf(const std::string& content) {
  archive* writer = archive_write_new();
  archive_write_set_format_zip(writer);
  std::vector<char> buffer(1 << 20);
  size_t used = 0;
  archive_write_open_memory(writer, buffer.data(), buffer.size(), &used);
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "bootstrap");
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0755);
  archive_entry_set_mtime(entry, 1'700'000'000, 0);  // the same bytes every time
  archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
  archive_write_header(writer, entry);
  archive_write_data(writer, content.data(), content.size());
  archive_entry_free(entry);
  archive_write_close(writer);
  archive_write_free(writer);
  return std::string(buffer.data(), used);
}

}  // namespace wick::test
