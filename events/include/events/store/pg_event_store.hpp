#pragma once
// The event store on PostgreSQL (libpqxx). One connection per instance: not thread-safe, give
// each thread its own.
#include "events/store/event_store.hpp"
#include "events/store/group_commit.hpp"

#include <functional>
#include <memory>

namespace pqxx {
class connection_base;
}

namespace events {

class PgEventStore final : public EventStore {
 public:
  // Throws pqxx::broken_connection when PostgreSQL cannot be reached at start-up. Later losses
  // are `unavailable` errors, and the next call connects again.
  explicit PgEventStore(const std::string& connection_string);
  ~PgEventStore() override;

  Result<AppendResult> append(const StreamName& stream, ExpectedVersion expected,
                              std::span<const NewEvent> events,
                              const AppendOptions& options = {}) override;
  Result<std::vector<AppendResult>> append_together(std::span<const StreamAppend> appends) override;

  // Sends this store's appends, single-stream and together, through `group` (shared by the
  // process's threads, group_commit.hpp) instead of its own connection; nullptr sends them alone
  // again.
  void group_appends(GroupCommit* group) { group_ = group; }
  // One append on this store's own connection.
  Result<AppendResult> append_alone(const GroupedAppend& request);
  // Appends that commit all or none, in one transaction on this store's own connection.
  Result<std::vector<AppendResult>> append_together_alone(std::span<const GroupedAppend> requests);
  // Several independent appends in one transaction (append_many): each one's own answer, or the
  // error of the whole when it rolled back.
  Result<std::vector<Result<AppendResult>>> append_many(std::span<const GroupedAppend> requests);
  Result<std::vector<RecordedEvent>> read_stream(const StreamName& stream,
                                                 StreamVersion from = StreamVersion{0}) override;
  Result<std::vector<RecordedEvent>> read_all(GlobalPosition after, std::size_t max,
                                              const ReadFilter& filter = {}) override;
  Result<GlobalPosition> safe_head() override;

  // Called after each append that wrote events, e.g. to wake the relay
  // (bus::append_hint). Not a PostgreSQL NOTIFY: that costs a round trip and a commit per
  // append (measured: about a fifth of the append rate).
  void on_append(std::function<void()> hook) { on_append_ = std::move(hook); }

  // Appends refused for a stale expected version, by every store in this process (a metric).
  static std::uint64_t conflicts();

  // Checkpoints and dead letters share the store's connection.
  Result<GlobalPosition> load_checkpoint(const std::string& name);
  Result<void> save_checkpoint(const std::string& name, GlobalPosition position);
  Result<void> record_dead_letter(const std::string& consumer, const RecordedEvent& event,
                                  const std::string& reason);

  pqxx::connection_base& connection();

 private:
  // Runs body(connection), reconnecting first when the last call lost the connection, and
  // turning libpqxx exceptions into Error values.
  template <class F>
  auto with_connection(F&& body) -> decltype(body());
  void connect();
  std::string connection_string_;
  struct Connection;
  std::unique_ptr<Connection> conn_;
  GlobalPosition cached_head_{0};
  std::function<void()> on_append_;
  GroupCommit* group_ = nullptr;
};

// Applies infra/schema/NNNN_name.sql files that are not yet recorded in schema_migrations,
// in order, each in its own transaction. Returns how many it applied.
Result<int> apply_migrations(const std::string& connection_string, const std::string& schema_dir);

}  // namespace events
