#include "host/invoke/payload_limit.h"

#include "common/ids.h"
#include "host/api/aws_error.h"

namespace wick::invoke {

namespace {

// POST /2015-03-31/functions/{name}/invocations
bool isInvoke(const http::Request& head) {
  constexpr std::string_view kPrefix = "/2015-03-31/functions/";
  constexpr std::string_view kSuffix = "/invocations";
  const std::string_view path = head.path;
  if (head.method != http::beast_http::verb::post || !path.starts_with(kPrefix) ||
      !path.ends_with(kSuffix) || path.size() <= kPrefix.size() + kSuffix.size())
    return false;
  const std::string_view name =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return name.find('/') == std::string_view::npos;
}

}  // namespace

std::optional<http::Response> refuseOversizedInvoke(const http::Request& head,
                                                    std::optional<uint64_t> content_length) {
  if (!content_length || *content_length <= kMaxInvokePayload || !isInvoke(head))
    return std::nullopt;
  return api::toResponse(
      api::requestTooLarge("Request must be smaller than " + std::to_string(kMaxInvokePayload) +
                           " bytes for the InvokeFunction operation"),
      newUuid());
}

}  // namespace wick::invoke
