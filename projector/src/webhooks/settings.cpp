#include "projector/webhooks/delivery.hpp"

namespace projector::webhooks {

void declare(events::settings::Declared& d, DeliveryEnvironment& e) {
  d.text("DATABASE_URL", e.database_url, "the PostgreSQL connection string (libpq form)", true);
  d.text("NATS_URL", e.nats_url, "the NATS server whose append hints wake the delivery (empty: poll the log)");
  d.text("WEBHOOK_RETRY_SCHEDULE", e.retry_schedule,
         "seconds before each attempt, comma-separated (Svix's: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)");
  d.text("WEBHOOK_ALLOW_RANGES", e.allow_ranges,
         "address ranges endpoints may resolve to besides public ones: loopback, private (never link-local or metadata)");
  d.seconds("WEBHOOK_TIMEOUT", e.timeout, "how long an endpoint has to answer an attempt", 1, 60);
  d.number("WEBHOOK_DISABLE_AFTER_HOURS", e.disable_after_hours, "an endpoint failing every attempt this long is disabled",
           1, 24 * 30);
}

events::Result<DeliverySettings> settings_of(const DeliveryEnvironment& e) {
  DeliverySettings s;
  s.database_url = e.database_url;
  auto schedule = events::webhooks::RetrySchedule::parse(e.retry_schedule);
  if (!schedule) return events::make_error(events::ErrorCode::invalid_argument, "WEBHOOK_RETRY_SCHEDULE: " + schedule.error().message);
  s.schedule = *schedule;
  auto targets = events::webhooks::TargetPolicy::parse(e.allow_ranges);
  if (!targets) return events::make_error(events::ErrorCode::invalid_argument, "WEBHOOK_ALLOW_RANGES: " + targets.error().message);
  s.targets = *targets;
  s.timeout = e.timeout;
  s.give_up_after = std::chrono::hours(e.disable_after_hours);
  return s;
}

}  // namespace projector::webhooks
