// scripts/bench-images' driver: imports one image into a store and prints
// the wall time, as `wick image import` will once the daemon exists.
#include <chrono>
#include <cstdio>

#include "images/image_store.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s STORE IMAGE [TAG]\n", argv[0]);
    return 2;
  }
  auto store = wick::images::ImageStore::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message().c_str());
    return 1;
  }
  wick::images::ImportOptions options;
  if (argc > 3) options.tag = argv[3];
  const auto start = std::chrono::steady_clock::now();
  auto record = store->import(argv[2], options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!record) {
    std::fprintf(stderr, "%s\n", record.error().message().c_str());
    return 1;
  }
  std::printf("%s %.2f s, %zu layers, %llu bytes unpacked\n", record->ref().c_str(), seconds,
              record->layers.size(), static_cast<unsigned long long>(record->size));
  return 0;
}
