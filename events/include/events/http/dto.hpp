#pragma once
// DTOs — what a route takes and answers — as described structs (Boost.Describe). One type gives
// both the JSON a route writes (`to_json`) and the JSON Schema its OpenAPI entry shows
// (`schema`), so the document cannot drift from the answers. Member names are the wire names
// (camelCase, as Daytona's); a trailing '_' is dropped (`public_` is "public").
//   std::optional<T>   left out when empty; in the schema not required and nullable (the wire
//                      structs of events/wire/, written by Boost.JSON, give null instead)
//   Nullable<T>        always there, null when empty ("nullable": true)
//   std::vector<T>     an array; std::map<std::string, T> an object with free keys
//   boost::json::value any JSON
//   events::Id<Tag>    a string (a UUID); a described enum a string of its names
// The wire structs (events/wire/) are described structs too: their schemas come from here.
#include "events/ids.hpp"

#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace events::http {

template <class T>
struct Nullable {
  std::optional<T> value;
  Nullable() = default;
  Nullable(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): reads as the JSON it writes
  Nullable(T v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
};

namespace dto_detail {

template <class T> struct optional_of { using type = void; };
template <class T> struct optional_of<std::optional<T>> { using type = T; };
template <class T> struct nullable_of { using type = void; };
template <class T> struct nullable_of<Nullable<T>> { using type = T; };
template <class T> struct vector_of { using type = void; };
template <class T> struct vector_of<std::vector<T>> { using type = T; };
template <class T> struct map_of { using type = void; };
template <class T> struct map_of<std::map<std::string, T>> { using type = T; };

template <class T> struct is_id_type : std::false_type {};
template <class Tag> struct is_id_type<Id<Tag>> : std::true_type {};

template <class T> constexpr bool is_optional = !std::is_void_v<typename optional_of<T>::type>;
template <class T> constexpr bool is_nullable = !std::is_void_v<typename nullable_of<T>::type>;
template <class T> constexpr bool is_vector = !std::is_void_v<typename vector_of<T>::type>;
template <class T> constexpr bool is_map = !std::is_void_v<typename map_of<T>::type>;
template <class T> constexpr bool is_described = boost::describe::has_describe_members<T>::value;

inline std::string_view wire_name(std::string_view member) {
  if (!member.empty() && member.back() == '_') member.remove_suffix(1);
  return member;
}

template <class T, class F>
void for_each_member(F&& f) {
  boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(f);
}

}  // namespace dto_detail

template <class T>
boost::json::value to_json(const T& v) {
  using namespace dto_detail;
  if constexpr (is_described<T>) {
    boost::json::object out;
    for_each_member<T>([&](auto member) {
      const auto& field = v.*member.pointer;
      using F = std::remove_cvref_t<decltype(field)>;
      if constexpr (is_optional<F>) {
        if (field) out[wire_name(member.name)] = to_json(*field);
      } else {
        out[wire_name(member.name)] = to_json(field);
      }
    });
    return out;
  } else if constexpr (is_nullable<T>) {
    return v.value ? to_json(*v.value) : boost::json::value(nullptr);
  } else if constexpr (is_vector<T>) {
    boost::json::array out;
    for (const auto& item : v) out.push_back(to_json(item));
    return out;
  } else if constexpr (is_map<T>) {
    boost::json::object out;
    for (const auto& [key, item] : v) out[key] = to_json(item);
    return out;
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    return v;
  } else {
    static_assert(std::is_arithmetic_v<T> || std::is_same_v<T, std::string>, "not a DTO field type");
    return boost::json::value_from(v);
  }
}

// A described struct's JSON object (moved out, not copied).
template <class T>
boost::json::object to_object(const T& v) {
  auto out = to_json(v);
  return std::move(out.as_object());
}

// The JSON Schema (OpenAPI 3.0's dialect) of a DTO type.
template <class T>
boost::json::value schema() {
  using namespace dto_detail;
  if constexpr (is_described<T>) {
    boost::json::object properties;
    boost::json::array required;
    for_each_member<T>([&](auto member) {
      using F = std::remove_cvref_t<decltype(std::declval<T>().*member.pointer)>;
      if constexpr (is_optional<F>) {
        auto inner = schema<typename optional_of<F>::type>();
        inner.as_object()["nullable"] = true;
        properties[wire_name(member.name)] = std::move(inner);
      } else {
        properties[wire_name(member.name)] = schema<F>();
        required.emplace_back(wire_name(member.name));
      }
    });
    boost::json::object out{{"type", "object"}, {"properties", std::move(properties)}};
    if (!required.empty()) out["required"] = std::move(required);
    return out;
  } else if constexpr (is_nullable<T>) {
    auto inner = schema<typename nullable_of<T>::type>();
    inner.as_object()["nullable"] = true;
    return inner;
  } else if constexpr (is_vector<T>) {
    return {{"type", "array"}, {"items", schema<typename vector_of<T>::type>()}};
  } else if constexpr (is_map<T>) {
    return {{"type", "object"}, {"additionalProperties", schema<typename map_of<T>::type>()}};
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    return boost::json::object{};
  } else if constexpr (is_id_type<T>::value) {
    return {{"type", "string"}, {"format", "uuid"}};
  } else if constexpr (boost::describe::has_describe_enumerators<T>::value) {
    boost::json::array names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto e) { names.emplace_back(e.name); });
    return {{"type", "string"}, {"enum", std::move(names)}};
  } else if constexpr (std::is_same_v<T, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<T>) {
    return {{"type", "integer"}};
  } else if constexpr (std::is_floating_point_v<T>) {
    return {{"type", "number"}};
  } else {
    static_assert(std::is_same_v<T, std::string>, "not a DTO field type");
    return {{"type", "string"}};
  }
}

}  // namespace events::http
