#include "projector/writes.hpp"

#include <pqxx/pqxx>

namespace projector {

const boost::json::object* RememberedRows::find(const std::string& table, const std::string& key) const {
  const auto t = tables_.find(table);
  if (t == tables_.end()) return nullptr;
  const auto row = t->second.find(key);
  return row == t->second.end() ? nullptr : &row->second;
}

void RememberedRows::put(const std::string& table, const std::string& key, const boost::json::object& row) {
  auto& rows = tables_[table];
  if (rows.size() >= kMostPerTable && !rows.contains(key)) rows.clear();
  rows[key] = row;
}

void RememberedRows::forget(const std::string& table, const std::string& key) {
  if (const auto t = tables_.find(table); t != tables_.end()) t->second.erase(key);
}

Writes::Writes(pqxx::transaction_base& tx) : Writes(tx, false, nullptr) {}

Writes::Writes(pqxx::transaction_base& tx, bool defer, RememberedRows* remembered)
    : tx_(tx), opened_(!defer), remembered_(remembered) {}

Writes Writes::deferred(pqxx::transaction_base& tx, RememberedRows* remembered) {
  return Writes(tx, true, remembered);
}

void Writes::execute(const std::string& statement, const std::string& argument) {
  if (opened_) {
    tx_.exec_prepared(statement, argument);
    return;
  }
  // libpqxx prepares a statement on its first exec_prepared; EXECUTE needs it on the server now.
  // Statement names are plain identifiers (ours, or events::statement_name's hashes).
  tx_.conn().prepare_now(statement);
  pending_ += "execute " + statement + "(" + tx_.quote(argument) + "); ";
}

void Writes::open() {
  if (opened_) return;
  tx_.exec("begin; " + pending_);
  pending_.clear();
  opened_ = true;
}

std::string Writes::before_commit() const { return opened_ ? std::string() : "begin; " + pending_; }

}  // namespace projector
