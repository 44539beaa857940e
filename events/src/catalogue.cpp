#include "events/catalogue.hpp"

namespace events {
namespace {

template <class E>
std::string_view name_of(E e) {
  return boost::describe::enum_to_string(e, "invalid");
}

}  // namespace

std::string_view to_string(SandboxState s) { return name_of(s); }
std::string_view to_string(DesiredState s) { return name_of(s); }
std::string_view to_string(LifecycleTimer t) { return name_of(t); }
std::string_view to_string(SnapshotState s) { return name_of(s); }
std::string_view to_string(VolumeState s) { return name_of(s); }
std::string_view to_string(RunnerState s) { return name_of(s); }

}  // namespace events
