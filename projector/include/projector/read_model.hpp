#pragma once
// A read model: tables built from the log. Models write only to unqualified table names; the
// projector's connection sets search_path, so the same model fills the live schema or a
// scratch one (replay). Every value comes from the events (timestamps from recorded_at,
// never now()), so replaying the log rebuilds the same rows.
#include "events/store/recorded_event.hpp"
#include "projector/writes.hpp"

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace projector {

struct Table {
  std::string name;
  std::string order_by;  // a key, for stable diffs
};

class ReadModel {
 public:
  virtual ~ReadModel() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Table> tables() const = 0;
  // CREATE TABLE IF NOT EXISTS statements, unqualified.
  virtual std::string ddl() const = 0;
  virtual void prepare(pqxx::connection_base& conn) const = 0;
  // Applies one event inside the batch's transaction; events of no interest are ignored. An
  // event that cannot be read is an error value: the projector dead-letters it and goes on.
  virtual events::Result<void> apply(pqxx::transaction_base& tx, const events::RecordedEvent& e) const = 0;
  // Whether `apply` does anything with `e`. A model left to the default apply_batch opens the
  // batch's transaction (a round trip) only for a batch that holds such an event.
  virtual bool wants(const events::RecordedEvent& e) const = 0;
  // Applies a batch, in order. By default event by event, in the opened transaction; the models
  // on the hot path write set-wise instead (one statement per table per batch, see set_wise.hpp),
  // reading through `tx` and handing their writes to `writes`. An error fails the whole batch,
  // and the projector applies it again event by event to find and dead-letter the one that
  // cannot be read.
  virtual events::Result<void> apply_batch(pqxx::transaction_base& tx, std::span<const events::RecordedEvent> batch,
                                           Writes& writes) const {
    if (std::none_of(batch.begin(), batch.end(), [this](const auto& e) { return wants(e); })) return {};
    writes.open();
    for (const auto& e : batch) {
      auto applied = apply(tx, e);
      if (!applied) return applied;
    }
    return {};
  }
};

// Every read model the platform serves.
std::vector<std::unique_ptr<ReadModel>> all_models();
// Borrowed pointers to `models`, for a Projector that runs them together.
std::vector<const ReadModel*> borrow(const std::vector<std::unique_ptr<ReadModel>>& models);

}  // namespace projector
