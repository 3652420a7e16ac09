#include "images/image_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/staged_path.h"
#include "common/unique_fd.h"

namespace wick::images {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json optionalList(const std::optional<std::vector<std::string>>& list) {
  return list ? json(*list) : json(nullptr);
}

std::optional<std::vector<std::string>> listFrom(const json& value) {
  if (!value.is_array()) return std::nullopt;
  return value.get<std::vector<std::string>>();
}

std::string escapeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/')
      out += "%2F";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string toJson(const ImageRecord& r, int indent) {
  json layers = json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"diff_id", l.diff_id.str()},
                      {"digest", l.blob_digest.str()},
                      {"media_type", l.media_type},
                      {"size", l.blob_size},
                      {"unpacked_size", l.unpacked_bytes}});
  json doc = {{"name", r.name},
              {"tag", r.tag},
              {"digest", r.digest.str()},
              {"config_digest", r.config_digest.str()},
              {"os", r.platform.os},
              {"architecture", r.platform.architecture},
              {"source", r.source},
              {"imported_at", r.imported_at},
              {"size", r.size},
              {"layers", layers},
              {"config",
               {{"Entrypoint", optionalList(r.config.entrypoint)},
                {"Cmd", optionalList(r.config.cmd)},
                {"Env", r.config.env},
                {"WorkingDir", r.config.working_dir},
                {"User", r.config.user}}}};
  return doc.dump(indent);
}

Result<ImageRecord> imageRecordFromJson(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error("image record: not JSON", EINVAL);
  try {
    ImageRecord r;
    r.name = doc.at("name").get<std::string>();
    r.tag = doc.at("tag").get<std::string>();
    auto digest = Digest::parse(doc.at("digest").get<std::string>());
    auto config_digest = Digest::parse(doc.at("config_digest").get<std::string>());
    if (!digest || !config_digest) return Error("image record: bad digest", EINVAL);
    r.digest = *digest;
    r.config_digest = *config_digest;
    r.platform.os = doc.value("os", "");
    r.platform.architecture = doc.value("architecture", "");
    r.source = doc.value("source", "");
    r.imported_at = doc.value("imported_at", "");
    r.size = doc.value("size", uint64_t{0});
    for (const auto& l : doc.at("layers")) {
      auto diff_id = Digest::parse(l.at("diff_id").get<std::string>());
      auto blob = Digest::parse(l.at("digest").get<std::string>());
      if (!diff_id || !blob) return Error("image record: bad layer digest", EINVAL);
      r.layers.push_back({*diff_id, *blob, l.value("media_type", ""), l.value("size", uint64_t{0}),
                          l.value("unpacked_size", uint64_t{0})});
    }
    const json& config = doc.at("config");
    r.config.entrypoint = listFrom(config.value("Entrypoint", json()));
    r.config.cmd = listFrom(config.value("Cmd", json()));
    r.config.env = listFrom(config.value("Env", json())).value_or(std::vector<std::string>{});
    r.config.working_dir = config.value("WorkingDir", "");
    r.config.user = config.value("User", "");
    return r;
  } catch (const json::exception& e) {
    return Error(std::string("image record: ") + e.what(), EINVAL);
  }
}

ImageIndex::ImageIndex(std::string root) : dir_(root + "/images"), tmp_(root + "/tmp") {}

Status ImageIndex::init() const {
  std::error_code ec;
  for (const auto& dir : {dir_, tmp_}) {
    fs::create_directories(dir, ec);
    if (ec) return Error("create " + dir + ": " + ec.message(), ec.value());
  }
  return {};
}

std::string ImageIndex::recordPath(const std::string& name, const std::string& tag) const {
  return dir_ + "/" + escapeName(name) + "/" + tag + ".json";
}

Status ImageIndex::put(const ImageRecord& record) const {
  const std::string path = recordPath(record.name, record.tag);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Error("create " + fs::path(path).parent_path().string() + ": " + ec.message());
  StagedPath staged = StagedPath::in(tmp_, "record", path);
  auto written = staged.writeFile(toJson(record, 2) + "\n");
  if (written) written = staged.commit();
  if (!written) return std::move(written).error().context("record image " + record.ref());
  return {};
}

Result<std::optional<ImageRecord>> ImageIndex::get(const ImageRef& ref) const {
  if (ref.digest) {
    auto all = list();
    if (!all) return std::move(all).error();
    for (auto& record : *all)
      if (record.name == ref.name && record.digest == *ref.digest)
        return std::optional<ImageRecord>(std::move(record));
    return std::optional<ImageRecord>();
  }
  auto text = readFile(recordPath(ref.name, ref.tag));
  if (!text) {
    if (text.error().errNo() == ENOENT) return std::optional<ImageRecord>();
    return std::move(text).error();
  }
  auto record = imageRecordFromJson(*text);
  if (!record) return std::move(record).error().context(recordPath(ref.name, ref.tag));
  return std::optional<ImageRecord>(std::move(*record));
}

Result<std::vector<ImageRecord>> ImageIndex::list() const {
  std::vector<ImageRecord> records;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    auto text = readFile(entry.path());
    if (!text) return std::move(text).error();
    auto record = imageRecordFromJson(*text);
    if (!record) return std::move(record).error().context(entry.path().string());
    records.push_back(std::move(*record));
  }
  if (ec) return Error("list " + dir_ + ": " + ec.message(), ec.value());
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.ref() < b.ref(); });
  return records;
}

Status ImageIndex::remove(const ImageRef& ref) const {
  const std::string path = recordPath(ref.name, ref.tag);
  if (::unlink(path.c_str()) != 0) return Error::fromErrno("remove image " + ref.str());
  ::rmdir(fs::path(path).parent_path().c_str());  // the name's last tag: tidy up
  return {};
}

}  // namespace wick::images
