#pragma once
// Prometheus metrics of the API (prometheus-cpp: the registry and the text format; we serve
// the text on GET /metrics ourselves). Requests by route, method and status; request latency
// by route; append conflicts (every retry of a command on a version conflict); projection lag
// per read model, read from PostgreSQL when scraped.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>

namespace command_service {

class Metrics {
 public:
  Metrics();
  void request(const std::string& method, const std::string& route, int status, std::chrono::nanoseconds took);
  // The text exposition of every metric, plus the extra lines given (gauges computed at scrape time).
  std::string text(const std::string& extra) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace command_service
