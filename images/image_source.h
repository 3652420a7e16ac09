// Where an image is read from, in place: an OCI layout directory, or a
// tarball (oci-archive, docker-archive; plain, gzip or zstd) that is never
// extracted to disk. Names are paths inside the layout or archive; symlinks
// inside a tarball (skopeo's `<v1id>/layer.tar -> ../<diffid>.tar`) are
// followed within the archive's own namespace only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "images/byte_source.h"

namespace wick::images {

class ImageSource {
 public:
  virtual ~ImageSource() = default;

  // Opens a directory as a layout, anything else as a tarball.
  static Result<std::unique_ptr<ImageSource>> open(const std::string& path);

  // "oci-layout" or "archive".
  virtual std::string kind() const = 0;
  // A small file (JSON); nullopt when absent; an error if larger than `max_bytes`.
  virtual Result<std::optional<std::string>> readSmall(const std::string& name,
                                                       uint64_t max_bytes) = 0;
  // Size of a file, when it can be known before reading it.
  virtual std::optional<uint64_t> size(const std::string& name) = 0;
  // Streams each named file to `fn`, in the order cheapest for the source
  // (tar order for a tarball). A name that is missing is an error.
  using Visitor = std::function<Status(const std::string& name, ByteSource& bytes)>;
  virtual Status forEach(const std::vector<std::string>& names, const Visitor& fn) = 0;
};

}  // namespace wick::images
