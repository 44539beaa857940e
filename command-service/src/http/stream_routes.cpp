// Live streams and metrics: GET /api/events (server-sent events of the organization's public
// events as CloudEvents, resumable, filtered by type) and GET /metrics (Prometheus text).
#include "command_service/http/api.hpp"
#include "command_service/pg/event_feed.hpp"
#include "command_service/http/metrics.hpp"
#include "command_service/http/route_support.hpp"
#include "events/published/mapping.hpp"
#include "projector/queries/organizations_audit.hpp"
#include "events/store/sql.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <pqxx/pqxx>

#include <charconv>
#include <limits>
#include <set>

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

// Where a stream resumes: after the public event `index` of the log entry `position` (a plain
// position resumes after all of that entry's).
struct Resume {
  std::int64_t position = -1;
  std::int64_t index = std::numeric_limits<std::int64_t>::max();
};

std::optional<Resume> parse_resume(std::string_view text) {
  Resume r;
  const auto dot = text.find('.');
  const auto number = [](std::string_view t, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && end == t.data() + t.size() && out >= 0;
  };
  if (!number(text.substr(0, dot), r.position)) return std::nullopt;
  if (dot != std::string_view::npos && !number(text.substr(dot + 1), r.index)) return std::nullopt;
  return r;
}

// Which public types a stream sends: `types=` (a comma-separated list of the contract's types)
// and the older `category=` (sandbox, snapshot, volume). Empty: all of them.
struct TypeFilter {
  std::set<std::string> types;
  std::string category;
  bool wants(const events::published::PublicEvent& e) const {
    if (!types.empty() && !types.contains(e.type)) return false;
    return category.empty() || e.type.rfind(category + ".", 0) == 0;
  }
};

std::string sse_frame(const events::published::PublicEvent& e) {
  return "id: " + e.id + "\nevent: " + e.type + "\ndata: " +
         boost::json::serialize(events::published::to_cloudevent(e, events::published::kSource)) + "\n\n";
}

// The public events of one log entry for the organization `org`; a stream first met in its
// middle is read up to the entry first, so its old states and reasons are right.
asio::awaitable<std::vector<events::published::PublicEvent>> public_events(Services& s,
                                                                          events::published::Publisher& publisher,
                                                                          const events::RecordedEvent& e) {
  co_return co_await s.db.run([&](DbContext& db) {
    return publisher.publish(e, [&](const events::StreamName& stream) { return db.store.read_stream(stream); });
  });
}

// Follows the log for one organization and writes each public event as an SSE frame (a
// CloudEvent); a comment every 15 s keeps proxies from closing an idle stream. Ends when the
// client goes away.
asio::awaitable<void> follow(Services& s, beast::tcp_stream& stream, std::string org, Resume from, TypeFilter filter) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n"
      "X-Accel-Buffering: no\r\n\r\n: following the public events after position " +
      std::to_string(from.position) + "\n\n";
  events::published::Publisher publisher;
  std::int64_t after = from.position;
  if (from.index != std::numeric_limits<std::int64_t>::max()) after = from.position - 1;  // that entry again, in part
  for (;;) {
    auto [ec, n] = co_await asio::async_write(stream.socket(), asio::buffer(out), kTuple);
    if (ec) co_return;
    out.clear();
    auto batch = co_await s.feed->next(after, 500, std::chrono::seconds(15));
    if (batch.empty()) out = ": keep-alive\n\n";
    for (const auto& e : batch) {
      after = e.position.value();
      if (!events::published::is_published_category(e.category()) || organization_of(e) != org) continue;
      for (const auto& p : co_await public_events(s, publisher, e)) {
        if (p.organization_id != org || !filter.wants(p)) continue;
        if (p.position == from.position && p.index <= from.index) continue;
        out += sse_frame(p);
      }
    }
  }
}

asio::awaitable<Response> events_stream(Services& s, Call& call) {
  if (s.feed == nullptr) co_return error_response(http::status::service_unavailable, "event streams are not enabled");
  std::optional<Resume> from;
  if (auto a = call.query_one("after")) {
    from = parse_resume(*a);
    if (!from) co_return error_response(http::status::bad_request, "after must be an event id or a log position (0 or more)");
  }
  if (auto last = call.request.find("Last-Event-ID"); last != call.request.end()) {
    auto resumed = parse_resume(std::string_view(last->value().data(), last->value().size()));
    if (!resumed) co_return error_response(http::status::bad_request, "Last-Event-ID must be an event id this stream sent");
    from = resumed;  // a reconnect resumes where it stopped
  }
  if (!from) from = Resume{s.feed->head()};  // nothing named: from now on
  TypeFilter filter;
  if (auto types = call.query_one("types")) {
    auto parsed = events::published::parse_types(*types);
    if (!parsed) co_return error_response(http::status::bad_request, "types: " + parsed.error().message);
    filter.types = std::move(*parsed);
  }
  if (auto c = call.query_one("category")) {
    if (*c != "sandbox" && *c != "snapshot" && *c != "volume") {
      co_return error_response(http::status::bad_request, "category must be sandbox, snapshot or volume");
    }
    filter.category = *c;
  }
  call.takeover = [&s, org = call.organization_id, from = *from, filter](beast::tcp_stream& stream, Request&) {
    return follow(s, stream, org, from, filter);
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
         "Server-sent events of the organization's public events as CloudEvents (?types=sandbox.created,...; "
         "?after=ID or Last-Event-ID resumes)",
         true, [&s](Call& c) { return events_stream(s, c); }});
  r.add({http::verb::get, "/metrics", "Prometheus metrics: requests, latencies, append conflicts, projection lag",
         false, [&s](Call&) { return metrics(s); }});
}

}  // namespace command_service
