// SIGTERM and SIGINT: stop accepting, let in-flight invocations finish (the
// async dispatcher and the schedule runner stop first), then stop the I/O
// loop; main then destroys every sandbox and exits 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>

#include "host/daemon/api_parts.h"
#include "host/daemon/invoke_path.h"
#include "host/daemon/listeners.h"

namespace wick::daemon {

// The signal set that drains on the first signal; keep it while io runs.
std::unique_ptr<boost::asio::signal_set> drainOnSignal(boost::asio::io_context& io,
                                                       Listeners& listeners, ApiParts& parts,
                                                       InvokePath& path);

}  // namespace wick::daemon
