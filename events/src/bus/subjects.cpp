#include "events/bus/subjects.hpp"

namespace events::bus {

std::string subject_token(std::string_view text) {
  if (text.empty()) return kNoRoutingKey;
  std::string out(text);
  for (char& c : out) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') c = '_';
  }
  return out;
}

std::string subject_for(const RecordedEvent& e) {
  const auto dash = e.stream.find('-');
  const std::string_view stream(e.stream);
  const auto category = stream.substr(0, dash);
  const auto id = dash == std::string::npos ? std::string_view{} : stream.substr(dash + 1);
  return "ev." + subject_token(category) + "." + subject_token(e.routing_key) + "." +
         subject_token(id) + "." + subject_token(e.type);
}

std::string filter_subject(const ReadFilter& filter) {
  if (filter.category.empty()) return "ev.>";
  if (filter.routing_key.empty()) return "ev." + subject_token(filter.category) + ".>";
  return "ev." + subject_token(filter.category) + "." + subject_token(filter.routing_key) + ".>";
}

}  // namespace events::bus
