#pragma once
// How many connections a server holds at once, in all and per source address, so that one
// client (or one sandbox's code) cannot take every descriptor. A server asks admit() for each
// accepted socket and keeps the slot as long as the connection lives.
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace events {

struct ConnectionLimitSettings {
  int per_source = 256;  // 0: no limit
  int total = 8192;      // 0: no limit
};

class ConnectionLimits {
 public:
  explicit ConnectionLimits(ConnectionLimitSettings settings);

  // Held while the connection lives; empty when it was refused (why() says which limit).
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&&) noexcept = default;
    Slot& operator=(Slot&&) noexcept = default;
    ~Slot();
    explicit operator bool() const { return state_ != nullptr; }

   private:
    friend class ConnectionLimits;
    struct Shared;
    std::shared_ptr<Shared> state_;
    std::string source_;
  };

  enum class Refusal { none, per_source, total };
  // A slot for a connection from `source`, or the limit that refused it.
  Slot admit(const std::string& source, Refusal& refused);
  int open() const;
  int open_from(const std::string& source) const;
  const ConnectionLimitSettings& settings() const { return settings_; }

 private:
  ConnectionLimitSettings settings_;
  std::shared_ptr<Slot::Shared> state_;
};

// Raises this process's open-file limit to its hard limit; returns the new soft limit.
long raise_open_file_limit();

}  // namespace events
