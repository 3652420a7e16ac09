// Content digests ("sha256:<64 hex>"): parsed and validated before any use as
// a file name (CVE-2024-3727: unchecked digests became path traversals), and
// computed as bytes stream by.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wick::images {

// A sha256 digest; the only algorithm wick stores by.
class Digest {
 public:
  Digest() = default;
  // "sha256:<64 lowercase hex>"; anything else (other algorithms included) is refused.
  static Result<Digest> parse(std::string_view text);
  static Digest fromHex(std::string hex) { return Digest(std::move(hex)); }  // hex already checked
  static Digest of(std::string_view bytes);

  const std::string& hex() const { return hex_; }
  std::string str() const { return "sha256:" + hex_; }
  bool empty() const { return hex_.empty(); }
  auto operator<=>(const Digest&) const = default;

 private:
  explicit Digest(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

bool isSha256Hex(std::string_view hex);

// Incremental sha256 with a byte count.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  Digest finish();
  uint64_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  uint64_t bytes_ = 0;
};

}  // namespace wick::images
