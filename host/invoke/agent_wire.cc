#include "host/invoke/agent_wire.h"

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "agent/protocol/agent.pb.h"
#include "agent/protocol/framing.h"
#include "agent/protocol/invoke_frame.h"

namespace wick::invoke {

namespace asio = boost::asio;

namespace {

// AgentChannel over the socketpair: length-prefixed protobuf frames
// (agent/protocol/agent.proto). Reads happen only inside next(), so log lines
// reach the sink in the order the agent sent them, before the event they precede.
class WireChannel final : public AgentChannel {
 public:
  WireChannel(asio::any_io_executor executor, UniqueFd host_socket, LogSink sink)
      : socket_(executor), sink_(std::move(sink)) {
    socket_.assign(asio::local::stream_protocol(), host_socket.release());
  }

  asio::awaitable<Status> start(const StartCommand& command) override {
    agent::HostMessage message;
    agent::Start* start = message.mutable_start();
    for (const auto& arg : command.argv)
      start->add_argv(arg);
    start->set_cwd(command.cwd);
    start->set_stream_bytes_per_second(command.stream_bytes_per_second);
    start->set_stream_burst_bytes(command.stream_burst_bytes);
    for (const auto& entry : command.env)
      start->add_env(entry);
    co_return co_await write(message);
  }

  asio::awaitable<Status> invoke(const InvokeCommand& command) override {
    agent::Invoke invoke;
    invoke.set_request_id(command.request_id);
    invoke.set_deadline_ms(command.deadline_ms);
    invoke.set_invoked_function_arn(command.invoked_function_arn);
    invoke.set_trace_id(command.trace_id);
    invoke.set_client_context(command.client_context);
    invoke.set_cognito_identity(command.cognito_identity);
    invoke.set_stream_response(command.stream_response);
    // The payload goes to the socket from where it is, after the rest of the
    // frame (agent/protocol/invoke_frame.h): no copy of a 6 MB event.
    const std::string head = agent::invokeFrameHead(invoke, command.payload.size());
    const std::array<asio::const_buffer, 2> frame{asio::buffer(head),
                                                  asio::buffer(command.payload)};
    boost::system::error_code ec;
    co_await asio::async_write(socket_, frame, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Error("write to wick-agent: " + ec.message(), ec.value());
    co_return Status{};
  }

  asio::awaitable<AgentEvent> next() override {
    for (;;) {
      while (auto frame = reader_.nextView()) {
        agent::AgentMessage message;
        if (!message.ParseFromArray(frame->data(), static_cast<int>(frame->size())))
          co_return ChannelClosed{"unparseable frame from the agent"};
        reader_.releaseIfDrained();  // the frame is parsed: a 6 MB buffer need not wait
        switch (message.kind_case()) {
          case agent::AgentMessage::kLog:
            if (sink_) sink_(LogLine{message.log().request_id(), message.log().line()});
            continue;
          case agent::AgentMessage::kReady:
            co_return RuntimeReady{};
          case agent::AgentMessage::kResult: {
            agent::Result& result = *message.mutable_result();
            co_return InvocationResult{result.request_id(), result.function_error(),
                                       std::move(*result.mutable_payload()), result.error_type(),
                                       result.streamed()};
          }
          case agent::AgentMessage::kResponseChunk: {
            agent::ResponseChunk& chunk = *message.mutable_response_chunk();
            co_return ResponseChunk{chunk.request_id(), std::move(*chunk.mutable_data()),
                                    chunk.content_type()};
          }
          case agent::AgentMessage::kInitError:
            co_return InitFailure{message.init_error().error_type(),
                                  message.init_error().payload()};
          case agent::AgentMessage::kRuntimeExited: {
            const agent::RuntimeExited& exited = message.runtime_exited();
            co_return RuntimeExit{exited.signaled(), exited.code(), exited.signal(),
                                  exited.between_invocations()};
          }
          case agent::AgentMessage::KIND_NOT_SET:
            continue;
        }
      }
      if (reader_.oversized()) co_return ChannelClosed{"oversized frame from the agent"};
      // Straight into the frame buffer, sized for the whole frame once its
      // length is in: a 6 MB result is read in a few large reads, not copied.
      boost::system::error_code ec;
      std::string_view room = reader_.prepare(kReadBytes);
      size_t n = co_await socket_.async_read_some(
          asio::buffer(const_cast<char*>(room.data()), room.size()),
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return ChannelClosed{ec.message()};
      reader_.commit(n);
    }
  }

  asio::awaitable<void> shutdown() override {
    agent::HostMessage message;
    message.mutable_shutdown()->set_grace_ms(500);
    (void)co_await write(message);
  }

 private:
  asio::awaitable<Status> write(const agent::HostMessage& message) {
    std::string frame;
    agent::appendFrame(frame, message.SerializeAsString());
    boost::system::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(frame),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Error("write to wick-agent: " + ec.message(), ec.value());
    co_return Status{};
  }

  asio::local::stream_protocol::socket socket_;
  LogSink sink_;
  agent::FrameReader reader_;
  static constexpr size_t kReadBytes = 64u << 10;
};

}  // namespace

ChannelFactory agentChannelFactory() {
  return [](asio::any_io_executor executor, UniqueFd host_socket,
            LogSink sink) -> std::unique_ptr<AgentChannel> {
    return std::make_unique<WireChannel>(std::move(executor), std::move(host_socket),
                                         std::move(sink));
  };
}

}  // namespace wick::invoke
