#pragma once
// Where a read model sends its part of a batch's writes. A live batch defers them: they reach
// PostgreSQL together with the batch's BEGIN, checkpoint update and COMMIT, in one round trip,
// each as an SQL EXECUTE of the model's prepared statement (so its plan is kept). Replays, and
// the slow path after a failed batch, run them at once.
#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <unordered_map>

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace projector {

// Rows the set-wise models of one projector read or wrote in its earlier batches, by table and
// key. The projector that leads (or replays into its own schema) is their only writer, so it need
// not read them back. It forgets them all when a batch fails, and when it connects again.
class RememberedRows {
 public:
  const boost::json::object* find(const std::string& table, const std::string& key) const;
  void put(const std::string& table, const std::string& key, const boost::json::object& row);
  void forget(const std::string& table, const std::string& key);
  void clear() { tables_.clear(); }

 private:
  static constexpr std::size_t kMostPerTable = 4096;  // then that table starts again, empty (a row is a few KiB)
  std::map<std::string, std::unordered_map<std::string, boost::json::object>> tables_;
};

class Writes {
 public:
  // Runs every write at once on `tx`, which is already a transaction.
  explicit Writes(pqxx::transaction_base& tx);
  // Defers the writes; `tx` has no transaction open yet (a pqxx::nontransaction). `remembered`
  // may be null.
  static Writes deferred(pqxx::transaction_base& tx, RememberedRows* remembered);

  // Runs the prepared statement `statement` with one text argument: now, or with the commit.
  void execute(const std::string& statement, const std::string& argument);
  // Opens the transaction and runs what was deferred so far: for a model about to write through
  // `tx` itself (a COPY, its statements event by event).
  void open();
  // What to send before the checkpoint update and COMMIT: BEGIN and the deferred writes, or
  // nothing when the transaction was opened (its writes have run).
  std::string before_commit() const;
  // The projector's remembered rows, or null (the slow path, event by event).
  RememberedRows* remembered() const { return remembered_; }

 private:
  Writes(pqxx::transaction_base& tx, bool defer, RememberedRows* remembered);
  pqxx::transaction_base& tx_;
  bool opened_;
  RememberedRows* remembered_;
  std::string pending_;
};

}  // namespace projector
