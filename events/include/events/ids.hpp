#pragma once
// Strong types for identities and positions. Ids are UUIDs in canonical text form.
#include "events/error.hpp"
#include "events/named_type.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace events {

// Validates and lower-cases a canonical UUID ("8-4-4-4-12" hex).
Result<std::string> parse_uuid(std::string_view text);
std::string new_uuid();  // version 7: time-ordered

template <class Tag>
struct Id : NamedType<std::string, Tag> {
  using NamedType<std::string, Tag>::NamedType;
  Id() : NamedType<std::string, Tag>(std::string(kNil)) {}  // the nil UUID
  static constexpr std::string_view kNil = "00000000-0000-0000-0000-000000000000";
  static Result<Id> parse(std::string_view text) {
    auto uuid = parse_uuid(text);
    if (!uuid) return uuid.error();
    return Id{std::move(*uuid)};
  }
  static Id generate() { return Id{new_uuid()}; }
  const std::string& str() const { return this->value(); }
};

using SandboxId = Id<struct SandboxIdTag>;
using SnapshotId = Id<struct SnapshotIdTag>;
using VolumeId = Id<struct VolumeIdTag>;
using RunnerId = Id<struct RunnerIdTag>;
using OrganizationId = Id<struct OrganizationIdTag>;
using ApiKeyId = Id<struct ApiKeyIdTag>;
using WarmPoolId = Id<struct WarmPoolIdTag>;
using EventId = Id<struct EventIdTag>;

// Position of an event in the whole log (bigserial, starts at 1).
using GlobalPosition = NamedType<std::int64_t, struct GlobalPositionTag>;
// Version of an event within its stream (starts at 0).
using StreamVersion = NamedType<std::int64_t, struct StreamVersionTag>;

// What an append expects the stream's current version to be.
class ExpectedVersion {
 public:
  static ExpectedVersion any() { return ExpectedVersion{kAny}; }
  static ExpectedVersion no_stream() { return ExpectedVersion{kNoStream}; }
  static ExpectedVersion exactly(StreamVersion v) { return ExpectedVersion{v.value()}; }
  // The version a stream has after `count` events (count 0 → no stream).
  static ExpectedVersion after(std::int64_t count) {
    return count == 0 ? no_stream() : ExpectedVersion{count - 1};
  }
  bool is_any() const { return raw_ == kAny; }
  std::int64_t raw() const { return raw_; }  // -1 no stream, -2 any, else the version
  bool operator==(const ExpectedVersion&) const = default;

 private:
  static constexpr std::int64_t kNoStream = -1;
  static constexpr std::int64_t kAny = -2;
  explicit ExpectedVersion(std::int64_t raw) : raw_(raw) {}
  std::int64_t raw_;
};

// "sandbox-<uuid>": category before the first '-', id after it.
class StreamName {
 public:
  static Result<StreamName> parse(std::string_view text);
  template <class Tag>
  static StreamName of(std::string_view category, const Id<Tag>& id) {
    return StreamName{std::string(category) + "-" + id.str()};
  }
  const std::string& str() const { return name_; }
  std::string_view category() const;
  std::string_view id() const;
  bool operator==(const StreamName&) const = default;
  auto operator<=>(const StreamName&) const = default;

 private:
  explicit StreamName(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace events
