// What a CNI ADD returns (the spec's "Success" result): the addresses given to
// the sandbox's interface, their gateway, DNS settings. The raw JSON is kept:
// it is the prevResult of the next plugin in the chain, and of DEL.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct CniResult {
  nlohmann::json raw;
  std::vector<std::string> addresses;  // CIDR, e.g. 10.131.0.5/16
  std::string gateway;                 // of the first IPv4 address, if any
  std::vector<std::string> nameservers;
  std::vector<std::string> search;

  // The first IPv4 address without its prefix length ("" if none).
  std::string ipv4() const;
};

Result<CniResult> parseCniResult(const std::string& text);

}  // namespace wick::network
