#include "images/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <map>

#include "common/unique_fd.h"
#include "images/image_source.h"
#include "images/importer.h"

namespace wick::images {

namespace fs = std::filesystem;

namespace {

// flock on <root>/lock for as long as it lives.
class StoreLock {
 public:
  static Result<StoreLock> take(const std::string& root, bool exclusive) {
    const std::string path = root + "/lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return Error::fromErrno("open " + path);
    while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0)
      if (errno != EINTR) return Error::fromErrno("lock " + path);
    return StoreLock(std::move(fd));
  }

 private:
  explicit StoreLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

std::string nowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// A name the image carries that is a whole reference, not a bare tag.
std::optional<ImageRef> ownName(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (name.find_first_of(":/") == std::string::npos) continue;
    if (auto ref = parseRef(name); ref && !ref->digest) return *ref;
  }
  return std::nullopt;
}

}  // namespace

ImageStore::ImageStore(std::string root)
    : root_(std::move(root)), blobs_(root_), layers_(root_), index_(root_) {}

Result<ImageStore> ImageStore::open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Error("create " + root + ": " + ec.message(), ec.value());
  ImageStore store(fs::absolute(root).lexically_normal().string());
  WICK_TRY(store.blobs_.init(), "open image store " + root);
  WICK_TRY(store.layers_.init(), "open image store " + root);
  WICK_TRY(store.index_.init(), "open image store " + root);
  return store;
}

Result<ImageRecord> ImageStore::import(const std::string& path, const ImportOptions& options) {
  const std::string what = "import " + path;
  std::optional<ImageRef> want;
  if (!options.ref.empty()) {
    auto ref = parseRef(options.ref);
    if (!ref) return std::move(ref).error().context(what);
    want = *ref;
  }
  std::optional<ImageRef> name;
  if (!options.tag.empty()) {
    auto tag = parseRef(options.tag);
    if (!tag) return std::move(tag).error().context(what);
    if (tag->digest) return Error(what + ": a tag names no digest", EINVAL);
    name = *tag;
  }

  auto lock = StoreLock::take(root_, /*exclusive=*/false);
  if (!lock) return std::move(lock).error().context(what);
  auto source = ImageSource::open(path);
  if (!source) return std::move(source).error().context("import");
  auto plan = planImport(**source, want, options.platform);
  if (!plan) return std::move(plan).error().context(what);
  if (!name && want) {
    // The image's own spelling of the ref it was chosen by ("b" -> "b:latest").
    for (const auto& candidate : plan->names)
      if (refMatches(candidate, *want) && (name = ownName({candidate}))) break;
    if (!name) name = want;
  }
  if (!name) name = ownName(plan->names);
  if (!name)
    return Error(what + ": the image carries no name (" + std::to_string(plan->names.size()) +
                     " bare tags): give it one with a tag",
                 EINVAL);

  // Which layers to read; the budget starts with those already here.
  ImportProgress progress;
  progress.layers_total = plan->layers.size();
  uint64_t unpacked = 0;
  std::map<std::string, const PlannedLayer*> to_read;  // member -> layer
  std::map<Digest, LayerInfo> done;
  for (const auto& layer : plan->layers) {
    if (layers_.has(layer.diff_id)) {
      auto bytes = layers_.unpackedBytes(layer.diff_id);
      LayerInfo info{layer.diff_id, layer.blob_digest.value_or(layer.diff_id),
                     layer.blob_size.value_or(0), bytes ? *bytes : 0, true};
      if (done.emplace(layer.diff_id, info).second) unpacked += info.unpacked_bytes;
      ++progress.layers_done;
    } else if (to_read.emplace(layer.member, &layer).second) {
      progress.bytes_total += layer.blob_size.value_or((*source)->size(layer.member).value_or(0));
    }
  }
  if (unpacked > options.max_image_bytes)
    return Error(what + ": layers exceed the image limit of " +
                     std::to_string(options.max_image_bytes) + " bytes",
                 EFBIG);
  auto report = [&] {
    if (options.progress) options.progress(progress);
  };
  report();

  std::vector<std::string> members;
  for (const auto& [member, layer] : to_read)
    members.push_back(member);
  auto read =
      (*source)->forEach(members, [&](const std::string& member, ByteSource& bytes) -> Status {
        const PlannedLayer& layer = *to_read.at(member);
        LayerUnpackOptions unpack;
        unpack.max_unpacked_bytes = options.max_image_bytes - unpacked;
        const uint64_t base = progress.bytes_done;
        uint64_t last_report = base;
        unpack.on_bytes = [&](uint64_t n) {
          progress.bytes_done = base + n;
          if (progress.bytes_done - last_report >= (4u << 20)) {
            last_report = progress.bytes_done;
            report();
          }
        };
        auto info =
            layers_.unpack(bytes, {layer.diff_id, layer.blob_digest, layer.blob_size}, unpack);
        if (!info) return std::move(info).error();
        unpacked += info->unpacked_bytes;
        done.emplace(layer.diff_id, *info);
        ++progress.layers_done;
        report();
        return Status();
      });
  if (!read) return std::move(read).error().context(what);

  ImageRecord record;
  record.name = name->name;
  record.tag = name->tag;
  record.digest = plan->manifest_digest;
  record.config_digest = plan->config_digest;
  record.platform = plan->image_config.platform;
  record.source = plan->format;
  record.imported_at = nowRfc3339();
  record.config = plan->image_config.container;
  for (const auto& layer : plan->layers) {
    auto it = done.find(layer.diff_id);
    if (it == done.end() || !layers_.has(layer.diff_id))
      return Error(what + ": layer " + layer.diff_id.str() + " was not unpacked", EIO);
    const LayerInfo& info = it->second;
    record.layers.push_back({layer.diff_id, layer.blob_digest.value_or(info.blob_digest),
                             layer.media_type, layer.blob_size.value_or(info.blob_size),
                             info.unpacked_bytes});
    record.size += info.unpacked_bytes;
  }
  // Documents last, then the name: the record is the commit point.
  auto config = blobs_.putBytes(plan->config, plan->config_digest);
  if (!config) return std::move(config).error().context(what);
  auto manifest = blobs_.putBytes(plan->manifest, plan->manifest_digest);
  if (!manifest) return std::move(manifest).error().context(what);
  WICK_TRY(index_.put(record), what);
  return record;
}

Result<std::vector<ImageRecord>> ImageStore::list() const {
  return index_.list();
}

Result<ImageRecord> ImageStore::inspect(std::string_view text) const {
  auto ref = parseRef(text);
  if (!ref) return std::move(ref).error();
  auto record = index_.get(*ref);
  if (!record) return std::move(record).error().context("inspect " + ref->str());
  if (!*record) return Error("no image " + ref->str(), ENOENT);
  return std::move(**record);
}

Result<std::vector<std::string>> ImageStore::layerPaths(const ImageRecord& image) const {
  std::vector<std::string> paths;
  for (const auto& layer : image.layers) {
    if (!layers_.has(layer.diff_id))
      return Error("image " + image.ref() + ": layer " + layer.diff_id.str() + " is missing",
                   ENOENT);
    paths.push_back(layers_.path(layer.diff_id));
  }
  return paths;
}

Result<std::vector<Digest>> ImageStore::diffIdsOf(const Digest& manifest_digest) const {
  auto bytes = blobs_.read(manifest_digest, kMaxJsonBytes);
  if (!bytes) return std::move(bytes).error();
  auto manifest = parseManifest(*bytes);
  if (!manifest) return std::move(manifest).error().context("manifest " + manifest_digest.str());
  auto config_bytes = blobs_.read(manifest->config.digest, kMaxJsonBytes);
  if (!config_bytes) return std::move(config_bytes).error();
  auto config = parseConfig(*config_bytes);
  if (!config) return std::move(config).error().context("config " + manifest->config.digest.str());
  return config->diff_ids;
}

// (layers, blobs) in use by the names and by `keep`.
Result<std::pair<std::set<Digest>, std::set<Digest>>> ImageStore::referenced(
    const References& keep) const {
  std::set<Digest> layers = keep.layers;
  std::set<Digest> blobs = keep.blobs;
  auto records = index_.list();
  if (!records) return std::move(records).error();
  for (const auto& record : *records) {
    blobs.insert(record.digest);
    blobs.insert(record.config_digest);
    for (const auto& layer : record.layers)
      layers.insert(layer.diff_id);
  }
  for (const auto& image : keep.images) {
    blobs.insert(image);
    auto bytes = blobs_.read(image, kMaxJsonBytes);
    if (!bytes) return std::move(bytes).error().context("kept image");
    auto manifest = parseManifest(*bytes);
    if (!manifest) return std::move(manifest).error().context("kept image " + image.str());
    blobs.insert(manifest->config.digest);
    auto diff_ids = diffIdsOf(image);
    if (!diff_ids) return std::move(diff_ids).error().context("kept image");
    layers.insert(diff_ids->begin(), diff_ids->end());
  }
  return std::make_pair(std::move(layers), std::move(blobs));
}

Result<GcReport> ImageStore::remove(std::string_view text, const References& keep) {
  auto lock = StoreLock::take(root_, /*exclusive=*/true);
  if (!lock) return std::move(lock).error();
  auto record = inspect(text);
  if (!record) return std::move(record).error().context("remove");
  WICK_TRY(index_.remove(ImageRef{record->name, record->tag, std::nullopt}), "remove");
  auto in_use = referenced(keep);
  if (!in_use) return std::move(in_use).error().context("remove " + record->ref());
  GcReport report;
  for (const auto& layer : record->layers) {
    if (in_use->first.contains(layer.diff_id) || !layers_.has(layer.diff_id)) continue;
    WICK_TRY(layers_.remove(layer.diff_id), "remove " + record->ref());
    report.layers_removed.push_back(layer.diff_id);
  }
  for (const auto& blob : {record->digest, record->config_digest}) {
    if (in_use->second.contains(blob) || !blobs_.has(blob)) continue;
    WICK_TRY(blobs_.remove(blob), "remove " + record->ref());
    report.blobs_removed.push_back(blob);
  }
  return report;
}

Result<GcReport> ImageStore::gc(const References& keep) {
  auto lock = StoreLock::take(root_, /*exclusive=*/true);
  if (!lock) return std::move(lock).error();
  auto in_use = referenced(keep);
  if (!in_use) return std::move(in_use).error().context("gc");
  // Nothing is importing (the lock): every staging file is a leftover.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "/tmp", ec))
    fs::remove_all(entry, ec);
  WICK_TRY(layers_.removeLeftovers(), "gc");
  GcReport report;
  auto layers = layers_.list();
  if (!layers) return std::move(layers).error().context("gc");
  for (const auto& layer : *layers) {
    if (in_use->first.contains(layer)) continue;
    WICK_TRY(layers_.remove(layer), "gc");
    report.layers_removed.push_back(layer);
  }
  auto blobs = blobs_.list();
  if (!blobs) return std::move(blobs).error().context("gc");
  for (const auto& blob : *blobs) {
    if (in_use->second.contains(blob)) continue;
    WICK_TRY(blobs_.remove(blob), "gc");
    report.blobs_removed.push_back(blob);
  }
  return report;
}

}  // namespace wick::images
