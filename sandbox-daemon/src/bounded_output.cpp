#include "daemon/bounded_output.hpp"

#include <algorithm>

namespace daemon_tb {

void BoundedOutput::append(const char* data, std::size_t n) {
  total_ += n;
  if (head_.size() < half_) {
    const auto take = std::min(n, half_ - head_.size());
    head_.append(data, take);
    data += take;
    n -= take;
  }
  if (n == 0) return;
  tail_.append(data, n);
  // Trimmed in steps, so the copying stays linear in what was written.
  if (tail_.size() > 2 * half_ + 65536) tail_.erase(0, tail_.size() - half_);
}

std::uint64_t BoundedOutput::dropped() const {
  const std::uint64_t kept = head_.size() + std::min(tail_.size(), half_);
  return total_ - kept;
}

std::string BoundedOutput::text() const {
  if (!truncated()) return head_ + tail_;
  std::string out = head_;
  out += "\n[... " + std::to_string(dropped()) + " bytes of output left out: the toolbox keeps the first and last " +
         std::to_string(half_) + " bytes of a command's output ...]\n";
  out.append(tail_, tail_.size() - half_, half_);
  return out;
}

}  // namespace daemon_tb
