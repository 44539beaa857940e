#pragma once
// The platform as the CLI calls it: JSON to and from the API (the key as a bearer token) and to
// a sandbox's toolbox through the proxy, each failure turned into the exit code a script can
// trust (Exit) and the platform's own message.
#include "command_service/cli/config.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace command_service::cli {

// The CLI's exit codes (`daytona --help` lists them).
enum class Exit : int { ok = 0, failed = 1, usage = 2, not_found = 3, unauthorized = 4, unavailable = 5 };

struct Reply {
  Exit exit = Exit::ok;
  std::string message;  // why, when not ok
  boost::json::value body;
  bool ok() const { return exit == Exit::ok; }
};

// The exit code for an HTTP status (2xx: ok).
Exit exit_for_status(int status);

// Polls a sandbox until it reaches `state` (or errs), at most `timeout`; `on_wait` is called
// between polls (a progress indicator).
class Client;
Reply wait_for_state(Client& client, const std::string& id, const std::string& state, std::chrono::seconds timeout,
                     const std::function<void()>& on_wait = {});
// A sandbox's toolbox base URL through the proxy ("<toolboxProxyUrl>/<id>"), from its id or name.
Reply toolbox_of(Client& client, const std::string& id_or_name);

// Whether `url` answers 2xx to a GET carrying no credential of ours (a preview: the sandbox's own
// server sees the request's headers, so the API key must never go there).
bool answers_without_key(const std::string& url);

class Client {
 public:
  explicit Client(Config config) : config_(std::move(config)) {}
  // `path` under the API URL ("/sandbox"); `body` JSON text or empty.
  Reply api(const std::string& method, const std::string& path, const std::string& body = "");
  // A whole URL (a sandbox's toolbox through the proxy), with the same key; `content_type` for a
  // body that is not JSON (a multipart upload). A body that is not JSON comes back as a string.
  Reply url(const std::string& method, const std::string& url, const std::string& body = "",
            const std::string& content_type = "");
  // Follows a server-sent event stream under the API URL: `on_data` gets each event's data until
  // it returns false or the stream ends.
  Reply follow(const std::string& path, const std::function<bool(const std::string&)>& on_data);
  const Config& config() const { return config_; }

 private:
  Config config_;
};

}  // namespace command_service::cli
