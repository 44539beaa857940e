#include "events/conn_limits.hpp"

#include <sys/resource.h>

namespace events {

struct ConnectionLimits::Slot::Shared {
  std::mutex mutex;
  int total = 0;
  std::map<std::string, int> per_source;
};

ConnectionLimits::ConnectionLimits(ConnectionLimitSettings settings)
    : settings_(settings), state_(std::make_shared<Slot::Shared>()) {}

ConnectionLimits::Slot::~Slot() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  --state_->total;
  auto it = state_->per_source.find(source_);
  if (it != state_->per_source.end() && --it->second <= 0) state_->per_source.erase(it);
}

ConnectionLimits::Slot ConnectionLimits::admit(const std::string& source, Refusal& refused) {
  std::lock_guard lock(state_->mutex);
  refused = Refusal::none;
  if (settings_.total > 0 && state_->total >= settings_.total) {
    refused = Refusal::total;
    return {};
  }
  auto& mine = state_->per_source[source];
  if (settings_.per_source > 0 && mine >= settings_.per_source) {
    if (mine == 0) state_->per_source.erase(source);
    refused = Refusal::per_source;
    return {};
  }
  ++mine;
  ++state_->total;
  Slot slot;
  slot.state_ = state_;
  slot.source_ = source;
  return slot;
}

int ConnectionLimits::open() const {
  std::lock_guard lock(state_->mutex);
  return state_->total;
}

int ConnectionLimits::open_from(const std::string& source) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->per_source.find(source);
  return it == state_->per_source.end() ? 0 : it->second;
}

long raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<long>(limit.rlim_cur);
}

}  // namespace events
