// libFuzzer: what API authentication parses from untrusted requests (issue 15):
// the Authorization header, a presigned request's query (X-Amz-Algorithm,
// -Credential, -Date, -Expires, -SignedHeaders, -Signature), X-Amz-Date, the
// canonical request of any path and query (and, as its parser is the same
// kind, the credentials file's INI).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "host/auth/credential_store.h"
#include "host/auth/sigv4.h"

namespace {

void signOver(const std::string& text, const wick::auth::Authorization& authorization,
              std::string query, const std::string& payload) {
  const size_t cut = text.size() / 2;
  wick::auth::SignedRequest request{"POST",
                                    text.substr(0, cut),
                                    std::move(query),
                                    {{"Host", text}, {"X-Amz-Date", text}},
                                    payload};
  (void)wick::auth::signature(request, authorization, text, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = wick::auth::parseAuthorization(text)) {
    if (parsed->signature.size() != 64 || parsed->date.size() != 8) std::abort();
    signOver(text, *parsed, text.substr(text.size() / 2), "UNSIGNED");
  }
  // The presigned form: the whole input as a raw query, as the verifier reads it.
  const bool presigned = wick::auth::hasQueryAuthorization(text);
  const std::string unsigned_query = wick::auth::withoutSignature(text);
  // What the signature covers never carries the signature itself.
  if (unsigned_query.size() > text.size() + text.size() / 2 + 1) std::abort();
  if (auto query = wick::auth::parseQueryAuthorization(text)) {
    if (!presigned) std::abort();  // parsed, so the form was there
    if (query->authorization.signature.size() != 64 || query->authorization.date.size() != 8 ||
        query->amz_date.empty())
      std::abort();
    if (wick::auth::parseQueryAuthorization(unsigned_query)) std::abort();  // no signature left
    signOver(text, query->authorization, unsigned_query, "UNSIGNED-PAYLOAD");
  }
  (void)wick::auth::parseAmzDate(text);
  if (auto store = wick::auth::CredentialStore::parse(text, "fuzz"))
    for (const auto& principal : store->principals())
      if (!store->find(principal.access_key_id)) std::abort();
  return 0;
}
