// Function URLs as the daemon runs them: the store (urls.db in the state
// directory), the control-plane API and the URL listener, from the config's
// url_* fields. AWS_IAM URLs verify signatures with the API's verifier
// (daemon/api_access.h), so they know the same principals.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "common/error.h"
#include "host/api/function_url_api.h"
#include "host/auth/request_verifier.h"
#include "host/http/server.h"
#include "host/urls/url_gateway.h"
#include "wickd_config.pb.h"  // generated in the build tree

namespace wick::daemon {

class FunctionUrls {
 public:
  static Result<std::unique_ptr<FunctionUrls>> open(const DaemonConfig& config,
                                                    boost::asio::io_context& io,
                                                    functions::FunctionService& functions,
                                                    invoke::Invoker* invoker,
                                                    boost::asio::thread_pool& workers,
                                                    const auth::RequestVerifier* verifier);
  api::FunctionUrlApi& api() { return *api_; }
  // Starts the URL listener (unless url_listen is ""). The default address
  // when taken is a warning, a configured one an error.
  Status listen();
  void stopAccepting() {
    if (server_) server_->stopAccepting();
  }

 private:
  FunctionUrls() = default;

  std::string listen_address_;
  bool listen_configured_ = false;
  std::unique_ptr<urls::UrlStore> store_;
  std::unique_ptr<urls::UrlDirectory> directory_;
  urls::PublicBase base_;
  std::unique_ptr<api::FunctionUrlApi> api_;
  std::unique_ptr<urls::UrlGateway> gateway_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace wick::daemon
