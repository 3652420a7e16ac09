// Safe extraction of untrusted archives (function zips, layer tarballs) with
// libarchive. Nothing is written outside the destination: every path is
// resolved beneath it with symlinks refused on the way (openat2), the archive
// is unpacked into a temporary sibling directory and renamed into place only
// when every entry passed, so a rejected archive leaves nothing behind.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wick::images {

struct ExtractOptions {
  // Sum of the entries' sizes once unpacked (decompression bombs stop here).
  uint64_t max_unpacked_bytes = 250ull << 20;
  uint64_t max_entries = 100'000;
  // Symlinks whose target is absolute or climbs above the root. A function zip
  // may not have them (Lambda's rule); an image layer may, since its links are
  // only ever followed inside the sandbox's own root.
  bool allow_escaping_symlinks = false;
  // Hard links to another entry of the archive (tar layers); zips have none.
  bool allow_hardlinks = false;
  // OCI layer mode: turn whiteouts into overlayfs's own form as they come, so
  // that the unpacked layer can be stacked as an overlay lowerdir: `d/.wh.x`
  // becomes a 0/0 character device `d/x` (unless this layer writes `d/x`
  // itself: a whiteout hides lower layers only), `d/.wh..wh..opq` the xattr
  // trusted.overlay.opaque=y on `d`. A whiteout named "" "." or ".." is
  // rejected; other `.wh..wh.*` (aufs bookkeeping) entries are skipped.
  bool overlay_whiteouts = false;
};

struct ExtractStats {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t bytes = 0;
  uint64_t whiteouts = 0;
  uint64_t opaque_directories = 0;
};

// Unpacks a zip (or a tar with any compression libarchive reads) from bytes in
// memory (a CreateFunction's Code.ZipFile) into `destination`, which must not
// exist yet. Errors name the entry and the reason, e.g. "entry '../x': path
// leaves the destination".
Result<ExtractStats> extractArchiveFromMemory(const void* data, size_t size,
                                              const std::string& destination,
                                              const ExtractOptions& options = {});

// Hands out the next chunk of a stream, an empty view at its end; a chunk
// stays valid until the next call. An error aborts the extraction with it.
using ChunkReader = std::function<Result<std::string_view>()>;

// The same from a stream of tar bytes, already decompressed (image layers,
// whose uncompressed digest the caller computes as the bytes go by). Tar only.
Result<ExtractStats> extractTarStream(const ChunkReader& read, const std::string& destination,
                                      const ExtractOptions& options = {});

// The lexical checks, exposed for tests and fuzzing: a relative path with no
// "..", no empty or "." component after normalisation; "" if it is rejected.
std::string normalizeEntryPath(const std::string& path);

}  // namespace wick::images
