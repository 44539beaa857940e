#pragma once
// The runner's links to the platform: the API (registration, heartbeats, what the log says
// its sandboxes should be) over HTTP with the admin key, and its reports over NATS.
#include "events/bus/requests.hpp"
#include "events/http/client.hpp"
#include "events/url.hpp"
#include "events/bus/reports.hpp"

#include <boost/json.hpp>

#include <stop_token>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace runner {

class ApiClient {
 public:
  // `api_url`: e.g. http://127.0.0.1:3000/api
  ApiClient(const std::string& api_url, std::string admin_key);
  ~ApiClient();
  // The response body (a JSON object); an error carries the API's message, or unavailable.
  // Thread-safe: each call borrows one of the kept connections (events/http/client.hpp).
  events::Result<boost::json::object> call(const std::string& method, const std::string& path,
                                           const std::string& body = {}) const;

 private:
  events::url::Endpoint endpoint_;
  std::string key_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<events::http::Client>> idle_;
};

class Reporter {
 public:
  Reporter(events::bus::Requests& bus, std::string runner_id);
  // Sends the report, again and again until the platform answers (or stop is requested).
  // A refusal (late, duplicate, ...) is an answer: returned, for the caller to judge.
  events::bus::ReportReply send(const events::bus::RunnerReport& report, const std::stop_token& stop);

 private:
  events::bus::Requests& bus_;
  std::string subject_;
};

}  // namespace runner
