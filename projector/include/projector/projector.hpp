#pragma once
// Runs one read model: reads the log after the model's checkpoint and applies each batch and
// the new checkpoint in one transaction, so a crash never double-applies or loses an event.
// Only the instance holding the model's advisory lock applies; others wait as standbys and
// take over when the leader's session ends (its process died).
#include "projector/read_model.hpp"

#include <atomic>
#include <chrono>
#include <stop_token>

namespace projector {

struct Settings {
  std::string schema = "read";  // where the live read models live
  std::size_t batch = 500;
  std::chrono::milliseconds idle_poll{20};
  std::chrono::milliseconds standby_poll{250};
  bool record_dead_letters = true;  // off for replays: the live projector already recorded them
};

// Creates the schema, the models' tables and the checkpoint table when missing.
events::Result<void> ensure_schema(const std::string& pg_connection, const std::string& schema,
                                   const std::vector<std::unique_ptr<ReadModel>>& models);

class Projector {
 public:
  Projector(const ReadModel& model, const std::string& pg_connection, Settings settings);
  ~Projector();

  // Leader election and projection until stop is requested. Blocking: give it a thread.
  void run(std::stop_token stop);
  // Applies what is in the log up to `up_to` (inclusive), without leadership (replays).
  events::Result<std::int64_t> catch_up(std::int64_t up_to);

  bool leader() const { return leader_.load(); }
  std::int64_t position() const { return position_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> leader_{false};
  std::atomic<std::int64_t> position_{0};
};

// The position a model's projection has reached in `schema` (0 when never run).
events::Result<std::int64_t> checkpoint_of(const std::string& pg_connection, const std::string& schema,
                                           const std::string& model);

}  // namespace projector
