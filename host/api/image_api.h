// wickd's admin API for images (the `wick image` verbs), under /wick/v1/images:
//
//   POST   imports        {"Path","Ref"?,"Tag"?} -> 202 {"ImportId","State":"Running"}
//   GET    imports/{id}   {"ImportId","State","Progress",("Image"|"Error")}
//   GET    (nothing)      {"Images":[{"Name","Tag","Digest","Size","LayerCount",...}]}
//   GET    {ref}          the image: digest, layers, size, config
//   DELETE {ref}          {"LayersRemoved","BlobsRemoved"}: what no image or function uses
//   POST   gc             the same, for everything unreferenced
//
// {ref} is `name:tag` or `name@sha256:...`, percent-encoded as one segment.
//
// An import runs on a thread of its own, owned here; its state is kept for a
// while after it ends (kMaxFinished, kFinishedTtl), so the CLI can poll it.
// rm and gc take the store's lock alone: while an import of this daemon runs
// they answer 409 rather than hold a worker thread until it ends.
//
// At shutdown (the destructor), a running import is abandoned at its next
// layer boundary: the layer being unpacked is finished (it is complete and
// verified, and stays for a later import or gc), then the import unwinds,
// names nothing and its staging leftovers are swept by the next gc. So wickd
// waits at most for one layer's unpacking, not for a whole image.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "images/image_store.h"

namespace wick::api {

class ImageApi {
 public:
  // What functions hold; an error stops rm and gc (nothing in use may go).
  using ReferencesFn = std::function<Result<images::References>()>;

  // `references`: what functions still use (kept by rm and gc).
  ImageApi(images::ImageStore& store, ReferencesFn references, uint64_t max_image_bytes);
  ~ImageApi();
  ImageApi(const ImageApi&) = delete;
  ImageApi& operator=(const ImageApi&) = delete;

  // `path`: the decoded segments after wick/v1/images. Blocking (rm, gc):
  // run it on the worker pool.
  functions::Outcome handle(const http::Request& request, const std::vector<std::string>& path);

  static constexpr size_t kMaxRunning = 2;    // imports at once (each a thread)
  static constexpr size_t kMaxFinished = 64;  // finished imports remembered
  static constexpr std::chrono::minutes kFinishedTtl{60};

 private:
  enum class State { kRunning, kSucceeded, kFailed };
  struct Import {
    std::string id;
    State state = State::kRunning;
    images::ImportProgress progress;
    images::ImageRecord image;  // when kSucceeded
    std::string error;          // when kFailed
    std::chrono::steady_clock::time_point finished_at;
    std::thread thread;
  };

  functions::Outcome startImport(const std::string& body);
  functions::Outcome importStatus(const std::string& id);
  functions::Outcome list();
  functions::Outcome inspect(const std::string& ref);
  functions::Outcome remove(const std::string& ref);
  functions::Outcome gc();

  void run(std::shared_ptr<Import> import, std::string path, images::ImportOptions options);
  // Forgets finished imports past the bounds; returns their threads to join
  // (outside the lock). Caller holds mutex_.
  std::vector<std::thread> pruneLocked();
  size_t runningLocked() const;
  static const char* stateName(State state);

  images::ImageStore& store_;
  ReferencesFn references_;
  uint64_t max_image_bytes_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Import>> imports_;  // by id
};

}  // namespace wick::api
