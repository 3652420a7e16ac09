// SigV4 against vectors from AWS's documentation and from botocore (the
// signature boto3 sends for a Lambda request whose path carries an ARN).
#include "host/auth/sigv4.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace wick::auth {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

TEST(SigV4, SigningKeyMatchesAwsDocumentation) {
  EXPECT_EQ(toHex(signingKey(kSecret, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

// botocore 1.29 (Debian 12's python3-botocore): SigV4Auth(creds, "lambda",
// "us-east-1") on this request at 2026-12-06T09:00:00Z.
SignedRequest botocoreRequest() {
  return {"POST",
          "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"
          "invocations",
          "Qualifier=%24LATEST&b=a%20b",
          {{"Host", "127.0.0.1:3001"},
           {"X-Amz-Invocation-Type", "Event"},
           {"X-Amz-Date", "20261206T090000Z"}},
          sha256Hex("{\"a\":1}")};
}
constexpr const char* kBotocoreAuthorization =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-invocation-type, "
    "Signature=bd71c76870ac38022b2f59d71b1c74a9f75ef280ae0c0183f03f83ad082e3266";

TEST(SigV4, VerifiesWhatBotocoreSigned) {
  auto authorization = parseAuthorization(kBotocoreAuthorization);
  ASSERT_TRUE(authorization) << authorization.error().message();
  EXPECT_EQ(authorization->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(authorization->service, "lambda");
  EXPECT_EQ(authorization->signed_headers,
            (std::vector<std::string>{"host", "x-amz-date", "x-amz-invocation-type"}));
  EXPECT_EQ(signature(botocoreRequest(), *authorization, kSecret, "20261206T090000Z"),
            authorization->signature);
  // The ARN's colons, encoded once on the wire, are encoded twice in the canonical path.
  EXPECT_NE(canonicalRequest(botocoreRequest(), authorization->signed_headers)
                .find("/functions/arn%253Aaws%253Alambda"),
            std::string::npos);
}

TEST(SigV4, AnyChangeBreaksTheSignature) {
  auto authorization = parseAuthorization(kBotocoreAuthorization);
  ASSERT_TRUE(authorization);
  SignedRequest body = botocoreRequest();
  body.payload_sha256 = sha256Hex("{\"a\":2}");
  EXPECT_NE(signature(body, *authorization, kSecret, "20261206T090000Z"), authorization->signature);
  SignedRequest header = botocoreRequest();
  header.headers[1].second = "RequestResponse";
  EXPECT_NE(signature(header, *authorization, kSecret, "20261206T090000Z"),
            authorization->signature);
  EXPECT_NE(signature(botocoreRequest(), *authorization, "another secret", "20261206T090000Z"),
            authorization->signature);
}

TEST(SigV4, SignProducesWhatBotocoreSends) {
  SignedRequest request = botocoreRequest();
  request.headers.pop_back();  // sign() adds X-Amz-Date itself
  sign(request, {"AKIDEXAMPLE", kSecret, ""}, "us-east-1", "lambda", "20261206T090000Z");
  EXPECT_EQ(request.headers.back().first, "Authorization");
  EXPECT_EQ(request.headers.back().second, kBotocoreAuthorization);
}

TEST(SigV4, MalformedAuthorizationIsRefused) {
  EXPECT_FALSE(parseAuthorization("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(parseAuthorization("AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/lambda"));
  EXPECT_FALSE(parseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AK/20261206/us-east-1/lambda/aws4_request, Signature=00"));
}

TEST(SigV4, PresignedQueryParameters) {
  const std::string query =
      "b=2&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20261206%2Fus-east-1%2Flambda%"
      "2Faws4_request&X-Amz-Date=20261206T090000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host%"
      "3Bx-amz-date&X-Amz-Security-Token=a%2Bb%2Fc%3D&X-Amz-Signature=" +
      std::string(64, 'f');
  EXPECT_TRUE(hasQueryAuthorization(query));
  EXPECT_FALSE(hasQueryAuthorization("a=1&x-amz-signature=abc"));  // names are case-sensitive
  auto parsed = parseQueryAuthorization(query);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->authorization.access_key_id, "AK");
  EXPECT_EQ(parsed->authorization.service, "lambda");
  EXPECT_EQ(parsed->authorization.signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(parsed->amz_date, "20261206T090000Z");
  EXPECT_EQ(parsed->expires, "300");
  EXPECT_EQ(parsed->security_token, "a+b/c=");
  // The signature leaves the canonical query, however its name is spelled.
  EXPECT_EQ(withoutSignature("a=1&X-Amz-Signature=ff&b=2"), "a=1&b=2");
  EXPECT_EQ(withoutSignature("X-Amz-%53ignature=ff&b"), "b=");
  EXPECT_EQ(withoutSignature("x-amz-signature=ff"), "x-amz-signature=ff");
  // Each parameter once, every required one present.
  EXPECT_FALSE(parseQueryAuthorization(query + "&X-Amz-Date=20261206T090001Z"));
  EXPECT_FALSE(parseQueryAuthorization(withoutSignature(query)));
  EXPECT_EQ(parseQueryAuthorization("X-Amz-Algorithm=AWS4-HMAC-SHA256").error().message(),
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string "
            "parameters must include 'X-Amz-Signature'. AWS query-string parameters must include "
            "'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. "
            "Re-examine the query-string parameters.");
}

TEST(SigV4, AmzDates) {
  EXPECT_EQ(amzDate(1796547600), "20261206T090000Z");
  EXPECT_EQ(parseAmzDate("20261206T090000Z"), 1796547600);
  EXPECT_EQ(parseAmzDate("2026-12-06T09:00:00Z"), -1);
}

}  // namespace
}  // namespace wick::auth
