// AuthType AWS_IAM: the request must carry a SigV4 signature (service
// "lambda", wickd's region) by a principal whose secret the credential store
// knows. Presigned URLs (the signature in the query) are not accepted.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "host/http/server.h"

namespace wick::urls {

struct CallerSecret {
  std::string name;  // the principal (a credentials-file profile)
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
};
// The secret of an access key id; nullopt when unknown (or nothing is configured).
using SecretLookup = std::function<std::optional<CallerSecret>(std::string_view access_key_id)>;

struct Caller {
  std::string access_key_id;
  std::string name;
};

// The verified caller, or why the signature was refused (for the log; the
// client gets Lambda's 403). `now` in Unix seconds; 15 minutes of skew allowed.
std::variant<Caller, std::string> verifySignature(const http::Request& request,
                                                  const SecretLookup& lookup,
                                                  std::string_view region, int64_t now);

}  // namespace wick::urls
