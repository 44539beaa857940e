#pragma once
// A command's output held within a bound: the first and the last half of the limit are kept,
// what lies between is counted and said in the text (a command that printed a GiB would
// otherwise take the sandbox's memory with it). Pure; unit-tested.
#include <cstddef>
#include <cstdint>
#include <string>

namespace daemon_tb {

// 8 MiB: a JSON reply of it stays well within the sandbox's smallest memory limit.
inline constexpr std::size_t kOutputLimit = 8u << 20;

class BoundedOutput {
 public:
  explicit BoundedOutput(std::size_t limit = kOutputLimit) : half_(limit / 2) {}
  void append(const char* data, std::size_t n);
  // The output as kept: whole when it fit, else its head, a line saying how much was left out,
  // and its tail.
  std::string text() const;
  bool truncated() const { return dropped() > 0; }
  std::uint64_t total() const { return total_; }
  std::uint64_t dropped() const;

 private:
  std::size_t half_;
  std::uint64_t total_ = 0;
  std::string head_;
  std::string tail_;  // the last bytes past the head; trimmed to half_ when read
};

}  // namespace daemon_tb
