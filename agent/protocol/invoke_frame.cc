#include "agent/protocol/invoke_frame.h"

#include "agent/protocol/framing.h"

namespace wick::agent {

namespace {

void appendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

size_t varintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

// Field number and wire type 2 (length-delimited) in one byte (fields < 16).
constexpr char kInvokeTag = (HostMessage::kInvokeFieldNumber << 3) | 2;
constexpr char kPayloadTag = (Invoke::kPayloadFieldNumber << 3) | 2;

}  // namespace

std::string invokeFrameHead(const Invoke& invoke, size_t payload_size) {
  const std::string others = invoke.SerializeAsString();
  const size_t invoke_size = others.size() + 1 + varintSize(payload_size) + payload_size;
  std::string message_head;
  message_head += kInvokeTag;
  appendVarint(message_head, invoke_size);
  message_head += others;
  message_head += kPayloadTag;
  appendVarint(message_head, payload_size);
  return frameHeader(message_head.size() + payload_size) + message_head;
}

}  // namespace wick::agent
