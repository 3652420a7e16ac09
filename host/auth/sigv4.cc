#include "host/auth/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/encoding.h"

namespace wick::auth {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// '+' stays '+': SigV4 clients encode spaces as %20.
std::string percentDecode(std::string_view text) {
  return wick::percentDecode(text, /*plus_is_space=*/false);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Leading and trailing spaces off, runs of spaces as one.
std::string trimmed(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// A query's parameters in order, each part as sent ("" when it has no '=').
std::vector<std::pair<std::string_view, std::string_view>> rawPairs(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t equals = part.find('=');
    pairs.emplace_back(part.substr(0, equals), equals == std::string_view::npos
                                                   ? std::string_view()
                                                   : part.substr(equals + 1));
  }
  return pairs;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [key, value] : rawPairs(query))
    pairs.emplace_back(percentEncode(percentDecode(key), false),
                       percentEncode(percentDecode(value), false));
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += '&';
    out += key + '=' + value;
  }
  return out;
}

// Credential ("AKID/YYYYMMDD/region/service/aws4_request"), SignedHeaders
// ("host;x-amz-date") and Signature (64 hex) into `parsed`; `where` names
// their carrier in errors.
Status parseScope(const std::string& credential, const std::string& signed_headers,
                  std::string signature, std::string_view where, Authorization& parsed) {
  std::vector<std::string> scope;
  for (size_t start = 0;;) {
    const size_t slash = credential.find('/', start);
    scope.push_back(credential.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[1].size() != 8)
    return Error(
        "the " + std::string(where) + "'s Credential is not KEY/DATE/REGION/SERVICE/aws4_request",
        EINVAL);
  if (signed_headers.empty() || signature.size() != 64)
    return Error("the " + std::string(where) + " lacks SignedHeaders or a Signature", EINVAL);
  parsed.signature = std::move(signature);
  parsed.access_key_id = scope[0];
  parsed.date = scope[1];
  parsed.region = scope[2];
  parsed.service = scope[3];
  for (size_t start = 0;;) {
    const size_t semicolon = signed_headers.find(';', start);
    parsed.signed_headers.push_back(lower(signed_headers.substr(start, semicolon - start)));
    if (semicolon == std::string::npos) break;
    start = semicolon + 1;
  }
  return {};
}

std::string scopeOf(const Authorization& authorization) {
  return authorization.date + "/" + authorization.region + "/" + authorization.service +
         "/aws4_request";
}

}  // namespace

std::string sha256Hex(std::string_view data) {
  return toHex(sha256(data));
}

Result<Authorization> parseAuthorization(std::string_view header) {
  if (!header.starts_with(kAlgorithm) || header.size() == kAlgorithm.size() ||
      header[kAlgorithm.size()] != ' ')
    return Error("the Authorization header is not AWS4-HMAC-SHA256", EINVAL);
  header.remove_prefix(kAlgorithm.size() + 1);
  Authorization parsed;
  std::string credential, signed_headers, signature;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    const size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, equals);
    const std::string value(part.substr(equals + 1));
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") signed_headers = value;
    if (key == "Signature") signature = value;
  }
  if (auto scoped = parseScope(credential, signed_headers, std::move(signature),
                               "Authorization header", parsed);
      !scoped)
    return std::move(scoped).error();
  return parsed;
}

bool hasQueryAuthorization(std::string_view raw_query) {
  for (const auto& [key, value] : rawPairs(raw_query)) {
    const std::string name = percentDecode(key);
    if (name == "X-Amz-Algorithm" || name == "X-Amz-Credential" || name == "X-Amz-Signature")
      return true;
  }
  return false;
}

Result<QueryAuthorization> parseQueryAuthorization(std::string_view raw_query) {
  // Each parameter once: a second copy would make what is checked differ
  // from what is signed.
  static constexpr std::string_view kRequired[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                                   "X-Amz-Signature", "X-Amz-SignedHeaders",
                                                   "X-Amz-Date"};
  static constexpr std::string_view kOptional[] = {"X-Amz-Expires", "X-Amz-Security-Token",
                                                   "X-Amz-Content-Sha256"};
  std::map<std::string, std::string, std::less<>> found;
  for (const auto& [key, value] : rawPairs(raw_query)) {
    std::string name = percentDecode(key);
    const bool ours =
        std::find(std::begin(kRequired), std::end(kRequired), name) != std::end(kRequired) ||
        std::find(std::begin(kOptional), std::end(kOptional), name) != std::end(kOptional);
    if (!ours) continue;
    if (found.count(name))
      return Error("AWS query-string parameter '" + name +
                       "' appears more than once. Re-examine the query-string parameters.",
                   EINVAL);
    found.emplace(std::move(name), percentDecode(value));
  }
  std::string missing;
  for (std::string_view name : kRequired) {
    auto it = found.find(name);
    if (it == found.end() || it->second.empty())
      missing += "AWS query-string parameters must include '" + std::string(name) + "'. ";
  }
  if (!missing.empty()) return Error(missing + "Re-examine the query-string parameters.", EINVAL);
  if (found["X-Amz-Algorithm"] != kAlgorithm)
    return Error("Unsupported AWS 'algorithm': '" + found["X-Amz-Algorithm"].substr(0, 64) + "'",
                 EINVAL);
  QueryAuthorization parsed;
  if (auto scoped = parseScope(found["X-Amz-Credential"], found["X-Amz-SignedHeaders"],
                               found["X-Amz-Signature"], "query string", parsed.authorization);
      !scoped)
    return std::move(scoped).error();
  parsed.amz_date = std::move(found["X-Amz-Date"]);
  parsed.expires = std::move(found["X-Amz-Expires"]);
  parsed.security_token = std::move(found["X-Amz-Security-Token"]);
  parsed.content_sha256 = std::move(found["X-Amz-Content-Sha256"]);
  return parsed;
}

std::string withoutSignature(std::string_view raw_query) {
  std::string out;
  for (const auto& [key, value] : rawPairs(raw_query)) {
    if (percentDecode(key) == "X-Amz-Signature") continue;
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonicalRequest(const SignedRequest& request,
                             const std::vector<std::string>& signed_headers) {
  std::string out = request.method + "\n";
  // The path arrives encoded once; every service but S3 signs it encoded twice.
  out += request.path.empty() ? "/" : percentEncode(request.path, true);
  out += "\n" + canonicalQuery(request.query) + "\n";
  for (const std::string& name : signed_headers) {
    std::string values;
    for (const auto& [header, value] : request.headers) {
      if (lower(header) != name) continue;
      if (!values.empty()) values += ',';
      values += trimmed(value);
    }
    out += name + ":" + values + "\n";
  }
  out += "\n";
  for (size_t i = 0; i < signed_headers.size(); ++i)
    out += (i ? ";" : "") + signed_headers[i];
  out += "\n" + request.payload_sha256;
  return out;
}

std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += "\n";
  out += amz_date;
  out += "\n";
  out += scope;
  out += "\n";
  out += sha256Hex(canonical_request);
  return out;
}

std::string signingKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string key = hmacSha256("AWS4" + std::string(secret), date);
  key = hmacSha256(key, region);
  key = hmacSha256(key, service);
  return hmacSha256(key, "aws4_request");
}

std::string signature(const SignedRequest& request, const Authorization& authorization,
                      std::string_view secret, std::string_view amz_date) {
  const std::string to_sign = stringToSign(amz_date, scopeOf(authorization),
                                           canonicalRequest(request, authorization.signed_headers));
  return toHex(hmacSha256(
      signingKey(secret, authorization.date, authorization.region, authorization.service),
      to_sign));
}

void sign(SignedRequest& request, const SigningKeys& keys, std::string_view region,
          std::string_view service, std::string_view amz_date) {
  request.headers.emplace_back("X-Amz-Date", std::string(amz_date));
  if (!keys.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", keys.session_token);
  Authorization authorization;
  authorization.access_key_id = keys.access_key_id;
  authorization.date = std::string(amz_date.substr(0, 8));
  authorization.region = region;
  authorization.service = service;
  for (const auto& [name, value] : request.headers)
    authorization.signed_headers.push_back(lower(name));
  std::sort(authorization.signed_headers.begin(), authorization.signed_headers.end());
  authorization.signed_headers.erase(
      std::unique(authorization.signed_headers.begin(), authorization.signed_headers.end()),
      authorization.signed_headers.end());
  const std::string signed_with =
      signature(request, authorization, keys.secret_access_key, amz_date);
  std::string header = std::string(kAlgorithm) + " Credential=" + keys.access_key_id + "/" +
                       scopeOf(authorization) + ", SignedHeaders=";
  for (size_t i = 0; i < authorization.signed_headers.size(); ++i)
    header += (i ? ";" : "") + authorization.signed_headers[i];
  header += ", Signature=" + signed_with;
  request.headers.emplace_back("Authorization", header);
}

std::string amzDate(int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[20];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

int64_t parseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return -1;
  std::tm utc{};
  const std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y%m%dT%H%M%SZ", &utc);
  if (end == nullptr || *end != '\0') return -1;
  return timegm(&utc);
}

}  // namespace wick::auth
