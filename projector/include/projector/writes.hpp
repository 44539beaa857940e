#pragma once
// Where a read model sends its part of a batch's writes. A live batch defers them: they reach
// PostgreSQL together with the batch's BEGIN, checkpoint update and COMMIT, in one round trip,
// each as an SQL EXECUTE of the model's prepared statement (so its plan is kept). Replays, and
// the slow path after a failed batch, run them at once.
#include <string>

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace projector {

class Writes {
 public:
  // Runs every write at once on `tx`, which is already a transaction.
  explicit Writes(pqxx::transaction_base& tx);
  // Defers the writes; `tx` has no transaction open yet (a pqxx::nontransaction).
  static Writes deferred(pqxx::transaction_base& tx);

  // Runs the prepared statement `statement` with one text argument: now, or with the commit.
  void execute(const std::string& statement, const std::string& argument);
  // Opens the transaction and runs what was deferred so far: for a model about to write through
  // `tx` itself (a COPY, its statements event by event).
  void open();
  // What is still to send before the checkpoint update and COMMIT (BEGIN too, when not opened).
  std::string take();

 private:
  Writes(pqxx::transaction_base& tx, bool defer);
  pqxx::transaction_base& tx_;
  bool defer_;
  bool opened_;
  std::string pending_;
};

}  // namespace projector
