// Live streams and metrics: GET /api/events (server-sent events of the organization's events,
// resumable) and GET /metrics (Prometheus text).
#include "command_service/http/api.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/metrics.hpp"
#include "command_service/http/route_support.hpp"
#include "events/redact.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/store/sql.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <pqxx/pqxx>

namespace command_service {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The organization an event belongs to (its metadata), without decoding the payload.
std::string organization_of(const events::RecordedEvent& e) {
  auto meta = events::parse_metadata(e.metadata);
  return meta ? meta->organization_id : std::string();
}

std::string sse_frame(const events::RecordedEvent& e) {
  auto shown = e;
  shown.data = events::redacted_data(e.type, e.data);
  return "id: " + std::to_string(e.position.value()) + "\nevent: " + e.type + "\ndata: " + shown.envelope_json() + "\n\n";
}

// Follows the log for one organization and writes each event as an SSE frame; a comment every
// 15 s keeps proxies from closing an idle stream. Ends when the client goes away.
asio::awaitable<void> follow(Services& s, beast::tcp_stream& stream, std::string org, std::int64_t after,
                             std::string category) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n"
      "X-Accel-Buffering: no\r\n\r\n: following the log after position " +
      std::to_string(after) + "\n\n";
  for (;;) {
    auto [ec, n] = co_await asio::async_write(stream.socket(), asio::buffer(out), kTuple);
    if (ec) co_return;
    out.clear();
    auto batch = co_await s.feed->next(after, 500, std::chrono::seconds(15));
    if (batch.empty()) out = ": keep-alive\n\n";
    for (const auto& e : batch) {
      after = e.position.value();
      if (organization_of(e) != org) continue;
      if (!category.empty() && e.category() != category) continue;
      out += sse_frame(e);
    }
  }
}

asio::awaitable<Response> events_stream(Services& s, Call& call) {
  if (s.feed == nullptr) co_return error_response(http::status::service_unavailable, "event streams are not enabled");
  std::int64_t after = -1;
  try {
    if (auto a = call.query_one("after")) after = static_cast<std::int64_t>(std::stoll(*a));
    if (auto last = call.request.find("Last-Event-ID"); last != call.request.end()) {
      after = std::max<std::int64_t>(after, std::stoll(std::string(last->value())));  // a reconnect resumes where it stopped
    }
  } catch (const std::exception&) {
    co_return error_response(http::status::bad_request, "after and Last-Event-ID must be event positions (integers)");
  }
  if (after < -1) co_return error_response(http::status::bad_request, "after must be a position (0 or more)");
  if (after == -1) after = s.feed->head();  // no position: from now on
  std::string category;
  if (auto c = call.query_one("category")) category = *c;
  call.takeover = [&s, org = call.organization_id, after, category](beast::tcp_stream& stream, Request&) {
    return follow(s, stream, org, after, category);
  };
  co_return Response{http::status::ok, 11};
}

// Projection lag per read model, computed when scraped: events not yet applied, and the age of
// the oldest of them.
std::string projection_gauges(DbContext& db) {
  const auto head = log_head(db);  // before our transaction: one at a time per connection
  pqxx::nontransaction tx(db.conn);
  const auto lags = projector::queries::model_lags(tx);
  std::string out =
      "# HELP event_log_head_position The last position in the event log\n# TYPE event_log_head_position gauge\n"
      "event_log_head_position " +
      std::to_string(head) +
      "\n# HELP projection_lag_events Events in the log a read model has not applied yet\n"
      "# TYPE projection_lag_events gauge\n";
  std::string seconds =
      "# HELP projection_lag_seconds Age of the oldest event a read model has not applied yet\n"
      "# TYPE projection_lag_seconds gauge\n";
  for (const auto& lag : lags) {
    out += "projection_lag_events{model=\"" + lag.model + "\"} " +
           std::to_string(std::max<std::int64_t>(0, head - lag.position)) + "\n";
    seconds += "projection_lag_seconds{model=\"" + lag.model + "\"} " + std::to_string(lag.oldest_unapplied_seconds) +
               "\n";
  }
  return out + seconds;
}

asio::awaitable<Response> metrics(Services& s) {
  if (s.metrics == nullptr) co_return error_response(http::status::service_unavailable, "metrics are not enabled");
  auto gauges = co_await s.db.run([](DbContext& db) { return projection_gauges(db); });
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.body() = s.metrics->text(gauges);
  co_return res;
}

}  // namespace

void register_stream_routes(Router& r, Services& s) {
  r.add({http::verb::get, "/api/events",
         "Server-sent events of the organization's events (?after=POSITION&category=sandbox; Last-Event-ID resumes)",
         true, [&s](Call& c) { return events_stream(s, c); }});
  r.add({http::verb::get, "/metrics", "Prometheus metrics: requests, latencies, append conflicts, projection lag",
         false, [&s](Call&) { return metrics(s); }});
}

}  // namespace command_service
