#pragma once
// HTTP types shared by the server, the router and the handlers.
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <string>

namespace command_service {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(http::status status, const boost::json::value& body, unsigned version = 11);
// The API's error body: {statusCode, message, error, code?} (what the Daytona SDK reads).
Response error_response(http::status status, const std::string& message, const std::string& code = {});

}  // namespace command_service
