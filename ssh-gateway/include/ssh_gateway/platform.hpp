#pragma once
// What the gateway asks the platform (the API's admin route POST /api/proxy/ssh-access): which
// sandbox a token opens and where it runs. Answers are kept `cache` long (shorter than the time a
// revocation may take to bite); a token the API does not know is kept as refused just as long.
// Thread-safe: every session asks through it.
#include "events/error.hpp"
#include "events/wire/ssh.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace ssh_gateway {

class Platform {
 public:
  Platform(std::string api_url, std::string admin_key, std::chrono::seconds cache);
  // The grant of an active token; not_found for one that opens nothing; unavailable when the API
  // did not answer.
  events::Result<events::wire::SshAccessGrant> access(const std::string& token, const std::string& source);
  // Traffic in the sandbox (port forwarding): defers its auto-stop. Best effort.
  void activity(const std::string& sandbox_id);

 private:
  std::string api_url_;
  std::string admin_key_;
  std::chrono::seconds cache_;
  std::mutex mutex_;
  struct Kept {
    std::chrono::steady_clock::time_point at;
    std::optional<events::wire::SshAccessGrant> grant;  // none: refused
  };
  std::map<std::string, Kept> answers_;  // by token hash
};

}  // namespace ssh_gateway
