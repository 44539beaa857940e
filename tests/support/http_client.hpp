#pragma once
// A small synchronous HTTP/1.1 client for tests (Boost.Beast), one connection per call.
#include <boost/beast/http.hpp>

#include <map>
#include <string>

namespace testing_support {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

HttpReply http_call(int port, const std::string& method, const std::string& target, const std::string& body = {},
                    const std::map<std::string, std::string>& headers = {});

}  // namespace testing_support
