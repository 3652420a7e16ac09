// libFuzzer: what API authentication parses from untrusted requests (issue 15):
// the Authorization header, a presigned request's query (X-Amz-Algorithm,
// -Credential, -Date, -Expires, -SignedHeaders, -Signature), X-Amz-Date, the
// canonical request of any path and query, the whole check of a request as
// RequestVerifier makes it (either form, at a time that reaches the signature),
// and, as its parser is the same kind, the credentials file's INI.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "host/auth/credential_store.h"
#include "host/auth/request_verifier.h"
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

// The input as a request: "path?query\nHeader: value\n...\n\nbody". Any key
// is known (with a session token when it starts with "ASIA"), so the checks
// run to the signature; the clock is the request's own date when it has one.
void verifyAsRequest(std::string_view text) {
  wick::http::Request request;
  request.method = wick::http::beast_http::verb::post;
  const size_t blank = text.find("\n\n");
  request.body = blank == std::string_view::npos ? "" : std::string(text.substr(blank + 2));
  std::string_view head = text.substr(0, blank);
  const size_t line_end = head.find('\n');
  const std::string_view target = head.substr(0, line_end);
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.raw_query = target.substr(question + 1);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 1);
  while (!head.empty()) {
    const size_t end = head.find('\n');
    const std::string_view line = head.substr(0, end);
    head = end == std::string_view::npos ? std::string_view() : head.substr(end + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string_view value = line.substr(colon + 1);
    request.headers.insert(boost::beast::string_view(line.data(), colon),
                           boost::beast::string_view(value.data(), value.size()));
  }
  int64_t now = 1796547600;
  if (auto query = wick::auth::parseQueryAuthorization(request.raw_query)) {
    if (const int64_t at = wick::auth::parseAmzDate(query->amz_date); at >= 0) now = at + 1;
  } else if (const int64_t at = wick::auth::parseAmzDate(request.header("X-Amz-Date")); at >= 0) {
    now = at + 1;
  }
  const wick::auth::RequestVerifier verifier(
      [](std::string_view key) -> std::optional<wick::auth::Principal> {
        return wick::auth::Principal{"fuzz", std::string(key), "secret",
                                     key.starts_with("ASIA") ? "token" : "", true};
      },
      {.region = "us-east-1"});
  (void)verifier.verifyHead(request, "lambda", now);
  auto verdict = verifier.verify(request, "lambda", now);
  if (auto* refused = std::get_if<wick::auth::Refusal>(&verdict))
    if (refused->status != 400 && refused->status != 403) std::abort();
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
  if (auto query = wick::auth::parseQueryAuthorization(text)) {
    if (!presigned) std::abort();  // parsed, so the form was there
    if (query->authorization.signature.size() != 64 || query->authorization.date.size() != 8 ||
        query->amz_date.empty())
      std::abort();
    // What the signature covers never carries the signature itself.
    if (wick::auth::parseQueryAuthorization(unsigned_query)) std::abort();
    signOver(text, query->authorization, unsigned_query, "UNSIGNED-PAYLOAD");
  }
  verifyAsRequest(text);
  (void)wick::auth::parseAmzDate(text);
  if (auto store = wick::auth::CredentialStore::parse(text, "fuzz"))
    for (const auto& principal : store->principals())
      if (!store->find(principal.access_key_id)) std::abort();
  return 0;
}
