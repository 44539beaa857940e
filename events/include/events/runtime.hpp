#pragma once
// Small pieces the long-running loops (relay, subscriber, projector) share.
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <stop_token>
#include <thread>

namespace events {

// Sleeps for `d`, returning early when stop is requested.
inline void nap(const std::stop_token& stop, std::chrono::milliseconds d) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait_for(lock, stop, d, [] { return false; });
}

// The module's named logger ("relay", "subscriber", ...), made once.
inline std::shared_ptr<spdlog::logger> module_logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto made = spdlog::default_logger()->clone(name);
  spdlog::register_logger(made);
  return made;
}

}  // namespace events
