#pragma once
// Set-wise writes: a model folds a batch of events into rows in memory, then writes them with
// one statement per table. Rows travel as one JSON array; PostgreSQL turns it into the table's
// own row type (jsonb_populate_recordset), so the statements need no column lists by hand.
#include "events/catalogue.hpp"
#include "events/store/recorded_event.hpp"
#include "events/store/sql.hpp"
#include "projector/read_model.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace projector::models {

// A model that writes set-wise: it implements apply_batch, and one event is a batch of one
// (written at once: `tx` is already a transaction then).
class SetWiseModel : public ReadModel {
 public:
  // It picks its events in apply_batch.
  bool wants(const events::RecordedEvent&) const final { return true; }
  events::Result<void> apply(pqxx::transaction_base& tx, const events::RecordedEvent& e) const final {
    Writes now(tx);
    return apply_batch(tx, std::span<const events::RecordedEvent>(&e, 1), now);
  }
  events::Result<void> apply_batch(pqxx::transaction_base& tx, std::span<const events::RecordedEvent> batch,
                                   Writes& writes) const override = 0;
};

// A PostgreSQL array literal of plain tokens (uuids, numbers): no quoting needed.
inline std::string plain_array(const std::set<std::string>& items) {
  std::string out = "{";
  for (const auto& i : items) out += (out.size() > 1 ? "," : "") + i;
  return out + "}";
}

// `insert into <table> select * from <rows> on conflict (<key>) do update set <every column>`,
// with the columns read from the catalogue of the connection's schema. Prepared as `name`.
inline void prepare_upsert(pqxx::connection_base& c, const std::string& name, const std::string& table,
                           const std::string& key) {
  std::string sets;
  {
    pqxx::nontransaction tx(c);
    const auto cols = tx.exec_params(
        "select column_name from information_schema.columns where table_schema = current_schema() "
        "and table_name = $1 order by ordinal_position",
        table);
    for (const auto& r : cols) {
      const auto col = tx.quote_name(r[0].c_str());
      if (r[0].c_str() == key) continue;
      sets += (sets.empty() ? "" : ", ") + col + " = excluded." + col;
    }
  }
  c.prepare(name, "insert into " + table + " select * from jsonb_populate_recordset(null::" + table +
                      ", $1::jsonb) on conflict (" + key + ") do update set " + sets);
}

// Rows of one table by key, as JSON objects with the table's column names; `changed` is what to
// write back. Rows the projector remembers from its earlier batches are not read again.
struct Rows {
  std::string table;
  std::string key;  // a uuid column
  std::map<std::string, boost::json::object> by_key;
  std::set<std::string> changed;
  std::set<std::string> removed;  // deleted by the model's own statement

  Rows(std::string table_name, std::string key_column) : table(std::move(table_name)), key(std::move(key_column)) {}

  // Loads the rows whose key is in `keys`.
  void load(pqxx::transaction_base& tx, const Writes& writes, const std::set<std::string>& keys) {
    auto* remembered = writes.remembered();
    std::set<std::string> missing;
    for (const auto& k : keys) {
      const auto* row = remembered != nullptr ? remembered->find(table, k) : nullptr;
      if (row != nullptr) {
        by_key[k] = *row;
      } else {
        missing.insert(k);
      }
    }
    if (missing.empty()) return;
    // Prepared once per connection (events/store/sql.hpp): it runs for every batch.
    const auto rows = events::exec_cached(tx, "select " + key + "::text, row_to_json(t)::text from " + table +
                                                  " t where " + key + " = any($1::uuid[])",
                                          plain_array(missing));
    for (const auto& r : rows) {
      auto& row = by_key[r[0].c_str()] = boost::json::parse(r[1].c_str()).as_object();
      if (remembered != nullptr) remembered->put(table, r[0].c_str(), row);
    }
  }

  // Takes a row out (the model deletes it with a statement of its own).
  void remove(std::map<std::string, boost::json::object>::iterator row) {
    changed.erase(row->first);
    removed.insert(row->first);
    by_key.erase(row);
  }

  // Writes the changed rows with the statement prepare_upsert made.
  void write(Writes& writes, const std::string& upsert) const {
    if (auto* remembered = writes.remembered()) {
      for (const auto& k : changed) remembered->put(table, k, by_key.at(k));
      for (const auto& k : removed) remembered->forget(table, k);
    }
    if (changed.empty()) return;
    boost::json::array out;
    for (const auto& k : changed) out.push_back(by_key.at(k));
    writes.execute(upsert, boost::json::serialize(out));
  }
};

// The batch's sandbox events that `wanted(event)` keeps, decoded, with their sandboxes' ids.
struct SandboxEvents {
  std::vector<std::pair<const events::RecordedEvent*, events::SandboxEvent>> events;
  std::set<std::string> ids;
};

template <class Wanted>
events::Result<SandboxEvents> sandbox_events(std::span<const events::RecordedEvent> batch, Wanted wanted) {
  SandboxEvents out;
  for (const auto& e : batch) {
    if (e.category() != "sandbox") continue;
    auto decoded = events::decode<events::SandboxEvent>(e);
    if (!decoded) return decoded.error();
    if (!wanted(*decoded)) continue;
    out.ids.insert(e.stream_id());
    out.events.emplace_back(&e, std::move(*decoded));
  }
  return out;
}

}  // namespace projector::models
