#pragma once
// JSON conversions (Boost.JSON + Boost.Describe) for the strong types, and helpers that turn
// conversion failures into Error values.
#include "events/error.hpp"
#include "events/ids.hpp"

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace events {

template <class Tag>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const Id<Tag>& id) {
  jv = id.str();
}

template <class Tag>
boost::system::result<Id<Tag>> tag_invoke(boost::json::try_value_to_tag<Id<Tag>>,
                                          const boost::json::value& jv) {
  const auto* s = jv.if_string();
  if (s == nullptr) return boost::json::make_error_code(boost::json::error::not_string);
  auto parsed = Id<Tag>::parse(*s);
  if (!parsed) return boost::json::make_error_code(boost::json::error::exception);
  return *parsed;
}

template <class T>
Result<T> from_json(const boost::json::value& jv, std::string_view what) {
  auto converted = boost::json::try_value_to<T>(jv);
  if (!converted) {
    return make_error(ErrorCode::decode_failed,
                      std::string(what) + ": " + converted.error().message());
  }
  return std::move(*converted);
}

template <class T>
Result<T> from_json_text(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  auto jv = boost::json::parse(text, ec);
  if (ec) return make_error(ErrorCode::decode_failed, std::string(what) + ": " + ec.message());
  return from_json<T>(jv, what);
}

template <class T>
std::string to_json_text(const T& value) {
  return boost::json::serialize(boost::json::value_from(value));
}

}  // namespace events
