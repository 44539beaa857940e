#pragma once
// HTTP types shared by the server, the router and the handlers.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <functional>
#include <string>

namespace command_service {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A handler may take the connection over instead of answering (server-sent events, WebSocket):
// the server hands it the stream and the request (it may move them out), writes nothing itself,
// and closes the connection when it returns.
using Takeover = std::function<boost::asio::awaitable<void>(boost::beast::tcp_stream&, Request&)>;

// What the server sends: the response, or (when set) the takeover.
struct Reply {
  Response response;
  Takeover takeover;
};

Response json_response(http::status status, const boost::json::value& body, unsigned version = 11);
// The API's error body: {statusCode, message, error, code?} (what the Daytona SDK reads).
Response error_response(http::status status, const std::string& message, const std::string& code = {});
// 503 with Retry-After: a dependency (PostgreSQL, NATS) is down; the request may be retried.
Response unavailable_response(const std::string& message);

}  // namespace command_service
