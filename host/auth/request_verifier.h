// Whether a request on wickd's API (or an AWS_IAM function URL) was signed
// (SigV4) by a principal it knows, as AWS checks it: the algorithm and the
// signature's parts, from the Authorization header or from a presigned
// request's query (never both), X-Amz-Date within 5 minutes of now (a
// presigned request: until X-Amz-Expires, a week at most, has passed, and not
// dated later than 5 minutes ahead), the credential scope (its date, the
// daemon's region, the route's service), the key, a session token where the
// key has one, the body's SHA-256 (which the server computes itself, as every
// service but S3 does: streaming chunk signatures are S3's and are refused,
// UNSIGNED-PAYLOAD is accepted in presigned requests only), then the
// signature, compared in constant time; a presigned request's canonical query
// is its query without X-Amz-Signature. Each refusal carries the exception and
// message AWS answers with, and a reason for wickd's log (never a secret).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "host/auth/credential_store.h"
#include "host/http/server.h"

namespace wick::auth {

struct Refusal {
  int status;           // 403, or 400 for a malformed signature
  std::string type;     // the exception: InvalidSignatureException
  std::string message;  // AWS's words
  std::string reason;   // for the log
  std::string key_id;   // the access key id the request named, if any
};

struct VerifierSettings {
  std::string region;                 // the credential scope's region must be this
  int64_t max_skew_seconds = 5 * 60;  // AWS's: X-Amz-Date within 5 minutes of now
};

class RequestVerifier {
 public:
  // Finds the principal of an access key id (the credential store, role keys).
  using Lookup = std::function<std::optional<Principal>(std::string_view access_key_id)>;

  RequestVerifier(Lookup lookup, VerifierSettings settings)
      : lookup_(std::move(lookup)), settings_(std::move(settings)) {}

  // The whole check, on a request whose body has been read, for `service`
  // ("lambda", "logs", "scheduler") at `now` (Unix seconds).
  std::variant<Principal, Refusal> verify(const http::Request& request, std::string_view service,
                                          int64_t now) const;
  // What can be checked before the body arrives (all but the signature), so
  // that an unsigned upload is refused before it is read.
  std::optional<Refusal> verifyHead(const http::Request& head, std::string_view service,
                                    int64_t now) const;

 private:
  struct Checked;
  std::variant<Checked, Refusal> checkHead(const http::Request& request, std::string_view service,
                                           int64_t now) const;
  // What the request presents: the Authorization header's form, or the
  // presigned (query-string) form's.
  static std::variant<Checked, Refusal> fromHeader(const http::Request& request,
                                                   const std::string& header);
  static std::variant<Checked, Refusal> fromQuery(const http::Request& request);

  Lookup lookup_;
  VerifierSettings settings_;
};

}  // namespace wick::auth
