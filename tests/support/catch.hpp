#pragma once
// Catch2 plus a printer for Result<T>, whose own operator<< would need T to be printable.
#include "events/error.hpp"

#include <catch2/catch.hpp>

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, events::Error>> {
  static std::string convert(const boost::system::result<T, events::Error>& r) {
    if (r) return "ok";
    return "error " + std::string(events::to_string(r.error().code)) + ": " + r.error().message;
  }
};
}  // namespace Catch
