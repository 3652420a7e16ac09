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

// wickd's I/O loop. When it stops, coroutines may still be parked on it (an
// idle keep-alive connection, a delivery's retry, an attempt): their frames
// refer to the API parts and the invoke path, which main declares after the
// loop and so destroys first. ~io_context destroyed those frames after them,
// and a frame's destructor then touched freed memory (glibc's "corrupted
// double-linked list" at exit, once in CI). destroyPending() destroys them
// while all they refer to is still there; the objects that outlive it may
// still close their sockets and timers, as asio allows after a shutdown.
class DaemonIo : public boost::asio::io_context {
 public:
  using boost::asio::io_context::io_context;
  void destroyPending() { shutdown(); }
};

// The signal set that drains on the first signal; keep it while io runs.
std::unique_ptr<boost::asio::signal_set> drainOnSignal(boost::asio::io_context& io,
                                                       Listeners& listeners, ApiParts& parts,
                                                       InvokePath& path);

}  // namespace wick::daemon
