#include "agent/http_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace wick::agent {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool tokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Field values: visible bytes, spaces and tabs; never CR, LF or NUL.
bool fieldValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

bool hasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

}  // namespace

size_t HttpRequest::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& [key, value] : headers)
    n += key == name;
  return n;
}

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return "";
}

void HttpRequestParser::reset() {
  state_ = State::kHeaders;
  request_ = HttpRequest{};
  body_left_ = 0;
  body_started_ = false;
  error_status_ = 0;
  limit_ = max_body_;
  body_total_ = 0;
}

HttpRequestParser::Status HttpRequestParser::parseHeaders(std::string_view head) {
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t first = line.find(' ');
  size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return fail(400);
  request_.method = std::string(line.substr(0, first));
  request_.target = std::string(line.substr(first + 1, last - first - 1));
  std::string_view version = line.substr(last + 1);
  if (request_.method.empty() ||
      !std::all_of(request_.method.begin(), request_.method.end(), tokenChar))
    return fail(400);
  if (request_.target.empty() || request_.target[0] != '/') return fail(400);
  for (unsigned char c : request_.target)
    if (c <= 0x20 || c == 0x7f) return fail(400);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return fail(400);
  request_.keep_alive = version == "HTTP/1.1";

  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    std::string_view header = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    if (header.empty()) continue;
    size_t colon = header.find(':');
    if (colon == 0 || colon == std::string_view::npos) return fail(400);
    std::string_view name = header.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), tokenChar)) return fail(400);
    std::string_view value = trim(header.substr(colon + 1));
    if (!fieldValue(value)) return fail(400);
    request_.headers.emplace_back(lower(name), std::string(value));
    if (request_.headers.size() > kMaxHeaders) return fail(431);
  }
  // Request smuggling: one framing header of each kind, never both.
  if (request_.count("content-length") > 1 || request_.count("transfer-encoding") > 1)
    return fail(400);
  request_.http10 = version == "HTTP/1.0";
  // Connection is a list of tokens (RFC 9110 7.6.1): "keep-alive, TE", "close".
  if (hasToken(request_.header("connection"), "close"))
    request_.keep_alive = false;
  else if (hasToken(request_.header("connection"), "keep-alive"))
    request_.keep_alive = true;
  // An HTTP/1.0 client never expects 100 Continue (RFC 9110 10.1.1).
  request_.expect_continue = !request_.http10 && lower(request_.header("expect")) == "100-continue";

  if (chooser_) {
    if (const size_t stream_limit = chooser_(request_); stream_limit > 0) {
      request_.streamed = true;
      limit_ = stream_limit;
    }
  }
  const std::string encoding = lower(request_.header("transfer-encoding"));
  const std::string length = request_.header("content-length");
  if (request_.count("transfer-encoding") == 1) {
    // RFC 9112 6.1: HTTP/1.0 has no Transfer-Encoding: faulty framing, so the
    // request is served and the connection ends.
    if (request_.http10) request_.keep_alive = false;
    // Request smuggling: never both, and chunked is the only coding we take.
    if (request_.count("content-length") > 0) return fail(400);
    if (encoding != "chunked") return fail(501);
    state_ = State::kChunkSize;
    return Status::kNeedMore;
  }
  if (request_.count("content-length") == 1) {
    size_t size = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (ec != std::errc() || end != length.data() + length.size()) return fail(400);
    if (size > limit_) {
      state_ = State::kBody;
      return fail(413);
    }
    body_left_ = size;
    // One allocation for a 6 MB body, not a dozen (a streamed one is handed out).
    if (!request_.streamed) request_.body.reserve(size);
  }
  state_ = State::kBody;
  return Status::kNeedMore;
}

HttpRequestParser::Status HttpRequestParser::parse(std::string& input) {
  size_t used = 0;
  auto consume = [&](size_t n) { used += n; };
  // Body bytes (of a sized body or a chunk) from the view: true once all
  // that was due has come.
  auto takeBody = [&](std::string_view view) {
    const size_t take = std::min(body_left_, view.size());
    request_.body.append(view.substr(0, take));
    consume(take);
    body_total_ += take;
    body_left_ -= take;
    return body_left_ == 0;
  };
  Status status = Status::kNeedMore;
  for (;;) {
    std::string_view view(input.data() + used, input.size() - used);
    if (state_ == State::kHeaders) {
      size_t end = view.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (view.size() > kMaxHeaderBytes) status = fail(431);
        break;
      }
      if (end > kMaxHeaderBytes) {
        status = fail(431);
        break;
      }
      status = parseHeaders(view.substr(0, end + 2));
      consume(end + 4);
      if (status == Status::kError) break;
      continue;
    }
    if (state_ != State::kHeaders && !view.empty()) body_started_ = true;
    if (state_ == State::kBody) {
      if (takeBody(view)) status = Status::kComplete;
      break;
    }
    if (state_ == State::kChunkSize) {
      size_t end = view.find("\r\n");
      if (end == std::string_view::npos) {
        if (view.size() > 1024) status = fail(400);
        break;
      }
      std::string_view size_text = view.substr(0, std::min(end, view.find(';')));
      size_t size = 0;
      auto [ptr, ec] =
          std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (ec != std::errc() || ptr != size_text.data() + size_text.size() || size_text.empty()) {
        status = fail(400);
        break;
      }
      consume(end + 2);
      if (size == 0) {
        state_ = State::kTrailers;
        continue;
      }
      if (size > limit_ - body_total_) {  // no overflow on a huge size
        status = fail(413);
        break;
      }
      body_left_ = size;
      state_ = State::kChunkData;
      continue;
    }
    if (state_ == State::kChunkData) {
      if (!takeBody(view)) break;
      state_ = State::kChunkDataEnd;
      continue;
    }
    if (state_ == State::kChunkDataEnd) {
      if (view.size() < 2) break;
      if (view.substr(0, 2) != "\r\n") {
        status = fail(400);
        break;
      }
      consume(2);
      state_ = State::kChunkSize;
      continue;
    }
    if (state_ == State::kTrailers) {
      // Trailers (streaming error type and body) are kept as headers.
      size_t end = view.find("\r\n");
      if (end == std::string_view::npos) {
        if (view.size() > kMaxHeaderBytes) status = fail(431);
        break;
      }
      std::string_view line = view.substr(0, end);
      consume(end + 2);
      if (line.empty()) {
        status = Status::kComplete;
        break;
      }
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        status = fail(400);
        break;
      }
      std::string_view name = line.substr(0, colon);
      std::string_view value = trim(line.substr(colon + 1));
      if (!std::all_of(name.begin(), name.end(), tokenChar) || !fieldValue(value)) {
        status = fail(400);
        break;
      }
      if (request_.headers.size() >= kMaxHeaders) {
        status = fail(431);
        break;
      }
      request_.headers.emplace_back(lower(name), std::string(value));
      continue;
    }
  }
  input.erase(0, used);
  return status;
}

}  // namespace wick::agent
