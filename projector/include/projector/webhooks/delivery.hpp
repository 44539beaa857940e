#pragma once
// Webhook delivery from the log, in its own process (webhook-delivery) and never on a request's
// path. One thread follows the log from its checkpoint: endpoints change as their events come
// (an endpoint gets what happens after it is made), public events (events/published/) are queued
// for every enabled endpoint of their organization whose filter takes them, and the checkpoint
// moves in the same transaction as the queue, so a crash loses nothing and queues nothing twice.
// Another thread sends what is due (post.hpp), signed (events/webhooks/signing.hpp), records
// every attempt, retries on the schedule, and disables an endpoint that answers 410 or fails
// for days (an event on the endpoint's stream). Tables in schema `webhooks`.
#include "events/doorbell.hpp"
#include "events/settings.hpp"
#include "events/webhooks/delivery_policy.hpp"
#include "events/webhooks/targets.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace pqxx {
class connection_base;
}
namespace events {
class PgEventStore;
}

namespace projector::webhooks {

struct DeliverySettings {
  std::string database_url;
  events::webhooks::RetrySchedule schedule = events::webhooks::RetrySchedule::svix();
  events::webhooks::TargetPolicy targets;
  std::chrono::milliseconds timeout{15000};  // an answer later than this is a failure
  std::chrono::milliseconds poll{250};       // without a wake-up, the log is looked at this often
  std::chrono::hours give_up_after{24 * 5};
};

class Delivery {
 public:
  // Makes its tables when missing and starts both threads; `wake` is rung on append hints.
  static events::Result<std::unique_ptr<Delivery>> start(DeliverySettings settings,
                                                        std::shared_ptr<events::Doorbell> wake);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // The log position queued up to.
  std::int64_t position() const { return position_.load(); }

 private:
  struct State;
  explicit Delivery(DeliverySettings settings, std::shared_ptr<events::Doorbell> wake);
  void follow(std::stop_token stop);
  void send(std::stop_token stop);
  struct Due {  // a delivery whose attempt is due
    std::string message_id, endpoint_id, organization_id;
    int attempts = 0;
    std::string payload, trigger;
  };
  void attempt(pqxx::connection_base& c, events::PgEventStore& store, const Due& d);
  void disable(events::PgEventStore& store, const Due& d, const std::string& reason);

  DeliverySettings settings_;
  std::shared_ptr<events::Doorbell> wake_;
  events::Doorbell due_;  // rung when something was queued
  std::atomic<std::int64_t> position_{0};
  std::atomic<bool> endpoints_known_{false};  // the follower has rebuilt the endpoints: the sender may start
  std::unique_ptr<State> state_;
  std::jthread follower_;
  std::jthread sender_;
};

// The settings as the environment gives them (webhook-delivery --help lists them).
struct DeliveryEnvironment {
  std::string database_url;                        // DATABASE_URL (required)
  std::string nats_url;                            // NATS_URL (empty: the log is polled)
  std::string retry_schedule = "0,5,300,1800,7200,18000,36000,36000";  // WEBHOOK_RETRY_SCHEDULE
  std::string allow_ranges;                        // WEBHOOK_ALLOW_RANGES
  std::chrono::seconds timeout{15};                // WEBHOOK_TIMEOUT
  int disable_after_hours = 24 * 5;                // WEBHOOK_DISABLE_AFTER_HOURS
};
void declare(events::settings::Declared& declared, DeliveryEnvironment& env);
// The settings a Delivery runs with, or which setting is wrong and why.
events::Result<DeliverySettings> settings_of(const DeliveryEnvironment& env);

}  // namespace projector::webhooks
