#include "host/urls/url_auth.h"

#include <openssl/crypto.h>

#include "host/auth/sigv4.h"

namespace wick::urls {

std::variant<Caller, std::string> verifySignature(const http::Request& request,
                                                  const SecretLookup& lookup,
                                                  std::string_view region, int64_t now) {
  const std::string header = request.header("Authorization");
  if (header.empty()) return std::string("no Authorization header");
  auto authorization = auth::parseAuthorization(header);
  if (!authorization) return authorization.error().message();
  if (authorization->service != "lambda")
    return "signed for service '" + authorization->service + "', not 'lambda'";
  if (authorization->region != region)
    return "signed for region '" + authorization->region + "', not '" + std::string(region) + "'";
  const std::string amz_date = request.header("X-Amz-Date");
  const int64_t signed_at = auth::parseAmzDate(amz_date);
  if (signed_at < 0) return std::string("no valid X-Amz-Date");
  if (amz_date.substr(0, 8) != authorization->date)
    return std::string("the credential scope's date is not X-Amz-Date's");
  if (signed_at < now - 900 || signed_at > now + 900)
    return "signed at " + amz_date + ", more than 15 minutes from now";
  bool date_signed = false, host_signed = false;
  for (const std::string& name : authorization->signed_headers) {
    date_signed = date_signed || name == "x-amz-date";
    host_signed = host_signed || name == "host";
  }
  if (!date_signed || !host_signed) return std::string("host and x-amz-date must be signed");
  if (!lookup) return std::string("no credentials are configured");
  auto secret = lookup(authorization->access_key_id);
  if (!secret) return "unknown access key id " + authorization->access_key_id;
  if (!secret->session_token.empty() &&
      request.header("X-Amz-Security-Token") != secret->session_token)
    return "access key " + authorization->access_key_id + " needs its session token";

  auth::SignedRequest signed_request;
  signed_request.method = std::string(http::beast_http::to_string(request.method));
  signed_request.path = request.path;
  signed_request.query = request.raw_query;
  for (const auto& field : request.headers)
    signed_request.headers.emplace_back(std::string(field.name_string()),
                                        std::string(field.value()));
  const std::string body_hash = auth::sha256Hex(request.body);
  const std::string claimed = request.header("X-Amz-Content-Sha256");
  if (!claimed.empty() && claimed != "UNSIGNED-PAYLOAD" && claimed != body_hash)
    return std::string("X-Amz-Content-Sha256 is not the body's");
  signed_request.payload_sha256 = claimed.empty() ? body_hash : claimed;
  const std::string expected =
      auth::signature(signed_request, *authorization, secret->secret_access_key, amz_date);
  if (expected.size() != authorization->signature.size() ||
      CRYPTO_memcmp(expected.data(), authorization->signature.data(), expected.size()) != 0)
    return "the signature of " + authorization->access_key_id + " does not match";
  return Caller{authorization->access_key_id, secret->name};
}

}  // namespace wick::urls
