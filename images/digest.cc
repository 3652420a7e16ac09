#include "images/digest.h"

#include "common/encoding.h"

namespace wick::images {

bool isSha256Hex(std::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<Digest> Digest::parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!text.starts_with(kPrefix) || !isSha256Hex(text.substr(kPrefix.size())))
    return Error("invalid digest '" + std::string(text.substr(0, 80)) +
                     "': want sha256: and 64 lowercase hex digits",
                 EINVAL);
  return Digest(std::string(text.substr(kPrefix.size())));
}

Digest Digest::of(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.finish();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
}

void Sha256::update(const void* data, size_t size) {
  EVP_DigestUpdate(ctx_.get(), data, size);
  bytes_ += size;
}

Digest Sha256::finish() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_.get(), raw, &length);
  return Digest::fromHex(toHex(std::string_view(reinterpret_cast<const char*>(raw), length)));
}

}  // namespace wick::images
