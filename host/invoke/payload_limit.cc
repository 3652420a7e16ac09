#include "host/invoke/payload_limit.h"

#include "common/ids.h"
#include "host/api/aws_error.h"

namespace wick::invoke {

namespace {

// POST /2015-03-31/functions/{name}/invocations, or
// /2021-11-15/functions/{name}/response-streaming-invocations.
bool isInvoke(const http::Request& head) {
  if (head.method != http::beast_http::verb::post) return false;
  const std::string_view path = head.path;
  for (auto [prefix, suffix] :
       {std::pair<std::string_view, std::string_view>{"/2015-03-31/functions/", "/invocations"},
        {"/2021-11-15/functions/", "/response-streaming-invocations"}}) {
    if (!path.starts_with(prefix) || !path.ends_with(suffix) ||
        path.size() <= prefix.size() + suffix.size())
      continue;
    const std::string_view name =
        path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (name.find('/') == std::string_view::npos) return true;
  }
  return false;
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
