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

  // Stage 1: the blob, decompressed by libarchive's filters ("raw" format: no
  // archive structure, just the byte stream).
  BlobReader blob_reader{blob, expect, options};
  std::unique_ptr<archive, ArchiveFree> decompress(archive_read_new());
  archive_read_support_filter_gzip(decompress.get());
  archive_read_support_filter_zstd(decompress.get());
  archive_read_support_filter_none(decompress.get());
  archive_read_support_format_raw(decompress.get());
  archive_entry* raw_entry = nullptr;
  if (archive_read_open(decompress.get(), &blob_reader, nullptr, readBlob, nullptr) != ARCHIVE_OK ||
      archive_read_next_header(decompress.get(), &raw_entry) != ARCHIVE_OK) {
    if (blob_reader.error) return std::move(*blob_reader.error).context(what);
    return Error(what + ": read blob: " + archive_error_string(decompress.get()), EINVAL);
  }

  // Stage 2: the uncompressed tar, hashed (diff_id) and bounded as it goes.
  Sha256 diff_hash;
  std::vector<char> tar_buffer(1 << 20);
  const uint64_t stream_limit =
      options.max_unpacked_bytes + options.max_unpacked_bytes / 8 + (16u << 20);
  ChunkReader tar_chunks = [&]() -> Result<std::string_view> {
    la_ssize_t n = archive_read_data(decompress.get(), tar_buffer.data(), tar_buffer.size());
    if (n < 0) {
      if (blob_reader.error) return *blob_reader.error;
      return Error(std::string("decompress: ") + archive_error_string(decompress.get()), EINVAL);
    }
    diff_hash.update(tar_buffer.data(), static_cast<size_t>(n));
    // The extractor bounds file content (and names the entry); this bounds
    // the stream itself, headers and padding included, with some slack.
    if (diff_hash.bytes() > stream_limit)
      return Error("uncompressed layer exceeds the limit of " +
                       std::to_string(options.max_unpacked_bytes) + " bytes",
                   EFBIG);
    return std::string_view(tar_buffer.data(), static_cast<size_t>(n));
  };

  ExtractOptions extract;
  extract.max_unpacked_bytes = options.max_unpacked_bytes;
  extract.max_entries = options.max_entries;
  extract.allow_escaping_symlinks = true;  // only ever followed inside the sandbox's root
  extract.allow_hardlinks = true;          // within this layer, resolved beneath it
  extract.overlay_whiteouts = true;

  StagedPath tree = StagedPath::in(tmp_, "layer", path(expect.diff_id));
  auto stats = extractTarStream(tar_chunks, tree.path(), extract);
  if (!stats) return std::move(stats).error().context(what);

  // The tar's end-of-archive blocks and any padding count for the diff_id,
  // and trailing bytes of the blob for its digest.
  for (;;) {
    auto chunk = tar_chunks();
    if (!chunk) return std::move(chunk).error().context(what);
    if (chunk->empty()) break;
  }
  for (;;) {
    auto n = blob_reader.next();
    if (!n) return std::move(n).error().context(what);
    if (*n == 0) break;
  }

  LayerInfo info{expect.diff_id, blob_reader.hash.finish(), blob_reader.hash.bytes(), stats->bytes,
                 false};
  const Digest diff_id = diff_hash.finish();
  auto mismatch = [&](std::string message) -> Error {
    return Error(what + ": " + message, EINVAL);
  };
  if (expect.blob_size && info.blob_size != *expect.blob_size)
    return mismatch("blob is " + std::to_string(info.blob_size) + " bytes, its descriptor says " +
                    std::to_string(*expect.blob_size));
  if (expect.blob_digest && info.blob_digest != *expect.blob_digest)
    return mismatch("blob digest mismatch: descriptor says " + expect.blob_digest->str() +
                    ", content is " + info.blob_digest.str());
  if (diff_id != expect.diff_id)
    return mismatch("diff_id mismatch: config says " + expect.diff_id.str() +
                    ", uncompressed content is " + diff_id.str());

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
