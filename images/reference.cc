#include "images/reference.h"

namespace wick::images {

namespace {

// host[:port]: dot-separated labels of [a-z0-9-] starting alphanumeric, digits for the port.
bool validHost(std::string_view host) {
  if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos)
      return false;
    host = host.substr(0, colon);
  }
  char previous = '.';
  for (char c : host) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '-') return false;
    if (previous == '.' && !alnum) return false;
    previous = c;
  }
  return !host.empty() && previous != '.';
}

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  std::string_view rest = name;
  if (size_t slash = name.find('/'); slash != std::string_view::npos) {
    std::string_view host = name.substr(0, slash);
    if (host.find_first_of(".:") != std::string_view::npos || host == "localhost") {
      if (!validHost(host)) return false;
      rest = name.substr(slash + 1);
    }
  }
  if (rest.empty() || rest.back() == '/') return false;
  char previous = '/';
  for (char c : rest) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '_' && c != '-' && c != '/') return false;
    // Components start with an alphanumeric: no "..", no ".hidden", no "//".
    if (previous == '/' && !alnum) return false;
    previous = c;
  }
  return true;
}

bool validTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || tag.front() == '.' || tag.front() == '-') return false;
  for (char c : tag)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  return true;
}

std::string_view dropDefaultRegistry(std::string_view name) {
  for (std::string_view prefix : {"docker.io/library/", "docker.io/", "index.docker.io/library/"})
    if (name.starts_with(prefix)) return name.substr(prefix.size());
  return name;
}

}  // namespace

Result<ImageRef> parseRef(std::string_view text) {
  ImageRef ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    auto digest = Digest::parse(rest.substr(at + 1));
    if (!digest) return std::move(digest).error().context("image reference");
    ref.digest = *digest;
    rest = rest.substr(0, at);
  }
  const size_t slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!validTag(ref.tag))
      return Error("image reference '" + std::string(text) + "': invalid tag", EINVAL);
  } else if (!ref.digest) {
    ref.tag = "latest";
  }
  ref.name = dropDefaultRegistry(rest);
  if (!validName(ref.name))
    return Error("image reference '" + std::string(text.substr(0, 300)) +
                     "': invalid name (lowercase letters, digits, '.', '_', '-', '/')",
                 EINVAL);
  return ref;
}

bool refMatches(std::string_view candidate, const ImageRef& wanted) {
  if (candidate.empty()) return false;
  // A bare tag (OCI layouts often name images "latest" or "1.0").
  // `--ref 1.0` parses as the name "1.0"; either way the bare tag matches.
  if (candidate.find_first_of("/:@") == std::string_view::npos && !wanted.digest &&
      (candidate == wanted.tag || candidate == wanted.name))
    return true;
  auto parsed = parseRef(candidate);
  if (!parsed) return false;
  if (parsed->name != wanted.name) return false;
  if (wanted.digest) return parsed->digest == wanted.digest;
  return parsed->tag == wanted.tag;
}

}  // namespace wick::images
