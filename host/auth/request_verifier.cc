#include "host/auth/request_verifier.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <ctime>
#include <unordered_map>

#include "common/encoding.h"
#include "host/auth/sigv4.h"

namespace wick::auth {

namespace {

constexpr int64_t kMaxPresignedSeconds = 7 * 24 * 3600;  // X-Amz-Expires: AWS's week

constexpr const char* kMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

Refusal refusal(int status, std::string type, std::string message, std::string reason,
                std::string key_id = {}) {
  return {status, std::move(type), std::move(message), std::move(reason), std::move(key_id)};
}

Refusal invalidSignature(std::string message, std::string reason, std::string key_id) {
  return refusal(403, "InvalidSignatureException", std::move(message), std::move(reason),
                 std::move(key_id));
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& each : names)
    if (each == name) return true;
  return false;
}

// An RFC 7231 Date ("Sun, 06 Nov 1994 08:49:37 GMT"): what a client without
// X-Amz-Date signs. -1 if malformed.
int64_t parseHttpDate(const std::string& text) {
  std::tm utc{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  if (end == nullptr || *end != '\0') return -1;
  return timegm(&utc);
}

int64_t parseAmzDateHeader(const std::string& text) {
  return parseAmzDate(text);
}

// The headers a signature's time may come from, in the order AWS reads them.
struct DateHeader {
  std::string_view name;
  std::string_view signed_name;  // as SignedHeaders lists it
  int64_t (*parse)(const std::string&);
  std::string_view format;  // for "<name> must be <format>"
};
constexpr DateHeader kDateHeaders[] = {
    {"X-Amz-Date", "x-amz-date", parseAmzDateHeader,
     "in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'"},
    {"Date", "date", parseHttpDate, "an RFC 7231 date such as 'Sun, 06 Nov 1994 08:49:37 GMT'"},
};

// The signing key (the HMAC chain over date, region and service) of the last
// few keys this thread verified: it changes once a day per key, and deriving
// it is four of the five HMACs a verification costs. Keyed by the secret too,
// so a changed secret never finds an old key.
const std::string& cachedSigningKey(const Principal& principal, const Authorization& scope) {
  thread_local std::unordered_map<std::string, std::string> cache;
  std::string id = principal.access_key_id;
  for (const std::string* part :
       {&principal.secret_access_key, &scope.date, &scope.region, &scope.service}) {
    id += '\0';
    id += *part;
  }
  if (auto found = cache.find(id); found != cache.end()) return found->second;
  if (cache.size() >= 64) cache.clear();
  return cache
      .emplace(std::move(id),
               signingKey(principal.secret_access_key, scope.date, scope.region, scope.service))
      .first->second;
}

}  // namespace

struct RequestVerifier::Checked {
  Authorization authorization;
  Principal principal;
  bool presigned = false;              // the signature is in the query
  std::string amz_date;                // as signed: "YYYYMMDDTHHMMSSZ"
  int64_t signed_at = 0;               // amz_date in Unix seconds
  int64_t valid_seconds = -1;          // X-Amz-Expires; -1: the header form's skew
  std::string security_token;          // as sent
  bool security_token_signed = false;  // in the query, or a signed header
  std::string claimed_payload_sha256;  // X-Amz-Content-Sha256, if sent
};

// The Authorization header's form: the date from X-Amz-Date (else Date), the
// token and payload hash from their headers.
std::variant<RequestVerifier::Checked, Refusal> RequestVerifier::fromHeader(
    const http::Request& request, const std::string& header) {
  auto parsed = parseAuthorization(header);
  if (!parsed) {
    const std::string algorithm = header.substr(0, header.find(' '));
    if (algorithm != "AWS4-HMAC-SHA256")
      return refusal(400, "IncompleteSignatureException",
                     "Unsupported AWS 'algorithm': '" + algorithm.substr(0, 64) + "'",
                     "Authorization is not AWS4-HMAC-SHA256");
    return refusal(400, "IncompleteSignatureException",
                   "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                   "parameters: " +
                       parsed.error().message(),
                   "malformed Authorization header");
  }
  Checked checked;
  checked.authorization = std::move(*parsed);
  const Authorization& authorization = checked.authorization;
  const std::string& key_id = authorization.access_key_id;

  // The time the signature claims: X-Amz-Date, else an HTTP Date; whichever
  // carries it must be signed, and so must Host.
  const DateHeader* dated = nullptr;
  std::string date_text;
  for (const DateHeader& candidate : kDateHeaders) {
    date_text = request.header(candidate.name);
    if (!date_text.empty()) {
      dated = &candidate;
      break;
    }
  }
  if (dated == nullptr)
    return refusal(400, "IncompleteSignatureException",
                   "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                   "header.",
                   "no X-Amz-Date", key_id);
  for (const auto& [name, signed_name] :
       {std::pair<std::string_view, std::string_view>{dated->name, dated->signed_name},
        {"Host' or ':authority", "host"}})
    if (!contains(authorization.signed_headers, signed_name))
      return invalidSignature(
          "'" + std::string(name) + "' must be a 'SignedHeader' in the AWS Authorization.",
          std::string(signed_name) + " not signed", key_id);
  checked.signed_at = dated->parse(date_text);
  if (checked.signed_at < 0)
    return refusal(400, "IncompleteSignatureException",
                   std::string(dated->name) + " must be " + std::string(dated->format),
                   "malformed " + std::string(dated->name), key_id);
  // X-Amz-Date is signed as sent; a Date as the X-Amz-Date it stands for.
  checked.amz_date = dated == &kDateHeaders[0] ? std::move(date_text) : amzDate(checked.signed_at);
  checked.security_token = request.header("X-Amz-Security-Token");
  checked.security_token_signed = contains(authorization.signed_headers, "x-amz-security-token");
  checked.claimed_payload_sha256 = request.header("X-Amz-Content-Sha256");
  return checked;
}

// The presigned form: everything from the query, which the signature covers
// (all of it but X-Amz-Signature).
std::variant<RequestVerifier::Checked, Refusal> RequestVerifier::fromQuery(
    const http::Request& request) {
  auto parsed = parseQueryAuthorization(request.raw_query);
  if (!parsed)
    return refusal(400, "IncompleteSignatureException", parsed.error().message(),
                   "malformed presigned query: " + parsed.error().message().substr(0, 200));
  Checked checked;
  checked.presigned = true;
  checked.authorization = std::move(parsed->authorization);
  const std::string& key_id = checked.authorization.access_key_id;
  if (!contains(checked.authorization.signed_headers, "host"))
    return invalidSignature(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        "host not signed", key_id);
  checked.signed_at = parseAmzDate(parsed->amz_date);
  if (checked.signed_at < 0)
    return refusal(400, "IncompleteSignatureException",
                   "X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'",
                   "malformed X-Amz-Date", key_id);
  checked.amz_date = std::move(parsed->amz_date);
  if (!parsed->expires.empty()) {
    const std::string& expires = parsed->expires;
    if (expires.size() > 9 || expires.find_first_not_of("0123456789") != std::string::npos)
      return refusal(400, "IncompleteSignatureException",
                     "X-Amz-Expires must be a non-negative integer number of seconds",
                     "malformed X-Amz-Expires", key_id);
    checked.valid_seconds = std::stoll(expires);
    if (checked.valid_seconds > kMaxPresignedSeconds)
      return refusal(400, "IncompleteSignatureException",
                     "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                     "X-Amz-Expires must be less than 604800 seconds",
                     "X-Amz-Expires " + expires + " over a week", key_id);
  }
  checked.security_token = std::move(parsed->security_token);
  checked.security_token_signed = true;
  if (checked.security_token.empty()) {
    checked.security_token = request.header("X-Amz-Security-Token");
    checked.security_token_signed =
        contains(checked.authorization.signed_headers, "x-amz-security-token");
  }
  checked.claimed_payload_sha256 = std::move(parsed->content_sha256);
  if (checked.claimed_payload_sha256.empty())
    checked.claimed_payload_sha256 = request.header("X-Amz-Content-Sha256");
  return checked;
}

std::variant<RequestVerifier::Checked, Refusal> RequestVerifier::checkHead(
    const http::Request& request, std::string_view service, int64_t now) const {
  const std::string header = request.header("Authorization");
  const bool presigned = hasQueryAuthorization(request.raw_query);
  if (!header.empty() && presigned)
    return refusal(400, "InvalidSignatureException",
                   "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as "
                   "HTTP header.",
                   "both an Authorization header and a presigned query");
  if (header.empty() && !presigned)
    return refusal(403, "MissingAuthenticationTokenException", "Missing Authentication Token",
                   "unsigned (no Authorization header)");
  auto presented = presigned ? fromQuery(request) : fromHeader(request, header);
  if (auto* refused = std::get_if<Refusal>(&presented)) return std::move(*refused);
  Checked& checked = std::get<Checked>(presented);
  const Authorization& authorization = checked.authorization;
  const std::string& key_id = authorization.access_key_id;

  if (authorization.date != std::string_view(checked.amz_date).substr(0, 8))
    return invalidSignature(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
        "version of date from HTTP: '" +
            authorization.date + "' != '" + checked.amz_date.substr(0, 8) + "', from '" +
            checked.amz_date + "'.",
        "credential scope date differs from X-Amz-Date", key_id);

  // AWS checks the clock before the key: a stale request is refused as stale.
  // A presigned request lasts its X-Amz-Expires (without one, the header
  // form's skew); neither may be dated later than the skew allows.
  const int64_t signed_at = checked.signed_at;
  if (checked.valid_seconds >= 0 && now > signed_at + checked.valid_seconds)
    return invalidSignature("Signature expired: " + checked.amz_date + " is now earlier than " +
                                amzDate(now - checked.valid_seconds) + " (" + amzDate(now) + " - " +
                                std::to_string(checked.valid_seconds) + " sec.)",
                            "presigned " + std::to_string(now - signed_at) + " s ago, valid for " +
                                std::to_string(checked.valid_seconds),
                            key_id);
  if (checked.valid_seconds < 0 && signed_at < now - settings_.max_skew_seconds)
    return invalidSignature("Signature expired: " + checked.amz_date + " is now earlier than " +
                                amzDate(now - settings_.max_skew_seconds) + " (" + amzDate(now) +
                                " - 5 min.)",
                            "signed " + std::to_string(now - signed_at) + " s ago", key_id);
  if (signed_at > now + settings_.max_skew_seconds)
    return invalidSignature(
        "Signature not yet current: " + checked.amz_date + " is still later than " +
            amzDate(now + settings_.max_skew_seconds) + " (" + amzDate(now) + " + 5 min.)",
        "signed " + std::to_string(signed_at - now) + " s in the future", key_id);

  auto principal = lookup_(key_id);
  if (!principal)
    return refusal(403, "UnrecognizedClientException",
                   "The security token included in the request is invalid.",
                   "unknown access key id", key_id);
  checked.principal = std::move(*principal);
  if (!checked.principal.session_token.empty()) {
    // Temporary keys are valid only with their token, signed.
    const std::string& token = checked.security_token;
    if (token.size() != checked.principal.session_token.size() ||
        CRYPTO_memcmp(token.data(), checked.principal.session_token.data(), token.size()) != 0)
      return refusal(403, "UnrecognizedClientException",
                     "The security token included in the request is invalid.",
                     "missing or wrong session token for " + checked.principal.name, key_id);
    if (!checked.security_token_signed)
      return invalidSignature(kMismatch, "X-Amz-Security-Token not signed", key_id);
  }

  if (authorization.region != settings_.region)
    return invalidSignature(
        "Credential should be scoped to a valid region. (This endpoint's "
        "region is '" +
            settings_.region + "', not '" + authorization.region.substr(0, 64) + "'.)",
        "scope region " + authorization.region.substr(0, 64), key_id);
  if (authorization.service != service)
    return invalidSignature(
        "Credential should be scoped to correct service: '" + std::string(service) + "'. ",
        "scope service " + authorization.service.substr(0, 64), key_id);

  const std::string& claimed = checked.claimed_payload_sha256;
  // A presigned URL may leave its body unsigned (UNSIGNED-PAYLOAD, as S3's
  // and an https SigV4QueryAuth do); a signed header may not.
  if (claimed == "UNSIGNED-PAYLOAD" && !checked.presigned)
    return invalidSignature(
        "UNSIGNED-PAYLOAD is accepted only by Amazon S3 and in presigned URLs: sign the payload "
        "(its SHA-256) instead.",
        "UNSIGNED-PAYLOAD", key_id);
  if (claimed.starts_with("STREAMING-"))
    return invalidSignature("Streaming (chunked) payload signatures ('" + claimed.substr(0, 64) +
                                "') are accepted only by Amazon S3: sign the whole payload "
                                "instead.",
                            "streaming payload signature", key_id);
  return std::move(checked);
}

std::optional<Refusal> RequestVerifier::verifyHead(const http::Request& head,
                                                   std::string_view service, int64_t now) const {
  auto checked = checkHead(head, service, now);
  if (auto* refused = std::get_if<Refusal>(&checked)) return std::move(*refused);
  return std::nullopt;
}

std::variant<Principal, Refusal> RequestVerifier::verify(const http::Request& request,
                                                         std::string_view service,
                                                         int64_t now) const {
  auto head = checkHead(request, service, now);
  if (auto* refused = std::get_if<Refusal>(&head)) return std::move(*refused);
  Checked& checked = std::get<Checked>(head);
  const std::string& key_id = checked.authorization.access_key_id;

  // The server hashes what it received, as AWS does for every service but S3.
  // The payload hashes a signature may cover: the one claimed, else the
  // body's, and for a presigned request that claims none UNSIGNED-PAYLOAD too.
  const std::string body_sha256 = sha256Hex(request.body);
  const std::string& claimed = checked.claimed_payload_sha256;
  std::vector<std::string> payload_hashes;
  if (claimed == "UNSIGNED-PAYLOAD") {
    payload_hashes.push_back(claimed);
  } else if (!claimed.empty()) {
    if (claimed != body_sha256)
      return invalidSignature(kMismatch, "the body's SHA-256 is not X-Amz-Content-Sha256", key_id);
    payload_hashes.push_back(body_sha256);
  } else {
    payload_hashes.push_back(body_sha256);
    if (checked.presigned) payload_hashes.emplace_back("UNSIGNED-PAYLOAD");
  }

  SignedRequest wire;
  wire.method = std::string(http::beast_http::to_string(request.method));
  wire.path = request.path;
  wire.query = checked.presigned ? withoutSignature(request.raw_query) : request.raw_query;
  wire.headers.reserve(checked.authorization.signed_headers.size());
  for (const auto& field : request.headers) {
    std::string name(field.name_string());
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (contains(checked.authorization.signed_headers, name))
      wire.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  const Authorization& authorization = checked.authorization;
  const std::string scope = authorization.date + "/" + authorization.region + "/" +
                            authorization.service + "/aws4_request";
  const std::string& key = cachedSigningKey(checked.principal, authorization);
  const std::string& given = authorization.signature;
  bool matched = false;
  for (std::string& payload_sha256 : payload_hashes) {
    wire.payload_sha256 = std::move(payload_sha256);
    const std::string expected =
        toHex(hmacSha256(key, stringToSign(checked.amz_date, scope,
                                           canonicalRequest(wire, authorization.signed_headers))));
    matched = matched || (given.size() == expected.size() &&
                          CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0);
  }
  if (!matched) return invalidSignature(kMismatch, "signature does not match", key_id);
  return std::move(checked.principal);
}

}  // namespace wick::auth
