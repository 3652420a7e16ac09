#include "images/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/path.h"
#include "common/staged_path.h"
#include "common/unique_fd.h"

namespace wick::images {

std::string normalizeEntryPath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.find('\0') != std::string::npos) return "";
  const std::vector<std::string> components = pathComponents(path);
  for (const auto& part : components)
    if (part == "..") return "";
  return joinComponents(components);
}

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// Would `target`, read from the directory holding `entry`, leave the root?
bool symlinkEscapes(const std::string& entry, const std::string& target) {
  if (target.empty() || target[0] == '/') return true;
  long depth = static_cast<long>(std::count(entry.begin(), entry.end(), '/'));
  for (const auto& part : pathComponents(target)) {
    depth += part == ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

// Opens a directory below `root_fd`, refusing any symlink on the way.
Result<UniqueFd> openBeneath(int root_fd, const std::string& relative) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const std::string path = relative.empty() ? "." : relative;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
  if (fd < 0) return Error::fromErrno("open directory " + path);
  return UniqueFd(fd);
}

class Extractor {
 public:
  Extractor(int root_fd, const ExtractOptions& options) : root_fd_(root_fd), options_(options) {}

  Status run(archive* reader) {
    archive_entry* entry = nullptr;
    for (;;) {
      int rc = archive_read_next_header(reader, &entry);
      if (rc == ARCHIVE_EOF) return dropWhiteoutsInOpaqueDirectories();
      if (rc < ARCHIVE_WARN)
        return Error(std::string("read archive: ") + archive_error_string(reader), EINVAL);
      const char* raw = archive_entry_pathname(entry);
      const std::string name = raw ? raw : "";
      if (++entries_ > options_.max_entries)
        return Error("more than " + std::to_string(options_.max_entries) + " entries", E2BIG);
      auto handled = handle(reader, entry, name);
      if (!handled) return std::move(handled).error().context("entry '" + name + "'");
    }
  }

  const ExtractStats& stats() const { return stats_; }

 private:
  Status handle(archive* reader, archive_entry* entry, const std::string& name) {
    const std::string path = normalizeEntryPath(name);
    const mode_t type = archive_entry_filetype(entry);
    if (path.empty()) {
      // "./" or "" name the root itself; anything else left it.
      if (type == AE_IFDIR && normalizeEntryPath("x/" + name) == "x") return {};
      return Error("path leaves the destination", EPERM);
    }
    const size_t slash = path.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (options_.overlay_whiteouts && base.starts_with(".wh.")) return whiteout(parent, base);
    auto parent_fd = makeDirectories(parent);
    if (!parent_fd) return std::move(parent_fd).error();

    if (const char* link = archive_entry_hardlink(entry)) {
      if (!options_.allow_hardlinks) return Error("hard links are not allowed", EPERM);
      return hardlink(parent_fd->get(), base, link);
    }
    // Permission bits only: setuid, setgid and sticky never survive.
    mode_t mode = archive_entry_perm(entry) & 0777;
    switch (type) {
      case AE_IFDIR: {
        auto dir = makeDirectories(path);
        if (!dir) return std::move(dir).error();
        if (mode != 0 && ::fchmodat(parent_fd->get(), base.c_str(), mode, 0) != 0)
          return Error::fromErrno("chmod");
        return {};
      }
      case AE_IFREG:
        return writeFile(reader, parent_fd->get(), base, mode == 0 ? 0644 : mode);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (target == nullptr) return Error("symlink without a target", EINVAL);
        if (!options_.allow_escaping_symlinks && symlinkEscapes(path, target))
          return Error(std::string("symlink to '") + target + "' points outside the destination",
                       EPERM);
        (void)::unlinkat(parent_fd->get(), base.c_str(), 0);
        if (::symlinkat(target, parent_fd->get(), base.c_str()) != 0)
          return Error::fromErrno("symlink");
        ++stats_.symlinks;
        return {};
      }
      default:
        return Error("device nodes, fifos and sockets are not allowed", EPERM);
    }
  }

  // OCI whiteouts in overlayfs form (see ExtractOptions::overlay_whiteouts).
  Status whiteout(const std::string& parent, const std::string& base) {
    auto parent_fd = makeDirectories(parent);
    if (!parent_fd) return std::move(parent_fd).error();
    if (base == ".wh..wh..opq") {
      // The opaque marker may come before or after the directory's own entry
      // (umoci writes it first); either way the xattr lands on the directory.
      UniqueFd dir(::openat(parent_fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir) return Error::fromErrno("open opaque directory");
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
        return Error::fromErrno("set trusted.overlay.opaque");
      opaque_.insert(parent);
      ++stats_.opaque_directories;
      return {};
    }
    if (base.starts_with(".wh..wh.")) return {};  // aufs bookkeeping (.wh..wh.plnk ...)
    const std::string name = base.substr(4);
    if (name.empty() || name == "." || name == "..")
      return Error("whiteout names no file ('" + name + "')", EINVAL);
    struct stat st {};
    // This layer already wrote the path: the whiteout hides lower layers only,
    // and the layer's own entry does that already.
    if (::fstatat(parent_fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return {};
    if (::mknodat(parent_fd->get(), name.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
      return Error::fromErrno("create whiteout " + name);
    whiteouts_.push_back({parent, name});
    ++stats_.whiteouts;
    return {};
  }

  // A 0/0 device in an opaque directory of the same layer hides nothing more
  // (the directory hides all lower entries) but would show in readdir.
  Status dropWhiteoutsInOpaqueDirectories() {
    for (const auto& [parent, name] : whiteouts_) {
      if (!opaque_.contains(parent)) continue;
      auto dir = openBeneath(root_fd_, parent);
      if (!dir) return std::move(dir).error();
      struct stat st {};
      if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          isWhiteoutDevice(st))
        (void)::unlinkat(dir->get(), name.c_str(), 0);
    }
    return {};
  }

  static bool isWhiteoutDevice(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
  }

  // mkdir -p below the root, one component at a time, never through a symlink.
  Result<UniqueFd> makeDirectories(const std::string& relative) {
    auto fd = openBeneath(root_fd_, "");
    if (!fd) return fd;
    size_t start = 0;
    while (start < relative.size()) {
      size_t end = relative.find('/', start);
      if (end == std::string::npos) end = relative.size();
      const std::string part = relative.substr(start, end - start);
      start = end + 1;
      if (::mkdirat(fd->get(), part.c_str(), 0755) == 0) {
        ++stats_.directories;
      } else if (errno != EEXIST) {
        return Error::fromErrno("mkdir " + relative.substr(0, end));
      } else if (options_.overlay_whiteouts) {
        // A directory of this layer where the same layer put a whiteout first.
        struct stat st {};
        if (::fstatat(fd->get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            isWhiteoutDevice(st)) {
          if (::unlinkat(fd->get(), part.c_str(), 0) != 0 ||
              ::mkdirat(fd->get(), part.c_str(), 0755) != 0)
            return Error::fromErrno("replace whiteout by directory " + relative.substr(0, end));
          ++stats_.directories;
        }
      }
      auto next = openBeneath(fd->get(), part);
      if (!next) return std::move(next).error().context("a parent is not a plain directory");
      fd = std::move(next);
    }
    return fd;
  }

  Status writeFile(archive* reader, int parent_fd, const std::string& base, mode_t mode) {
    // A later entry of the same name replaces the earlier one (tar layers);
    // whatever was there, including a symlink, is removed, never followed.
    (void)::unlinkat(parent_fd, base.c_str(), 0);
    UniqueFd out(::openat(parent_fd, base.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return Error::fromErrno("create file");
    const void* block;
    size_t size;
    la_int64_t offset;
    for (;;) {
      int rc = archive_read_data_block(reader, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return Error(std::string("read data: ") + archive_error_string(reader), EINVAL);
      stats_.bytes += size;
      if (stats_.bytes > options_.max_unpacked_bytes)
        return Error("unpacked size exceeds the limit of " +
                         std::to_string(options_.max_unpacked_bytes) + " bytes",
                     EFBIG);
      // Sparse files come as blocks at offsets.
      if (::pwrite(out.get(), block, size, offset) != static_cast<ssize_t>(size))
        return Error::fromErrno("write");
    }
    if (::fchmod(out.get(), mode) != 0) return Error::fromErrno("chmod");
    ++stats_.files;
    return {};
  }

  Status hardlink(int parent_fd, const std::string& base, const std::string& link) {
    const std::string target = normalizeEntryPath(link);
    if (target.empty()) return Error("hard link to '" + link + "' leaves the destination", EPERM);
    open_how how{};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    UniqueFd source(
        static_cast<int>(::syscall(SYS_openat2, root_fd_, target.c_str(), &how, sizeof how)));
    if (!source) return Error::fromErrno("hard link target '" + link + "'");
    struct stat st {};
    if (::fstat(source.get(), &st) != 0 || !S_ISREG(st.st_mode))
      return Error("hard link target '" + link + "' is not a regular file", EPERM);
    (void)::unlinkat(parent_fd, base.c_str(), 0);
    if (::linkat(source.get(), "", parent_fd, base.c_str(), AT_EMPTY_PATH) != 0)
      return Error::fromErrno("hard link");
    ++stats_.hardlinks;
    return {};
  }

  int root_fd_;
  const ExtractOptions& options_;
  ExtractStats stats_;
  uint64_t entries_ = 0;
  std::set<std::string> opaque_;
  std::vector<std::pair<std::string, std::string>> whiteouts_;
};

ArchivePtr newReader() {
  ArchivePtr reader(archive_read_new());
  // Only the formats wick takes: zip and tar (gzip, zstd or none). Every other
  // format libarchive knows is attack surface we do not need.
  archive_read_support_format_zip(reader.get());
  archive_read_support_format_tar(reader.get());
  archive_read_support_format_gnutar(reader.get());
  archive_read_support_filter_none(reader.get());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_zstd(reader.get());
  return reader;
}

Result<ExtractStats> extractWith(archive* reader, const std::string& destination,
                                 const ExtractOptions& options) {
  if (::access(destination.c_str(), F_OK) == 0)
    return Error("extract into " + destination + ": it already exists", EEXIST);
  StagedPath staged = StagedPath::beside(destination);
  const std::string& staging = staged.path();
  if (::mkdir(staging.c_str(), 0755) != 0) return Error::fromErrno("extract: mkdir " + staging);
  UniqueFd root(::open(staging.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("extract: open " + staging);
  Extractor extractor(root.get(), options);
  WICK_TRY(extractor.run(reader), "extract into " + destination);
  WICK_TRY(staged.commit(), "extract");
  return extractor.stats();
}

// libarchive's view of a ChunkReader; the reader's own error is kept so that
// it, not libarchive's paraphrase, reaches the caller.
struct StreamState {
  const ChunkReader* read;
  std::optional<Error> error;
};

la_ssize_t readChunk(archive* a, void* client_data, const void** buffer) {
  auto* state = static_cast<StreamState*>(client_data);
  auto chunk = (*state->read)();
  if (!chunk) {
    state->error = std::move(chunk).error();
    archive_set_error(a, EIO, "%s", state->error->message().c_str());
    return -1;
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

}  // namespace

Result<ExtractStats> extractTarStream(const ChunkReader& read, const std::string& destination,
                                      const ExtractOptions& options) {
  ArchivePtr reader(archive_read_new());
  archive_read_support_format_tar(reader.get());
  archive_read_support_format_gnutar(reader.get());
  archive_read_support_filter_none(reader.get());
  StreamState state{&read, std::nullopt};
  if (archive_read_open(reader.get(), &state, nullptr, readChunk, nullptr) != ARCHIVE_OK) {
    if (state.error) return std::move(*state.error).context("extract into " + destination);
    return Error(std::string("open tar stream: ") + archive_error_string(reader.get()), EINVAL);
  }
  auto stats = extractWith(reader.get(), destination, options);
  if (!stats && state.error) return std::move(*state.error).context("extract into " + destination);
  return stats;
}

Result<ExtractStats> extractArchiveFromMemory(const void* data, size_t size,
                                              const std::string& destination,
                                              const ExtractOptions& options) {
  ArchivePtr reader = newReader();
  if (archive_read_open_memory(reader.get(), data, size) != ARCHIVE_OK)
    return Error(std::string("open archive: ") + archive_error_string(reader.get()), EINVAL);
  return extractWith(reader.get(), destination, options);
}

}  // namespace wick::images
