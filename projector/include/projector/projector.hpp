#pragma once
// Runs read models: reads the log after their checkpoints and applies each batch and the new
// checkpoints in one transaction, so a crash never double-applies or loses an event.
// Only the instance holding the model's advisory lock applies; others wait as standbys and
// take over when the leader's session ends (its process died).
#include "events/doorbell.hpp"
#include "projector/read_model.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>

namespace projector {

struct Settings {
  std::string schema = "read";  // where the live read models live
  std::size_t batch = 500;
  std::chrono::milliseconds idle_poll{20};  // when idle, look again after this (or when rung)
  std::shared_ptr<events::Doorbell> wake;    // rung on append hints (bus/hints.hpp); may be null
  std::chrono::milliseconds standby_poll{250};
  bool record_dead_letters = true;  // off for replays: the live projector already recorded them
  // Send a batch's writes with its commit, in one round trip (writes.hpp). Off for replays: their
  // batches are thousands of rows, better sent as bound parameters than as SQL literals.
  bool defer_writes = true;
};

// Creates the schema, the models' tables and the checkpoint table when missing.
events::Result<void> ensure_schema(const std::string& pg_connection, const std::string& schema,
                                   const std::vector<std::unique_ptr<ReadModel>>& models);

class Projector {
 public:
  Projector(const ReadModel& model, const std::string& pg_connection, Settings settings);
  // Several models in one thread: each batch is read once and applied to all of them in one
  // transaction (one commit per batch instead of one per model).
  Projector(std::vector<const ReadModel*> models, const std::string& pg_connection, Settings settings);
  ~Projector();

  // Leader election and projection until stop is requested. Blocking: give it a thread.
  void run(std::stop_token stop);
  // Applies what is in the log up to `up_to` (inclusive), without leadership (replays).
  events::Result<std::int64_t> catch_up(std::int64_t up_to);
  // Applies a batch read by someone else (a replay reads the log once for several projectors),
  // without leadership. Batches must come in order, each after the last (what a model already
  // has is skipped).
  events::Result<void> apply(const std::vector<events::RecordedEvent>& batch);

  bool leader() const { return leader_.load(); }
  std::int64_t position() const { return position_.load(); }  // the lowest of its models'

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
