// libFuzzer: what API authentication parses from untrusted requests (issue 15):
// the Authorization header, X-Amz-Date, the canonical request of any path and
// query (and, as its parser is the same kind, the credentials file's INI).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "host/auth/credential_store.h"
#include "host/auth/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = wick::auth::parseAuthorization(text)) {
    if (parsed->signature.size() != 64 || parsed->date.size() != 8) std::abort();
    const size_t cut = text.size() / 2;
    wick::auth::SignedRequest request{"POST",
                                      text.substr(0, cut),
                                      text.substr(cut),
                                      {{"Host", text}, {"X-Amz-Date", text}},
                                      "UNSIGNED"};
    (void)wick::auth::signature(request, *parsed, text, text);
  }
  (void)wick::auth::parseAmzDate(text);
  if (auto store = wick::auth::CredentialStore::parse(text, "fuzz"))
    for (const auto& principal : store->principals())
      if (!store->find(principal.access_key_id)) std::abort();
  return 0;
}
