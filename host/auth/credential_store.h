// The principals that may call wickd's API: an access key id and its secret
// each, kept in a file in the AWS shared credentials format, so that
//   AWS_SHARED_CREDENTIALS_FILE=/var/lib/wick/credentials aws --profile wick ...
// and boto3 sign with it as they are. A profile is a principal:
//
//   [wick]
//   aws_access_key_id = AKIA...
//   aws_secret_access_key = ...
//   wick_admin = true
//
// `wick_admin` (ignored by AWS clients) marks a principal that may call every
// route; the others may only invoke. The file holds secrets, so it is read only
// when root owns it and nobody else can read or write it (as ssh refuses a
// private key others can read).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wick::auth {

struct Principal {
  std::string name;  // the profile: "wick"
  std::string access_key_id;
  std::string secret_access_key;
  // Set for temporary keys (a role's): the request must carry it as
  // X-Amz-Security-Token.
  std::string session_token;
  bool admin = false;
};

class CredentialStore {
 public:
  CredentialStore() = default;
  explicit CredentialStore(std::vector<Principal> principals);

  // Parses the INI text; `origin` names it in errors ("/var/lib/wick/credentials").
  static Result<CredentialStore> parse(std::string_view text, std::string_view origin);
  // Reads `path` if it is a regular file owned by `owner` (root in wickd) with
  // no group or other permission bits, else refuses and says why.
  static Result<CredentialStore> load(const std::string& path, uid_t owner = 0);
  // Creates `path` (0600, exclusive; the directory must exist) with one admin
  // principal of random keys, named `profile`.
  static Result<Principal> createWithAdmin(const std::string& path, const std::string& profile);

  std::optional<Principal> find(std::string_view access_key_id) const;
  // A principal added after loading (a role's keys that functions sign with).
  void add(Principal principal);
  size_t size() const { return principals_.size(); }
  const std::vector<Principal>& principals() const { return principals_; }

 private:
  std::vector<Principal> principals_;
  std::map<std::string, size_t, std::less<>> by_key_id_;
};

// Keys shaped as AWS's: "AKIA" and 16 of [A-Z2-7]; a secret of 40 of [A-Za-z0-9+/].
// Random from getrandom.
Principal newRandomPrincipal(std::string name, bool admin);

// The profile as a credentials-file section.
std::string toIniSection(const Principal& principal);

}  // namespace wick::auth
