// Image references as wick names them: `name[:tag]` or `name@sha256:<hex>`
// (the forms of Lambda's Code.ImageUri), with docker's default-registry
// prefixes ("docker.io/library/") dropped so `busybox:1` is `busybox:1`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "images/digest.h"

namespace wick::images {

struct ImageRef {
  std::string name;
  std::string tag;               // "latest" when neither tag nor digest was given
  std::optional<Digest> digest;  // name@sha256:...
  std::string str() const { return digest ? name + "@" + digest->str() : name + ":" + tag; }
};

// Validates: name of lowercase [a-z0-9._/-] components (an optional
// "host[:port]/" first), tag of [A-Za-z0-9_.-] (128 at most).
Result<ImageRef> parseRef(std::string_view text);

// Does a name found in an image (RepoTags, org.opencontainers.image.ref.name,
// which may be a bare tag) designate `wanted`?
bool refMatches(std::string_view candidate, const ImageRef& wanted);

}  // namespace wick::images
