#pragma once
// Small helpers for benchmarks: percentiles, rates, and the table they print.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Row {
  std::string figure;
  std::string ours;
  std::string reference;
  std::string ratio;
  std::string target;
};

inline std::string fmt(double v, const char* unit, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %s", decimals, v, unit);
  return buf;
}

// "p50 / p99 ms" of a distribution in milliseconds.
inline std::string p50_p99(const std::vector<double>& ms, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f / %.*f ms", decimals, percentile(ms, 50), decimals, percentile(ms, 99));
  return buf;
}

inline std::string ratio(double ours, double reference) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", reference == 0 ? 0 : ours / reference);
  return buf;
}

inline void print_table(const std::vector<Row>& rows) {
  std::printf("| figure | ours | reference (same run) | ratio | target |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %s | %s | %s | %s |\n", r.figure.c_str(), r.ours.c_str(), r.reference.c_str(),
                r.ratio.c_str(), r.target.c_str());
  }
  std::fflush(stdout);
}

}  // namespace bench
