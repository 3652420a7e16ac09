#include "images/image_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <set>

#include "common/path.h"
#include "common/unique_fd.h"
#include "images/archive.h"

namespace wick::images {

namespace {

// --- a layout directory ------------------------------------------------------

class LayoutDirSource final : public ImageSource {
 public:
  LayoutDirSource(UniqueFd root, std::string path)
      : root_(std::move(root)), path_(std::move(path)) {}

  std::string kind() const override { return "oci-layout"; }

  Result<std::optional<std::string>> readSmall(const std::string& name,
                                               uint64_t max_bytes) override {
    auto fd = openInRoot(name);
    if (!fd) {
      if (fd.error().errNo() == ENOENT) return std::optional<std::string>();
      return std::move(fd).error();
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return Error::fromErrno("stat " + name);
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
      return Error(name + ": " + std::to_string(st.st_size) + " bytes, more than " +
                       std::to_string(max_bytes),
                   EFBIG);
    FileSource file(std::move(*fd), path_ + "/" + name);
    std::string bytes;
    char buffer[64 << 10];
    for (;;) {
      auto n = file.read(buffer, sizeof buffer);
      if (!n) return std::move(n).error();
      if (*n == 0) break;
      bytes.append(buffer, *n);
      if (bytes.size() > max_bytes) return Error(name + ": grew while read", EFBIG);
    }
    return std::optional<std::string>(std::move(bytes));
  }

  std::optional<uint64_t> size(const std::string& name) override {
    auto fd = openInRoot(name);
    struct stat st {};
    if (!fd || ::fstat(fd->get(), &st) != 0) return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }

  Status forEach(const std::vector<std::string>& names, const Visitor& fn) override {
    for (const auto& name : names) {
      auto fd = openInRoot(name);
      if (!fd) return std::move(fd).error();
      FileSource file(std::move(*fd), path_ + "/" + name);
      WICK_TRY(fn(name, file), name);
    }
    return {};
  }

 private:
  // Symlinks inside the layout are followed, but scoped to it.
  Result<UniqueFd> openInRoot(const std::string& name) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, root_.get(), name.c_str(), &how, sizeof how));
    if (fd < 0) return Error::fromErrno("open " + path_ + "/" + name);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Error(path_ + "/" + name + " is not a regular file", EINVAL);
    }
    return UniqueFd(fd);
  }

  UniqueFd root_;
  std::string path_;
};

// --- a tarball, read twice in order: once to index it, once to stream -------

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

class MemberSource final : public ByteSource {
 public:
  explicit MemberSource(archive* reader) : reader_(reader) {}
  Result<size_t> read(void* buffer, size_t size) override {
    la_ssize_t n = archive_read_data(reader_, buffer, size);
    if (n < 0) return Error(std::string("read: ") + archive_error_string(reader_), EIO);
    return static_cast<size_t>(n);
  }

 private:
  archive* reader_;
};

// Joins a link target to the directory of `entry`, within the archive root.
std::optional<std::string> joinInArchive(const std::string& entry, const std::string& target,
                                         bool relative_to_entry) {
  std::vector<std::string> parts;
  auto push = [&parts](const std::string& path) {
    for (auto& part : pathComponents(path)) {
      if (part != "..") {
        parts.push_back(std::move(part));
      } else if (parts.empty()) {
        return false;
      } else {
        parts.pop_back();
      }
    }
    return true;
  };
  if (relative_to_entry && !target.starts_with("/")) {
    const size_t slash = entry.rfind('/');
    if (slash != std::string::npos && !push(entry.substr(0, slash))) return std::nullopt;
  }
  if (!push(target)) return std::nullopt;
  if (parts.empty()) return std::nullopt;
  return joinComponents(parts);
}

class TarballSource final : public ImageSource {
 public:
  explicit TarballSource(std::string path) : path_(std::move(path)) {}

  std::string kind() const override { return "archive"; }

  Status index() {
    auto reader = openReader();
    if (!reader) return std::move(reader).error();
    archive_entry* entry = nullptr;
    uint64_t cached = 0;
    for (;;) {
      int rc = archive_read_next_header(reader->get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return Error(path_ + ": " + archive_error_string(reader->get()), EINVAL);
      const char* raw = archive_entry_pathname(entry);
      const std::string name = normalizeEntryPath(raw ? raw : "");
      if (name.empty()) continue;  // the root, or a name we never look up
      Member member;
      if (const char* hard = archive_entry_hardlink(entry)) {
        member.link = joinInArchive(name, hard, false);
      } else if (archive_entry_filetype(entry) == AE_IFLNK) {
        const char* target = archive_entry_symlink(entry);
        member.link = joinInArchive(name, target ? target : "", true);
      } else if (archive_entry_filetype(entry) == AE_IFREG) {
        member.regular = true;
        member.size = static_cast<uint64_t>(archive_entry_size(entry));
        // Keep the small files (JSON documents) so the import reads the
        // archive only twice however many it needs.
        if (member.size <= (4u << 20) && cached + member.size <= (64u << 20)) {
          std::string bytes;
          MemberSource data(reader->get());
          char buffer[64 << 10];
          for (;;) {
            auto n = data.read(buffer, sizeof buffer);
            if (!n) return std::move(n).error().context(path_ + ": " + name);
            if (*n == 0) break;
            bytes.append(buffer, *n);
          }
          cached += bytes.size();
          member.content = std::move(bytes);
        }
      }
      members_[name] = std::move(member);
    }
    return {};
  }

  Result<std::optional<std::string>> readSmall(const std::string& name,
                                               uint64_t max_bytes) override {
    auto real = resolve(name);
    if (!real) return std::optional<std::string>();
    const Member& member = members_.at(*real);
    if (member.size > max_bytes)
      return Error(name + ": " + std::to_string(member.size) + " bytes, more than " +
                       std::to_string(max_bytes),
                   EFBIG);
    if (!member.content) return Error(name + ": not kept in memory", EFBIG);
    return member.content;
  }

  std::optional<uint64_t> size(const std::string& name) override {
    auto real = resolve(name);
    if (!real) return std::nullopt;
    return members_.at(*real).size;
  }

  Status forEach(const std::vector<std::string>& names, const Visitor& fn) override {
    std::map<std::string, std::string> wanted;  // real member -> first name asked for
    for (const auto& name : names) {
      auto real = resolve(name);
      if (!real) return Error(path_ + ": no file '" + name + "' in the archive", ENOENT);
      wanted.emplace(*real, name);
    }
    auto reader = openReader();
    if (!reader) return std::move(reader).error();
    archive_entry* entry = nullptr;
    std::set<std::string> done;
    for (;;) {
      int rc = archive_read_next_header(reader->get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return Error(path_ + ": " + archive_error_string(reader->get()), EINVAL);
      const char* raw = archive_entry_pathname(entry);
      const std::string name = normalizeEntryPath(raw ? raw : "");
      auto it = wanted.find(name);
      if (it == wanted.end() || done.contains(name) || archive_entry_filetype(entry) != AE_IFREG ||
          archive_entry_hardlink(entry) != nullptr)
        continue;
      MemberSource data(reader->get());
      WICK_TRY(fn(it->second, data), it->second);
      done.insert(name);
    }
    for (const auto& [real, name] : wanted)
      if (!done.contains(real)) return Error(path_ + ": '" + name + "' vanished", ENOENT);
    return {};
  }

 private:
  struct Member {
    bool regular = false;
    uint64_t size = 0;
    std::optional<std::string> link;
    std::optional<std::string> content;
  };

  Result<ArchivePtr> openReader() {
    ArchivePtr reader(archive_read_new());
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_gnutar(reader.get());
    archive_read_support_filter_none(reader.get());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_filter_zstd(reader.get());
    if (archive_read_open_filename(reader.get(), path_.c_str(), 1 << 20) != ARCHIVE_OK)
      return Error("open " + path_ + ": " + archive_error_string(reader.get()), EINVAL);
    return reader;
  }

  // Follows links within the archive to a regular member (16 hops at most).
  std::optional<std::string> resolve(const std::string& asked) const {
    std::string name = normalizeEntryPath(asked);
    for (int hop = 0; hop < 16 && !name.empty(); ++hop) {
      auto it = members_.find(name);
      if (it == members_.end()) return std::nullopt;
      if (it->second.regular) return name;
      if (!it->second.link) return std::nullopt;
      name = *it->second.link;
    }
    return std::nullopt;
  }

  std::string path_;
  std::map<std::string, Member> members_;
};

}  // namespace

Result<std::unique_ptr<ImageSource>> ImageSource::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::fromErrno("open image " + path);
  if (S_ISDIR(st.st_mode)) {
    UniqueFd root(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return Error::fromErrno("open image " + path);
    return std::unique_ptr<ImageSource>(new LayoutDirSource(std::move(root), path));
  }
  auto tarball = std::make_unique<TarballSource>(path);
  WICK_TRY(tarball->index(), "open image " + path);
  return std::unique_ptr<ImageSource>(std::move(tarball));
}

}  // namespace wick::images
