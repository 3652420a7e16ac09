#include "images/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/staged_path.h"

namespace wick::images {

namespace fs = std::filesystem;

BlobStore::BlobStore(std::string root)
    : root_(std::move(root)), dir_(root_ + "/blobs/sha256"), tmp_(root_ + "/tmp") {}

Status BlobStore::init() const {
  std::error_code ec;
  for (const auto& dir : {dir_, tmp_}) {
    fs::create_directories(dir, ec);
    if (ec) return Error("create " + dir + ": " + ec.message(), ec.value());
  }
  return {};
}

std::string BlobStore::path(const Digest& digest) const {
  return dir_ + "/" + digest.hex();
}

bool BlobStore::has(const Digest& digest) const {
  return ::access(path(digest).c_str(), F_OK) == 0;
}

Result<Digest> BlobStore::put(ByteSource& source, const std::optional<Digest>& expected,
                              std::optional<uint64_t> expected_size) const {
  StagedPath staged = StagedPath::in(tmp_, "blob");
  const std::string& staging = staged.path();
  UniqueFd out(::open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) return Error::fromErrno("put blob: create " + staging);

  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    auto n = source.read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error().context("put blob");
    if (*n == 0) break;
    hash.update(buffer.data(), *n);
    if (expected_size && hash.bytes() > *expected_size)
      return Error("put blob: more than the " + std::to_string(*expected_size) + " bytes expected",
                   EFBIG);
    WICK_TRY(writeAll(out.get(), {buffer.data(), *n}), "put blob: write " + staging);
  }
  if (expected_size && hash.bytes() != *expected_size)
    return Error("put blob: " + std::to_string(hash.bytes()) + " bytes, " +
                     std::to_string(*expected_size) + " expected",
                 EINVAL);
  Digest digest = hash.finish();
  if (expected && digest != *expected)
    return Error("put blob: digest mismatch: want " + expected->str() + ", got " + digest.str(),
                 EINVAL);
  if (::fchmod(out.get(), 0444) != 0 || ::fsync(out.get()) != 0)
    return Error::fromErrno("put blob: sync " + staging);
  WICK_TRY(staged.commitTo(path(digest)), "put blob");
  return digest;
}

Result<Digest> BlobStore::putBytes(std::string_view bytes,
                                   const std::optional<Digest>& expected) const {
  MemorySource source(bytes);
  return put(source, expected, bytes.size());
}

Result<std::string> BlobStore::read(const Digest& digest, uint64_t max_bytes) const {
  const std::string file = path(digest);
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("read blob " + digest.str());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::fromErrno("stat " + file);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return Error("read blob " + digest.str() + ": " + std::to_string(st.st_size) +
                     " bytes, more than " + std::to_string(max_bytes),
                 EFBIG);
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::fromErrno("read " + file, n == 0 ? EIO : errno);
    done += static_cast<size_t>(n);
  }
  return bytes;
}

Status BlobStore::remove(const Digest& digest) const {
  if (::unlink(path(digest).c_str()) != 0 && errno != ENOENT)
    return Error::fromErrno("remove blob " + digest.str());
  return {};
}

Result<std::vector<Digest>> BlobStore::list() const {
  std::vector<Digest> digests;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename();
    if (isSha256Hex(name)) digests.push_back(Digest::fromHex(name));
  }
  if (ec) return Error("list " + dir_ + ": " + ec.message(), ec.value());
  return digests;
}

}  // namespace wick::images
