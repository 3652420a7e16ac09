#include "host/api/image_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "common/ids.h"
#include "images/reference.h"

namespace wick::api {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Thrown by the progress callback to abandon an import at shutdown.
struct Abandoned {};

// Threads of finished imports (they have only to return), joined when it goes
// out of scope.
struct JoinAll {
  std::vector<std::thread> threads;
  ~JoinAll() {
    for (auto& thread : threads)
      thread.join();
  }
};

json optionalList(const std::optional<std::vector<std::string>>& list) {
  return list ? json(*list) : json(nullptr);
}

json imageJson(const images::ImageRecord& image) {
  json layers = json::array();
  for (const auto& layer : image.layers)
    layers.push_back({{"DiffId", layer.diff_id.str()},
                      {"Size", layer.unpacked_bytes},
                      {"BlobDigest", layer.blob_digest.str()},
                      {"BlobSize", layer.blob_size},
                      {"MediaType", layer.media_type}});
  const images::ContainerConfig& config = image.config;
  return {{"Name", image.name},
          {"Tag", image.tag},
          {"Digest", image.digest.str()},
          {"ConfigDigest", image.config_digest.str()},
          {"Platform", image.platform.str()},
          {"Source", image.source},
          {"ImportedAt", image.imported_at},
          {"Size", image.size},
          {"Layers", layers},
          {"Config",
           {{"Entrypoint", optionalList(config.entrypoint)},
            {"Cmd", optionalList(config.cmd)},
            {"Env", config.env},
            {"WorkingDir", config.working_dir},
            {"User", config.user}}}};
}

json gcJson(const images::GcReport& report) {
  json layers = json::array();
  json blobs = json::array();
  for (const auto& layer : report.layers_removed)
    layers.push_back(layer.str());
  for (const auto& blob : report.blobs_removed)
    blobs.push_back(blob.str());
  return {{"LayersRemoved", layers}, {"BlobsRemoved", blobs}};
}

// The library's errors, by errno, as the AWS error a client maps.
AwsError toAwsError(const Error& error) {
  if (error.errNo() == ENOENT) return resourceNotFound(error.message());
  if (error.errNo() == EINVAL) return invalidParameter(error.message());
  return serviceError(error.message());
}

Result<std::string> optionalString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error(std::string(key) + " must be a string", EINVAL);
  return it->get<std::string>();
}

}  // namespace

ImageApi::ImageApi(images::ImageStore& store, ReferencesFn references, uint64_t max_image_bytes)
    : store_(store), references_(std::move(references)), max_image_bytes_(max_image_bytes) {}

ImageApi::~ImageApi() {
  stopping_ = true;
  std::vector<std::thread> threads;
  size_t running = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, import] : imports_) {
      if (import->state == State::kRunning) ++running;
      if (import->thread.joinable()) threads.push_back(std::move(import->thread));
    }
  }
  if (running > 0)
    spdlog::warn("abandoning {} running image import(s) at their next layer boundary", running);
  for (auto& thread : threads)
    thread.join();
}

functions::Outcome ImageApi::handle(const http::Request& request,
                                    const std::vector<std::string>& path) {
  using http::beast_http::verb;
  const verb method = request.method;
  if (path.empty() && method == verb::get) return list();
  if (path.size() == 1 && path[0] == "imports" && method == verb::post)
    return startImport(request.body);
  if (path.size() == 2 && path[0] == "imports" && method == verb::get) return importStatus(path[1]);
  if (path.size() == 1 && path[0] == "gc" && method == verb::post) return gc();
  if (path.size() == 1 && method == verb::get) return inspect(path[0]);
  if (path.size() == 1 && method == verb::delete_) return remove(path[0]);
  return AwsError{404, "UnknownOperationException",
                  "Unknown operation: " + std::string(http::beast_http::to_string(method)) + " " +
                      request.path};
}

functions::Outcome ImageApi::startImport(const std::string& body) {
  const json request = json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object())
    return invalidRequestContent(
        "Could not parse request body into json: expected an object {\"Path\", \"Ref\"?, "
        "\"Tag\"?}");
  for (const auto& [key, value] : request.items())
    if (key != "Path" && key != "Ref" && key != "Tag")
      return invalidParameter("Unknown field " + key + ": an import takes Path, Ref and Tag");
  auto path = optionalString(request, "Path");
  auto ref = optionalString(request, "Ref");
  auto tag = optionalString(request, "Tag");
  for (const auto* field : {&path, &ref, &tag})
    if (!*field) return invalidParameter(field->error().message());
  if (path->empty()) return invalidParameter("Path is required: the image's path on wickd's host");
  if ((*path)[0] != '/' || path->size() >= PATH_MAX)
    return invalidParameter("Path '" + *path +
                            "' is not an absolute path (it is read on wickd's host)");
  if (!ref->empty())
    if (auto parsed = images::parseRef(*ref); !parsed)
      return invalidParameter("Ref '" + *ref + "': " + parsed.error().message());
  if (!tag->empty()) {
    auto parsed = images::parseRef(*tag);
    if (!parsed) return invalidParameter("Tag '" + *tag + "': " + parsed.error().message());
    if (parsed->digest)
      return invalidParameter("Tag '" + *tag + "' must be NAME:TAG, not a digest");
  }

  images::ImportOptions options;
  options.ref = *ref;
  options.tag = *tag;
  options.max_image_bytes = max_image_bytes_;
  auto import = std::make_shared<Import>();
  import->id = newUuid();
  JoinAll finished;  // declared before the lock: joined after it is released
  std::lock_guard lock(mutex_);
  finished.threads = pruneLocked();
  if (stopping_) return serviceError("wickd is stopping: no new import");
  if (runningLocked() >= kMaxRunning)
    return resourceConflict(std::to_string(kMaxRunning) +
                            " image imports are running already: retry when one is over");
  import->thread = std::thread(&ImageApi::run, this, import, *path, std::move(options));
  imports_.emplace(import->id, import);
  spdlog::info("image import {}: {}{}{}", import->id, *path, ref->empty() ? "" : " ref " + *ref,
               tag->empty() ? "" : " as " + *tag);
  return functions::Reply{202, json{{"ImportId", import->id}, {"State", "Running"}}};
}

void ImageApi::run(std::shared_ptr<Import> import, std::string path,
                   images::ImportOptions options) {
  // The store reports before the first layer, every few MiB while a layer is
  // read (inside libarchive's read callback: nothing may be thrown there), and
  // after each layer (from plain C++ frames, RAII all the way up). So an import
  // is abandoned only on a call that follows a change of layers_done, or on
  // the very first call.
  std::optional<size_t> layers_seen;
  options.progress = [&](const images::ImportProgress& progress) {
    {
      std::lock_guard lock(mutex_);
      import->progress = progress;
    }
    const bool layer_boundary = !layers_seen || *layers_seen != progress.layers_done;
    layers_seen = progress.layers_done;
    if (layer_boundary && stopping_) throw Abandoned{};
  };

  std::optional<images::ImageRecord> image;
  std::string error;
  try {
    auto imported = store_.import(path, options);
    if (imported)
      image = std::move(*imported);
    else
      error = imported.error().message();
  } catch (const Abandoned&) {
    error = "import " + path + ": abandoned, wickd stopped";
  } catch (const std::exception& e) {
    error = "import " + path + ": internal error: " + e.what();
  }

  if (image)
    spdlog::info("image import {}: {} {}", import->id, image->ref(), image->digest.str());
  else
    spdlog::warn("image import {} failed: {}", import->id, error);
  std::lock_guard lock(mutex_);
  import->finished_at = Clock::now();
  if (image) {
    import->image = std::move(*image);
    import->state = State::kSucceeded;
  } else {
    import->error = std::move(error);
    import->state = State::kFailed;
  }
}

functions::Outcome ImageApi::importStatus(const std::string& id) {
  JoinAll finished;  // declared before the lock: joined after it is released
  std::lock_guard lock(mutex_);
  finished.threads = pruneLocked();
  auto it = imports_.find(id);
  if (it == imports_.end())
    return resourceNotFound("No image import " + id +
                            " (finished imports are forgotten after a while)");
  const Import& import = *it->second;
  const images::ImportProgress& progress = import.progress;
  json reply = {{"ImportId", import.id},
                {"State", stateName(import.state)},
                {"Progress",
                 {{"BytesDone", progress.bytes_done},
                  {"BytesTotal", progress.bytes_total},
                  {"LayersDone", progress.layers_done},
                  {"LayersTotal", progress.layers_total}}}};
  if (import.state == State::kSucceeded) reply["Image"] = imageJson(import.image);
  if (import.state == State::kFailed) reply["Error"] = import.error;
  return functions::Reply{200, std::move(reply)};
}

functions::Outcome ImageApi::list() {
  auto images = store_.list();
  if (!images) return toAwsError(images.error());
  json list = json::array();
  for (const auto& image : *images)
    list.push_back({{"Name", image.name},
                    {"Tag", image.tag},
                    {"Digest", image.digest.str()},
                    {"Size", image.size},
                    {"LayerCount", image.layers.size()},
                    {"ImportedAt", image.imported_at}});
  return functions::Reply{200, json{{"Images", list}}};
}

functions::Outcome ImageApi::inspect(const std::string& ref) {
  auto image = store_.inspect(ref);
  if (!image) return toAwsError(image.error());
  return functions::Reply{200, imageJson(*image)};
}

functions::Outcome ImageApi::remove(const std::string& ref) {
  {
    std::lock_guard lock(mutex_);
    if (runningLocked() > 0)
      return resourceConflict("An image import is running: remove " + ref + " when it is over");
  }
  auto keep = references_();
  if (!keep) return toAwsError(keep.error());
  auto report = store_.remove(ref, *keep);
  if (!report) return toAwsError(report.error());
  spdlog::info("image rm {}: {} layers, {} blobs removed", ref, report->layers_removed.size(),
               report->blobs_removed.size());
  return functions::Reply{200, gcJson(*report)};
}

functions::Outcome ImageApi::gc() {
  {
    std::lock_guard lock(mutex_);
    if (runningLocked() > 0)
      return resourceConflict("An image import is running: collect garbage when it is over");
  }
  auto keep = references_();
  if (!keep) return toAwsError(keep.error());
  auto report = store_.gc(*keep);
  if (!report) return toAwsError(report.error());
  spdlog::info("image gc: {} layers, {} blobs removed", report->layers_removed.size(),
               report->blobs_removed.size());
  return functions::Reply{200, gcJson(*report)};
}

std::vector<std::thread> ImageApi::pruneLocked() {
  std::vector<std::thread> threads;
  std::vector<std::pair<Clock::time_point, std::string>> finished;
  const auto now = Clock::now();
  for (auto& [id, import] : imports_) {
    if (import->state == State::kRunning) continue;
    // Done: its thread has only to return.
    if (import->thread.joinable()) threads.push_back(std::move(import->thread));
    finished.emplace_back(import->finished_at, id);
  }
  std::sort(finished.begin(), finished.end());  // oldest first
  for (size_t i = 0; i < finished.size(); ++i)
    if (finished.size() - i > kMaxFinished || now - finished[i].first > kFinishedTtl)
      imports_.erase(finished[i].second);
  return threads;
}

const char* ImageApi::stateName(State state) {
  switch (state) {
    case State::kRunning:
      return "Running";
    case State::kSucceeded:
      return "Succeeded";
    case State::kFailed:
      return "Failed";
  }
  return "Failed";
}

size_t ImageApi::runningLocked() const {
  size_t running = 0;
  for (const auto& [id, import] : imports_)
    running += import->state == State::kRunning ? 1 : 0;
  return running;
}

}  // namespace wick::api
