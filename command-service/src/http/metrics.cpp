#include "command_service/http/metrics.hpp"

#include "events/store/pg_event_store.hpp"

#include <prometheus/text_serializer.h>

namespace command_service {

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("api_requests_total")
                    .Help("HTTP requests by route pattern, method and status")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("api_request_duration_seconds")
                   .Help("Time from a request's last byte read to its response, by route pattern")
                   .Register(*registry_)) {}

void Metrics::request(const std::string& method, const std::string& route, int status, std::chrono::nanoseconds took) {
  requests_.Add({{"method", method}, {"route", route}, {"status", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
  latency_.Add({{"route", route}}, kBuckets).Observe(std::chrono::duration<double>(took).count());
}

std::string Metrics::text(const std::string& extra) const {
  std::string out = prometheus::TextSerializer().Serialize(registry_->Collect());
  out += "# HELP event_append_conflicts_total Appends refused for a stale expected version (each is retried while the command is valid)\n"
         "# TYPE event_append_conflicts_total counter\n"
         "event_append_conflicts_total " +
         std::to_string(events::PgEventStore::conflicts()) + "\n";
  const auto groups = events::GroupCommit::counts();
  out += "# HELP event_append_groups_total Transactions that carried the API's single-stream appends (group commit)\n"
         "# TYPE event_append_groups_total counter\n"
         "event_append_groups_total " + std::to_string(groups.groups) + "\n"
         "# HELP event_appends_grouped_total Appends sent in those transactions\n"
         "# TYPE event_appends_grouped_total counter\n"
         "event_appends_grouped_total " + std::to_string(groups.appends) + "\n";
  return out + extra;
}

}  // namespace command_service
