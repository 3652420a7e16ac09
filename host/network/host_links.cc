#include "host/network/host_links.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/unique_fd.h"

namespace wick::network {

namespace {

// Sends one rtnetlink request and reads its ack.
Status sendRequest(const void* request, size_t size, const std::string& what) {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) return Error::fromErrno(what + ": netlink socket");
  if (::send(sock.get(), request, size, 0) < 0) return Error::fromErrno(what + ": send");
  char reply[4096];
  ssize_t n = ::recv(sock.get(), reply, sizeof reply, 0);
  if (n < 0) return Error::fromErrno(what + ": receive ack");
  auto* header = reinterpret_cast<nlmsghdr*>(reply);
  if (n >= static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr)) &&
      header->nlmsg_type == NLMSG_ERROR) {
    int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(header))->error;
    if (err != 0 && err != ENODEV) return Error::fromErrno(what, err);
  }
  return {};
}

Status deleteLink(unsigned index, const std::string& name) {
  struct {
    nlmsghdr header;
    ifinfomsg info;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_DELLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = 1;
  request.info.ifi_family = AF_UNSPEC;
  request.info.ifi_index = static_cast<int>(index);
  return sendRequest(&request, sizeof request, "delete link " + name);
}

}  // namespace

bool linkExists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

Status isolateBridgePort(const std::string& port) {
  const std::string what = "isolate bridge port " + port;
  unsigned index = ::if_nametoindex(port.c_str());
  if (index == 0) return Error::fromErrno(what);
  struct {
    nlmsghdr header;
    ifinfomsg info;
    rtattr protinfo;
    rtattr isolated;
    uint8_t value;
    uint8_t padding[3];
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_SETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = 1;
  request.info.ifi_family = AF_BRIDGE;
  request.info.ifi_index = static_cast<int>(index);
  request.protinfo.rta_type = IFLA_PROTINFO | NLA_F_NESTED;
  request.protinfo.rta_len = sizeof(rtattr) * 2 + 4;
  request.isolated.rta_type = IFLA_BRPORT_ISOLATED;
  request.isolated.rta_len = sizeof(rtattr) + 1;
  request.value = 1;
  return sendRequest(&request, sizeof request, what);
}

bool bridgeHasPorts(const std::string& name) {
  std::error_code ec;
  std::filesystem::directory_iterator ports("/sys/class/net/" + name + "/brif", ec);
  return !ec && ports != std::filesystem::directory_iterator();
}

Result<bool> deleteBridgeIfUnused(const std::string& name) {
  unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return false;
  std::error_code ec;
  std::filesystem::directory_iterator ports("/sys/class/net/" + name + "/brif", ec);
  if (ec) return Error("list ports of bridge " + name + ": " + ec.message(), ec.value());
  if (ports != std::filesystem::directory_iterator()) return false;
  WICK_TRY(deleteLink(index, name), "remove unused bridge");
  return true;
}

}  // namespace wick::network
