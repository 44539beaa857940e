#pragma once
// Hand-offs: typed core NATS messages (no JetStream, no reply) by which one service gives another
// an answer it would otherwise ask for (placements.hpp, runner_targets.hpp). Best effort: a
// receiver that missed one asks, as before. The message is JSON of T (events/json.hpp), decoded
// strictly on arrival; one that does not decode is dropped and logged.
#include "events/bus/nats_client.hpp"
#include "events/json.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace events::bus {

// Publishes `message` on `subject` (returns at once; the client's thread sends it).
template <class T>
void hand_off(NatsClient& nats, const std::string& subject, const T& message) {
  nats.publish(subject, to_json_text(message));
}

// A hand-off that did not decode (logged once per message).
void drop_hand_off(const Error& why);

// Calls `take` on libnats' thread with every hand-off on `subject` while it lives. Check ok():
// without a subscription the receiver only asks.
template <class T>
class HandOffListener {
 public:
  using Take = std::function<void(T)>;
  // `what` names the message in the error of one that does not decode ("a placement hand-off").
  HandOffListener(NatsClient& nats, const std::string& subject, Take take, std::string_view what)
      : take_(std::move(take)), sub_(nats, subject.c_str(), [this, what](std::string_view text) {
          auto handed = from_json_text<T>(text, what);
          if (handed) {
            take_(std::move(*handed));
          } else {
            drop_hand_off(handed.error());
          }
        }) {}
  bool ok() const { return sub_.ok(); }

 private:
  Take take_;
  CoreSubscription sub_;
};

}  // namespace events::bus
