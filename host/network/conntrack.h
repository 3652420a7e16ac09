// Connection-tracking entries of an address that is given back: a later
// sandbox with the same address must not inherit its NAT state.
#pragma once

#include <string>

#include "common/error.h"

namespace wick::network {

// Deletes every conntrack entry from or to `address` (conntrack(8), Debian's
// `conntrack` package). Nothing to delete is not an error.
Status flushConntrack(const std::string& address);

}  // namespace wick::network
