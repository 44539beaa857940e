#pragma once
// A CPU profile of just the part a benchmark measures as "ours". bench/run (BENCH_PROFILE=1)
// starts `perf record -a -D -1 --control=fifo:<ctl>,<ack>` beside the bench with events off and
// sets BENCH_PERF_CTL / BENCH_PERF_ACK to those fifos; a Profiled section turns events on for its
// lifetime and waits for perf's ack each time, so the references and the set-up stay out of the
// profile. Without BENCH_PERF_CTL it does nothing.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

class Profiled {
 public:
  Profiled() { tell("enable"); }
  ~Profiled() { tell("disable"); }
  Profiled(const Profiled&) = delete;
  Profiled& operator=(const Profiled&) = delete;

 private:
  static void tell(const char* command) {
    const char* ctl = std::getenv("BENCH_PERF_CTL");
    if (ctl == nullptr || *ctl == '\0') return;
    if (std::FILE* f = std::fopen(ctl, "w")) {
      std::fprintf(f, "%s\n", command);
      std::fclose(f);
    }
    const char* ack = std::getenv("BENCH_PERF_ACK");
    if (ack == nullptr || *ack == '\0') return;
    if (std::FILE* f = std::fopen(ack, "r")) {  // perf writes "ack" once the command took effect
      char line[16];
      (void)std::fgets(line, sizeof line, f);
      std::fclose(f);
    }
  }
};

}  // namespace bench
