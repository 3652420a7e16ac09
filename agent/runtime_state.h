// The runtime's life as the agent sees it (contract 1.7): one state and the
// moves the contract allows between them, in place of a flag per fact.
#pragma once

namespace wick::agent {

enum class RuntimeState {
  kAwaitingStart,       // no Start from the host yet
  kInitializing,        // extensions and the runtime start; the runtime has not called next
  kAwaitingExtensions,  // the runtime waits in next; an extension is still initialising
  kReady,               // Ready sent: invocations flow
  kInitFailed,          // an init error went to the host
  kStopping,            // Shutdown or SIGTERM: the runtime is being ended
  kExited,              // the runtime was reaped
};

class RuntimeLifecycle {
 public:
  RuntimeState state() const { return state_; }
  bool is(RuntimeState state) const { return state_ == state; }
  // Init is under way (neither Ready nor failed, nor stopped).
  bool initializing() const {
    return state_ == RuntimeState::kInitializing || state_ == RuntimeState::kAwaitingExtensions;
  }
  // The runtime is over or being ended: nothing new starts.
  bool ending() const {
    return state_ == RuntimeState::kStopping || state_ == RuntimeState::kExited;
  }
  // Ready went to the host at some point (the runtime took part in invocations).
  bool wasReady() const { return was_ready_; }

  // Moves to `next` when the contract allows it; false (and no change) otherwise.
  bool moveTo(RuntimeState next) {
    if (!allowed(state_, next)) return false;
    state_ = next;
    was_ready_ = was_ready_ || next == RuntimeState::kReady;
    return true;
  }

 private:
  static bool allowed(RuntimeState from, RuntimeState to) {
    using S = RuntimeState;
    switch (to) {
      case S::kAwaitingStart:
        return false;
      case S::kInitializing:
        return from == S::kAwaitingStart;
      case S::kAwaitingExtensions:
        return from == S::kInitializing;
      case S::kReady:
        return from == S::kAwaitingExtensions;
      case S::kInitFailed:
        return from == S::kInitializing || from == S::kAwaitingExtensions;
      case S::kStopping:
        return from != S::kStopping && from != S::kExited;
      case S::kExited:
        return from != S::kExited;
    }
    return false;
  }

  RuntimeState state_ = RuntimeState::kAwaitingStart;
  bool was_ready_ = false;
};

}  // namespace wick::agent
