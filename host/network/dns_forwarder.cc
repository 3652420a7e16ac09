#include "host/network/dns_forwarder.h"

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <map>
#include <thread>

namespace wick::network {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

namespace {

constexpr auto kUdpAnswerWait = std::chrono::seconds(2);  // per upstream; stub resolvers retry
constexpr size_t kMaxTcpClients = 128;
// One client address (one sandbox) takes at most this many TCP connections,
// and an eighth of the UDP queries in flight: it cannot starve the others.
constexpr size_t kMaxTcpClientsPerAddress = 16;
constexpr size_t kUdpShareOfOneAddress = 8;
constexpr size_t kHeaderBytes = 12;  // a DNS message is at least its header

Result<asio::ip::address> parseAddress(const std::string& text) {
  error_code ec;
  auto address = asio::ip::make_address(text, ec);
  if (ec) return Error("DNS forwarder: not an IP address: '" + text + "'", EINVAL);
  return address;
}

// "127.0.0.53", "127.0.0.53:5353" or "[::1]:53".
Result<std::pair<asio::ip::address, uint16_t>> parseUpstream(const std::string& text) {
  std::string host = text;
  uint16_t port = 53;
  const size_t colon = text.rfind(':');
  const bool bracketed = !text.empty() && text.front() == '[';
  if (colon != std::string::npos && (bracketed || text.find(':') == colon)) {
    host = text.substr(0, colon);
    const std::string digits = text.substr(colon + 1);
    unsigned long value = 0;
    try {
      value = std::stoul(digits);
    } catch (const std::exception&) {
      return Error("DNS forwarder: bad upstream port in '" + text + "'", EINVAL);
    }
    if (value == 0 || value > 65535)
      return Error("DNS forwarder: bad upstream port in '" + text + "'", EINVAL);
    port = static_cast<uint16_t>(value);
    if (bracketed && host.size() >= 2) host = host.substr(1, host.size() - 2);
  }
  auto address = parseAddress(host);
  if (!address) return std::move(address).error();
  return std::pair{*address, port};
}

// What one client address holds (UDP queries in flight, TCP connections),
// counted down when the holder goes.
class PerAddress {
 public:
  bool full(const asio::ip::address& address, size_t limit) const {
    auto found = counts_.find(address);
    return found != counts_.end() && found->second >= limit;
  }
  void add(const asio::ip::address& address) { ++counts_[address]; }
  void remove(const asio::ip::address& address) {
    auto found = counts_.find(address);
    if (found != counts_.end() && --found->second == 0) counts_.erase(found);
  }

 private:
  std::map<asio::ip::address, size_t> counts_;
};

// Whichever finishes first: the operations, or the timer closing the socket.
// Closed, not cancelled: a cancel finds nothing to cancel when the timer fires
// between two operations, and the next one would wait unbounded.
template <typename Socket>
void closeAfter(asio::steady_timer& timer, const std::shared_ptr<Socket>& socket,
                std::chrono::steady_clock::duration wait) {
  timer.expires_after(wait);
  timer.async_wait([socket](const error_code& ec) {
    error_code ignored;
    if (!ec) socket->close(ignored);
  });
}

}  // namespace

class DnsForwarder::Impl {
 public:
  Impl(size_t max_in_flight, std::chrono::milliseconds tcp_idle)
      : max_in_flight_(max_in_flight), tcp_idle_(tcp_idle) {}

  Status open(const DnsForwarderOptions& options) {
    for (const auto& text : options.upstreams) {
      auto upstream = parseUpstream(text);
      if (!upstream) return std::move(upstream).error();
      udp_upstreams_.emplace_back(upstream->first, upstream->second);
      tcp_upstreams_.emplace_back(upstream->first, upstream->second);
    }
    if (udp_upstreams_.empty()) return Error("DNS forwarder: no upstream resolver", EINVAL);
    auto address = parseAddress(options.listen_address);
    if (!address) return std::move(address).error();
    const std::string where = options.listen_address + ":" + std::to_string(options.port);
    error_code ec;
    udp_.open(address->is_v4() ? udp::v4() : udp::v6(), ec);
    if (!ec) udp_.bind({*address, options.port}, ec);
    if (ec) return Error("DNS forwarder: bind udp " + where + ": " + ec.message(), ec.value());
    acceptor_.open(address->is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind({*address, options.port}, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error("DNS forwarder: listen tcp " + where + ": " + ec.message(), ec.value());
    asio::co_spawn(io_, serveUdp(), asio::detached);
    asio::co_spawn(io_, serveTcp(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    return {};
  }

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  Stats stats() const {
    return {udp_queries_.load(), tcp_queries_.load(), answered_.load(), dropped_.load()};
  }

 private:
  asio::awaitable<void> serveUdp() {
    for (;;) {
      auto query = std::make_shared<std::vector<uint8_t>>(65535);
      udp::endpoint client;
      error_code ec;
      const size_t n = co_await udp_.async_receive_from(
          asio::buffer(*query), client, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec || n < kHeaderBytes) continue;  // not a DNS message
      query->resize(n);
      ++udp_queries_;
      const size_t share = std::max<size_t>(max_in_flight_ / kUdpShareOfOneAddress, 1);
      if (in_flight_ >= max_in_flight_ || udp_by_address_.full(client.address(), share)) {
        ++dropped_;  // the stub resolver asks again
        continue;
      }
      ++in_flight_;
      udp_by_address_.add(client.address());
      asio::co_spawn(io_, relayUdp(std::move(query), client), asio::detached);
    }
  }

  asio::awaitable<void> relayUdp(std::shared_ptr<std::vector<uint8_t>> query,
                                 udp::endpoint client) {
    struct Done {
      size_t& in_flight;
      PerAddress& by_address;
      asio::ip::address address;
      ~Done() {
        --in_flight;
        by_address.remove(address);
      }
    } done{in_flight_, udp_by_address_, client.address()};
    std::array<uint8_t, 65535> answer;
    for (const auto& upstream : udp_upstreams_) {
      auto socket = std::make_shared<udp::socket>(io_);
      error_code ec;
      socket->open(upstream.protocol(), ec);
      // Connected: only the upstream's datagrams are received.
      if (!ec) socket->connect(upstream, ec);
      if (ec) continue;
      co_await socket->async_send(asio::buffer(*query),
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      asio::steady_timer timer(io_);
      closeAfter(timer, socket, kUdpAnswerWait);
      size_t n = 0;
      for (;;) {
        n = co_await socket->async_receive(asio::buffer(answer),
                                           asio::redirect_error(asio::use_awaitable, ec));
        // An answer to another query (a late one) is not ours: keep waiting.
        if (ec || (n >= kHeaderBytes && answer[0] == (*query)[0] && answer[1] == (*query)[1]))
          break;
      }
      timer.cancel();
      if (ec) continue;
      ++answered_;
      co_await udp_.async_send_to(asio::buffer(answer.data(), n), client,
                                  asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    ++dropped_;
  }

  asio::awaitable<void> serveTcp() {
    for (;;) {
      error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      const auto peer = socket.remote_endpoint(ec);
      if (ec) continue;
      // Closed: the client retries.
      if (tcp_clients_ >= kMaxTcpClients ||
          tcp_by_address_.full(peer.address(), kMaxTcpClientsPerAddress))
        continue;
      ++tcp_clients_;
      tcp_by_address_.add(peer.address());
      asio::co_spawn(io_,
                     relayTcp(std::make_shared<tcp::socket>(std::move(socket)), peer.address()),
                     asio::detached);
    }
  }

  // Length-prefixed messages (RFC 1035 4.2.2), one after another until the
  // client closes or idles; each relayed on a connection of its own.
  asio::awaitable<void> relayTcp(std::shared_ptr<tcp::socket> client, asio::ip::address address) {
    struct Done {
      size_t& clients;
      PerAddress& by_address;
      asio::ip::address address;
      ~Done() {
        --clients;
        by_address.remove(address);
      }
    } done{tcp_clients_, tcp_by_address_, address};
    std::vector<uint8_t> message;
    for (;;) {
      asio::steady_timer idle(io_);
      closeAfter(idle, client, tcp_idle_);
      error_code ec;
      std::array<uint8_t, 2> length{};
      co_await asio::async_read(*client, asio::buffer(length),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      message.resize(static_cast<size_t>(length[0]) << 8 | length[1]);
      co_await asio::async_read(*client, asio::buffer(message),
                                asio::redirect_error(asio::use_awaitable, ec));
      idle.cancel();
      if (ec || message.size() < kHeaderBytes) co_return;
      ++tcp_queries_;
      auto answer = co_await askOverTcp(length, message);
      if (answer.empty()) {
        ++dropped_;
        co_return;  // closing tells the stub to try its next server
      }
      ++answered_;
      // A client that does not take its answer is not waited for either.
      asio::steady_timer taking(io_);
      closeAfter(taking, client, tcp_idle_);
      co_await asio::async_write(*client, asio::buffer(answer),
                                 asio::redirect_error(asio::use_awaitable, ec));
      taking.cancel();
      if (ec) co_return;
    }
  }

  // The answer with its length prefix, or nothing if no upstream gave one.
  asio::awaitable<std::vector<uint8_t>> askOverTcp(std::array<uint8_t, 2> length,
                                                   const std::vector<uint8_t>& message) {
    for (const auto& upstream : tcp_upstreams_) {
      auto socket = std::make_shared<tcp::socket>(io_);
      asio::steady_timer timer(io_);
      closeAfter(timer, socket, tcp_idle_);
      error_code ec;
      co_await socket->async_connect(upstream, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      std::array<asio::const_buffer, 2> request{asio::buffer(length), asio::buffer(message)};
      co_await asio::async_write(*socket, request, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      std::vector<uint8_t> answer(2);
      co_await asio::async_read(*socket, asio::buffer(answer),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      const size_t size = static_cast<size_t>(answer[0]) << 8 | answer[1];
      answer.resize(2 + size);
      co_await asio::async_read(*socket, asio::buffer(answer.data() + 2, size),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      co_return answer;
    }
    co_return std::vector<uint8_t>{};
  }

  // Declared before io_: coroutines still pending when io_ goes are destroyed
  // with it, and their guards count down these.
  const size_t max_in_flight_;
  const std::chrono::milliseconds tcp_idle_;
  size_t in_flight_ = 0;                        // the io thread's alone
  size_t tcp_clients_ = 0;                      // likewise
  PerAddress udp_by_address_, tcp_by_address_;  // likewise
  std::atomic<uint64_t> udp_queries_{0}, tcp_queries_{0}, answered_{0}, dropped_{0};
  std::vector<udp::endpoint> udp_upstreams_;
  std::vector<tcp::endpoint> tcp_upstreams_;
  asio::io_context io_{1};
  udp::socket udp_{io_};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

Result<std::unique_ptr<DnsForwarder>> DnsForwarder::start(const DnsForwarderOptions& options) {
  auto impl = std::make_unique<Impl>(std::max<size_t>(options.max_in_flight, 1), options.tcp_idle);
  WICK_TRY(impl->open(options), "start the DNS forwarder");
  return std::unique_ptr<DnsForwarder>(new DnsForwarder(std::move(impl)));
}

DnsForwarder::DnsForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DnsForwarder::~DnsForwarder() = default;

DnsForwarder::Stats DnsForwarder::stats() const {
  return impl_->stats();
}

}  // namespace wick::network
