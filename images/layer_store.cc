#include "images/layer_store.h"

#include <archive.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/staged_path.h"
#include "images/archive.h"

namespace wick::images {

namespace fs = std::filesystem;

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// The blob as read: counts and hashes the stored (maybe compressed) bytes.
struct BlobReader {
  ByteSource& source;
  const LayerExpectation& expect;
  const LayerUnpackOptions& options;
  Sha256 hash{};
  std::vector<char> buffer = std::vector<char>(1 << 20);
  std::optional<Error> error{};

  Result<size_t> next() {
    auto n = source.read(buffer.data(), buffer.size());
    if (!n) return n;
    hash.update(buffer.data(), *n);
    if (expect.blob_size && hash.bytes() > *expect.blob_size)
      return Error("layer blob is larger than the " + std::to_string(*expect.blob_size) +
                       " bytes its descriptor says",
                   EFBIG);
    if (options.on_bytes && *n) options.on_bytes(hash.bytes());
    return n;
  }
};

la_ssize_t readBlob(archive* a, void* client_data, const void** out) {
  auto* reader = static_cast<BlobReader*>(client_data);
  auto n = reader->next();
  if (!n) {
    reader->error = std::move(n).error();
    archive_set_error(a, EIO, "%s", reader->error->message().c_str());
    return -1;
  }
  *out = reader->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

// A layer blob read through: decompressed by libarchive's filters (gzip,
// zstd or none; the "raw" format: no archive structure, just the byte
// stream), its stored bytes counted and hashed (the blob digest), the
// uncompressed tar hashed (the diff_id) and bounded as it goes. Not movable:
// libarchive holds a pointer to its reader.
class LayerStream {
 public:
  LayerStream(ByteSource& blob, const LayerExpectation& expect, const LayerUnpackOptions& options)
      : blob_{blob, expect, options},
        max_unpacked_bytes_(options.max_unpacked_bytes),
        // The extractor bounds file content (and names the entry); this bounds
        // the stream itself, headers and padding included, with some slack.
        stream_limit_(max_unpacked_bytes_ + max_unpacked_bytes_ / 8 + (16u << 20)) {}
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  Status open() {
    archive_read_support_filter_gzip(decompress_.get());
    archive_read_support_filter_zstd(decompress_.get());
    archive_read_support_filter_none(decompress_.get());
    archive_read_support_format_raw(decompress_.get());
    archive_entry* raw_entry = nullptr;
    if (archive_read_open(decompress_.get(), &blob_, nullptr, readBlob, nullptr) == ARCHIVE_OK &&
        archive_read_next_header(decompress_.get(), &raw_entry) == ARCHIVE_OK)
      return {};
    if (blob_.error) return std::move(*blob_.error);
    return Error(std::string("read blob: ") + archive_error_string(decompress_.get()), EINVAL);
  }

  // The next bytes of the uncompressed tar; empty at its end.
  Result<std::string_view> nextTarChunk() {
    la_ssize_t n = archive_read_data(decompress_.get(), tar_buffer_.data(), tar_buffer_.size());
    if (n < 0) {
      if (blob_.error) return *blob_.error;
      return Error(std::string("decompress: ") + archive_error_string(decompress_.get()), EINVAL);
    }
    diff_hash_.update(tar_buffer_.data(), static_cast<size_t>(n));
    if (diff_hash_.bytes() > stream_limit_)
      return Error("uncompressed layer exceeds the limit of " +
                       std::to_string(max_unpacked_bytes_) + " bytes",
                   EFBIG);
    return std::string_view(tar_buffer_.data(), static_cast<size_t>(n));
  }

  // What the extractor left unread: the tar's end-of-archive blocks and any
  // padding count for the diff_id, trailing bytes of the blob for its digest.
  Status drain() {
    for (;;) {
      auto chunk = nextTarChunk();
      if (!chunk) return std::move(chunk).error();
      if (chunk->empty()) break;
    }
    for (;;) {
      auto n = blob_.next();
      if (!n) return std::move(n).error();
      if (*n == 0) return {};
    }
  }

  // Once drained; each once.
  Digest blobDigest() { return blob_.hash.finish(); }
  uint64_t blobSize() const { return blob_.hash.bytes(); }
  Digest diffId() { return diff_hash_.finish(); }

 private:
  BlobReader blob_;
  std::unique_ptr<archive, ArchiveFree> decompress_{archive_read_new()};
  Sha256 diff_hash_;
  std::vector<char> tar_buffer_ = std::vector<char>(1 << 20);
  const uint64_t max_unpacked_bytes_;
  const uint64_t stream_limit_;
};

// What a layer's tar may hold: overlay whiteouts, hard links within the
// layer, symlinks pointing anywhere (only ever followed inside the sandbox's
// root); within the size and entry limits.
ExtractOptions layerExtractOptions(const LayerUnpackOptions& options) {
  ExtractOptions extract;
  extract.max_unpacked_bytes = options.max_unpacked_bytes;
  extract.max_entries = options.max_entries;
  extract.allow_escaping_symlinks = true;
  extract.allow_hardlinks = true;  // resolved beneath the layer
  extract.overlay_whiteouts = true;
  return extract;
}

// The blob's size and digest against its descriptor, the content's against
// the config's diff_id.
Status checkDigests(const LayerExpectation& expect, const LayerInfo& info, const Digest& diff_id) {
  if (expect.blob_size && info.blob_size != *expect.blob_size)
    return Error("blob is " + std::to_string(info.blob_size) + " bytes, its descriptor says " +
                     std::to_string(*expect.blob_size),
                 EINVAL);
  if (expect.blob_digest && info.blob_digest != *expect.blob_digest)
    return Error("blob digest mismatch: descriptor says " + expect.blob_digest->str() +
                     ", content is " + info.blob_digest.str(),
                 EINVAL);
  if (diff_id != expect.diff_id)
    return Error("diff_id mismatch: config says " + expect.diff_id.str() +
                     ", uncompressed content is " + diff_id.str(),
                 EINVAL);
  return {};
}

std::string randomSuffix() {
  uint64_t nonce = 0;
  (void)::getrandom(&nonce, sizeof nonce, 0);
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(nonce));
  return text;
}

}  // namespace

LayerStore::LayerStore(std::string root)
    : root_(std::move(root)), dir_(root_ + "/layers/sha256"), tmp_(root_ + "/tmp") {}

Status LayerStore::init() const {
  std::error_code ec;
  for (const auto& dir : {dir_, tmp_}) {
    fs::create_directories(dir, ec);
    if (ec) return Error("create " + dir + ": " + ec.message(), ec.value());
  }
  // Trees keep the image's modes; no host user should reach them but root.
  ::chmod((root_ + "/layers").c_str(), 0700);
  ::chmod(tmp_.c_str(), 0700);
  return {};
}

std::string LayerStore::path(const Digest& diff_id) const {
  return dir_ + "/" + diff_id.hex();
}

bool LayerStore::has(const Digest& diff_id) const {
  struct stat st {};
  return ::stat(path(diff_id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<uint64_t> LayerStore::unpackedBytes(const Digest& diff_id) const {
  auto text = readFile(path(diff_id) + ".json");
  if (!text) return std::move(text).error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json["unpacked_bytes"].is_number_unsigned())
    return Error("layer record " + path(diff_id) + ".json is malformed", EINVAL);
  return json["unpacked_bytes"].get<uint64_t>();
}

Result<LayerInfo> LayerStore::unpack(ByteSource& blob, const LayerExpectation& expect,
                                     const LayerUnpackOptions& options) const {
  const std::string what = "layer " + expect.diff_id.str();
  if (has(expect.diff_id)) {
    LayerInfo info{expect.diff_id, expect.blob_digest.value_or(expect.diff_id),
                   expect.blob_size.value_or(0), 0, true};
    if (auto bytes = unpackedBytes(expect.diff_id)) info.unpacked_bytes = *bytes;
    return info;
  }

  LayerStream stream(blob, expect, options);
  WICK_TRY(stream.open(), what);
  StagedPath tree = StagedPath::in(tmp_, "layer", path(expect.diff_id));
  auto stats = extractTarStream([&stream] { return stream.nextTarChunk(); }, tree.path(),
                                layerExtractOptions(options));
  if (!stats) return std::move(stats).error().context(what);
  WICK_TRY(stream.drain(), what);

  LayerInfo info{expect.diff_id, stream.blobDigest(), stream.blobSize(), stats->bytes, false};
  const Digest diff_id = stream.diffId();
  WICK_TRY(checkDigests(expect, info, diff_id), what);

  // Record first, tree second: the tree's rename is the commit point.
  nlohmann::json record = {{"diff_id", diff_id.str()},
                           {"unpacked_bytes", info.unpacked_bytes},
                           {"files", stats->files},
                           {"whiteouts", stats->whiteouts}};
  StagedPath record_file = StagedPath::in(tmp_, "layer-record", path(diff_id) + ".json");
  WICK_TRY(record_file.writeFile(record.dump()), what);
  WICK_TRY(record_file.commit(), what);
  // Another import may have unpacked the same layer meanwhile: theirs is as good.
  auto renamed = tree.commitUnlessPresent();
  if (!renamed) return std::move(renamed).error().context(what);
  info.reused = !*renamed;
  return info;
}

Status LayerStore::remove(const Digest& diff_id) const {
  // Out of the way first (one rename), so a half-deleted tree is never seen
  // under the layer's name.
  const std::string doomed = tmp_ + "/layer-removed-" + randomSuffix();
  if (::rename(path(diff_id).c_str(), doomed.c_str()) != 0 && errno != ENOENT)
    return Error::fromErrno("remove layer " + diff_id.str());
  std::error_code ec;
  fs::remove_all(doomed, ec);
  if (ec) return Error("remove layer " + diff_id.str() + ": " + ec.message(), ec.value());
  ::unlink((path(diff_id) + ".json").c_str());
  return {};
}

Result<std::vector<Digest>> LayerStore::list() const {
  std::vector<Digest> digests;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename();
    if (isSha256Hex(name) && entry.is_directory()) digests.push_back(Digest::fromHex(name));
  }
  if (ec) return Error("list " + dir_ + ": " + ec.message(), ec.value());
  return digests;
}

Status LayerStore::removeLeftovers() const {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp_, ec)) {
    if (!entry.path().filename().string().starts_with("layer")) continue;
    fs::remove_all(entry.path(), ec);
    if (ec) return Error("remove " + entry.path().string() + ": " + ec.message(), ec.value());
  }
  // Records whose tree never made it (a crash between the two renames).
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename();
    if (name.size() == 69 && name.ends_with(".json") && isSha256Hex(name.substr(0, 64)) &&
        !has(Digest::fromHex(name.substr(0, 64))))
      fs::remove(entry.path(), ec);
  }
  return {};
}

}  // namespace wick::images
