#include "projector/webhooks/delivery.hpp"

#include "events/catalogue.hpp"
#include "events/command_runner.hpp"
#include "events/deciders/webhook.hpp"
#include "events/published/mapping.hpp"
#include "events/store/follow.hpp"
#include "events/store/pg_event_store.hpp"
#include "events/store/sql.hpp"
#include "events/webhooks/signing.hpp"
#include "projector/webhooks/post.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace projector::webhooks {

using namespace events;
using events::exec_cached;

namespace {

constexpr const char* kTables = R"(
create schema if not exists webhooks;
create table if not exists webhooks.checkpoint (id int primary key, position bigint not null);
insert into webhooks.checkpoint values (1, 0) on conflict do nothing;
create table if not exists webhooks.messages (
  id text primary key, organization_id text not null, event_type text not null, payload text not null,
  position bigint not null, created_at timestamptz not null default now());
create table if not exists webhooks.deliveries (
  message_id text not null, endpoint_id uuid not null, organization_id text not null,
  attempts int not null default 0, status text not null, next_attempt_at timestamptz,
  created_at timestamptz not null default now(), primary key (message_id, endpoint_id));
create index if not exists deliveries_due on webhooks.deliveries (next_attempt_at) where status = 'pending';
alter table webhooks.deliveries add column if not exists trigger text not null default 'scheduled';
create table if not exists webhooks.attempts (
  id bigserial primary key, message_id text not null, endpoint_id uuid not null, organization_id text not null,
  url text not null, response_status int not null, response text not null, duration_ms bigint not null,
  outcome text not null, trigger text not null, at timestamptz not null default now());
create index if not exists attempts_endpoint on webhooks.attempts (endpoint_id, id);
create index if not exists attempts_message on webhooks.attempts (message_id, id);
create table if not exists webhooks.endpoint_health (endpoint_id uuid primary key, failing_since_ms bigint);
)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Svix's message ids are "msg_..."; ours come from the public event's id ("<position>.<n>").
std::string message_id(const published::PublicEvent& e) {
  std::string id = "msg_" + e.id;
  for (auto& c : id) {
    if (c == '.') c = '_';
  }
  return id;
}

bool takes(const webhook::State& endpoint, const std::string& type) {
  if (!endpoint.spec.filter_types) return true;
  for (const auto& t : *endpoint.spec.filter_types) {
    if (t == type) return true;
  }
  return false;
}

struct Queued {
  std::string message_id;
  std::string endpoint_id;
  std::string organization_id;
  std::string type;
  std::string payload;
  std::int64_t position = 0;
};

struct Recovery {
  std::string endpoint_id;
  std::int64_t since_ms = 0;
  std::optional<std::int64_t> until_ms;
  std::string message_id;  // set: a resend of this one message
};

// An admin's message (Svix's message.create): to the organization's endpoints that take its type,
// as sent. Its id is made like a public event's, from its position.
void queue_sent(const RecordedEvent& e, std::vector<Queued>& queued, auto receivers) {
  auto decoded = decode<OrganizationEvent>(e);
  const auto* sent = decoded ? std::get_if<WebhookMessageSent>(&*decoded) : nullptr;
  if (sent == nullptr) {
    spdlog::warn("webhook-delivery: position {}: not a readable message", e.position.value());
    return;
  }
  const auto id = "msg_" + std::to_string(e.position.value()) + "_0";
  for (const auto& endpoint : receivers(e.stream_id(), sent->event_type)) {
    queued.push_back(Queued{id, endpoint, e.stream_id(), sent->event_type, sent->payload, e.position.value()});
  }
}

}  // namespace

// The endpoints as the log has them up to the follower's position (the sender reads them too).
struct Delivery::State {
  std::mutex mutex;
  std::map<std::string, webhook::State> endpoints;

  void apply(const RecordedEvent& e, std::vector<Recovery>& recoveries) {
    auto decoded = decode<WebhookEndpointEvent>(e);
    if (!decoded) {
      spdlog::warn("webhook-delivery: position {}: {}", e.position.value(), decoded.error().message);
      return;
    }
    if (const auto* r = std::get_if<WebhookEndpointRecoveryRequested>(&*decoded)) {
      recoveries.push_back(Recovery{e.stream_id(), r->since_ms, r->until_ms, {}});
    }
    if (const auto* r = std::get_if<WebhookEndpointResendRequested>(&*decoded)) {
      recoveries.push_back(Recovery{e.stream_id(), 0, std::nullopt, r->message_id});
    }
    std::lock_guard lock(mutex);
    auto& s = endpoints[e.stream_id()];
    s = webhook::evolve(std::move(s), *decoded);
    if (s.deleted) endpoints.erase(e.stream_id());
  }

  std::optional<webhook::State> endpoint(const std::string& id) {
    std::lock_guard lock(mutex);
    auto it = endpoints.find(id);
    if (it == endpoints.end()) return std::nullopt;
    return it->second;
  }

  // The enabled endpoints of `org` that take `type`.
  std::vector<std::string> receivers(const std::string& org, const std::string& type) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& [id, s] : endpoints) {
      if (s.organization_id.str() == org && !s.spec.disabled && takes(s, type)) out.push_back(id);
    }
    return out;
  }
};

Result<std::unique_ptr<Delivery>> Delivery::start(DeliverySettings settings, std::shared_ptr<Doorbell> wake) {
  try {
    pqxx::connection c(settings.database_url);
    pqxx::work tx(c);
    tx.exec(kTables);
    tx.commit();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::unavailable, std::string("webhook-delivery: cannot make its tables: ") + e.what());
  }
  std::unique_ptr<Delivery> d(new Delivery(std::move(settings), std::move(wake)));
  d->follower_ = std::jthread([p = d.get()](std::stop_token stop) { p->follow(stop); });
  d->sender_ = std::jthread([p = d.get()](std::stop_token stop) { p->send(stop); });
  return d;
}

Delivery::Delivery(DeliverySettings settings, std::shared_ptr<Doorbell> wake)
    : settings_(std::move(settings)), wake_(wake ? std::move(wake) : std::make_shared<Doorbell>()),
      state_(std::make_unique<State>()) {}

Delivery::~Delivery() {
  follower_.request_stop();
  sender_.request_stop();
  wake_->ring();
  due_.ring();
}

void Delivery::follow(std::stop_token stop) {
  std::unique_ptr<PgEventStore> store;
  published::Publisher publisher;
  bool ready = false;  // the endpoints are rebuilt up to the checkpoint
  while (!stop.stop_requested()) {
    try {
      if (!store) store = std::make_unique<PgEventStore>(settings_.database_url);
      if (!ready) {
        endpoints_known_ = false;
        {
          std::lock_guard lock(state_->mutex);
          state_->endpoints.clear();
        }
        {
          pqxx::nontransaction tx(store->connection());
          position_ = tx.exec("select position from webhooks.checkpoint where id = 1")[0][0].as<std::int64_t>();
        }
        // The endpoints as they were at the checkpoint: their own events up to it.
        std::vector<Recovery> ignored;
        std::int64_t at = 0;
        for (;;) {
          auto batch = store->read_all(GlobalPosition{at}, 1000, ReadFilter{"webhookendpoint", ""});
          if (!batch || batch->empty()) break;
          for (const auto& e : *batch) {
            if (e.position.value() > position_) break;
            state_->apply(e, ignored);
          }
          at = batch->back().position.value();
          if (at >= position_) break;
        }
        ready = true;
        endpoints_known_ = true;
        due_.ring();
        spdlog::info("webhook-delivery: following the log after position {}", position_.load());
      }
      auto batch = next_batch(*store, position_, 500, *wake_, stop, settings_.poll);
      if (batch.empty()) continue;
      std::vector<Queued> queued;
      std::vector<Recovery> recoveries;
      for (const auto& e : batch) {
        if (e.category() == "webhookendpoint") {
          state_->apply(e, recoveries);
          continue;
        }
        if (e.category() == "organization" && e.type == WebhookMessageSent::kType) {
          queue_sent(e, queued, [&](const std::string& org, const std::string& type) {
            return state_->receivers(org, type);
          });
          continue;
        }
        if (!published::is_published_category(e.category())) continue;
        for (const auto& p : publisher.publish(e, [&](const StreamName& s) { return store->read_stream(s); })) {
          for (const auto& endpoint : state_->receivers(p.organization_id, p.type)) {
            queued.push_back(Queued{message_id(p), endpoint, p.organization_id, p.type, boost::json::serialize(p.data),
                                    p.position});
          }
        }
      }
      const auto last = batch.back().position.value();
      const auto first_delay = settings_.schedule.before(0).value_or(std::chrono::seconds(0)).count();
      pqxx::work tx(store->connection());
      for (const auto& q : queued) {
        exec_cached(tx,
                    "insert into webhooks.messages (id, organization_id, event_type, payload, position) "
                    "values ($1, $2, $3, $4, $5) on conflict do nothing",
                    q.message_id, q.organization_id, q.type, q.payload, q.position);
        exec_cached(tx,
                    "insert into webhooks.deliveries (message_id, endpoint_id, organization_id, status, next_attempt_at) "
                    "values ($1, $2::uuid, $3, 'pending', now() + make_interval(secs => $4)) on conflict do nothing",
                    q.message_id, q.endpoint_id, q.organization_id, first_delay);
      }
      for (const auto& r : recoveries) {
        if (!r.message_id.empty()) {  // a resend: this message again, now, whatever became of it
          exec_cached(tx,
                      "insert into webhooks.deliveries (message_id, endpoint_id, organization_id, status, next_attempt_at, "
                      "trigger) select id, $2::uuid, organization_id, 'pending', now(), 'manual' from webhooks.messages "
                      "where id = $1 on conflict (message_id, endpoint_id) do update set status = 'pending', "
                      "next_attempt_at = now(), trigger = 'manual'",
                      r.message_id, r.endpoint_id);
          continue;
        }
        exec_cached(tx,
                    "update webhooks.deliveries set status = 'pending', attempts = 0, next_attempt_at = now() "
                    "where endpoint_id = $1::uuid and status = 'failed' and created_at >= to_timestamp($2 / 1000.0) "
                    "and ($3::bigint is null or created_at < to_timestamp($3 / 1000.0))",
                    r.endpoint_id, r.since_ms, r.until_ms);
      }
      exec_cached(tx, "update webhooks.checkpoint set position = $1 where id = 1", last);
      tx.commit();
      position_ = last;
      if (!queued.empty() || !recoveries.empty()) due_.ring();
    } catch (const std::exception& e) {
      spdlog::warn("webhook-delivery: following the log: {}; again shortly", e.what());
      store.reset();
      ready = false;
      publisher = published::Publisher{};
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

void Delivery::send(std::stop_token stop) {
  std::unique_ptr<pqxx::connection> c;
  std::unique_ptr<PgEventStore> store;  // to disable endpoints
  while (!stop.stop_requested()) {
    try {
      if (!c) c = std::make_unique<pqxx::connection>(settings_.database_url);
      if (!store) store = std::make_unique<PgEventStore>(settings_.database_url);
      const auto seen = due_.rings();
      if (!endpoints_known_) {  // a delivery to an endpoint not yet known would look canceled
        due_.wait(stop, seen, settings_.poll);
        continue;
      }
      pqxx::result due;
      std::chrono::milliseconds idle{30000};  // with nothing pending, only a new queue entry (the bell) wakes it
      {
        pqxx::nontransaction tx(*c);
        due = exec_cached(tx,
                          "select d.message_id, d.endpoint_id::text, d.organization_id, d.attempts, m.payload, d.trigger "
                          "from webhooks.deliveries d join webhooks.messages m on m.id = d.message_id "
                          "where d.status = 'pending' and d.next_attempt_at <= now() "
                          "order by d.next_attempt_at, m.position limit 16");
        if (due.empty()) {  // sleep until the next retry is due, not a poll interval at a time
          const auto next = exec_cached(tx,
                                        "select (extract(epoch from min(next_attempt_at) - now()) * 1000)::bigint "
                                        "from webhooks.deliveries where status = 'pending'");
          if (!next[0][0].is_null()) {
            idle = std::clamp(std::chrono::milliseconds(next[0][0].as<std::int64_t>()), std::chrono::milliseconds(10), idle);
          }
        }
      }
      if (due.empty()) {
        due_.wait(stop, seen, idle);
        continue;
      }
      for (const auto& row : due) {
        if (stop.stop_requested()) break;
        attempt(*c, *store, Due{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                row[3].as<int>(), row[4].as<std::string>(), row[5].as<std::string>()});
      }
    } catch (const std::exception& e) {
      spdlog::warn("webhook-delivery: sending: {}; again shortly", e.what());
      c.reset();
      store.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

// One attempt: the POST first, with no transaction open while the endpoint takes its time; then
// the attempt, the endpoint's health and the delivery's next step in one transaction.
void Delivery::attempt(pqxx::connection_base& c, PgEventStore& store, const Due& d) {
  const auto endpoint = state_->endpoint(d.endpoint_id);
  if (!endpoint || endpoint->spec.disabled) {
    pqxx::work tx(c);
    exec_cached(tx, "update webhooks.deliveries set status = 'canceled' where message_id = $1 and endpoint_id = $2::uuid",
                d.message_id, d.endpoint_id);
    tx.commit();
    return;
  }
  const auto now = now_ms();
  auto headers = events::webhooks::signed_headers(webhook::signing_secrets(*endpoint, now), d.message_id, now / 1000,
                                                  d.payload);
  Answer answer;
  if (headers) {
    answer = post(Post{endpoint->spec.url, *headers, d.payload}, settings_.targets, settings_.timeout);
  } else {
    answer.excerpt = "not sent: " + headers.error().message;
  }
  const auto outcome = events::webhooks::outcome_of(answer.status);

  pqxx::work tx(c);
  exec_cached(tx,
              "insert into webhooks.attempts (message_id, endpoint_id, organization_id, url, response_status, "
              "response, duration_ms, outcome, trigger) values ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9)",
              d.message_id, d.endpoint_id, d.organization_id, endpoint->spec.url, answer.status, answer.excerpt,
              answer.duration_ms, std::string(events::webhooks::to_string(outcome)), d.trigger);
  const auto health_row =
      exec_cached(tx, "select failing_since_ms from webhooks.endpoint_health where endpoint_id = $1::uuid", d.endpoint_id);
  events::webhooks::EndpointHealth health;
  if (!health_row.empty() && !health_row[0][0].is_null()) health.failing_since_ms = health_row[0][0].as<std::int64_t>();
  const auto decision = events::webhooks::after_attempt(health, outcome, now, settings_.give_up_after);
  exec_cached(tx,
              "insert into webhooks.endpoint_health (endpoint_id, failing_since_ms) values ($1::uuid, $2) "
              "on conflict (endpoint_id) do update set failing_since_ms = excluded.failing_since_ms",
              d.endpoint_id, decision.after.failing_since_ms);
  std::string status = "pending";
  std::optional<std::int64_t> delay;
  if (outcome == events::webhooks::Outcome::delivered) {
    status = "delivered";
  } else if (decision.disable || d.trigger == "manual") {
    status = "failed";  // a resend is one attempt
  } else if (auto next = settings_.schedule.before(static_cast<std::size_t>(d.attempts) + 1)) {
    delay = next->count();
  } else {
    status = "failed";
  }
  exec_cached(tx,
              "update webhooks.deliveries set attempts = attempts + 1, status = $3, trigger = 'scheduled', "
              "next_attempt_at = case when $4::bigint is null then null else now() + make_interval(secs => $4::bigint) end "
              "where message_id = $1 and endpoint_id = $2::uuid",
              d.message_id, d.endpoint_id, status, delay);
  tx.commit();
  if (decision.disable) disable(store, d, *decision.disable);
}

// Disables the endpoint with an event on its stream, through its decider like any command.
void Delivery::disable(PgEventStore& store, const Due& d, const std::string& reason) {
  Metadata meta;
  meta.event_id = new_uuid();
  meta.correlation_id = new_uuid();
  meta.actor = "webhook-delivery";
  meta.organization_id = d.organization_id;
  auto done = execute<WebhookEndpointEvent, webhook::State>(
      store, StreamName::of("webhookendpoint", WebhookEndpointId{d.endpoint_id}), meta,
      [&](const webhook::State& s) { return webhook::decide(webhook::Disable{reason}, s); },
      [](webhook::State s, const WebhookEndpointEvent& e) { return webhook::evolve(std::move(s), e); });
  if (done) {
    spdlog::info("webhook-delivery: endpoint {} disabled: {}", d.endpoint_id, reason);
  } else {
    spdlog::warn("webhook-delivery: could not disable endpoint {}: {}", d.endpoint_id, done.error().message);
  }
}

}  // namespace projector::webhooks
