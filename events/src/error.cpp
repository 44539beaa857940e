#include "events/error.hpp"

#include <stdexcept>

namespace events {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::invalid_transition: return "invalid_transition";
    case ErrorCode::wrong_runner: return "wrong_runner";
    case ErrorCode::duplicate_report: return "duplicate_report";
    case ErrorCode::late_report: return "late_report";
    case ErrorCode::version_conflict: return "version_conflict";
    case ErrorCode::idempotency_conflict: return "idempotency_conflict";
    case ErrorCode::decode_failed: return "decode_failed";
    case ErrorCode::unavailable: return "unavailable";
  }
  return "unknown";
}

ErrorCategory category_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return ErrorCategory::request;
    case ErrorCode::not_found:
    case ErrorCode::already_exists:
    case ErrorCode::invalid_transition:
    case ErrorCode::wrong_runner:
    case ErrorCode::duplicate_report:
    case ErrorCode::late_report: return ErrorCategory::domain;
    case ErrorCode::version_conflict:
    case ErrorCode::idempotency_conflict: return ErrorCategory::store;
    case ErrorCode::decode_failed: return ErrorCategory::internal;
    case ErrorCode::unavailable: return ErrorCategory::dependency;
  }
  return ErrorCategory::internal;
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(to_string(e.code)) + ": " + e.message);
}

}  // namespace events
