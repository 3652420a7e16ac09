#include "common/error.h"

#include <cstring>
#include <string>

namespace wick {

Error Error::fromErrno(std::string_view what, int err_no) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err_no);
  return Error(std::move(message), err_no);
}

Error& Error::context(std::string_view what) & {
  message_.insert(0, std::string(what) + ": ");
  return *this;
}

Error&& Error::context(std::string_view what) && {
  message_.insert(0, std::string(what) + ": ");
  return std::move(*this);
}

}  // namespace wick
