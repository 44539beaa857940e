#pragma once
// Expected failures as values: a code the caller can branch on and a message a person can read.
#include <boost/system/result.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace events {

// The codes, by the part of the system that gives them (their category, below).
enum class ErrorCode {
  // request: the caller's input is wrong; fixing the request helps, retrying does not
  invalid_argument,       // the command or payload is malformed
  // domain: an aggregate's decider refuses
  not_found,              // the aggregate does not exist (or is gone)
  already_exists,         // create on an existing aggregate
  invalid_transition,     // the command does not fit the aggregate's state
  wrong_runner,           // a runner report from a runner that does not own the sandbox
  duplicate_report,       // a runner report that was already applied
  late_report,            // a runner report that no longer fits the state
  // store: the event store's concurrency and idempotency checks
  version_conflict,       // expected stream version did not match
  idempotency_conflict,   // same idempotency key with a different request
  // internal: what was stored cannot be read (a defect, not the caller's)
  decode_failed,          // a stored payload could not be read
  // dependency: the failure is elsewhere and passes; retrying later helps
  unavailable,            // a dependency (PostgreSQL, NATS, a runner) did not answer
};

enum class ErrorCategory { request, domain, store, internal, dependency };
ErrorCategory category_of(ErrorCode code);

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

inline std::ostream& operator<<(std::ostream& os, const Error& e) {
  return os << to_string(e.code) << ": " << e.message;
}

// Lets Result<T>::value() throw a readable exception when misused.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace events
