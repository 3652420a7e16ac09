// Output written under a temporary name beside its destination, then renamed
// in: all or nothing. The one owner of that temporary name (containerd's
// content writer and overlay snapshotter work the same way): `commit()`
// renames it onto the destination and disarms; a StagedPath that was never
// committed removes what was written under its name (file or tree) when it
// goes, whichever way the function that made it returns.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace wick {

class StagedPath {
 public:
  // Every staged name has this infix, so a store's start-up can recognise
  // the leftovers of a crashed run (isStagedName).
  static constexpr std::string_view kMarker = ".partial-";

  // "<destination>.partial-<random>": same directory, so the rename is atomic.
  static StagedPath beside(std::string destination);
  // "<dir>/<prefix>.partial-<random>", for stores that stage in their own tmp
  // directory (on the destination's filesystem); the destination may be
  // named only at commitTo (a content-addressed name known once written).
  static StagedPath in(const std::string& dir, std::string_view prefix,
                       std::string destination = {});

  StagedPath(StagedPath&& other) noexcept;
  StagedPath& operator=(StagedPath&& other) noexcept;
  StagedPath(const StagedPath&) = delete;
  StagedPath& operator=(const StagedPath&) = delete;
  ~StagedPath();

  // Where to write (nothing is created here).
  const std::string& path() const { return path_; }
  const std::string& destination() const { return destination_; }

  // Writes `content` as a new file at path() (mode `mode`) and syncs it,
  // for small outputs written in one go (records, zips).
  Status writeFile(std::string_view content, int mode = 0644) const;

  // Renames path() onto destination() and disarms. On failure the staged
  // output stays owned (and is removed with this object).
  Status commit();
  // As commit(), onto `destination`.
  Status commitTo(std::string destination);

  // As commit(), for content-addressed output that another writer may have
  // put in place first (a directory rename fails with EEXIST/ENOTEMPTY): then
  // theirs is kept, this copy is removed, and the result is false.
  Result<bool> commitUnlessPresent();

 private:
  StagedPath(std::string path, std::string destination);
  void removeStaged() noexcept;

  std::string path_;
  std::string destination_;
  bool armed_ = false;
};

// True for a name StagedPath made (a leftover when no writer is running).
bool isStagedName(std::string_view file_name);

}  // namespace wick
