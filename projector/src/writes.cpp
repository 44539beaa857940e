#include "projector/writes.hpp"

#include <pqxx/pqxx>

namespace projector {

Writes::Writes(pqxx::transaction_base& tx) : Writes(tx, false) {}

Writes::Writes(pqxx::transaction_base& tx, bool defer) : tx_(tx), defer_(defer), opened_(!defer) {}

Writes Writes::deferred(pqxx::transaction_base& tx) { return Writes(tx, true); }

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

std::string Writes::take() {
  std::string out = opened_ ? std::move(pending_) : "begin; " + pending_;
  pending_.clear();
  opened_ = true;
  return out;
}

}  // namespace projector
