#pragma once
// A value of type T that the compiler keeps apart from other values of T.
#include <compare>
#include <functional>
#include <ostream>
#include <utility>

namespace events {

template <class T, class Tag>
class NamedType {
 public:
  using value_type = T;
  NamedType() = default;
  explicit NamedType(T value) : value_(std::move(value)) {}
  const T& value() const { return value_; }
  auto operator<=>(const NamedType&) const = default;
  bool operator==(const NamedType&) const = default;

 private:
  T value_{};
};

template <class T, class Tag>
std::ostream& operator<<(std::ostream& os, const NamedType<T, Tag>& v) {
  return os << v.value();
}

}  // namespace events

template <class T, class Tag>
struct std::hash<events::NamedType<T, Tag>> {
  size_t operator()(const events::NamedType<T, Tag>& v) const { return std::hash<T>{}(v.value()); }
};
