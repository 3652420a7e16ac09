// `wick image import|ls|inspect|rm|gc`: the image store of wickd, through its
// admin API (/wick/v1/images, host/api/image_api.h).
//
//   wick image import PATH [--ref NAME] [--tag NAME:TAG]
//
// An import runs in wickd; the CLI polls it, drawing one progress line on
// stderr when stderr is a terminal (nothing otherwise), and prints
// `NAME:TAG sha256:<digest>` when it succeeded.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "host/cli/commands.h"
#include "host/cli/daemon_client.h"
#include "host/cli/table.h"

namespace wick::cli {

namespace {

using nlohmann::json;

constexpr const char* kImages = "/wick/v1/images";
// A small image is in within a few tens of ms: the first polls come sooner.
constexpr auto kFirstPoll = std::chrono::milliseconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(100);

int fail(const std::string& message) {
  std::fprintf(stderr, "wick: %s\n", message.c_str());
  return 1;
}

// Runs a verb, turning an unexpected answer (a missing or mistyped field)
// into a message rather than an uncaught exception.
template <typename Verb>
int guarded(Verb verb) {
  try {
    return verb();
  } catch (const json::exception& e) {
    return fail(std::string("unexpected answer from wickd: ") + e.what());
  }
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// "\r" + clear-line: the line is redrawn in place.
void drawProgress(const json& progress) {
  std::fprintf(stderr, "\r\033[Kimporting: layers %zu/%zu, %s/%s MiB",
               progress.at("LayersDone").get<size_t>(), progress.at("LayersTotal").get<size_t>(),
               mib(progress.at("BytesDone").get<uint64_t>()).c_str(),
               mib(progress.at("BytesTotal").get<uint64_t>()).c_str());
  std::fflush(stderr);
}

int runImport(const std::string& endpoint, const std::string& path, const std::string& ref,
              const std::string& tag) {
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  if (ec) return fail("import failed: " + path + ": " + ec.message());
  json request = {{"Path", absolute}};
  if (!ref.empty()) request["Ref"] = ref;
  if (!tag.empty()) request["Tag"] = tag;
  auto started = jsonReply(httpPost(endpoint, std::string(kImages) + "/imports", request.dump()));
  if (!started) return fail("import failed: " + started.error().message());
  const std::string id = started->at("ImportId").get<std::string>();

  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto wait = kFirstPoll;
  for (;;) {
    auto status = jsonReply(httpGet(endpoint, std::string(kImages) + "/imports/" + id));
    if (!status) {
      if (terminal) std::fprintf(stderr, "\n");
      return fail("import failed: " + status.error().message());
    }
    if (terminal) drawProgress(status->at("Progress"));
    const std::string state = status->at("State").get<std::string>();
    if (state != "Running") {
      if (terminal) std::fprintf(stderr, "\n");
      if (state != "Succeeded") return fail("import failed: " + status->value("Error", state));
      const json& image = status->at("Image");
      std::printf("%s:%s %s\n", image.at("Name").get<std::string>().c_str(),
                  image.at("Tag").get<std::string>().c_str(),
                  image.at("Digest").get<std::string>().c_str());
      return 0;
    }
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, kPollInterval);
  }
}

int runList(const std::string& endpoint) {
  auto listed = jsonReply(httpGet(endpoint, kImages));
  if (!listed) return fail(listed.error().message());
  std::vector<std::vector<std::string>> rows = {{"NAME", "TAG", "DIGEST", "SIZE", "LAYERS"}};
  for (const auto& image : listed->at("Images")) {
    std::string digest = image.at("Digest").get<std::string>();
    if (digest.starts_with("sha256:")) digest = digest.substr(7);
    rows.push_back({image.at("Name").get<std::string>(), image.at("Tag").get<std::string>(),
                    digest.substr(0, 12), formatSize(image.at("Size").get<uint64_t>()),
                    std::to_string(image.at("LayerCount").get<uint64_t>())});
  }
  printTable(rows);
  return 0;
}

int runInspect(const std::string& endpoint, const std::string& ref) {
  auto image = jsonReply(httpGet(endpoint, std::string(kImages) + "/" + encodeSegment(ref)));
  if (!image) return fail(image.error().message());
  std::printf("%s\n", image->dump(2).c_str());
  return 0;
}

// rm and gc answer the same shape: what was deleted.
void printRemoved(const json& report) {
  for (const auto& layer : report.at("LayersRemoved"))
    std::printf("deleted layer %s\n", layer.get<std::string>().c_str());
  for (const auto& blob : report.at("BlobsRemoved"))
    std::printf("deleted blob %s\n", blob.get<std::string>().c_str());
}

int runRemove(const std::string& endpoint, const std::string& ref) {
  auto report = jsonReply(httpDelete(endpoint, std::string(kImages) + "/" + encodeSegment(ref)));
  if (!report) return fail(report.error().message());
  std::printf("untagged %s\n", ref.c_str());
  printRemoved(*report);
  return 0;
}

int runGc(const std::string& endpoint) {
  auto report = jsonReply(httpPost(endpoint, std::string(kImages) + "/gc", "{}"));
  if (!report) return fail(report.error().message());
  printRemoved(*report);
  std::printf("gc: %zu layers, %zu blobs deleted\n", report->at("LayersRemoved").size(),
              report->at("BlobsRemoved").size());
  return 0;
}

CLI::App* addVerb(CLI::App& parent, const char* name, const char* description,
                  std::string& endpoint) {
  CLI::App* verb = parent.add_subcommand(name, description);
  verb->allow_extras(false);
  verb->add_option("--endpoint", endpoint, kEndpointHelp);
  return verb;
}

}  // namespace

std::function<int()> addImageCommand(CLI::App& app) {
  struct Args {
    std::string endpoint = defaultEndpoint();
    std::string path, ref, tag;
  };
  auto args = std::make_shared<Args>();
  CLI::App* image = app.add_subcommand("image", "Import, list, inspect and remove images");
  image->allow_extras(false);
  image->require_subcommand(1);
  CLI::App* import = addVerb(*image, "import",
                             "Import an OCI layout, oci-archive or "
                             "docker-archive (docker save) into wickd",
                             args->endpoint);
  import->add_option("path", args->path, "The image: a directory or a tarball")->required();
  import->add_option("--ref", args->ref, "Which image of several the path holds (NAME[:TAG])");
  import->add_option("--tag", args->tag, "The name wick gives it (NAME:TAG)");
  CLI::App* ls = addVerb(*image, "ls", "List the images", args->endpoint);
  CLI::App* inspect =
      addVerb(*image, "inspect", "Show an image: digest, layers, size, config", args->endpoint);
  inspect->add_option("ref", args->ref, "NAME:TAG or NAME@sha256:...")->required();
  CLI::App* rm = addVerb(*image, "rm", "Remove an image (its layers when nothing else uses them)",
                         args->endpoint);
  rm->add_option("ref", args->ref, "NAME:TAG or NAME@sha256:...")->required();
  CLI::App* gc = addVerb(*image, "gc", "Delete the layers and blobs nothing uses", args->endpoint);
  return [=] {
    return guarded([&] {
      if (import->parsed()) return runImport(args->endpoint, args->path, args->ref, args->tag);
      if (ls->parsed()) return runList(args->endpoint);
      if (inspect->parsed()) return runInspect(args->endpoint, args->ref);
      if (rm->parsed()) return runRemove(args->endpoint, args->ref);
      if (gc->parsed()) return runGc(args->endpoint);
      return 2;
    });
  };
}

}  // namespace wick::cli
