// The download URLs wickd hands out (GetFunction's Code.Location,
// GetLayerVersion's Content.Location), signed as S3's presigned URLs are: a
// client may fetch the zip without signing its GET, but only through a URL
// wickd made, for 10 minutes (Lambda's presigned Code.Location lasts 10). The
// key is random per daemon start and never leaves memory, so a URL from a
// previous run, or one guessed from a zip's SHA-256, is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wick::auth {

class UrlSigner {
 public:
  static constexpr int64_t kValidSeconds = 600;

  UrlSigner();  // a fresh random key (getrandom)

  // `url` ("http://127.0.0.1:3001/wick/code/<sha>.zip") with
  // "?X-Wick-Expires=<unix>&X-Wick-Signature=<hex>" over its path and expiry.
  std::string presign(std::string_view url, int64_t now) const;
  // Whether `path` with those two query values is a URL presign made and
  // that has not expired.
  bool verify(std::string_view path, std::string_view expires, std::string_view signature,
              int64_t now) const;

 private:
  std::string mac(std::string_view path, std::string_view expires) const;
  std::string key_;
};

}  // namespace wick::auth
