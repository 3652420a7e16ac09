// AWS Signature Version 4, both ways: verifying what AWS clients (boto3, the
// awscli, the JS and Go SDKs) sign, and signing what wickd sends to AWS-shaped
// services (destinations, dead-letter queues). The rules are AWS's
// ("Create a signed AWS API request"): a canonical request (the path's
// segments URI-encoded once more for every service but S3, the query sorted,
// the signed headers lowercased and trimmed, the payload's SHA-256), a string
// to sign with the credential scope, and an HMAC chain from the secret.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wick::auth {

// What a signature covers, as it arrived (or will go) on the wire.
struct SignedRequest {
  std::string method;                                        // "POST"
  std::string path;                                          // raw, still percent-encoded
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // as sent; names any case
  std::string payload_sha256;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// The parts of an Authorization header "AWS4-HMAC-SHA256 Credential=AK/20261206/
// us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex".
struct Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Result<Authorization> parseAuthorization(std::string_view header);

// A presigned (query-string) request's parameters, as AWS's presigners
// (botocore's SigV4QueryAuth, the SDKs' presign) put them in the URL:
// X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential (the scope), X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Signature, and optionally X-Amz-Expires,
// X-Amz-Security-Token and X-Amz-Content-Sha256. Values percent-decoded.
struct QueryAuthorization {
  Authorization authorization;
  std::string amz_date;        // as signed: "YYYYMMDDTHHMMSSZ" (not yet checked)
  std::string expires;         // X-Amz-Expires as sent; "" when absent
  std::string security_token;  // "" when absent
  std::string content_sha256;  // "" when absent
};
// Whether `raw_query` carries the presigned form at all (any of
// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature).
bool hasQueryAuthorization(std::string_view raw_query);
// The parameters, or an error whose message is AWS's words for what is
// missing, repeated or malformed ("AWS query-string parameters must include
// 'X-Amz-Date'. Re-examine the query-string parameters.").
Result<QueryAuthorization> parseQueryAuthorization(std::string_view raw_query);
// `raw_query` without X-Amz-Signature: what a presigned request's canonical
// query covers (the signature cannot sign itself).
std::string withoutSignature(std::string_view raw_query);

std::string sha256Hex(std::string_view data);
std::string canonicalRequest(const SignedRequest& request,
                             const std::vector<std::string>& signed_headers);
std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// kSigning = HMAC chain of "AWS4"+secret over date, region, service, "aws4_request".
std::string signingKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
std::string signature(const SignedRequest& request, const Authorization& authorization,
                      std::string_view secret, std::string_view amz_date);

// Signs `request` in place for `service` in `region`: adds X-Amz-Date (and
// X-Amz-Security-Token with a session token) and Authorization, signing every
// header it carries. `amz_date` is "YYYYMMDDTHHMMSSZ".
struct SigningKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};
void sign(SignedRequest& request, const SigningKeys& keys, std::string_view region,
          std::string_view service, std::string_view amz_date);

// "YYYYMMDDTHHMMSSZ" for a Unix time, and back (-1 if malformed).
std::string amzDate(int64_t unix_seconds);
int64_t parseAmzDate(std::string_view text);

}  // namespace wick::auth
