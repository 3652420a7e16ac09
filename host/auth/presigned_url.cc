#include "host/auth/presigned_url.h"

#include <openssl/crypto.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

#include "common/encoding.h"

namespace wick::auth {

UrlSigner::UrlSigner() : key_(32, '\0') {
  size_t got = 0;
  while (got < key_.size()) {
    const ssize_t n = ::getrandom(key_.data() + got, key_.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) std::abort();  // no randomness: no URL may be signed
    got += static_cast<size_t>(n);
  }
}

std::string UrlSigner::mac(std::string_view path, std::string_view expires) const {
  std::string message(path);
  message += '\n';
  message += expires;
  return toHex(hmacSha256(key_, message));
}

std::string UrlSigner::presign(std::string_view url, int64_t now) const {
  // The path starts at the first '/' after "scheme://authority".
  const size_t scheme = url.find("://");
  const size_t path_start = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view("/") : url.substr(path_start);
  const std::string expires = std::to_string(now + kValidSeconds);
  return std::string(url) + "?X-Wick-Expires=" + expires +
         "&X-Wick-Signature=" + mac(path, expires);
}

bool UrlSigner::verify(std::string_view path, std::string_view expires, std::string_view signature,
                       int64_t now) const {
  if (expires.empty() || expires.size() > 20 ||
      expires.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  if (std::strtoll(std::string(expires).c_str(), nullptr, 10) < now) return false;
  const std::string expected = mac(path, expires);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace wick::auth
